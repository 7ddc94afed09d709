"""`edi-gate replay`: what would this ruleset have done to an archive of 837s?

Why: before a ruleset goes live, analysts need its effect on months of real traffic: how many
claims it rejects, for which rules, specialties and months, and (``--compare A B``) exactly which
claims change decision and why. Archives are large, so the work is split into independent units
and spread over processes (``--engine local``) or a Spark cluster (``--engine spark``).

The flow, one module each:

- :mod:`.sources`: files, directories, globs, ``.gz`` files and ``.zip`` members become
  sources; plain files larger than ``split_size`` are cut at ISA boundaries into units.
- :mod:`.settings`: what every worker decides with (rulesets as paths, scope, ``--limits``) and
  the per-process engine cache.
- :mod:`.unit`: one unit decided, its decisions spooled to a file, its tallies in hand.
- :mod:`.statistics`: the additive tallies of one ruleset; :mod:`.compare`: ruleset B beside A.
- :mod:`.local`: the process pool; :mod:`edi_gate.pipeline.spark`: the same units on Spark.
- :mod:`.merge`: results merged in unit order (positions shifted, files appended);
  :mod:`.report`: summary.json and summary.txt.

Memory: a unit's decisions (and ``--compare`` changes) never sit in memory whole, and a bounded
number of units is in flight, so memory stays flat whatever the size of the archive.
"""

from edi_gate.pipeline.outdir import SPOOL_PREFIX, clean_stale
from edi_gate.pipeline.replay.local import ProgressCallback, cap_workers, replay_local, run_local
from edi_gate.pipeline.replay.merge import ResultMerger, append_shifted
from edi_gate.pipeline.replay.report import render_report
from edi_gate.pipeline.replay.settings import EngineSpec, UnitSettings, make_engine
from edi_gate.pipeline.replay.sources import (
    DEFAULT_SPLIT_SIZE,
    Source,
    WorkUnit,
    expand_inputs,
    plan_units,
    unit_sizes,
)
from edi_gate.pipeline.replay.statistics import Stats
from edi_gate.pipeline.replay.unit import SpoolWriteError, UnitResult, process_unit

__all__ = [
    "DEFAULT_SPLIT_SIZE",
    "SPOOL_PREFIX",
    "EngineSpec",
    "ProgressCallback",
    "ResultMerger",
    "Source",
    "SpoolWriteError",
    "Stats",
    "UnitResult",
    "UnitSettings",
    "WorkUnit",
    "append_shifted",
    "cap_workers",
    "clean_stale",
    "expand_inputs",
    "make_engine",
    "plan_units",
    "process_unit",
    "render_report",
    "replay_local",
    "run_local",
    "unit_sizes",
]
