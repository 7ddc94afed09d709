"""``--engine local``: units decided by this process or a pool of processes on this machine.

Why a window: at most ``2 * workers`` units are in flight, and results are taken in unit order,
so memory (and the spool of unit files) stays flat on any archive size.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Callable, Generator
from concurrent.futures import Future, ProcessPoolExecutor

from edi_gate.pipeline.outdir import SPOOL_PREFIX
from edi_gate.pipeline.replay.merge import ResultMerger
from edi_gate.pipeline.replay.settings import UnitSettings
from edi_gate.pipeline.replay.sources import WorkUnit
from edi_gate.pipeline.replay.unit import UnitResult, process_unit
from edi_gate.vocabulary import Scope
from edi_gate.x12.loops import Limits

ProgressCallback = Callable[[UnitResult], None]

_WORKER: tuple[UnitSettings, str] | None = None  # a pool process's settings and spool


def _init_worker(settings: UnitSettings, spool: str) -> None:
    global _WORKER
    _WORKER = (settings, spool)
    settings.engines()  # loaded once, before the first unit
    gc.freeze()  # the engines outlive every unit: keep the collector from walking them (cli.py)


def _work(unit: WorkUnit) -> UnitResult:
    assert _WORKER is not None
    settings, spool = _WORKER
    return process_unit(unit, settings, spool=spool)


def cap_workers(workers: int, units: int) -> int:
    """No more processes than units of work or CPUs: ``--workers 400`` on two files forks two."""
    return max(1, min(workers, units, os.cpu_count() or 1))


def run_local(
    units: list[WorkUnit],
    settings: UnitSettings,
    workers: int,
    spool: str | os.PathLike[str],
) -> Generator[UnitResult, None, None]:
    """Results in unit order, their files in ``spool``. One worker runs in this process; more
    use a process pool with a bounded number of units in flight. Closing the iterator early
    cancels the units not yet started and waits for the running ones, so no worker writes into
    the spool after that."""
    if workers <= 1 or len(units) <= 1:
        for unit in units:
            yield process_unit(unit, settings, spool=spool)
        return
    window = workers * 2
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(settings, str(spool))
    )
    pending: dict[int, Future[UnitResult]] = {}
    try:
        queue = iter(units)
        next_index = 0
        for unit in queue:
            pending[unit.index] = pool.submit(_work, unit)
            if len(pending) >= window:
                break
        while pending:
            result = pending.pop(next_index).result()
            next_index += 1
            following = next(queue, None)
            if following is not None:
                pending[following.index] = pool.submit(_work, following)
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def replay_local(
    units: list[WorkUnit],
    merger: ResultMerger,
    *,
    scope: str = Scope.CLAIM,
    workers: int = 1,
    progress: ProgressCallback | None = None,
    limits: Limits | None = None,
) -> None:
    """Run the units locally and feed the results, in order, to ``merger``. The units' files
    go to a spool directory under ``merger.out``, removed when the run ends, however it ends."""
    try:
        settings = UnitSettings(merger.spec, merger.compare_with, scope, limits)
        spool = tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=merger.out)
    except BaseException:
        merger.abort()
        raise
    try:
        results = run_local(units, settings, workers, spool)
        try:
            for result in results:
                merger.add(result)
                if progress is not None:
                    progress(result)
        finally:
            results.close()  # on an error: stop the pool before the spool goes
    except BaseException:
        merger.abort()
        raise
    finally:
        shutil.rmtree(spool, ignore_errors=True)
