"""Synthetic files in the exact layout of CMS's NPPES data dissemination file (npidata_pfile).

The real monthly file (~9 GB, 8+ million NPIs) must never be downloaded for tests or benches, so
this writes the same thing at any size: the published header of 330 columns in their published
order, every field quoted (as CMS writes them), dates MM/DD/YYYY, and rows shaped like the real
ones: an individual (entity type 1) or an organization (2) with one to four taxonomies, exactly
one of them switched primary ("Y", the others "N"), license numbers beside them; a deactivated NPI
keeps only its NPI and its deactivation date; a reactivated one is listed whole with both dates.
Names and addresses are synthetic. NPIs carry a valid check digit (Luhn over 80840 + NPI).

    python -m bench.nppes OUT.csv --providers 1000000 [--seed 1] [--include-roster ROSTER.csv]
"""

from __future__ import annotations

import argparse
import csv
import heapq
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

TAXONOMY_SLOTS = 15
OTHER_ID_SLOTS = 50
TAXONOMY_GROUP_SLOTS = 15


def header() -> list[str]:
    """The npidata_pfile header, column for column (CMS's data dissemination layout)."""
    cols = [
        "NPI",
        "Entity Type Code",
        "Replacement NPI",
        "Employer Identification Number (EIN)",
        "Provider Organization Name (Legal Business Name)",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Middle Name",
        "Provider Name Prefix Text",
        "Provider Name Suffix Text",
        "Provider Credential Text",
        "Provider Other Organization Name",
        "Provider Other Organization Name Type Code",
        "Provider Other Last Name",
        "Provider Other First Name",
        "Provider Other Middle Name",
        "Provider Other Name Prefix Text",
        "Provider Other Name Suffix Text",
        "Provider Other Credential Text",
        "Provider Other Last Name Type Code",
    ]
    for kind in ("Mailing", "Practice Location"):
        cols += [
            f"Provider First Line Business {kind} Address",
            f"Provider Second Line Business {kind} Address",
            f"Provider Business {kind} Address City Name",
            f"Provider Business {kind} Address State Name",
            f"Provider Business {kind} Address Postal Code",
            f"Provider Business {kind} Address Country Code (If outside U.S.)",
            f"Provider Business {kind} Address Telephone Number",
            f"Provider Business {kind} Address Fax Number",
        ]
    cols += [
        "Provider Enumeration Date",
        "Last Update Date",
        "NPI Deactivation Reason Code",
        "NPI Deactivation Date",
        "NPI Reactivation Date",
        "Provider Sex Code",
        "Authorized Official Last Name",
        "Authorized Official First Name",
        "Authorized Official Middle Name",
        "Authorized Official Title or Position",
        "Authorized Official Telephone Number",
    ]
    for n in range(1, TAXONOMY_SLOTS + 1):
        cols += [
            f"Healthcare Provider Taxonomy Code_{n}",
            f"Provider License Number_{n}",
            f"Provider License Number State Code_{n}",
            f"Healthcare Provider Primary Taxonomy Switch_{n}",
        ]
    for n in range(1, OTHER_ID_SLOTS + 1):
        cols += [
            f"Other Provider Identifier_{n}",
            f"Other Provider Identifier Type Code_{n}",
            f"Other Provider Identifier State_{n}",
            f"Other Provider Identifier Issuer_{n}",
        ]
    cols += [
        "Is Sole Proprietor",
        "Is Organization Subpart",
        "Parent Organization LBN",
        "Parent Organization TIN",
        "Authorized Official Name Prefix Text",
        "Authorized Official Name Suffix Text",
        "Authorized Official Credential Text",
    ]
    cols += [f"Healthcare Provider Taxonomy Group_{n}" for n in range(1, TAXONOMY_GROUP_SLOTS + 1)]
    cols.append("Certification Date")
    return cols


HEADER = header()
COLUMN = {name: i for i, name in enumerate(HEADER)}
assert len(HEADER) == 330


def check_digit(base9: str) -> str:
    """The NPI check digit for nine digits (Luhn over the 80840 prefix)."""
    total = 0
    for i, c in enumerate(reversed("80840" + base9 + "0")):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def npi_for(base9: int) -> str:
    text = f"{base9:09d}"
    return text + check_digit(text)


def mdy(day: date | None) -> str:
    return day.strftime("%m/%d/%Y") if day is not None else ""


@dataclass
class Provider:
    """One row: an NPI and what the directory reads from it (the rest is filler)."""

    npi: str
    entity_type: str = "1"
    taxonomies: list[str] = field(default_factory=list)  # the first one is primary
    deactivated: date | None = None
    reactivated: date | None = None
    primary: int = 0  # index into taxonomies of the one switched "Y"


