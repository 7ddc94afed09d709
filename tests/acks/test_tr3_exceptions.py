"""The named pyx12-vs-TR3 exceptions (tests.pyx12_oracle.TR3_EXCEPTIONS) are live and narrow.

Every 277CA test validates with pyx12 tolerating only these; here each exception must (1) really
be raised by pyx12 on what edi-gate writes (else it is dead and must go), and (2) be tolerated only
where it applies: the same pyx12 error anywhere else still fails.
"""

from __future__ import annotations

import io
from pathlib import Path

from edi_gate.acks.ca277 import Ack277Writer
from edi_gate.acks.state import ControlNumbers
from edi_gate.rules.findings import Decision, Finding
from tests.pyx12_oracle import TR3_EXCEPTIONS, pyx12_errors

from .factory import NOW, claim, line, segments


def _line_rejection() -> bytes:
    out = io.BytesIO()
    with Ack277Writer(out, control=ControlNumbers(), now=NOW) as writer:
        lines = [line(), line("76942", (), "200", control="LINE0002-1")]
        writer.add(
            claim("P1", lines), Decision(False, [Finding("R1", 2, "bad", "A7", "145", "82")])
        )
    return out.getvalue()


def test_exceptions_are_named_and_cite_evidence() -> None:
    names = [e.name for e in TR3_EXCEPTIONS]
    assert names == ["277CA-2220D-STC02-EMPTY"]
    assert all(e.evidence and e.message for e in TR3_EXCEPTIONS)


def test_2220d_stc02_exception_is_live(tmp_path: Path) -> None:
    """pyx12's map requires 2220D STC02; edi-gate leaves it empty as payers do (NGS Medicare's
    `STC*A7:584**U`, stupidedi's X214 Not Used): without the exception pyx12 reports just that."""
    path = tmp_path / "line.277"
    path.write_bytes(_line_rejection())
    stc = [s for s in segments(path.read_bytes()) if s[0] == "STC"][-1]
    assert stc[1:4] == ["A7:145:82", "", "U"]
    raw = pyx12_errors(path, exceptions=())
    assert len(raw) == 1 and TR3_EXCEPTIONS[0].message in raw[0]
    assert pyx12_errors(path) == []


def test_2220d_stc02_exception_does_not_cover_a_claim_stc(tmp_path: Path) -> None:
    """The same pyx12 error on a 2200D STC (claim level, where STC02 is required by both maps
    and by payers) is not tolerated."""
    data = _line_rejection().decode("ascii")
    claim_stc = next(s for s in data.split("~\n") if s.startswith("STC*A7:145:82*2026"))
    broken = claim_stc.replace("*20261124*", "**", 1)
    path = tmp_path / "claim.277"
    path.write_text(data.replace(claim_stc, broken, 1))
    errors = pyx12_errors(path)
    assert len(errors) == 1 and TR3_EXCEPTIONS[0].message in errors[0]
