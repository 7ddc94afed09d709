"""The NUCC provider taxonomy code set that ships in the package (edi_gate/data/nucc).

Why: the seeds privilege by specialty ("providers who specialize in anesthesiology ..."), and a
specialty is a node of NUCC's own hierarchy: a classification (Anesthesiology, 207L00000X) with all
its specializations (Pain Medicine 207LP2900X, ...), or one named specialization (Cardiovascular
Disease 207RC0000X under Internal Medicine). Rulesets declare specialties that way and are expanded
here into plain code sets once, at load time, so the hot path stays a set lookup. The code set also
lets `rules lint` reject a code NUCC never issued and lets messages name a taxonomy in words.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache

from edi_gate.resources import package_data

VERSION = "NUCC v25.1"


@dataclass(frozen=True, slots=True)
class Taxonomy:
    code: str
    grouping: str
    classification: str
    specialization: str

    @property
    def name(self) -> str:
        """'Anesthesiology / Pain Medicine'; the classification alone at classification level."""
        if self.specialization:
            return f"{self.classification} / {self.specialization}"
        return self.classification

    @property
    def is_classification(self) -> bool:
        return not self.specialization


class CodeSet:
    """Every NUCC taxonomy by code, and the codes of each classification."""

    def __init__(self, rows: list[Taxonomy]) -> None:
        self.by_code: dict[str, Taxonomy] = {t.code: t for t in rows}
        self._members: dict[tuple[str, str], list[str]] = {}
        for t in rows:
            self._members.setdefault((t.grouping, t.classification), []).append(t.code)

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    def __len__(self) -> int:
        return len(self.by_code)

    def get(self, code: str) -> Taxonomy | None:
        return self.by_code.get(code)

    def classification_members(self, code: str) -> list[str]:
        """Every code of the classification ``code`` belongs to (itself included)."""
        t = self.by_code.get(code)
        if t is None:
            return []
        return list(self._members.get((t.grouping, t.classification), [code]))

    def name(self, code: str) -> str:
        """The taxonomy in words, 'taxonomy XXXXXXXXXX' when NUCC has no such code."""
        t = self.by_code.get(code)
        return t.name if t is not None else f"taxonomy {code}"


def parse(text: str) -> CodeSet:
    reader = csv.DictReader(io.StringIO(text))
    rows = [
        Taxonomy(
            r["code"].strip(),
            r["grouping"].strip(),
            r["classification"].strip(),
            (r["specialization"] or "").strip(),
        )
        for r in reader
    ]
    return CodeSet(rows)


@lru_cache(maxsize=1)
def code_set() -> CodeSet:
    """The shipped code set, read once per process."""
    path = package_data("nucc", "nucc_taxonomy.csv")
    return parse(path.read_text(encoding="utf-8"))
