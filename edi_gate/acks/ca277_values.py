"""Values a 277CA derives from a claim and echoes back: the payer claim control number (REF*1K),
dates as CCYYMMDD, references returned as submitted. Compiled: asked for every claim.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Final

from edi_gate.acks.x12out import amount, echo
from edi_gate.memo import Memo


def _strftime_ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


_YMD: Final = Memo(_strftime_ymd)


def ymd(day: date) -> str:
    """``day.strftime('%Y%m%d')``, memoised (strftime is costly and dates repeat)."""
    return _YMD.get(day)


# Copied for each claim: with OpenSSL 3, hashlib.sha256() looks the algorithm up by name on every
# call, which costs more than hashing the few bytes of a claim key.
_SHA256: Final = hashlib.sha256()


def payer_claim_control_number(
    sender_id: str,
    claim_id: str,
    charge: Decimal,
    start: date | None,
    end: date | None,
    charge_text: str | None = None,
) -> str:
    """REF*1K value: stable for the same claim (interchange sender, CLM01, CLM02, service dates).

    The first 64 bits of SHA-256 over those fields, modulo 10**15. ``charge_text`` is
    ``amount(charge)`` when the caller has it already."""
    charge_text = amount(charge) if charge_text is None else charge_text
    key = f"{sender_id.strip()}|{claim_id}|{charge_text}|{ymd(start) if start else ''}|" + (
        ymd(end) if end else ""
    )
    hasher = _SHA256.copy()
    hasher.update(key.encode("utf-8"))
    first64 = int.from_bytes(hasher.digest()[:8], "big")
    return "EG" + str(first64 % 10**15).zfill(15)


def reference(value: str) -> str:
    """A reference the 277CA returns to the submitter exactly as submitted when it is valid
    (AN 1-50): CLM01 in 2200D TRN02 and REF*D9 (RFI 1926), BHT03 in 2200B TRN02 (RFI 1991),
    REF*6R in 2220D REF*FJ; else cleaned ('' when nothing is left)."""
    return echo(value, 1, 50)
