"""No patient data in logs by default, and outputs readable by their owner only.

Patient names, member ids, dates of birth and addresses are parsed from the input itself (NM1*IL
and NM1*QC, DMG, and the N3/N4 of those loops) and searched for in everything the CLI writes to
stderr, for a clean run, a run whose set is rejected for syntax, and a run that fails as unreadable.
"""

from __future__ import annotations

import stat

import pytest

from fuzz.mutations import generated
from tests.helpers import FIXTURES
from tests.reliability.support import OUTPUT_NAMES, assert_no_traceback, run_cli


def patient_values(data: bytes) -> set[str]:
    """Names, ids, dates of birth and addresses of subscribers and patients in an 837."""
    element, terminator = data[3:4], data[105:106]
    values: set[str] = set()
    in_person = False
    for raw in data.split(terminator):
        parts = raw.strip().split(element)
        tag = parts[0]
        if tag == b"NM1":
            in_person = len(parts) > 1 and parts[1] in (b"IL", b"QC")
            if in_person:
                values.update(p for i, p in enumerate(parts) if i in (3, 4, 5, 9))
        elif tag in (b"N3", b"N4") and in_person:
            values.update(parts[1:3] if tag == b"N3" else parts[1:2])
        elif tag == b"DMG" and len(parts) > 2:
            values.add(parts[2])
        elif tag in (b"HL", b"CLM"):
            in_person = False
    return {v.decode("latin-1") for v in values if len(v) >= 4}


def damaged(data: bytes) -> bytes:
    """The same file with an unknown segment in the first patient loop: its set is rejected."""
    return data.replace(
        b"DMG*", b"ZZZ*" + data[data.index(b"DMG*") + 4 : data.index(b"DMG*") + 12] + b"~DMG*", 1
    )


def truncated(data: bytes) -> bytes:
    """Cut after the first patient's demographics: unreadable (no SE/GE/IEA)."""
    return data[: data.index(b"DMG*") + 40]


def _inputs(tmp_path):
    demo = (FIXTURES / "demo.837").read_bytes()
    synthetic = generated(11, claims=25)
    cases = {}
    for name, data in (("demo", demo), ("generated", synthetic)):
        for kind, make in (("clean", lambda d: d), ("damaged", damaged), ("truncated", truncated)):
            path = tmp_path / f"{name}-{kind}.837"
            path.write_bytes(make(data))
            cases[f"{name}-{kind}"] = (path, patient_values(data))
    return cases


@pytest.mark.parametrize("log_format", ["json", "default", "console"])
def test_no_patient_data_in_logs(tmp_path, log_format):
    cases = _inputs(tmp_path)
    extra = () if log_format == "default" else ("--log-format", log_format)
    for name, (path, secrets) in cases.items():
        assert len(secrets) >= 4, secrets
        if log_format == "default":
            extra = ("--scope", "claim")  # no --log-format: the default
        run = run_cli(path, tmp_path / f"out-{name}-{log_format}", *extra)
        assert_no_traceback(run)
        assert run.status == (65 if name.endswith("truncated") else 0), run.stderr
        leaked = sorted(s for s in secrets if s in run.stderr or s in run.stdout)
        assert not leaked, f"{name}: patient data in logs: {leaked}"


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_outputs_are_private_to_their_owner(tmp_path, umask):
    run = run_cli(FIXTURES / "demo.837", tmp_path / "out", umask=umask)
    assert run.status == 0, run.stderr
    assert run.written() == sorted(OUTPUT_NAMES)
    for name in OUTPUT_NAMES:
        mode = stat.S_IMODE(run.path(name).stat().st_mode)
        assert mode == 0o600, f"{name}: {oct(mode)}"
