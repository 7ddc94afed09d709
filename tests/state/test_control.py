"""The control-number authority in the state database: shared by processes, never a repeat."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from edi_gate.acks.state import MAXIMUM
from edi_gate.state.control import SharedControlNumbers
from edi_gate.state.store import StateStore


def test_numbers_continue_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = SharedControlNumbers(StateStore(path), start=50)
    assert [first.interchange(), first.interchange(), first.group()] == [50, 51, 50]
    second = SharedControlNumbers(StateStore(path))  # a restart: the record wins over start
    assert second.interchange() == 52 and second.transaction() == 1
    assert second.peek() == {"interchange": 52, "group": 50, "transaction": 1}


def test_wraps_after_nine_digits(tmp_path: Path) -> None:
    numbers = SharedControlNumbers(StateStore(tmp_path / "db"), start=MAXIMUM)
    assert [numbers.interchange(), numbers.interchange()] == [MAXIMUM, 1]


def test_continues_after_an_older_json_file(tmp_path: Path) -> None:
    legacy = tmp_path / "control-numbers.json"
    legacy.write_text(json.dumps({"interchange": 700, "group": 3}))
    numbers = SharedControlNumbers(StateStore(tmp_path / "db"))
    numbers.continue_after(legacy)
    numbers.continue_after(tmp_path / "missing.json")
    assert numbers.interchange() == 701 and numbers.group() == 4 and numbers.transaction() == 1
    numbers.continue_after(legacy)  # never goes back
    assert numbers.interchange() == 702


def _take(path: str, count: int, queue) -> None:
    numbers = SharedControlNumbers(StateStore(path))
    queue.put([numbers.interchange() for _ in range(count)])


def test_processes_never_issue_the_same_number(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_take, args=(path, 40, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    issued = [n for _ in workers for n in queue.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sorted(issued) == list(range(1, 161))
