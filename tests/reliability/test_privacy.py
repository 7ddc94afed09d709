"""No patient data in logs by default, and outputs readable by their owner only.

Patient names, member ids, dates of birth and addresses are parsed from the input itself (NM1*IL
and NM1*QC, DMG, and the N3/N4 of those loops) and searched for in everything the CLI writes to
stderr, for a clean run, a run whose set is rejected for syntax, and a run that fails as unreadable.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.data.x12 import generated
from tests.helpers import FIXTURES
from tests.reliability.support import EDI_GATE, OUTPUT_NAMES, assert_no_traceback, run_cli


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


# -- every error path, with patient-like values where the error reads ----------------------------
# Each case breaks the demo file one way, putting the values below into every element the error
# is about (and a segment without the declared separator, quoted whole before). Nothing that
# describes the error (logs, error.json, replay and check output, findings in decisions and in
# the 277CA's STC12) may quote them: messages are built only from whitelisted values.

NAME, BIRTH, MEMBER = "DOEJANE", "19411207", "MEMBERX42"
SECRETS = (NAME, BIRTH, MEMBER, "DOE JANE")
PHI = f"{NAME} {BIRTH} {MEMBER}".encode()
DEMO = (FIXTURES / "demo.837").read_bytes()
ISA = DEMO[: DEMO.index(b"~") + 1]


def _sub(old: bytes, new: bytes, data: bytes = DEMO) -> bytes:
    assert old in data, old
    return data.replace(old, new, 1)


def _without_se(data: bytes = DEMO) -> bytes:
    start = data.index(b"SE*")
    return data[:start] + data[data.index(b"~", start) + 2 :]


PERSON = b"NM1|IL|1|DOE|JANE||||MI|" + MEMBER.encode()
PRIVACY_CASES: dict[str, tuple[bytes, int]] = {
    # X12Error: the run fails (65)
    "not-x12": (b"DOE,JANE," + BIRTH.encode() + b"," + MEMBER.encode() + b"\n" * 200, 65),
    "not-x12-segment": (PERSON + b"~" + b" " * 200, 65),
    "after-iea": (DEMO + PHI + b"~", 65),
    "isa-widths": (_sub(b"DEMOSUB01      ", NAME.encode()), 65),
    "isa-short": (ISA[:60] + PHI, 65),
    "isa-separator": (ISA[:3] + b"D" + ISA[4:60] + PHI, 65),
    "se-missing": (_without_se(_sub(b"ST*837*0001", b"ST*837*" + PHI)), 65),
    "no-iea": (DEMO[: DEMO.index(b"IEA*")] + b"NTE*" + PHI, 65),
    "outside-set": (_sub(b"GE*", PERSON + b"~\nGE*"), 65),
    "outside-group": (_sub(b"IEA*", b"NM1*IL*1*" + PHI + b"~\nIEA*"), 65),
    "outside-interchange": (DEMO + b"DMG|D8|" + BIRTH.encode() + b"|F~", 65),
    "se-without-st": (_sub(b"GE*", b"SE*" + PHI + b"~\nGE*"), 65),
    "claim-too-long": (
        _sub(b"DTP*472*", (b"NTE*ADD*" + PHI * 30_000 + b"~\n") * 3 + b"DTP*472*"),
        65,
    ),
    # SyntaxIssue: the set is rejected (0), the finding names the error
    "clm02": (_sub(b"CLM*DEMO-001*420*", b"CLM*DEMO-001*" + PHI + b"*"), 0),
    "lx01": (_sub(b"LX*1~", b"LX*" + PHI + b"~"), 0),
    "dtp03": (_sub(b"DTP*472*D8*20250310", b"DTP*472*D8*" + PHI), 0),
    "hl01": (_sub(b"HL*2*1*22*0", b"HL*" + PHI + b"*1*22*0"), 0),
    "hl02-hl03": (_sub(b"HL*2*1*22*0", b"HL*2*" + PHI + b"*" + PHI + b"*0"), 0),
    "unknown-id": (_sub(b"DMG*", PERSON + b"~\nDMG*"), 0),
    "zzz": (_sub(b"DMG*", b"ZZZ*" + PHI + b"~\nDMG*"), 0),
    "st03": (_sub(b"ST*837*0001*005010X222A1", b"ST*837*0001*" + PHI), 0),
    "se01-se02": (_sub(b"SE*160*0001", b"SE*" + PHI + b"*" + PHI), 0),
    "before-hl": (_sub(b"HL*1**20*1~", b"DMG*D8*" + PHI + b"~\nHL*1**20*1~"), 0),
    # EnvelopeIssue: reported, the claims unharmed
    "ge": (_sub(b"GE*1*101", b"GE*" + PHI + b"*" + PHI), 0),
    "iea": (_sub(b"IEA*1*000000101", b"IEA*" + PHI + b"*" + PHI), 0),
}


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def _findings_text(outdir) -> str:
    """What describes errors in the outputs: findings in decisions and the 277CA's STC12."""
    text = []
    decisions = outdir / "decisions.jsonl"
    if decisions.exists():
        for line in decisions.read_text().splitlines():
            text.extend(f["message"] for f in json.loads(line)["findings"])
    ca = outdir / "acks.277"
    if ca.exists():
        text.extend(s for s in ca.read_text().split("~") if s.strip().startswith("STC"))
    return "\n".join(text)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_error_message_quotes_input(tmp_path, log_format):
    for name, (data, status) in PRIVACY_CASES.items():
        path = tmp_path / f"{name}.837"
        path.write_bytes(data)
        run = run_cli(path, tmp_path / f"out-{name}", "--log-format", log_format)
        assert_no_traceback(run)
        assert run.status == status, f"{name}: {run.stderr}"
        assert not _leaks(run.stderr + run.stdout), f"{name}: {run.stderr}"
        assert not _leaks(_findings_text(run.outdir)), name


