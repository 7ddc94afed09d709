"""Print the requirements of optional-dependency groups of pyproject.toml, one per line.

``make test`` installs the test extras beside the package ``make demo`` already built (so the
hot path is compiled once): ``python scripts/extras.py test spark > reqs.txt`` then
``pip install -r reqs.txt``.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def requirements(groups: list[str]) -> list[str]:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    unknown = [g for g in groups if g not in extras]
    if unknown:
        raise SystemExit(f"extras.py: no such extra in pyproject.toml: {', '.join(unknown)}")
    return [req for group in groups for req in extras[group]]


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
