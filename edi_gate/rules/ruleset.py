"""A ruleset as the engine reads it: tables, code families, settings and rules, fixed once loaded.

The model holds only what the rules ask while claims stream by (lookups precomputed or memoised,
so a line costs dict and set hits); reading and checking the TOML file is the loader's job
(``edi_gate.rules.loader``), which builds a ``Ruleset`` in one call once every part is checked.
Every attribute is ``Final``: nothing changes a ruleset after its constructor returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from edi_gate.memo import TextMemo
from edi_gate.rules import nucc
from edi_gate.rules.base import NCCI_DISTINCT_SERVICE, Rule, RuleMeta, SameDayEdit, SameDaySpec
from edi_gate.rules.codeset import CodeSet

COMPONENTS: Final = ("technical", "global")  # ordered from least to most permissive
NO_CODES: Final = CodeSet()  # shared empty set: an unknown family matches nothing
MAX_TAXONOMY_LENGTH: Final = 10  # a NUCC code; longer PRV03 texts are looked up, never memoised


@dataclass(frozen=True, slots=True)
class Specialty:
    """A seed specialty as NUCC nodes: whole classifications and named specializations, expanded
    at load time into ``taxonomies`` (every code that counts) from the shipped code set."""

    id: str
    label: str
    taxonomies: frozenset[str]
    classifications: tuple[str, ...] = ()
    specializations: tuple[str, ...] = ()
    reading: str = ""


@dataclass(frozen=True, slots=True)
class PrivilegeTable:
    """A seed's table of codes the specialties it names may bill in the office, globally or for
    the technical component only; some also need a prior authorization (PRIV007)."""

    id: str
    title: str
    source: str
    specialties: tuple[str, ...]
    component: str
    prior_authorization: bool
    codes: CodeSet
    code_list: tuple[str, ...]
    reading: str = ""


@dataclass(frozen=True, slots=True)
class Certification:
    """Codes only a holder of one of ``credentials`` (on the roster, on the date) may bill: a
    service-specific privilege that overrides the specialty tables (ISCD for 77078)."""

    id: str
    title: str
    source: str
    credentials: tuple[str, ...]
    codes: CodeSet
    code_list: tuple[str, ...]
    reading: str = ""
    # accreditations of a practice (AIUM, IAC accredit facilities): the billing NPI's counts too
    practice_credentials: tuple[str, ...] = ()
    # credentials whose first period only counts (ASBS: re-privilege with AIUM when it expires)
    initial_only: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Mobile:
    """[mobile]: mobile imaging units take the privileges of the office they serve, except OB
    ultrasound, which someone with ``interpretation_credentials`` (or a radiologist) reads."""

    taxonomies: frozenset[str] = frozenset()
    ob_codes: CodeSet = field(default_factory=CodeSet)
    interpretation_credentials: tuple[str, ...] = ()
    reading: str = ""


@dataclass(frozen=True, slots=True)
class AddOn:
    """An add-on code: billed only beside one of its ``primaries`` (its ``label`` in words)."""

    primaries: CodeSet
    label: str
    # same-day code -> the remedy when the add-on sits beside it (93320 beside 93306: "remove")
    remedies: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleEntry:
    """A rule as its ruleset section declares it: a Python class (``impl``) or, for a declared
    same-day edit, the pair it names (``same_day``). The ruleset makes the rule object, since a
    rule reads the finished ruleset (its families, its settings)."""

    meta: RuleMeta
    impl: type[Rule] | None = None
    same_day: SameDaySpec | None = None

    def make(self, ruleset: Ruleset) -> Rule:
        if self.same_day is not None:
            return SameDayEdit(self.meta, ruleset, self.same_day)
        assert self.impl is not None
        return self.impl(self.meta, ruleset)


@dataclass(frozen=True, slots=True)
class Header:
    """The [ruleset] table: what the file is and when it is in force (both ends inclusive)."""

    id: str = ""
    title: str = ""
    effective_from: date | None = None
    effective_to: date | None = None
    sources: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    """The [settings] table: places of service, provider prefixes and the imaging code ranges."""

    office_pos: frozenset[str] = frozenset({"11"})
    outpatient_pos: frozenset[str] = frozenset()
    distinct_service_modifiers: tuple[str, ...] = NCCI_DISTINCT_SERVICE
    radiologist_prefixes: tuple[str, ...] = ()
    imaging_provider_taxonomies: frozenset[str] = frozenset()
    npp_prefixes: tuple[str, ...] = ()
    imaging_ranges: CodeSet = field(default_factory=CodeSet)
    guidance_excluded_specialties: tuple[str, ...] = ()


class Ruleset:
    """One ruleset file, checked, with lookups precomputed or memoised for the hot path."""

    def __init__(
        self,
        path: Path,
        header: Header,
        settings: Settings,
        *,
        specialties: Mapping[str, Specialty],
        tables: Mapping[str, PrivilegeTable],
        certifications: Mapping[str, Certification],
        mobile: Mobile,
        families: Mapping[str, CodeSet],
        deleted: Mapping[str, tuple[str, date | None, str]],
        nonspecific: Mapping[str, str],
        add_ons: Mapping[str, AddOn],
        pctc: Mapping[str, str],
        equivalents: Mapping[str, dict[str, str]],
        rules: Sequence[RuleEntry],
    ) -> None:
        self.path: Final = path
        self.id: Final = header.id
        self.title: Final = header.title
        self.effective_from: Final = header.effective_from
        self.effective_to: Final = header.effective_to
        self.sources: Final = header.sources
        self.notes: Final = header.notes
        self.office_pos: Final = settings.office_pos
        self.outpatient_pos: Final = settings.outpatient_pos
        self.distinct_service_modifiers: Final = settings.distinct_service_modifiers
        self.radiologist_prefixes: Final = settings.radiologist_prefixes
        self.imaging_provider_taxonomies: Final = settings.imaging_provider_taxonomies
        self.npp_prefixes: Final = settings.npp_prefixes
        self.guidance_excluded_specialties: Final = settings.guidance_excluded_specialties
        self.specialties: Final[dict[str, Specialty]] = dict(specialties)
        self.tables: Final[dict[str, PrivilegeTable]] = dict(tables)
        self.certifications: Final[dict[str, Certification]] = dict(certifications)
        self.mobile: Final = mobile
        self.families: Final[dict[str, CodeSet]] = dict(families)
        self.deleted: Final[dict[str, tuple[str, date | None, str]]] = dict(deleted)
        self.nonspecific: Final[dict[str, str]] = dict(nonspecific)
        self.add_ons: Final[dict[str, AddOn]] = dict(add_ons)
        self.pctc: Final[dict[str, str]] = dict(pctc)
        self.equivalents: Final[dict[str, dict[str, str]]] = dict(equivalents)
        # derived sets: what the privilege rules ask of every line
        table_codes = [c for t in self.tables.values() for c in t.code_list]
        cert_codes = [c for cert in self.certifications.values() for c in cert.code_list]
        self.certification_codes: Final = CodeSet(cert_codes)
        self.prior_auth_codes: Final = CodeSet(
            c for t in self.tables.values() if t.prior_authorization for c in t.code_list
        )
        self.imaging: Final = (
            settings.imaging_ranges
            | CodeSet(table_codes + cert_codes)
            | self.family("imaging_hcpcs")
        )
        # MRI/MRA, CT/CTA, PET: radiologists only
        self.advanced_imaging: Final = self.family("mri") | self.family("ct") | self.family("pet")
        # Keyed by PRV03 text from the input: bounded in entries and key length (edi_gate.memo).
        self._specialty_memo: Final = TextMemo(self._specialties_of, MAX_TAXONOMY_LENGTH)
        # Keyed by the specialty ids a taxonomy maps to: as many as the ruleset makes, no more.
        self._grant_memo: Final[dict[tuple[str, ...], dict[str, str]]] = {}
        self._describe_memo: Final = TextMemo(self._describe, MAX_TAXONOMY_LENGTH)
        # last: a rule reads the finished ruleset when it is made and prepared
        made = sorted((entry.make(self) for entry in rules), key=lambda r: r.meta.id)
        self.rules: Final[tuple[Rule, ...]] = tuple(made)
        for rule in self.rules:
            rule.prepare()

    # -- dates -------------------------------------------------------------------------------
    def covers(self, on: date) -> bool:
        """True when the ruleset is in force on ``on`` (both ends inclusive, None = open)."""
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to
        )

    def range_text(self) -> str:
        start = self.effective_from.isoformat() if self.effective_from else "open"
        end = self.effective_to.isoformat() if self.effective_to else "open"
        return f"{start} .. {end}"

    # -- lookups -----------------------------------------------------------------------------
    def family(self, name: str) -> CodeSet:
        """The named code family; an empty set when the ruleset has none (no new object)."""
        return self.families.get(name, NO_CODES)

    def specialties_for(self, taxonomy: str) -> tuple[str, ...]:
        """Specialty ids a taxonomy belongs to (its NUCC classification or specialization)."""
        return self._specialty_memo.get(taxonomy)

    def _specialties_of(self, taxonomy: str) -> tuple[str, ...]:
        return tuple(s.id for s in self.specialties.values() if taxonomy in s.taxonomies)

    def grants_for(self, taxonomy: str) -> dict[str, str]:
        """code -> component a taxonomy is privileged for: the union of its tables, where a code
        appears in two of them the more permissive component wins. Ranges are not allowed in
        privilege tables, so this is a plain dict."""
        key = self.specialties_for(taxonomy)
        hit = self._grant_memo.get(key)
        if hit is None:
            specialty_ids = set(key)
            hit = {}
            for table in self.tables.values():
                if specialty_ids.intersection(table.specialties):
                    rank = COMPONENTS.index(table.component)
                    for code in table.code_list:
                        old = hit.get(code)
                        if old is None or COMPONENTS.index(old) < rank:
                            hit[code] = table.component
            self._grant_memo[key] = hit
        return hit

    def describe_taxonomy(self, taxonomy: str) -> str:
        """The taxonomy in words for messages: 'Cardiovascular disease (207RC0000X)' by the seed
        specialties it counts for; else NUCC's own name, 'Internal Medicine / Gastroenterology
        (207RG0100X)'; 'taxonomy X (not a NUCC code)' when the code set has no such code."""
        return self._describe_memo.get(taxonomy)

    def _describe(self, taxonomy: str) -> str:
        labels = [self.specialties[s].label for s in self.specialties_for(taxonomy)]
        if self.is_radiologist(taxonomy):
            labels = ["Radiology"]
        elif self.is_npp(taxonomy):
            labels = ["Non-physician practitioner"]
        node = nucc.code_set().get(taxonomy)
        if labels:
            return f"{'/'.join(labels)} ({taxonomy})"
        if node is not None:
            return f"{node.name} ({taxonomy})"
        return f"taxonomy {taxonomy} (not a NUCC code)"

    def known_credentials(self) -> frozenset[str]:
        """Every credential the ruleset reads from a roster (certifications, mobile reading):
        for `rules lint` to reject a roster credential nothing would ever look at (AIUMX)."""
        creds = {c for cert in self.certifications.values() for c in cert.credentials}
        return frozenset(creds | set(self.mobile.interpretation_credentials))

    def is_radiologist(self, taxonomy: str) -> bool:
        return taxonomy.startswith(self.radiologist_prefixes)

    def is_npp(self, taxonomy: str) -> bool:
        return taxonomy.startswith(self.npp_prefixes)

    def is_imaging(self, code: str) -> bool:
        return code in self.imaging
