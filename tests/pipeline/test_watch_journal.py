"""The job records (edi_gate.pipeline.watch.protocol): a record the watcher did not write, or can
no longer read, is set aside once and logged, never acted on, never retried forever."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import structlog

from edi_gate.pipeline.watch import stage
from tests.pipeline.support import assert_files_conservation, demo_variant
from tests.pipeline.test_watch import config, drop, outputs, watcher
from tests.pipeline.test_watch_hostile import prepared


def test_planted_manifests_are_never_carried_out(tmp_path: Path):
    """The attack: manifests planted in the work area moved an unfiltered 837 into out/ and
    deleted an archived file. Manifests name no paths any more; foreign ones are set aside."""
    cfg = config(tmp_path)
    prepared(cfg)
    archived = cfg.archive / "old.837"
    archived.write_bytes(demo_variant("OLD"))
    unfiltered = tmp_path / "unfiltered.837"
    unfiltered.write_bytes(demo_variant("EVIL"))
    job = "0000000000000000001-1-1"
    plants = {
        # the old format: explicit moves
        "1.json": {"id": "1", "state": "committed", "moves": [[str(unfiltered), str(cfg.out)]]},
        # a valid-looking job whose base climbs out of the directories
        f"{job}.json": {
            "id": job,
            "name": "x",
            "state": "committed",
            "outcome": "archived",
            "base": "../../etc/evil",
            "snapshot": False,
        },
        "2.json": "not json at all",
    }
    for name, content in plants.items():
        text = content if isinstance(content, str) else json.dumps(content)
        path = cfg.jobs_dir / name
        path.write_text(text)
        os.chmod(path, 0o600)
    rogue = cfg.claimed_dir / job
    rogue.symlink_to(archived)
    with structlog.testing.capture_logs() as events:
        watcher(cfg).run(once=True)
    assert archived.read_bytes() == demo_variant("OLD")
    assert unfiltered.exists()
    assert not list(cfg.out.iterdir())
    assert not (tmp_path.parent / "etc").exists()
    rejected = [e for e in events if e["event"] == "watch.manifest_rejected"]
    assert len(rejected) == 3
    # the planted claimed name (a link to the archive) went to quarantine as a link, unread
    assert (cfg.quarantine / job).is_symlink()
    assert archived.read_bytes() == demo_variant("OLD")


def test_a_record_unreadable_at_a_retry_is_set_aside_once_not_retried_forever(
    tmp_path: Path, monkeypatch
):
    """The break: a deferred job whose record could no longer be read was processed again at
    every retry, whatever its state (it may have been committed). Now the record is set aside
    once, logged, and the job leaves the retry list; its claimed input is kept."""
    cfg = config(tmp_path)
    data = drop(cfg, "a.837", demo_variant("A"))
    real_run = stage.run_filter_file
    calls = []

    def disk_full(source, name, *args, **kwargs):
        calls.append(name)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(stage, "run_filter_file", disk_full)
    first = watcher(cfg)
    first.prepare()
    first.jobs.process(first.jobs.claim("a.837"))
    assert first.unfinished == 1 and calls == ["a.837"]
    (record,) = cfg.jobs_dir.glob("*.json")
    record.write_text("{not a record")  # torn, edited, or replaced: its state is unknown
    with structlog.testing.capture_logs() as events:
        for _ in range(3):
            first.jobs.retry_due(force=True)
    first.close()
    assert calls == ["a.837"]  # not restarted
    assert first.unfinished == 0
    assert [e["event"] for e in events] == ["watch.manifest_rejected"]
    assert not record.exists() and (cfg.work / "rejected" / record.name).exists()
    (claimed,) = cfg.claimed_dir.iterdir()
    assert claimed.read_bytes() == data  # nothing a partner sent is lost

    monkeypatch.setattr(stage, "run_filter_file", real_run)
    done = watcher(cfg).run(once=True)  # a restart decides the claimed input once
    assert [e["outcome"] for e in done] == ["archived"]
    assert_files_conservation([data], *outputs(cfg))
