"""The watcher and the CLI against a careless operator (issue 14, continued from
test_watch_hostile): private outputs, one line and a status for every fault, mistakes made loud."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import structlog

from edi_gate.errors import ConfigError
from edi_gate.pipeline.watch import DropFolder, WatchFatal, protocol
from tests.pipeline.support import (
    EDI_GATE,
    assert_files_conservation,
    demo_variant,
    one_line_error,
)
from tests.pipeline.test_watch import config, drop, outputs, watcher
from tests.pipeline.test_watch_hostile import cli, prepared, two_interchanges, watch_args

# 6. permissions --------------------------------------------------------------------------------


def test_everything_created_is_private_whatever_the_umask(tmp_path: Path):
    root = tmp_path
    (root / "inbox").mkdir()
    upload = root / "inbox" / "a.837"
    upload.write_bytes(demo_variant("A"))
    os.chmod(upload, 0o666)
    (root / "inbox" / "bad.837").write_bytes(b"not X12 at all\n")
    os.chmod(root / "inbox" / "bad.837", 0o644)
    result = cli(*watch_args(root, "--once", "--create-dirs"), preexec_fn=lambda: os.umask(0))
    assert result.returncode == 65, result.stderr  # bad.837 quarantined: --once says so
    for path in root.rglob("*"):
        if path.is_relative_to(root / "inbox"):
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        assert mode == expected, (path, oct(mode))
    assert (root / "archive" / "a.837").exists() and (root / "quarantine" / "bad.837").exists()


def test_the_outbox_gets_its_configured_mode_and_group(tmp_path: Path):
    group = os.getgroups()[-1] if os.geteuid() != 0 else 1
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "a.837").write_bytes(demo_variant("A"))
    partners = tmp_path / "partners.toml"
    partners.write_text(
        f'unknown_sender = "default"\noutbox_mode = "0640"\noutbox_group = "{group}"\n'
    )
    args = watch_args(tmp_path, "--once", "--create-dirs", "--partners", str(partners))
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    for suffix in (".277ca", ".999"):
        info = (tmp_path / "acks" / f"a.837{suffix}").stat()
        assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_gid == group
    assert stat.S_IMODE((tmp_path / "out" / "a.837.filtered.837").stat().st_mode) == 0o600
    bad = cli(*watch_args(tmp_path, "--once", "--outbox-mode", "0666"))
    assert "outbox-mode" in one_line_error(bad, 2)


def test_the_lock_cannot_be_taken_by_another_user(tmp_path: Path):
    cfg = config(tmp_path)
    prepared(cfg)
    assert cfg.work is not None
    lock = cfg.work / "lock"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert stat.S_IMODE(cfg.work.stat().st_mode) == 0o700  # nobody else can even reach it


# 7. one line and a status, never a traceback ---------------------------------------------------


def test_start_up_faults_exit_with_a_status_and_one_line(tmp_path: Path):
    root = tmp_path
    (root / "inbox").mkdir()
    missing = cli(*watch_args(root, "--once"))
    assert "does not exist" in one_line_error(missing, 2)

    partners = root / "partners.toml"
    partners.write_text('[partners.DEMOSUB01]\noutbox = "nowhere"\n')
    for name in ("out", "acks", "archive", "quarantine"):
        (root / name).mkdir(exist_ok=True)
    no_outbox = cli(*watch_args(root, "--once", "--partners", str(partners)))
    assert "outbox directory does not exist" in one_line_error(no_outbox, 2)

    work = root / ".inbox.edi-gate"
    work.mkdir(mode=0o700)
    (work / "control-numbers.json").write_text("{corrupt")
    corrupt = cli(*watch_args(root, "--once"))
    assert "control-number state" in one_line_error(corrupt, 2)


def test_a_directory_that_cannot_be_created_is_one_line(tmp_path: Path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "file").write_text("")
    args = watch_args(tmp_path, "--once", "--create-dirs")
    args[args.index(str(tmp_path / "archive"))] = str(tmp_path / "file" / "archive")
    result = cli(*args)
    assert "cannot create" in one_line_error(result, 2)


def test_filter_with_a_closed_stdout_exits_74(tmp_path: Path):
    demo = Path(__file__).resolve().parents[2] / "fixtures" / "demo.837"
    result = subprocess.run(
        f"{EDI_GATE} filter {demo} --log-format json >&-",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "standard output" in one_line_error(result, 74)


def test_ack_with_malformed_decisions_is_one_line(tmp_path: Path):
    demo = Path(__file__).resolve().parents[2] / "fixtures" / "demo.837"
    decisions = tmp_path / "decisions.jsonl"
    cli("filter", str(demo), "-o", "/dev/null", "--decisions", str(decisions))
    lines = decisions.read_text().splitlines()
    record = json.loads(lines[0])
    for bad in (
        b"\xff\xfe\n",
        json.dumps({**record, "findings": 3}).encode() + b"\n",
    ):
        (tmp_path / "bad.jsonl").write_bytes(bad + "\n".join(lines[1:]).encode() + b"\n")
        args = ("ack", str(demo), "--decisions", str(tmp_path / "bad.jsonl"))
        result = cli(*args, "-o", str(tmp_path / "x.277"), "--log-format", "json")
        assert result.returncode in (2, 65), result.stderr
        one_line_error(result, result.returncode)
        assert not (tmp_path / "x.277").exists()


# 8. operator mistakes made loud ----------------------------------------------------------------


def test_missing_directories_are_an_error_unless_create_dirs(tmp_path: Path):
    result = cli(*watch_args(tmp_path, "--once"))
    assert "inbox directory does not exist" in one_line_error(result, 2)
    assert not (tmp_path / "inbox").exists()
    result = cli(*watch_args(tmp_path, "--once", "--create-dirs"))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "inbox").stat().st_mode) == 0o700


def test_the_partner_policy_is_stated_at_start_up(tmp_path: Path):
    result = cli(*watch_args(tmp_path, "--once", "--create-dirs"))
    (event,) = [json.loads(ln) for ln in result.stderr.splitlines() if "watch.partners" in ln]
    assert "every sender is accepted" in event["policy"]


def test_two_outputs_on_stdout_is_a_usage_error(tmp_path: Path):
    demo = Path(__file__).resolve().parents[2] / "fixtures" / "demo.837"
    result = cli("filter", str(demo), "-o", "-", "--acks", "-", "--decisions", "-")
    assert result.returncode == 2 and "standard output" in result.stderr
    assert not result.stdout


def test_drop_folder_waits_for_a_writer_that_has_not_closed():
    folder_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"drop-w-{os.getpid()}"
    folder_path.mkdir(exist_ok=True)
    clock = [0.0]
    try:
        folder = DropFolder(folder_path, settle=1.0, clock=lambda: clock[0])
        (folder_path / "x.837").write_bytes(demo_variant("X"))
        folder.mark_writing("x.837")
        assert folder.poll() == []
        clock[0] += 5
        assert folder.poll() == []  # complete-looking, settled, but still open for writing
        folder.mark_closed("x.837")
        assert folder.poll() == ["x.837"]
    finally:
        for p in folder_path.iterdir():
            p.unlink()
        folder_path.rmdir()


def test_bytes_appended_after_the_job_are_taken_as_their_own(tmp_path: Path):
    """A client paused after a complete interchange (the file was taken, as it should be), then
    appended a second one to its open file: the new bytes are decided on their own, once."""
    cfg = config(tmp_path)
    first, second = two_interchanges("A")
    drop(cfg, "paused.837", first)
    with open(cfg.inbox / "paused.837", "ab") as still_open:
        watcher(cfg).run(once=True)
        assert (cfg.archive / "paused.837").read_bytes() == first
        still_open.write(second)  # the client's descriptor still points at the claimed file
    done = watcher(cfg).run(once=True)
    assert [e["file"] for e in done] == ["paused.837"]
    assert (cfg.archive / "paused.2.837").read_bytes() == second
    assert_files_conservation([first + second], *outputs(cfg))
    watcher(cfg).run(once=True)  # nothing is taken twice
    assert_files_conservation([first + second], *outputs(cfg))


def test_a_name_that_cannot_be_claimed_is_left_and_logged_once(tmp_path: Path, monkeypatch):
    cfg = config(tmp_path)
    drop(cfg, "stuck.837", demo_variant("S"))
    good = drop(cfg, "good.837", demo_variant("G"))
    real_rename = os.rename

    def sticky(src, dst, *args, **kwargs):  # a sticky inbox: another user's file stays put
        if Path(src).name == "stuck.837":
            raise PermissionError(errno.EPERM, "Operation not permitted", str(src))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(protocol.os, "rename", sticky)
    with structlog.testing.capture_logs() as events:
        done = watcher(cfg).run(once=True)
    assert [e["file"] for e in done] == ["good.837"]
    skipped = [e for e in events if e["event"] == "watch.skipped"]
    assert len(skipped) == 1 and "cannot be claimed" in skipped[0]["reason"]
    assert (cfg.inbox / "stuck.837").exists() and not list(cfg.jobs_dir.iterdir())
    assert_files_conservation([good], *outputs(cfg))


def test_a_control_state_corrupted_mid_run_stops_the_watcher(tmp_path: Path):
    cfg = config(tmp_path, control_state=tmp_path / "control-numbers.json")
    data = drop(cfg, "a.837", demo_variant("A"))
    the_watcher = watcher(cfg)
    the_watcher.prepare()
    assert cfg.control_state is not None
    cfg.control_state.write_text("{corrupt")
    with pytest.raises(WatchFatal, match="control-number state"):
        the_watcher.run(once=True)
    assert not list(cfg.quarantine.iterdir())  # not "internal error" for every good file
    assert len(list(cfg.claimed_dir.iterdir())) == 1  # kept, and taken again once repaired
    cfg.control_state.unlink()
    watcher(cfg).run(once=True)
    assert_files_conservation([data], *outputs(cfg))


def test_an_old_work_area_inside_the_inbox_stops_start_up(tmp_path: Path):
    """Its control numbers and claimed files sat where a partner could write: not trusted, not
    silently abandoned either (a fresh counter would reuse ISA13 numbers)."""
    cfg = config(tmp_path)
    (cfg.inbox / ".edi-gate" / "claimed").mkdir(parents=True)
    with pytest.raises(ConfigError, match="earlier edi-gate"):
        watcher(cfg).prepare()
