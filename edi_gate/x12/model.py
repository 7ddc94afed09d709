"""What an 837P claim is once its segments are read: plain data, no behaviour.

Everything downstream (rules, acknowledgments, writers) works from these objects; none of them
looks at segments again except to copy them through unchanged.

The classes made for every claim write their ``__init__`` out (``init=False``): under mypyc a
dataclass keeps the interpreted ``__init__`` that ``dataclasses`` generates, about 1-3 µs per
object, where a written one is compiled (tens of ns). ``dataclass`` still supplies eq and repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from edi_gate.x12.tokenizer import Delimiters, Segment


@dataclass(init=False)
class Party:
    """A named entity from an NM1: submitter, receiver, payer, provider, subscriber, patient."""

    entity: str  # NM101
    name: str  # NM103 (last or organization name)
    first_name: str  # NM104
    id_qualifier: str  # NM108
    id: str  # NM109

    def __init__(
        self,
        entity: str = "",
        name: str = "",
        first_name: str = "",
        id_qualifier: str = "",
        id: str = "",
    ) -> None:
        self.entity = entity
        self.name = name
        self.first_name = first_name
        self.id_qualifier = id_qualifier
        self.id = id


@dataclass(init=False)
class Provider:
    """A provider who can be responsible for a line, with where in the claim it was found."""

    loop: str  # LOOP_2420A, LOOP_2310B or LOOP_2000A (edi_gate.x12.grammar)
    npi: str
    taxonomy: str  # from PRV; the roster may fill it in later
    party: Party

    def __init__(
        self, loop: str, npi: str = "", taxonomy: str = "", party: Party | None = None
    ) -> None:
        self.loop = loop
        self.npi = npi
        self.taxonomy = taxonomy
        self.party = party if party is not None else Party()


@dataclass(slots=True)
class Envelope:
    """Interchange, group and transaction identity shared by every claim of a transaction."""

    source: str
    delimiters: Delimiters
    interchange_control: str  # ISA13
    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    usage: str  # ISA15
    group_control: str = ""  # GS06
    application_sender: str = ""  # GS02
    application_receiver: str = ""  # GS03
    version: str = ""  # GS08
    transaction_control: str = ""  # ST02
    bht_reference: str = ""  # BHT03
    bht_date: str = ""  # BHT04
    submitter: Party = field(default_factory=Party)  # 1000A
    receiver: Party = field(default_factory=Party)  # 1000B


@dataclass(init=False)
class ServiceLine:
    """A 2400 loop: one SV1 service line and what applies to it."""

    number: int  # LX01
    qualifier: str  # SV101-1, 'HC' for CPT/HCPCS
    procedure: str  # SV101-2
    modifiers: tuple[str, ...]  # SV101-3..6
    charge: Decimal  # SV102
    unit_basis: str  # SV103
    units: Decimal  # SV104
    place_of_service: str  # SV105, else CLM05-1
    diagnosis_pointers: tuple[str, ...]  # SV107
    service_date: date | None  # DTP*472 (D8, or the start of RD8)
    service_date_end: date | None  # end of an RD8 range, else service_date
    prior_authorization: str  # line REF*G1
    line_control: str  # REF*6R line item control number
    rendering: Provider  # 2420A, else 2310B, else 2000A
    first_segment: int  # index into Claim.segments of this line's LX
    end_segment: int  # index one past this line's last segment

    def __init__(
        self,
        number: int,
        qualifier: str,
        procedure: str,
        modifiers: tuple[str, ...],
        charge: Decimal,
        unit_basis: str,
        units: Decimal,
        place_of_service: str,
        diagnosis_pointers: tuple[str, ...],
        service_date: date | None,
        service_date_end: date | None,
        prior_authorization: str,
        line_control: str,
        rendering: Provider,
        first_segment: int,
        end_segment: int,
    ) -> None:
        self.number = number
        self.qualifier = qualifier
        self.procedure = procedure
        self.modifiers = modifiers
        self.charge = charge
        self.unit_basis = unit_basis
        self.units = units
        self.place_of_service = place_of_service
        self.diagnosis_pointers = diagnosis_pointers
        self.service_date = service_date
        self.service_date_end = service_date_end
        self.prior_authorization = prior_authorization
        self.line_control = line_control
        self.rendering = rendering
        self.first_segment = first_segment
        self.end_segment = end_segment


@dataclass(init=False)
class Claim:
    """A 2300 claim with its lines and full context. ``segments`` are CLM through its last line."""

    envelope: Envelope
    ordinal: int  # claims counted from 1 across the whole input
    claim_id: str  # CLM01 patient control number
    charge: Decimal  # CLM02
    place_of_service: str  # CLM05-1
    frequency: str  # CLM05-3
    prior_authorization: str  # REF*G1
    clearinghouse_trace: str  # REF*D9
    billing: Provider  # 2000A / 2010AA
    rendering: Provider | None  # 2310B
    subscriber: Party  # 2010BA
    patient: Party  # 2010CA, or the subscriber when there is no 2000C
    payer: Party  # 2010BB
    hl_billing: str  # HL01 of the 2000A the claim sits under
    hl_subscriber: str  # HL01 of the 2000B
    hl_patient: str  # HL01 of the 2000C, '' when the subscriber is the patient
    segments: list[Segment]
    lines: list[ServiceLine]
    _service_dates: tuple[date | None, date | None] | None = field(repr=False, compare=False)

    def __init__(
        self,
        envelope: Envelope,
        ordinal: int,
        claim_id: str,
        charge: Decimal,
        place_of_service: str,
        frequency: str,
        prior_authorization: str,
        clearinghouse_trace: str,
        billing: Provider,
        rendering: Provider | None,
        subscriber: Party,
        patient: Party,
        payer: Party,
        hl_billing: str,
        hl_subscriber: str,
        hl_patient: str,
        segments: list[Segment],
        lines: list[ServiceLine] | None = None,
    ) -> None:
        self.envelope = envelope
        self.ordinal = ordinal
        self.claim_id = claim_id
        self.charge = charge
        self.place_of_service = place_of_service
        self.frequency = frequency
        self.prior_authorization = prior_authorization
        self.clearinghouse_trace = clearinghouse_trace
        self.billing = billing
        self.rendering = rendering
        self.subscriber = subscriber
        self.patient = patient
        self.payer = payer
        self.hl_billing = hl_billing
        self.hl_subscriber = hl_subscriber
        self.hl_patient = hl_patient
        self.segments = segments
        self.lines = lines if lines is not None else []
        self._service_dates = None

    @property
    def service_dates(self) -> tuple[date | None, date | None]:
        """Earliest and latest service date over the lines (computed once: the claim is read)."""
        if self._service_dates is None:
            first: date | None = None
            last: date | None = None
            for line in self.lines:
                start = line.service_date
                if start is None:
                    continue
                end = line.service_date_end or start
                if first is None or start < first:
                    first = start
                if last is None or end > last:
                    last = end
            self._service_dates = (first, last)
        return self._service_dates
