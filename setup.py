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

# The modules every claim passes through (the ruleset and roster for their lookups, asked for
# every line). CLI, watch, replay and the outputs run once per file or per run and stay
# interpreted.
HOT_PATH = [
    "edi_gate/memo.py",
    "edi_gate/spool.py",
    "edi_gate/x12/tokenizer.py",
    "edi_gate/x12/model.py",
    "edi_gate/x12/loops.py",
    "edi_gate/x12/writer.py",
    "edi_gate/rules/findings.py",
    "edi_gate/rules/codeset.py",
    "edi_gate/rules/ruleset.py",
    "edi_gate/directory/lookup.py",
    "edi_gate/rules/roster.py",
    "edi_gate/rules/context.py",
    "edi_gate/rules/base.py",
    "edi_gate/rules/privilege.py",
    "edi_gate/rules/guidance.py",
    "edi_gate/rules/bundling.py",
    "edi_gate/rules/addons.py",
    "edi_gate/rules/modifiers.py",
    "edi_gate/rules/codes.py",
    "edi_gate/rules/provider.py",
    "edi_gate/rules/dispatch.py",
    "edi_gate/rules/engine.py",
    "edi_gate/acks/codes.py",
    "edi_gate/acks/x12out.py",
    "edi_gate/acks/ca277.py",
    "edi_gate/pipeline/filter.py",
    "edi_gate/pipeline/positions.py",
]


# What the extensions were built from: an editable install keeps loading the extension after its
# .py is edited, so tests/core/test_compiled.py compares the sources with this record.
BUILT_FROM = Path("edi_gate/.compiled-sources.json")


def ext_modules() -> list:
    if os.environ.get("EDI_GATE_PURE_PYTHON"):
        record_sources(None)
        return []
    from mypyc.build import mypycify

    modules = mypycify(HOT_PATH, opt_level="3", debug_level="0")
    record_sources({path: hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in HOT_PATH})
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
