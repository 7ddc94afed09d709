"""Exactly once across runs and processes (issue 13 items 11-12, issue 14 item 10).

The state database (edi_gate.state) in the user's state directory, shared by every process:
an interchange re-sent by the same sender (ISA05/06 + ISA13) is refused with a TA1 R/025 and
nothing of it is forwarded, decided or acknowledged otherwise; control numbers go on from run to
run and never repeat, whichever process draws them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import count_clm
from tests.pipeline.support import DEMO, EDI_GATE, demo_variant


def filter_run(source: Path, out: Path, *extra: str, state: Path | None = None):
    """``edi-gate filter`` with every output under ``out`` (NAME.837/.277/.999/.jsonl)."""
    out.mkdir(parents=True, exist_ok=True)
    command = [
        str(EDI_GATE),
        "filter",
        str(source),
        "-o",
        str(out / "filtered.837"),
        "--acks",
        str(out / "acks.277"),
        "--ack999",
        str(out / "acks.999"),
        "--decisions",
        str(out / "decisions.jsonl"),
        "--log-format",
        "json",
        "--duplicate-window",
        "90d",
        *extra,
    ]
    if state is not None:
        command += ["--state-dir", str(state)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def clms(path: Path) -> int:
    data = path.read_bytes()
    return count_clm(data) if data else 0


def summary_of(result) -> dict:
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    return next(e for e in events if e["event"] == "filter.summary")


def isa13s(data: bytes) -> list[str]:
    return re.findall(rb"ISA\*(?:[^*]*\*){12}(\d{9})\*", data)


def test_resending_a_file_gives_ta1_025_and_forwards_nothing(tmp_path: Path) -> None:
    first = filter_run(DEMO, tmp_path / "first")
    assert first.returncode == 0, first.stderr
    assert count_clm((tmp_path / "first" / "filtered.837").read_bytes()) > 0

    again = filter_run(DEMO, tmp_path / "again")  # a new process: the record is on disk
    assert again.returncode == 0, again.stderr
    out = tmp_path / "again"
    assert (out / "filtered.837").read_bytes() == b""
    assert (out / "decisions.jsonl").read_text() == ""
    assert (out / "acks.277").read_bytes() == b""
    ack = (out / "acks.999").read_text()
    assert "TA1*000000101*250310*0900*R*025~" in ack
    summary = summary_of(again)
    assert summary["claims"] == 0 and summary["duplicate_interchanges"] == 1
    assert summary["duplicate_interchange_claims"] == count_clm(DEMO.read_bytes())
    # the refusal's TA1 took a new interchange number: no ISA13 was sent twice
    sent = isa13s((tmp_path / "first" / "acks.277").read_bytes())
    sent += isa13s((tmp_path / "first" / "acks.999").read_bytes()) + isa13s(ack.encode())
    assert len(sent) == len(set(sent)) >= 3


def test_another_sender_or_control_number_is_not_a_duplicate(tmp_path: Path) -> None:
    assert filter_run(DEMO, tmp_path / "a").returncode == 0
    other_sender = tmp_path / "other.837"
    other_sender.write_bytes(demo_variant("OTH", sender="OTHERSUB"))
    new_number = tmp_path / "renumbered.837"
    new_number.write_bytes(DEMO.read_bytes().replace(b"*000000101*", b"*000000102*"))
    new_number.write_bytes(new_number.read_bytes().replace(b"IEA*1*000000101", b"IEA*1*000000102"))
    for source, out in ((other_sender, "b"), (new_number, "c")):
        result = filter_run(source, tmp_path / out)
        assert result.returncode == 0, result.stderr
        assert summary_of(result)["duplicate_interchanges"] == 0
        assert count_clm((tmp_path / out / "filtered.837").read_bytes()) > 0


def test_only_the_repeated_interchange_of_a_file_is_refused(tmp_path: Path) -> None:
    fresh = DEMO.read_bytes().replace(b"*000000101*", b"*000000555*")
    fresh = fresh.replace(b"IEA*1*000000101", b"IEA*1*000000555").replace(b"CLM*DEMO-", b"CLM*NEW-")
    two = tmp_path / "two.837"
    two.write_bytes(DEMO.read_bytes() + fresh)
    assert filter_run(DEMO, tmp_path / "a").returncode == 0
    result = filter_run(two, tmp_path / "b")
    assert result.returncode == 0, result.stderr
    forwarded = (tmp_path / "b" / "filtered.837").read_bytes()
    assert b"CLM*NEW-" in forwarded and b"CLM*DEMO-" not in forwarded
    decisions = (tmp_path / "b" / "decisions.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in decisions]
    assert {r["interchange"] for r in records} == {"000000555"}
    assert "TA1*000000101*250310*0900*R*025~" in (tmp_path / "b" / "acks.999").read_text()


def test_a_failed_run_records_nothing(tmp_path: Path) -> None:
    """A run that fails (unreadable X12, exit 65) forwards nothing and must not make the
    corrected re-send a duplicate."""
    broken = tmp_path / "broken.837"
    data = DEMO.read_bytes()
    broken.write_bytes(data[: data.index(b"CLM*DEMO-003")] + b"ISA*broken~")
    assert filter_run(broken, tmp_path / "a").returncode == 65
    result = filter_run(DEMO, tmp_path / "b")
    assert result.returncode == 0 and summary_of(result)["duplicate_interchanges"] == 0


def test_window_zero_turns_the_check_off(tmp_path: Path) -> None:
    for out in ("a", "b"):
        result = filter_run(DEMO, tmp_path / out, "--duplicate-window", "0")
        assert result.returncode == 0, result.stderr
        assert count_clm((tmp_path / out / "filtered.837").read_bytes()) > 0


def test_bad_window_is_a_usage_error(tmp_path: Path) -> None:
    result = filter_run(DEMO, tmp_path / "a", "--duplicate-window", "soon")
    assert result.returncode == 2 and "not a duration" in result.stderr


def test_two_filters_racing_on_one_file_exactly_one_forwards(tmp_path: Path) -> None:
    state = tmp_path / "state"
    processes = []
    for index in range(4):
        out = tmp_path / f"run{index}"
        out.mkdir()
        command = [str(EDI_GATE), "filter", str(DEMO), "-o", str(out / "filtered.837")]
        command += ["--ack999", str(out / "acks.999"), "--state-dir", str(state)]
        command += ["--duplicate-window", "90d"]
        processes.append(subprocess.Popen(command, stderr=subprocess.DEVNULL))
    assert [p.wait(timeout=120) for p in processes] == [0] * 4
    forwarded = [clms(tmp_path / f"run{i}" / "filtered.837") for i in range(4)]
    assert forwarded.count(0) == 3 and max(forwarded) == count_clm(DEMO.read_bytes()) - 4
    refusals = [(tmp_path / f"run{i}" / "acks.999").read_text() for i in range(4)]
    assert sum("*R*025~" in text for text in refusals) == 3


@pytest.mark.parametrize("kind", ["json", "sqlite"])
def test_corrupt_state_is_a_one_line_config_error(tmp_path: Path, kind: str) -> None:
    if kind == "json":
        state = tmp_path / "control.json"
        state.write_text("{not json")
        extra = ["--control-state", str(state)]
    else:
        state = tmp_path / "state"
        state.mkdir()
        (state / "edi-gate.sqlite3").write_bytes(b"this is no database\n" * 50)
        extra = ["--state-dir", str(state)]
    result = filter_run(DEMO, tmp_path / "out", *extra)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert len(lines) == 1 and lines[0].startswith("edi-gate: configuration error: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "filtered.837").exists()


def test_control_numbers_persist_by_default_in_the_state_directory(tmp_path: Path) -> None:
    """No --control-state: the second run goes on from the first (XDG_STATE_HOME per test)."""
    for out in ("a", "b"):
        result = filter_run(DEMO, tmp_path / out, "--duplicate-window", "0")
        assert result.returncode == 0, result.stderr
    first = [
        int(n)
        for ack in ("acks.277", "acks.999")
        for n in isa13s((tmp_path / "a" / ack).read_bytes())
    ]
    second = [
        int(n)
        for ack in ("acks.277", "acks.999")
        for n in isa13s((tmp_path / "b" / ack).read_bytes())
    ]
    assert sorted(first) == [1, 2] and sorted(second) == [3, 4]
    assert (Path(os.environ["XDG_STATE_HOME"]) / "edi-gate" / "edi-gate.sqlite3").exists()


def test_ack_command_draws_from_the_same_authority(tmp_path: Path) -> None:
    result = filter_run(DEMO, tmp_path / "a")
    assert result.returncode == 0
    ack = subprocess.run(
        [str(EDI_GATE), "ack", str(DEMO), "--decisions", str(tmp_path / "a" / "decisions.jsonl")],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert ack.returncode == 0, ack.stderr
    assert isa13s(ack.stdout) == [b"000000003"]  # after the filter's 277CA and 999


def watch_once(root: Path, work: str, *extra: str, state: Path) -> subprocess.Popen:
    directories = {name: root / name for name in ("out", "acks", "archive", "quarantine")}
    for directory in directories.values():
        directory.mkdir(parents=True, exist_ok=True)
    command = [str(EDI_GATE), "watch", str(root / "inbox")]
    for name, directory in directories.items():
        command += [f"--{name}", str(directory)]
    command += ["--work", str(root.parent / work), "--once", "--settle", "0"]
    command += ["--state-dir", str(state), "--log-format", "json", *extra]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_two_watchers_share_one_authority_and_one_record(tmp_path: Path) -> None:
    """Issue 14 item 10: two watchers (different --work) on inboxes that both receive the same
    interchange, and a batch of distinct ones: each distinct interchange is accepted once, the
    repeated one exactly once, and no ISA13 is ever sent twice."""
    state = tmp_path / "state"
    roots = [tmp_path / "a", tmp_path / "b"]
    batch = 6
    for index, root in enumerate(roots):
        (root / "inbox").mkdir(parents=True)
        (root / "inbox" / "same.837").write_bytes(DEMO.read_bytes())
        for number in range(batch):  # distinct interchanges: ISA13 and claim ids per file
            control = f"{700 + index * batch + number:09d}".encode()
            data = demo_variant(f"W{index}{number}").replace(b"*000000101*", b"*" + control + b"*")
            data = data.replace(b"IEA*1*000000101", b"IEA*1*" + control)
            (root / "inbox" / f"f{number}.837").write_bytes(data)
    watchers = [watch_once(root, f"work-{root.name}", "--duplicate-window", "90d", state=state)
                for root in roots]  # fmt: skip
    for watcher in watchers:
        _, stderr = watcher.communicate(timeout=180)
        assert watcher.returncode == 0, stderr
    forwarded = {
        root.name: {p.name: clms(p) for p in (root / "out").glob("*.filtered.837")}
        for root in roots
    }
    same = [forwarded[root.name]["same.837.filtered.837"] for root in roots]
    assert sorted(same) == [0, count_clm(DEMO.read_bytes()) - 4]  # accepted by exactly one
    for root in roots:  # the distinct files were all forwarded
        assert all(forwarded[root.name][f"f{n}.837.filtered.837"] > 0 for n in range(batch))
    refusals = [p.read_text() for root in roots for p in (root / "acks").glob("*.999")]
    assert sum("TA1*000000101*250310*0900*R*025~" in text for text in refusals) == 1
    sent = [n for root in roots for p in (root / "acks").iterdir() for n in isa13s(p.read_bytes())]
    # a 277CA and a 999 per file, but the refused one: its TA1 alone
    assert len(sent) == len(set(sent)) == 2 * 2 * (batch + 1) - 1

    # A restart (a new watcher, a new work area) keeps the record: the re-sent file is refused.
    (roots[0] / "inbox" / "again.837").write_bytes(DEMO.read_bytes())
    again = watch_once(roots[0], "work-c", "--duplicate-window", "90d", state=state)
    _, stderr = again.communicate(timeout=180)
    assert again.returncode == 0, stderr
    assert clms(roots[0] / "out" / "again.837.filtered.837") == 0
    assert "*R*025~" in (roots[0] / "acks" / "again.837.999").read_text()


def test_duplicate_claims_are_rejected_when_asked(tmp_path: Path) -> None:
    """Off by default; with --duplicate-claims reject, a claim accepted before (same billing NPI,
    CLM01, service dates, charge) in a new interchange is rejected with 277CA A3:78."""
    renumbered = tmp_path / "renumbered.837"
    data = DEMO.read_bytes().replace(b"*000000101*", b"*000000102*")
    renumbered.write_bytes(data.replace(b"IEA*1*000000101", b"IEA*1*000000102"))
    options = ("--duplicate-claims", "reject")
    assert filter_run(DEMO, tmp_path / "a", *options).returncode == 0
    accepted = clms(tmp_path / "a" / "filtered.837")
    result = filter_run(renumbered, tmp_path / "b", *options)
    assert result.returncode == 0, result.stderr
    assert clms(tmp_path / "b" / "filtered.837") == 0
    assert summary_of(result)["by_rule"]["DUPLICATE-CLAIM"] == accepted
    assert (tmp_path / "b" / "acks.277").read_bytes().count(b"STC*A3:78") == accepted
    # without the option the same file goes through
    plain = filter_run(renumbered, tmp_path / "c", state=tmp_path / "other-state")
    assert clms(tmp_path / "c" / "filtered.837") == accepted and plain.returncode == 0


def test_duplicate_claims_within_one_file_and_failed_sets(tmp_path: Path) -> None:
    """The second of two identical claims in one run is a duplicate; claims of a set rejected for
    syntax are not remembered (their corrected re-send is no duplicate)."""
    data = DEMO.read_bytes()
    start, end = data.index(b"CLM*DEMO-001"), data.index(b"HL*", data.index(b"CLM*DEMO-001"))
    doubled = tmp_path / "doubled.837"
    block = data[start:end]
    se = f"SE*{160 + block.count(b'~')}*0001".encode()  # demo.837: SE*160*0001
    doubled.write_bytes((data[:end] + block + data[end:]).replace(b"SE*160*0001", se))
    options = ("--duplicate-claims", "reject")
    result = filter_run(doubled, tmp_path / "a", *options, state=tmp_path / "s1")
    assert result.returncode == 0, result.stderr
    decisions = (tmp_path / "a" / "decisions.jsonl").read_text().splitlines()
    first, second = [r for r in map(json.loads, decisions) if r["claim"] == "DEMO-001"]
    assert first["decision"] == "accepted" and second["decision"] == "rejected"
    assert [f["rule"] for f in second["findings"]] == ["DUPLICATE-CLAIM"]

    damaged = tmp_path / "damaged.837"
    damaged.write_bytes(data.replace(b"SE*160*0001", b"SE*7*0001"))
    assert filter_run(damaged, tmp_path / "b", *options, state=tmp_path / "s2").returncode == 0
    assert clms(tmp_path / "b" / "filtered.837") == 0  # rejected for syntax
    fixed = tmp_path / "fixed.837"
    fixed.write_bytes(
        data.replace(b"*000000101*", b"*000000102*").replace(b"IEA*1*000000101", b"IEA*1*000000102")
    )
    result = filter_run(fixed, tmp_path / "c", *options, state=tmp_path / "s2")
    assert "DUPLICATE-CLAIM" not in summary_of(result)["by_rule"]
    assert clms(tmp_path / "c" / "filtered.837") == 4


def test_duplicate_claims_needs_a_window(tmp_path: Path) -> None:
    options = ("--duplicate-claims", "reject", "--duplicate-window", "0")
    result = filter_run(DEMO, tmp_path / "a", *options)
    assert result.returncode == 2 and "needs a --duplicate-window" in result.stderr


@pytest.mark.parametrize("kind", ["sqlite", "json"])
def test_watch_with_corrupt_state_stops_at_start(tmp_path: Path, kind: str) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (tmp_path / "w" / "inbox").mkdir(parents=True)
    (tmp_path / "w" / "inbox" / "demo.837").write_bytes(DEMO.read_bytes())
    extra: tuple[str, ...] = ()
    if kind == "sqlite":
        (state / "edi-gate.sqlite3").write_bytes(b"\x00not a database" * 100)
    else:
        (tmp_path / "control.json").write_text("[1, 2]")
        extra = ("--control-state", str(tmp_path / "control.json"))
    watcher = watch_once(tmp_path / "w", "work", *extra, state=state)
    _, stderr = watcher.communicate(timeout=120)
    assert watcher.returncode == 2
    lines = [line for line in stderr.splitlines() if not line.startswith("{")]
    assert len(lines) == 1 and lines[0].startswith("edi-gate: configuration error:")
    assert (tmp_path / "w" / "inbox" / "demo.837").exists()  # nothing taken


def test_watch_continues_after_a_work_areas_older_control_numbers(tmp_path: Path) -> None:
    (tmp_path / "w" / "inbox").mkdir(parents=True)
    (tmp_path / "w" / "inbox" / "demo.837").write_bytes(DEMO.read_bytes())
    (tmp_path / "work").mkdir(mode=0o700)
    os.chmod(tmp_path / "work", 0o700)
    legacy = {"interchange": 41, "group": 41, "transaction": 41}
    (tmp_path / "work" / "control-numbers.json").write_text(json.dumps(legacy))
    watcher = watch_once(tmp_path / "w", "work", state=tmp_path / "state")
    _, stderr = watcher.communicate(timeout=120)
    assert watcher.returncode == 0, stderr
    sent = [int(n) for p in (tmp_path / "w" / "acks").iterdir() for n in isa13s(p.read_bytes())]
    assert sorted(sent) == [42, 43]


def test_partner_require_ruleset(tmp_path: Path) -> None:
    from edi_gate.errors import ConfigError
    from edi_gate.pipeline.partners import load_partners

    conf = tmp_path / "partners.toml"
    conf.write_text('[partners.DEMOSUB01]\nrequire_ruleset = true\n[partners.OTHER]\nname = "x"\n')
    book = load_partners(conf)
    assert book.partners["DEMOSUB01"].require_ruleset is True
    assert book.partners["OTHER"].require_ruleset is None  # the watcher's --require-ruleset
    conf.write_text('[partners.DEMOSUB01]\nrequire_ruleset = "yes"\n')
    with pytest.raises(ConfigError, match="require_ruleset must be true or false"):
        load_partners(conf)

    # a watcher: DEMOSUB01's claims dated before every ruleset are rejected for that partner
    conf.write_text("[partners.DEMOSUB01]\nrequire_ruleset = true\n")
    (tmp_path / "w" / "inbox").mkdir(parents=True)
    old = DEMO.read_bytes().replace(b"DTP*472*D8*2025", b"DTP*472*D8*2019")
    (tmp_path / "w" / "inbox" / "old.837").write_bytes(old)
    watcher = watch_once(tmp_path / "w", "work", "--partners", str(conf), state=tmp_path / "s")
    _, stderr = watcher.communicate(timeout=120)
    assert watcher.returncode == 0, stderr
    assert clms(tmp_path / "w" / "out" / "old.837.filtered.837") == 0
    assert (tmp_path / "w" / "acks" / "old.837.277ca").read_bytes().count(b"STC*A3:187") == 8