def row(p: Provider, rng: random.Random | None = None) -> list[str]:
    """The 330 fields of one provider, as CMS writes them."""
    cells = [""] * len(HEADER)
    cells[COLUMN["NPI"]] = p.npi
    cells[COLUMN["NPI Deactivation Date"]] = mdy(p.deactivated)
    if p.deactivated is not None and p.reactivated is None:
        return cells  # a deactivated NPI is published with nothing else
    cells[COLUMN["NPI Reactivation Date"]] = mdy(p.reactivated)
    cells[COLUMN["Entity Type Code"]] = p.entity_type
    seq = int(p.npi[3:9])
    if p.entity_type == "2":
        cells[COLUMN["Provider Organization Name (Legal Business Name)"]] = (
            f"SYNTHETIC CLINIC {seq}"
        )
        cells[COLUMN["Authorized Official Last Name"]] = "OFFICIAL"
        cells[COLUMN["Authorized Official First Name"]] = "PAT"
        cells[COLUMN["Authorized Official Telephone Number"]] = "5550100000"
        cells[COLUMN["Is Organization Subpart"]] = "N"
    else:
        cells[COLUMN["Provider Last Name (Legal Name)"]] = f"SYNTH{seq}"
        cells[COLUMN["Provider First Name"]] = "ALEX"
        cells[COLUMN["Provider Credential Text"]] = "M.D."
        cells[COLUMN["Provider Sex Code"]] = "F" if seq % 2 else "M"
        cells[COLUMN["Is Sole Proprietor"]] = "N"
    for kind in ("Mailing", "Practice Location"):
        cells[COLUMN[f"Provider First Line Business {kind} Address"]] = f"{seq % 9000 + 1} MAIN ST"
        cells[COLUMN[f"Provider Business {kind} Address City Name"]] = "SPRINGFIELD"
        cells[COLUMN[f"Provider Business {kind} Address State Name"]] = "IL"
        cells[COLUMN[f"Provider Business {kind} Address Postal Code"]] = "627010000"
        cells[COLUMN[f"Provider Business {kind} Address Country Code (If outside U.S.)"]] = "US"
    cells[COLUMN["Provider Enumeration Date"]] = "05/23/2007"
    cells[COLUMN["Last Update Date"]] = "07/08/2024"
    cells[COLUMN["Certification Date"]] = "07/08/2024"
    for n, code in enumerate(p.taxonomies[:TAXONOMY_SLOTS], 1):
        cells[COLUMN[f"Healthcare Provider Taxonomy Code_{n}"]] = code
        cells[COLUMN[f"Provider License Number_{n}"]] = f"LIC{seq:07d}"
        cells[COLUMN[f"Provider License Number State Code_{n}"]] = "IL"
        switch = "Y" if n - 1 == p.primary else "N"
        cells[COLUMN[f"Healthcare Provider Primary Taxonomy Switch_{n}"]] = switch
    return cells


def write(path: Path | IO[str], providers: Iterable[Provider]) -> int:
    """Write the header and one row per provider; returns how many rows."""
    if isinstance(path, Path):
        with open(path, "w", encoding="utf-8", newline="") as fh:
            return write(fh, providers)
    out = csv.writer(path, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    out.writerow(HEADER)
    count = 0
    for p in providers:
        out.writerow(row(p))
        count += 1
    return count


# Taxonomies in the mix of a real registry's physicians, groups and imaging providers.
INDIVIDUAL = (
    "207Q00000X", "207R00000X", "207RC0000X", "207RE0101X", "2085R0202X", "207X00000X",
    "207V00000X", "208600000X", "207P00000X", "363LF0000X", "363A00000X", "213E00000X",
    "207N00000X", "2084N0400X", "225100000X", "152W00000X", "1223G0001X", "207RG0100X",
)  # fmt: skip
ORGANIZATION = ("261QR0200X", "193200000X", "193400000X", "261QM1300X", "282N00000X")


def synthetic(
    count: int, seed: int = 1, include: Iterable[tuple[str, str]] = ()
) -> Iterator[Provider]:
    """About ``count`` providers in ascending NPI order (as CMS sorts the file), NPIs spread over
    1000000000-2999999999; ``include``'s (npi, taxonomy) pairs are listed too, that taxonomy
    primary (the bench lists its roster's providers this way)."""
    rng = random.Random(seed)
    wanted = dict(include)
    step = max(1, 199_999_999 // max(count, 1))

    def filler() -> Iterator[str]:
        for i in range(count):
            npi = npi_for(100_000_000 + i * step)
            if npi not in wanted:
                yield npi

    for npi in heapq.merge(filler(), sorted(wanted)):
        if npi in wanted:
            yield Provider(npi, "1", [wanted[npi]])
        else:
            yield _random_provider(npi, rng)


def _random_provider(npi: str, rng: random.Random) -> Provider:
    r = rng.random()
    if r < 0.01:
        return Provider(npi, deactivated=date(2018 + rng.randrange(6), 1 + rng.randrange(12), 1))
    org = r > 0.83
    codes = rng.sample(ORGANIZATION if org else INDIVIDUAL, 1 + int(rng.random() ** 3 * 3))
    p = Provider(npi, "2" if org else "1", codes, primary=rng.randrange(len(codes)))
    if r < 0.013:
        p.deactivated, p.reactivated = date(2019, 3, 1), date(2020, 6, 15)
    return p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.nppes", description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--providers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--include-roster", type=Path, help="also list this roster's NPIs")
    args = ap.parse_args(argv)
    include: list[tuple[str, str]] = []
    if args.include_roster:
        with open(args.include_roster, encoding="utf-8") as fh:
            include = [(r["npi"], r["taxonomy"]) for r in csv.DictReader(fh) if r["taxonomy"]]
    started = time.perf_counter()
    tmp = args.out.with_name(args.out.name + ".part")
    n = write(tmp, synthetic(args.providers, args.seed, include))
    tmp.replace(args.out)
    print(
        f"{n:,} providers, {args.out.stat().st_size / 1e6:.0f} MB in "
        f"{time.perf_counter() - started:.0f} s -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
