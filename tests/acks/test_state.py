"""ControlNumbers: counters, start value, persistence, locking across processes."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from edi_gate.acks.state import MAXIMUM, ControlNumbers


def test_in_memory_counters_are_independent() -> None:
    numbers = ControlNumbers(start=100)
    assert [numbers.interchange(), numbers.interchange()] == [100, 101]
    assert numbers.group() == 100 and numbers.transaction() == 100
    assert numbers.peek() == {"interchange": 101, "group": 100, "transaction": 100}


def test_persisted_counters_continue_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "state" / "control.json"
    first = ControlNumbers(path, start=50)
    assert first.interchange() == 50 and first.transaction() == 50
    second = ControlNumbers(path, start=1)  # the file wins over start, for every counter
    assert second.interchange() == 51 and second.group() == 50
    assert json.loads(path.read_text()) == {"group": 50, "interchange": 51, "transaction": 50}
    assert sorted(p.name for p in path.parent.iterdir()) == ["control.json", "control.json.lock"]


def test_wraps_after_nine_digits(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"interchange": MAXIMUM}))
    assert ControlNumbers(path).interchange() == 1


@pytest.mark.parametrize("content", ["{not json", "[1]", '{"group": -1}', '{"group": "7"}'])
def test_bad_state_file_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="c.json"):
        ControlNumbers(path).group()


def test_bad_start() -> None:
    with pytest.raises(ValueError):
        ControlNumbers(start=0)


def _take(path: str, count: int, queue: multiprocessing.Queue) -> None:
    numbers = ControlNumbers(path)
    queue.put([numbers.interchange() for _ in range(count)])


def test_concurrent_processes_never_share_a_number(tmp_path: Path) -> None:
    path = str(tmp_path / "c.json")
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_take, args=(path, 50, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    taken = [n for _ in workers for n in queue.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(taken) == list(range(1, 201))
