"""The duplicate record: claimed in a transaction, committed with the outputs, kept for a window."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from edi_gate.state import record as record_module
from edi_gate.state.record import ClaimRecord, InterchangeRecord, claim_key, parse_window
from edi_gate.state.store import StateStore

DAY = 86_400.0
KEY = ("ZZ:DEMOSUB01", "000000101")


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "seconds"), [("90d", 90 * DAY), ("12h", 43_200), ("30m", 1_800), ("45", 45), ("0", 0)]
)
def test_parse_window(text: str, seconds: float) -> None:
    assert parse_window(text) == seconds


@pytest.mark.parametrize("text", ["", "d", "-1d", "ninety", "nan", "inf"])
def test_parse_window_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_window(text)


def test_accepted_interchange_is_refused_within_the_window_only(tmp_path: Path) -> None:
    store, clock = StateStore(tmp_path / "db"), Clock()
    first = InterchangeRecord(store, window=90 * DAY, clock=clock)
    assert first.claim(*KEY).accepted
    first.commit()
    clock.now += 89 * DAY
    again = InterchangeRecord(StateStore(tmp_path / "db"), window=90 * DAY, clock=clock)
    verdict = again.claim(*KEY)
    assert not verdict.accepted and "accepted at" in verdict.reason
    assert again.claim("ZZ:OTHERSENDER", KEY[1]).accepted  # per sender
    clock.now += 2 * DAY
    assert again.claim(*KEY).accepted


def test_a_failed_run_releases_its_claims(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "db")
    failed = InterchangeRecord(store, window=DAY)
    assert failed.claim(*KEY).accepted
    assert not InterchangeRecord(store, window=DAY).claim(*KEY).accepted  # in progress
    failed.release()
    assert InterchangeRecord(store, window=DAY).claim(*KEY).accepted


def test_repeat_within_one_run_is_refused(tmp_path: Path) -> None:
    run = InterchangeRecord(StateStore(tmp_path / "db"), window=DAY)
    assert run.claim(*KEY).accepted
    assert run.claim(*KEY).reason == "repeated within this input"


def test_same_owner_reclaims_its_own_interchange(tmp_path: Path) -> None:
    """watch names the owner after its job: a job retried after a crash is not a duplicate."""
    store = StateStore(tmp_path / "db")
    first = InterchangeRecord(store, window=DAY, owner="watch:job-1")
    assert first.claim(*KEY).accepted
    first.commit()
    assert InterchangeRecord(store, window=DAY, owner="watch:job-1").claim(*KEY).accepted
    assert not InterchangeRecord(store, window=DAY, owner="watch:job-2").claim(*KEY).accepted


def test_claim_of_a_dead_process_is_taken_over(tmp_path: Path, monkeypatch) -> None:
    store = StateStore(tmp_path / "db")
    child = os.fork()
    if child == 0:  # pragma: no cover - the child claims, then dies without committing
        InterchangeRecord(StateStore(tmp_path / "db"), window=DAY).claim(*KEY)
        os._exit(0)
    os.waitpid(child, 0)
    assert InterchangeRecord(store, window=DAY).claim(*KEY).accepted


def test_stale_claim_from_another_host_is_taken_over(tmp_path: Path, monkeypatch) -> None:
    store, clock = StateStore(tmp_path / "db"), Clock()
    monkeypatch.setattr(record_module.socket, "gethostname", lambda: "other-host")
    assert InterchangeRecord(store, window=DAY, clock=clock).claim(*KEY).accepted
    monkeypatch.undo()
    assert not InterchangeRecord(store, window=DAY, clock=clock).claim(*KEY).accepted
    clock.now += record_module.STALE_AFTER + 1
    assert InterchangeRecord(store, window=DAY, clock=clock).claim(*KEY).accepted


def _race(path: str, barrier, queue) -> None:
    record = InterchangeRecord(StateStore(path), window=DAY)
    barrier.wait()
    accepted = record.claim(*KEY).accepted
    if accepted:
        record.commit()
    queue.put(accepted)


def test_processes_racing_for_one_interchange_exactly_one_accepts(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    StateStore(path).connect()  # created before the race (creation is also safe, see store)
    racers = 6
    barrier, queue = multiprocessing.Barrier(racers), multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=_race, args=(path, barrier, queue)) for _ in range(racers)
    ]
    for process in processes:
        process.start()
    verdicts = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert sorted(verdicts) == [False] * (racers - 1) + [True]


def test_claims_are_recorded_as_digests_when_committed(tmp_path: Path) -> None:
    store, clock = StateStore(tmp_path / "db"), Clock()
    key = claim_key("1234567893", "PCN-1", "2025-03-10", "2025-03-10", "420")
    claims = ClaimRecord(store, window=DAY, clock=clock)
    assert not claims.seen(key)
    claims.add(key)
    assert claims.seen(key)  # within the run
    assert not ClaimRecord(store, window=DAY, clock=clock).seen(key)  # not committed yet
    claims.commit()
    assert ClaimRecord(store, window=DAY, clock=clock).seen(key)
    clock.now += 2 * DAY
    assert not ClaimRecord(store, window=DAY, clock=clock).seen(key)
    stored = store.connect().execute("SELECT key FROM claims").fetchall()
    assert stored == [(key,)] and "PCN-1" not in key