def _cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EDI_GATE), *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_no_error_message_quotes_input_in_check_replay_watch_and_ack(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, (data, _) in PRIVACY_CASES.items():
        (inbox / f"{name}.837").write_bytes(data)
    files = sorted(str(p) for p in inbox.iterdir())
    check = _cli("check", *files, "--log-format", "json")
    assert not _leaks(check.stdout + check.stderr), check.stderr
    replay = _cli("replay", str(inbox), "--out", str(tmp_path / "replay"), "--log-format", "json")
    assert replay.returncode == 0, replay.stderr
    written = "".join(p.read_text() for p in (tmp_path / "replay").glob("summary.*"))
    assert not _leaks(replay.stdout + replay.stderr + written)
    dirs = {d: tmp_path / d for d in ("out", "acks", "archive", "quarantine")}
    for d in dirs.values():
        d.mkdir()
    watch = _cli(
        "watch",
        str(inbox),
        *(f"--{k}={v}" for k, v in dirs.items()),
        "--once",
        "--settle=0",
        "--max-wait=0",  # files that do not end with a whole interchange are taken too
    )
    assert watch.returncode == 65, watch.stderr  # --once: 65 when any file was quarantined
    reports = "".join(p.read_text() for p in dirs["quarantine"].glob("*.json"))
    assert reports and not _leaks(watch.stderr + reports), reports
    # ack: a decisions file that lacks a claim whose interchange and set ids are patient-like
    odd = _sub(b"ST*837*0001", b"ST*837*" + NAME.encode())
    (tmp_path / "odd.837").write_bytes(odd)
    (tmp_path / "none.jsonl").write_text("")
    ack = _cli("ack", str(tmp_path / "odd.837"), "--decisions", str(tmp_path / "none.jsonl"))
    assert ack.returncode == 2 and not _leaks(ack.stderr), ack.stderr


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_hostile_file_names_are_escaped(tmp_path, log_format):
    """A partner names the file: escape sequences reach no terminal raw, undecodable bytes give
    no lone surrogates in decisions (JSON a strict UTF-8 reader rejects)."""
    directory = os.fsencode(tmp_path)
    raw = os.path.join(directory, b"claims\x1b[31mRED\xff.837")
    with open(raw, "wb") as handle:
        handle.write(DEMO)
    name = os.fsdecode(raw)
    run = run_cli(Path(name), tmp_path / "out", "--log-format", log_format)
    assert run.status == 0, run.stderr
    assert "\x1b" not in run.stderr
    decisions = (tmp_path / "out" / "decisions.jsonl").read_bytes()
    decisions.decode("utf-8")  # strict
    source = json.loads(decisions.splitlines()[0])["source"]
    assert "\x1b" not in source and source.encode("utf-8") and "\\xff" in source
    broken = os.path.join(directory, b"bad\x1b]0;TITLE\x07\xfe.837")
    with open(broken, "wb") as handle:
        handle.write(b"garbage " * 20)
    run = run_cli(Path(os.fsdecode(broken)), tmp_path / "out2", "--log-format", log_format)
    assert run.status == 65
    assert "\x1b" not in run.stderr and "\x07" not in run.stderr
    assert "\\x1b" in run.stderr


def test_replay_escapes_archive_member_names(tmp_path):
    import zipfile

    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("claims\x1b[31m.837", DEMO)
        zipped.writestr("broken\x1b]0;T\x07.837", b"DOE,JANE," + BIRTH.encode() * 10)
    out = tmp_path / "replay"
    run = _cli("replay", str(archive), "--out", str(out), "--log-format", "console")
    assert run.returncode == 0, run.stderr
    written = "".join(p.read_text() for p in out.iterdir() if p.is_file())
    for text in (run.stdout, run.stderr, written):
        assert "\x1b" not in text and "\x07" not in text and not _leaks(text)
    assert "\\x1b" in run.stdout + written
