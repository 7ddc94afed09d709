"""The pyx12 oracle itself: it must accept known-good files and report known-bad ones.

The samples here are the shared reference notes (interop); test_oracle_own.py makes the same
checks on 277CAs the project writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import REFERENCE
from tests.pyx12_oracle import pyx12_errors


@pytest.mark.interop
def test_accepts_the_reference_277ca() -> None:
    assert pyx12_errors(REFERENCE / "277ca_accept_reject.x12") == []


@pytest.mark.interop
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("neg_2200C_STC02.x12", "STC02"),
        ("neg_2000C_HL04_0.x12", "HL04"),
        ("neg_code796.x12", "796"),
    ],
)
def test_reports_the_negative_samples(name: str, expected: str) -> None:
    errors = pyx12_errors(REFERENCE / name)
    assert errors and any(expected in e for e in errors)


@pytest.mark.interop
def test_exclude_external_codes() -> None:
    assert pyx12_errors(REFERENCE / "neg_code796.x12", exclude_external=["claim_status"]) == []


def test_not_x12(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_text("hello")
    assert any("does not look like an X12" in e for e in pyx12_errors(path))


@pytest.mark.interop
def test_segment_count(tmp_path: Path) -> None:
    good = (REFERENCE / "277ca_accept_reject.x12").read_bytes()
    broken = tmp_path / "broken.x12"
    broken.write_bytes(good.replace(b"SE*39*", b"SE*38*"))
    assert any("SE count" in e for e in pyx12_errors(broken))
