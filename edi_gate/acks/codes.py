"""Code values the acknowledgments may carry, checked against pyx12's code lists.

pyx12 4.0.0's ``claim_status`` list stops at code 771 (2014); a finding carrying a newer claim
status code would make the 277CA fail pyx12, so such codes are replaced by ``21`` (missing or
invalid information) and the original code is kept at the start of the STC12 message.
"""

from __future__ import annotations

from functools import cache

# 277CA categories that mean "rejected" (RFI 2203: there is no accepted-with-warning).
REJECT_CATEGORIES = frozenset({"A3", "A6", "A7", "A8"})
DEFAULT_REJECT_CATEGORY = "A7"
FALLBACK_STATUS = "21"  # Missing or invalid information.


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# STC01-3 entity codes pyx12's X214 map allows in 2200D and 2220D (stupidedi agrees).
_ENTITIES = (
    "03 1P 1Z 40 41 71 72 73 77 82 85 87 DK DN DQ FA GB HK IL LI MSC PR PRP QB QC QD SEP TL TTP TU"
)
CLAIM_ENTITIES = _codes(_ENTITIES)

# 999 code lists (pyx12 999.5010X231.A1.xml).
IK304_CODES = _codes("1 2 3 4 5 6 7 8 I4 I6 I7 I8 I9")
IK403_CODES = _codes("1 2 3 4 5 6 7 8 9 10 11 12 13 I10 I11 I12 I13 I6 I9")
IK5_CODES = _codes("1 2 3 4 5 6 7 8 9 10 11 12 13 15 16 17 18 19 23 24 25 26 27 I5 I6")
AK9_CODES = _codes("1 2 3 4 5 6 10 11 12 13 14 15 16 17 18 19 23 24 25 26")
TA1_NOTES = frozenset(f"{n:03d}" for n in range(30))
# AK101: functional identifiers a 999 may acknowledge; AK201: transaction set ids (pyx12's map).
AK1_FUNCTIONAL_IDS = _codes("BE HB HC HI HN HP HR HS RA")
AK2_SET_IDS = _codes("270 271 276 277 278 820 834 835 837")
# ISA05/ISA07 interchange id qualifiers (X12 element I05).
ISA_ID_QUALIFIERS = _codes(
    "01 02 03 04 07 08 09 10 11 12 13 14 15 16 17 18 19 20 27 28 29 30 33 34 NR ZZ"
)
# 277CA 2220D SVC01-1 product/service id qualifiers (pyx12's X214 map and stupidedi agree).
SVC_QUALIFIERS = _codes("AD ER HC HP IV NU WK")


@cache
def _pyx12_codes() -> dict:
    """pyx12's external code lists, read once: parsing its codes.xml takes about 50 ms."""
    try:
        import pyx12.codes
    except ImportError:  # pragma: no cover - pyx12 is a dependency
        return {}
    return pyx12.codes.ExternalCodes().codes


@cache
def _pyx12_list(name: str) -> frozenset[str]:
    codes = _pyx12_codes().get(name)
    return frozenset(c for c in codes["codes"] if c) if codes else frozenset()


def valid_status(code: str) -> bool:
    """True when pyx12 knows claim status code ``code`` (code source 508)."""
    known = _pyx12_list("claim_status")
    return code in known if known else code.isdigit()


def valid_category(code: str) -> bool:
    """True when pyx12 knows claim status category ``code`` (code source 507)."""
    known = _pyx12_list("claim_status_cat")
    return code in known if known else bool(code)
