"""Compile edi-gate's hot path with mypyc; everything else is declared in pyproject.toml.

Why: the claim path (tokenizer, 837P loops, rules, 277CA and filtered-837 writers) runs per
segment and per claim, and CPython's interpreter overhead is most of its cost. mypyc compiles
these same type-annotated modules to C extensions, so there is one source, readable and
debuggable as Python, and the uncompiled modules stay the reference the tests compare against.

EDI_GATE_PURE_PYTHON=1 skips compilation (no C compiler needed; about half the speed).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from setuptools import setup

# The modules every claim passes through, listed once in hot-path.txt (read by the Makefile and
# the tests too).
HOT_PATH_LIST = Path("hot-path.txt")


def hot_path() -> list[str]:
    """The source paths hot-path.txt names (comments and blank lines skipped)."""
    lines = HOT_PATH_LIST.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


# What the extensions were built from: an editable install keeps loading the extension after its
# .py is edited, so tests/core/test_compiled.py compares the sources with this record.
BUILT_FROM = Path("edi_gate/.compiled-sources.json")


def ext_modules() -> list:
    if os.environ.get("EDI_GATE_PURE_PYTHON"):
        record_sources(None)
        return []
    from mypyc.build import mypycify

    sources = hot_path()
    modules = mypycify(sources, opt_level="3", debug_level="0")
    record_sources({path: hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in sources})
    return modules


def record_sources(digests: dict[str, str] | None) -> None:
    """Write (None: remove) BUILT_FROM; a read-only source tree just goes without it."""
    try:
        if digests is None:
            BUILT_FROM.unlink(missing_ok=True)
        else:
            BUILT_FROM.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass


setup(ext_modules=ext_modules())
