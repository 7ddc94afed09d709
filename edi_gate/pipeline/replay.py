"""`edi-gate replay`: what would this ruleset have done to an archive of 837s?

Why: before a ruleset goes live, analysts need its effect on months of real traffic: how many
claims it rejects, for which rules, specialties and months, and (``--compare A B``) exactly which
claims change decision and why. Archives are large, so the work is split into independent units
and spread over processes (``--engine local``) or a Spark cluster (``--engine spark``).

Units: every EDI stream (a file, a ``.gz`` file, a ``.zip`` member) is a unit; a plain file
larger than ``split_size`` is cut at interchange (ISA) boundaries found by a byte scan
(:mod:`edi_gate.pipeline.isa`), each piece parsed on its own. The cut depends only on the file,
never on the worker count, and results are written in unit order, so the output is the same
byte for byte whatever ``--workers`` or engine.

Positions: a worker numbers claims from 1 within its unit; the writer adds the number of claims
of the earlier units of the same file, so ``position`` is the claim's ordinal in its file.

Memory: a unit's decisions (and ``--compare`` changes) never sit in memory whole. The worker writes
them to a file in a spool directory under ``--out`` as the filter produces them, tallying each
line as it passes, and sends back only the file's path and the tallies; the writer appends the
file to ``decisions.jsonl`` a chunk at a time (shifting positions) and deletes it. With a bounded
number of units in flight, memory stays flat whatever the size of the archive.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import glob
import gzip
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from edi_gate.errors import X12Error
from edi_gate.pipeline.filter import FilterRun, RuleEngine, Summary, decide_claim
from edi_gate.pipeline.isa import byte_ranges
from edi_gate.pipeline.outputs import OutputSet
from edi_gate.pipeline.positions import shift_positions
from edi_gate.report.tallies import CompareTallies, ReportTallies, named_lines
from edi_gate.rules.findings import SYNTAX_RULE, Decision
from edi_gate.x12.errors import shown_name
from edi_gate.x12.model import Claim

DEFAULT_SPLIT_SIZE = 8 << 20  # big enough that per-unit overhead is noise, small enough to spread
TOP_REJECTED = 20
UNKNOWN = "unknown"
_COPY_CHUNK = 1 << 20  # bytes the writer moves at a time from a unit file to decisions.jsonl
SPOOL_PREFIX = ".replay-"  # the spool directory of unit files, under --out while a replay runs
_SKIP_NAMES = (".DS_Store",)


# -- what to read ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineSpec:
    """How a worker loads its rule engine (engines are not sent between processes, paths are)."""

    ruleset: str | None = None
    roster: str | None = None

    def load(self) -> RuleEngine:
        from edi_gate.rules.engine import Engine

        return Engine.load(
            Path(self.ruleset) if self.ruleset else None, Path(self.roster) if self.roster else None
        )

    @property
    def label(self) -> str:
        return self.ruleset or "default rulesets"


@dataclass(frozen=True)
class Source:
    """One EDI stream: a plain file, a gzip file, or one member of a zip archive."""

    name: str  # what decisions and errors call it: the path, or "archive.zip!member"
    path: str
    member: str | None = None

    def open(self) -> BinaryIO:
        if self.member is not None:
            archive = zipfile.ZipFile(self.path)  # noqa: SIM115 - closed with the member stream
            stream = archive.open(self.member)
            return _Closing(stream, archive)  # type: ignore[return-value]
        if self.path.endswith(".gz"):
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return open(self.path, "rb")  # noqa: SIM115 - the caller closes it

    @property
    def splittable(self) -> bool:
        return self.member is None and not self.path.endswith(".gz")


class _Closing(io.RawIOBase):
    """A zip member stream that closes its archive too."""

    def __init__(self, stream: IO[bytes], archive: zipfile.ZipFile) -> None:
        self.stream, self.archive = stream, archive

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.stream.close()
        self.archive.close()
        super().close()


class _Range(io.RawIOBase):
    """Bytes [start, end) of a file: one unit of a split file."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self.handle = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.handle.seek(start)
        self.left = end - start

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.handle.read(size)
        self.left -= len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.handle.close()
        super().close()


@dataclass(frozen=True)
class WorkUnit:
    """A piece of work for one worker: a whole stream, or bytes [start, end) of a plain file."""

    index: int
    source: Source
    part: int = 0
    start: int = 0
    end: int | None = None
    parts: int = 1  # units of its source: a split file is decided whole or not at all

    def open(self) -> BinaryIO:
        if self.end is None:
            return self.source.open()
        return _Range(self.source.path, self.start, self.end)  # type: ignore[return-value]


def _is_edi_candidate(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.name not in _SKIP_NAMES


def _walk(root: Path, errors: list[dict[str, str]]) -> list[Path]:
    """The files under ``root``, sorted. Symbolic links are followed only while they stay inside
    the tree: a link to ``/etc/shadow`` in an archive directory is an error, never read."""
    top = root.resolve()
    found = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames):
            path = Path(directory, name)
            if path.is_symlink() and not _is_inside(path, top):
                errors.append({"source": str(path), "error": _OUTSIDE})
        for name in filenames:
            path = Path(directory, name)
            if path.is_symlink() and not _is_inside(path, top):
                errors.append({"source": str(path), "error": _OUTSIDE})
                continue
            if _is_edi_candidate(path):
                found.append(path)
    return sorted(found)


_OUTSIDE = "symbolic link out of the given directory: not read"


def _is_inside(path: Path, top: Path) -> bool:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return target == top or top in target.parents


def expand_inputs(arguments: Iterable[str]) -> tuple[list[Source], list[dict[str, str]]]:
    """Sources named by files, directories (recursive), globs, .gz files and .zip archives, in a
    stable order (arguments as given, directory contents sorted). Missing ones become errors."""
    sources: list[Source] = []
    errors: list[dict[str, str]] = []
    for argument in arguments:
        if glob.has_magic(argument):
            matches = sorted(glob.glob(argument, recursive=True))
            if not matches:
                errors.append({"source": argument, "error": "no file matches this pattern"})
            paths = [Path(m) for m in matches]
        else:
            paths = [Path(argument)]
        for path in paths:
            if path.is_dir():
                files = _walk(path, errors)
            elif path.is_file():
                files = [path]
            else:
                errors.append({"source": str(path), "error": "no such file or directory"})
                continue
            for file in files:
                sources.extend(_sources_of(file, errors))
    return sources, errors


def _sources_of(path: Path, errors: list[dict[str, str]]) -> list[Source]:
    if path.suffix.lower() != ".zip":
        return [Source(shown_name(str(path)), str(path))]  # names escaped for reports
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                info.filename
                for info in archive.infolist()
                if not info.is_dir() and not Path(info.filename).name.startswith(".")
            )
    except (zipfile.BadZipFile, OSError) as error:
        errors.append({"source": str(path), "error": f"not a readable zip archive: {error}"})
        return []
    return [Source(shown_name(f"{path}!{member}"), str(path), member) for member in members]


def plan_units(sources: list[Source], split_size: int = DEFAULT_SPLIT_SIZE) -> list[WorkUnit]:
    """The units of work, in output order; large plain files cut at ISA boundaries."""
    units: list[WorkUnit] = []
    for source in sources:
        if not source.splittable:
            units.append(WorkUnit(len(units), source))
            continue
        try:
            ranges = byte_ranges(source.path, split_size)
        except OSError:
            ranges = [(0, 0)]  # let the worker report why it cannot read the file
        if len(ranges) == 1:
            units.append(WorkUnit(len(units), source))
            continue
        for part, (start, end) in enumerate(ranges):
            units.append(WorkUnit(len(units), source, part, start, end, len(ranges)))
    return units


# -- statistics --------------------------------------------------------------------------------


def _bucket() -> Counter[str]:
    return Counter()


@dataclass
class Stats:
    """The summary tallies of one ruleset: additive, so units are counted apart and merged."""

    claims: int = 0
    by_decision: Counter[str] = field(default_factory=Counter)
    lines_removed: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)  # claims with a finding of the rule
    by_taxonomy: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(_bucket))
    by_month: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(_bucket))
    rejected_codes: Counter[str] = field(default_factory=Counter)  # lines a finding names
    report: ReportTallies = field(default_factory=ReportTallies)  # findings, dollars, providers
    compare: CompareTallies = field(default_factory=CompareTallies)  # B's stats: A -> B changes
    # Claims no rule looked at and sets passed through unjudged, by reason (the filter's
    # Summary, see edi_gate.pipeline.accounting).
    not_evaluated: Counter[str] = field(default_factory=Counter)
    passed_through: Counter[str] = field(default_factory=Counter)

    def count_unjudged(self, summary: Summary) -> None:
        self.not_evaluated.update(summary.not_evaluated)
        self.passed_through.update(summary.passed_through)

    def add(self, record: dict[str, Any]) -> None:
        """Count one decision record (a line of :func:`edi_gate.pipeline.filter.decision_json`)."""
        label = record["decision"]
        rejected = label == "rejected"
        self.claims += 1
        self.by_decision[label] += 1
        for rule in {f["rule"] for f in record["findings"]}:
            self.by_rule[rule] += 1
        taxonomies = {line["taxonomy"] or UNKNOWN for line in record["lines"]} or {UNKNOWN}
        for taxonomy in taxonomies:
            self.by_taxonomy[taxonomy]["claims"] += 1
            self.by_taxonomy[taxonomy]["rejected"] += rejected
        month = (record.get("service_date") or "")[:7] or UNKNOWN
        self.by_month[month]["claims"] += 1
        self.by_month[month]["rejected"] += rejected
        named = named_lines(record) if record["findings"] else ()
        for line in record["lines"]:
            if line["decision"] == "rejected":
                if line["line"] in named:
                    self.rejected_codes[line["procedure"] or UNKNOWN] += 1
                if not rejected:
                    self.lines_removed += 1
        self.report.add(record)

    def merge(self, other: Stats) -> None:
        self.claims += other.claims
        self.by_decision.update(other.by_decision)
        self.lines_removed += other.lines_removed
        self.by_rule.update(other.by_rule)
        pairs = ((self.by_taxonomy, other.by_taxonomy), (self.by_month, other.by_month))
        for mine, theirs in pairs:
            for key, counts in theirs.items():
                mine[key].update(counts)
        self.rejected_codes.update(other.rejected_codes)
        self.report.merge(other.report)
        self.compare.merge(other.compare)
        self.not_evaluated.update(other.not_evaluated)
        self.passed_through.update(other.passed_through)

    def as_dict(self) -> dict[str, Any]:
        def table(buckets: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
            return {
                key: {"claims": c["claims"], "rejected": c["rejected"]}
                for key, c in sorted(buckets.items())
            }

        top = sorted(self.rejected_codes.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REJECTED]
        return {
            "claims": self.claims,
            "by_decision": dict(sorted(self.by_decision.items())),
            "lines_removed": self.lines_removed,
            "by_rule": dict(sorted(self.by_rule.items())),
            "claims_by_rule": dict(sorted(self.by_rule.items())),
            "by_taxonomy": table(self.by_taxonomy),
            "by_month": table(self.by_month),
            "top_rejected_codes": [{"code": c, "lines": n} for c, n in top],
            **self.report.as_dict(),
            "not_evaluated": dict(sorted(self.not_evaluated.items())),
            "passed_through": dict(sorted(self.passed_through.items())),
        }


# -- one unit ----------------------------------------------------------------------------------


@dataclass
class UnitResult:
    """What a worker sends back: where its decisions are (a JSON Lines file, positions relative
    to the unit) and the changes between two rulesets (a file, when any), tallies, or the error
    that stopped the unit. Only paths and tallies: the decisions themselves stay on disk, and
    whoever takes the result owns the files (appends them, then deletes them)."""

    index: int
    source: str
    part: int
    claims: int = 0
    decisions_path: str | None = None
    changes_path: str | None = None
    stats: Stats = field(default_factory=Stats)
    stats_b: Stats | None = None
    changed: int = 0  # claims whose decision changes from A to B (lines of the changes file)
    transitions: Counter[str] = field(default_factory=Counter)  # "a -> b": claims
    error: str | None = None
    byte_range: tuple[int, int | None] | None = None
    parts: int = 1

    def discard(self) -> None:
        """Delete the result's files (when nobody will append them)."""
        for path in (self.decisions_path, self.changes_path):
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        self.decisions_path = self.changes_path = None


class _PairEngine:
    """Evaluates ruleset A for the filter, and ruleset B on the side for ``--compare``."""

    def __init__(self, a: RuleEngine, b: RuleEngine, scope: str) -> None:
        self.a, self.b, self.scope = a, b, scope
        self.b_decisions: dict[int, Decision] = {}

    def evaluate(self, claim: Claim):
        self.b_decisions[claim.ordinal] = decide_claim(claim, self.b.evaluate(claim), self.scope)
        return self.a.evaluate(claim)

    def ruleset_id(self, claim: Claim) -> str | None:
        ruleset_of = getattr(self.a, "ruleset_id", None)
        return ruleset_of(claim) if ruleset_of is not None else None

    def line_taxonomies(self, claim: Claim):
        """Ruleset A's taxonomy resolutions for the decisions (edi_gate.rules.engine)."""
        return self.a.line_taxonomies(claim)  # type: ignore[attr-defined]


def _rebuild(record: dict[str, Any], decision: Decision) -> dict[str, Any]:
    """Ruleset B's record for a claim, from ruleset A's record and B's decision."""
    other = dict(record)
    other["decision"] = decision.label
    other["findings"] = [f.as_dict() for f in decision.findings]
    other["lines"] = [
        dict(
            line,
            decision="rejected"
            if not decision.accepted or line["line"] in decision.rejected_lines
            else "accepted",
        )
        for line in record["lines"]
    ]
    return other


def _change(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    lines_a = [ln["line"] for ln in a["lines"] if ln["decision"] == "rejected"]
    lines_b = [ln["line"] for ln in b["lines"] if ln["decision"] == "rejected"]
    if a["decision"] == b["decision"] and lines_a == lines_b:
        return None
    rules_a = sorted({f["rule"] for f in a["findings"]})
    rules_b = sorted({f["rule"] for f in b["findings"]})
    return {
        "source": a["source"],
        "position": a["position"],
        "claim": a["claim"],
        "service_date": a["service_date"],
        "a": a["decision"],
        "b": b["decision"],
        "rejected_lines_a": lines_a,
        "rejected_lines_b": lines_b,
        "rules_added": [r for r in rules_b if r not in rules_a],
        "rules_removed": [r for r in rules_a if r not in rules_b],
        "findings_a": a["findings"],
        "findings_b": b["findings"],
    }


_ENGINES: dict[EngineSpec, RuleEngine] = {}


def _ruleset_labels(engine: RuleEngine) -> list[str]:
    """The rulesets an engine judges by ('id (from .. to)') for the summary; [] if it can't say."""
    labels = getattr(engine, "ruleset_labels", None)
    return list(labels()) if callable(labels) else []


def _engine(spec: EngineSpec) -> RuleEngine:
    """One engine per spec per process: loading rulesets costs more than a small unit."""
    if spec not in _ENGINES:
        _ENGINES[spec] = spec.load()
    return _ENGINES[spec]


class SpoolWriteError(OSError):
    """A unit file could not be written (disk full): the replay fails, not just the unit."""


class _UnitSink(io.TextIOBase):
    """Where FilterRun writes one unit's decisions: straight to a file in the spool directory,
    each complete line tallied as it passes (and, for ``--compare``, turned into ruleset B's
    record and a change line when the decision differs). Memory: one line and the tallies."""

    def __init__(self, spool: str | os.PathLike[str], index: int, pair: _PairEngine | None) -> None:
        super().__init__()
        self.spool, self.index, self.pair = spool, index, pair
        self.file: BinaryIO | None
        self.path, self.file = self._create("decisions")
        self.changes_path: str | None = None
        self.changes: BinaryIO | None = None
        self.claims = 0
        self.stats = Stats()
        self.stats_b = Stats() if pair is not None else None
        self.changed = 0
        self.transitions: Counter[str] = Counter()
        self._tail = ""

    def _create(self, kind: str) -> tuple[str, BinaryIO]:
        prefix = f"unit-{self.index:06d}."
        fd, path = tempfile.mkstemp(prefix=prefix, suffix=f".{kind}.jsonl", dir=self.spool)
        return path, os.fdopen(fd, "wb")

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:  # type: ignore[override]
        assert self.file is not None
        self._put(self.file, text.encode("utf-8"))
        lines = (self._tail + text).split("\n") if self._tail else text.split("\n")
        self._tail = lines.pop()
        for line in lines:
            self._count(line)
        return len(text)

    @staticmethod
    def _put(file: BinaryIO, data: bytes | None) -> None:
        """Write ``data`` (None: close the file); a failure is the spool's, not the input's."""
        try:
            if data is None:
                file.close()
            else:
                file.write(data)
        except OSError as error:
            message = f"cannot write unit file: {error.strerror or error}"
            raise SpoolWriteError(error.errno, message, file.name) from error

    def _count(self, line: str) -> None:
        record = json.loads(line)
        self.stats.add(record)
        self.claims += 1
        pair, stats_b = self.pair, self.stats_b
        if pair is None or stats_b is None:
            return
        # Popped as used: B's decisions are held only until their claim's record goes by.
        decision_b = pair.b_decisions.pop(record["position"], None)
        syntax = any(f["rule"] == SYNTAX_RULE for f in record["findings"])
        other = record if syntax else _rebuild(record, decision_b)  # type: ignore[arg-type]
        stats_b.add(other)
        change = _change(record, other)
        if change is None:
            return
        stats_b.compare.add(record, other)
        if self.changes is None:
            self.changes_path, self.changes = self._create("changes")
        self._put(self.changes, json.dumps(change, separators=(",", ":")).encode() + b"\n")
        self.changed += 1
        self.transitions[f"{change['a']} -> {change['b']}"] += 1

    def finish(self, result: UnitResult) -> None:
        """Close the files and hand them, with the tallies, to ``result``."""
        if self._tail:
            self._count(self._tail)
            self._tail = ""
        for file in (self.file, self.changes):
            if file is not None:
                self._put(file, None)
        self.file = self.changes = None
        result.claims, result.stats, result.stats_b = self.claims, self.stats, self.stats_b
        result.changed, result.transitions = self.changed, self.transitions
        result.decisions_path, result.changes_path = self.path, self.changes_path

    def discard(self) -> None:
        """Close and delete the files: the unit failed."""
        for file in (self.file, self.changes):
            if file is not None:
                with contextlib.suppress(OSError):
                    file.close()
        self.file = self.changes = None
        for path in (self.path, self.changes_path):
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


def process_unit(
    unit: WorkUnit,
    spec: EngineSpec,
    compare_with: EngineSpec | None = None,
    scope: str = "claim",
    engines: tuple[RuleEngine, RuleEngine | None] | None = None,
    spool: str | os.PathLike[str] | None = None,
) -> UnitResult:
    """Decide every claim of one unit, writing its decisions to a file in ``spool`` (the system
    temporary directory by default; the caller owns the files of the result). X12 that cannot
    be read makes the unit an error: its claims are not counted (a half-read interchange would
    be a half-truth) and its files are deleted."""
    result = UnitResult(
        unit.index,
        unit.source.name,
        unit.part,
        byte_range=(unit.start, unit.end) if unit.end is not None else None,
        parts=unit.parts,
    )
    if engines is not None:
        engine_a, engine_b = engines
    else:
        engine_a = _engine(spec)
        engine_b = _engine(compare_with) if compare_with is not None else None
    pair = _PairEngine(engine_a, engine_b, scope) if engine_b is not None else None
    sink = _UnitSink(spool if spool is not None else tempfile.gettempdir(), unit.index, pair)
    try:
        with unit.open() as stream:
            run = FilterRun(pair or engine_a, scope=scope, decisions=sink)
            summary = run.run(stream, unit.source.name)
        sink.finish(result)
        result.stats.count_unjudged(summary)
    except SpoolWriteError:
        sink.discard()
        raise
    except X12Error as error:
        sink.discard()
        where = f"{error.source}: "
        result.error = str(error).removeprefix(where) if error.source else str(error)
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        sink.discard()
        result.error = f"{unit.source.name}: cannot read: {error}"
    except BaseException:
        sink.discard()
        raise
    return result


def append_shifted(path: str, sink: BinaryIO, offset: int, chunk_size: int | None = None) -> None:
    """Append the JSON Lines file ``path`` to ``sink`` with positions shifted by ``offset``, a
    chunk at a time (cut at line ends, so no ``"position":N`` is ever split); a plain copy when
    there is nothing to shift."""
    chunk_size = chunk_size or _COPY_CHUNK
    with open(path, "rb") as source:
        if not offset:
            shutil.copyfileobj(source, sink, chunk_size)
            return
        carry = b""
        while chunk := source.read(chunk_size):
            if carry:
                chunk = carry + chunk
            cut = chunk.rfind(b"\n") + 1
            carry = chunk[cut:]
            if cut:
                sink.write(shift_positions(chunk[:cut], offset))
        if carry:
            sink.write(shift_positions(carry, offset))


# -- running units -----------------------------------------------------------------------------

_WORKER_ARGS: tuple[EngineSpec, EngineSpec | None, str, str] | None = None


def _init_worker(spec: EngineSpec, compare_with: EngineSpec | None, scope: str, spool: str) -> None:
    global _WORKER_ARGS
    _WORKER_ARGS = (spec, compare_with, scope, spool)
    _engine(spec)
    if compare_with is not None:
        _engine(compare_with)
    gc.freeze()  # the engines outlive every unit: keep the collector from walking them (cli.py)


def _work(unit: WorkUnit) -> UnitResult:
    assert _WORKER_ARGS is not None
    spec, compare_with, scope, spool = _WORKER_ARGS
    return process_unit(unit, spec, compare_with, scope, spool=spool)


def run_local(
    units: list[WorkUnit],
    spec: EngineSpec,
    compare_with: EngineSpec | None,
    scope: str,
    workers: int,
    spool: str | os.PathLike[str],
) -> Iterator[UnitResult]:
    """Results in unit order, their files in ``spool``. One worker runs in this process; more
    use a process pool with a bounded number of units in flight, so memory (and the spool) stay
    flat on any archive size. Closing the iterator early cancels the units not yet started and
    waits for the running ones, so no worker writes into the spool after that."""
    if workers <= 1 or len(units) <= 1:
        for unit in units:
            yield process_unit(unit, spec, compare_with, scope, spool=spool)
        return
    window = workers * 2
    pool = ProcessPoolExecutor(
        max_workers=workers,
        initializer=_init_worker,
        initargs=(spec, compare_with, scope, str(spool)),
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
            unit = next(queue, None)
            if unit is not None:
                pending[unit.index] = pool.submit(_work, unit)
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# -- the report --------------------------------------------------------------------------------


@dataclass
class Replay:
    """Merges unit results in order: positions, decisions/changes files, tallies and errors."""

    out: Path
    spec: EngineSpec
    compare_with: EngineSpec | None = None
    write_jsonl: bool = True
    stats: Stats = field(default_factory=Stats)
    stats_b: Stats | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    sources_read: set[str] = field(default_factory=set)
    sources_seen: set[str] = field(default_factory=set)
    changes: int = 0
    transitions: Counter[str] = field(default_factory=Counter)
    _offsets: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._held: dict[str, list[UnitResult]] = {}
        self.out.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = _lock_out(self.out)
        clean_stale(self.out)  # what a killed replay left: nobody else is writing here
        self._outputs = OutputSet()  # 0600: decisions name claims and NPIs
        self._decisions = (
            self._outputs.binary(self.out / "decisions.jsonl") if self.write_jsonl else None
        )
        self._changes = (
            self._outputs.binary(self.out / "changes.jsonl")
            if self.write_jsonl and self.compare_with is not None
            else None
        )
        if self.compare_with is not None:
            self.stats_b = Stats()

    def offset_of(self, result: UnitResult) -> int:
        """Claims of the earlier units of the same file (results must come in unit order)."""
        return self._offsets[result.source]

    def add(self, result: UnitResult) -> None:
        """Merge a unit's result. The parts of a split file are held (their files stay on disk)
        until the last one: if any part could not be read, the whole file is an error, exactly
        as when it is read in one piece, so cutting never changes a decision."""
        if result.parts > 1:
            held = self._held.setdefault(result.source, [])
            held.append(result)
            if result.part < result.parts - 1:
                return
            del self._held[result.source]
            failed = next((r for r in held if r.error is not None), None)
            if failed is not None:
                for other in held:
                    if other is not failed:
                        other.discard()
                self._add(failed)
                return
            for each in held:
                self._add(each)
            return
        self._add(result)

    def _add(self, result: UnitResult) -> None:
        self.sources_seen.add(result.source)
        if result.error is not None:
            result.discard()
            error: dict[str, Any] = {"source": result.source, "error": result.error}
            if result.byte_range is not None:
                error["part"] = result.part
                error["bytes"] = list(result.byte_range)
            self.errors.append(error)
            return
        self.sources_read.add(result.source)
        offset = self._offsets[result.source]
        self._offsets[result.source] += result.claims
        self.stats.merge(result.stats)
        if self.stats_b is not None and result.stats_b is not None:
            self.stats_b.merge(result.stats_b)
        self.changes += result.changed
        self.transitions.update(result.transitions)
        try:
            if self._decisions is not None and result.decisions_path is not None:
                append_shifted(result.decisions_path, self._decisions, offset)
            if self._changes is not None and result.changes_path is not None:
                append_shifted(result.changes_path, self._changes, offset)
        finally:
            result.discard()

    def close(self) -> None:
        """Release the output directory (after finish or abort)."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)
            self._lock = None

    def abort(self) -> None:
        for held in self._held.values():
            for result in held:
                result.discard()
        self._held = {}
        self._outputs.abort()
        self.close()

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ruleset": self.spec.label,
            "rulesets": _ruleset_labels(_engine(self.spec)),
            "files": len(self.sources_seen | {e["source"] for e in self.errors}),
            "files_read": len(self.sources_read),
            **self.stats.as_dict(),
            "errors": self.errors,
        }
        if self.compare_with is not None and self.stats_b is not None:
            data["compare"] = {
                "a": self.spec.label,
                "b": self.compare_with.label,
                "b_summary": self.stats_b.as_dict(),
                "changed_claims": self.changes,
                "transitions": dict(sorted(self.transitions.items())),
                **self.stats_b.compare.as_dict(),
            }
        return data

    def finish(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write summary.json and summary.txt next to the decisions; commit them all together."""
        data = self.summary()
        if extra:
            data.update(extra)
        self._outputs.text(self.out / "summary.json").write(
            json.dumps(data, indent=2, sort_keys=False) + "\n"
        )
        self._outputs.text(self.out / "summary.txt").write(render_report(data))
        try:
            self._outputs.commit()
        finally:
            self.close()
        return data


def render_report(data: dict[str, Any]) -> str:
    """The readable summary (the same numbers as summary.json): see edi_gate.report.text."""
    from edi_gate.report.text import render_replay

    return render_replay(data)


ProgressCallback = Callable[[UnitResult], None]


def replay_local(
    units: list[WorkUnit],
    replay: Replay,
    *,
    scope: str = "claim",
    workers: int = 1,
    progress: ProgressCallback | None = None,
) -> None:
    """Run the units locally and feed the results, in order, to ``replay``. The units' files
    go to a spool directory under ``replay.out``, removed when the run ends, however it ends."""
    try:
        spool = tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=replay.out)
    except BaseException:
        replay.abort()
        raise
    try:
        results = run_local(units, replay.spec, replay.compare_with, scope, workers, spool)
        try:
            for result in results:
                replay.add(result)
                if progress is not None:
                    progress(result)
        finally:
            results.close()  # on an error: stop the pool before the spool goes
    except BaseException:
        replay.abort()
        raise
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def _lock_out(out: Path) -> int | None:
    """One replay at a time per output directory: a lock on the directory itself (no lock file
    another user could open and hold)."""
    from edi_gate.errors import ConfigError

    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError("another replay is writing to this directory", path=str(out)) from None
    return fd


def clean_stale(out: Path) -> list[str]:
    """Remove what a killed replay left under ``out``: its spool directories (``.replay-PID-*``)
    and the temporary files of its outputs. Called with the directory's lock held, so no other
    replay is writing there. Returns what went."""
    removed = []
    try:
        entries = list(os.scandir(out))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.name.startswith("."):
            continue
        if entry.name.startswith(SPOOL_PREFIX) and entry.is_dir(follow_symlinks=False):
            if entry.stat(follow_symlinks=False).st_uid == os.geteuid():
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.name)
        elif entry.name.endswith(".tmp") and entry.is_file(follow_symlinks=False):
            stem = entry.name[1:].split(".", 2)
            owned = entry.stat(follow_symlinks=False).st_uid == os.geteuid()
            if owned and len(stem) > 1 and f"{stem[0]}.{stem[1]}" in _OUTPUT_NAMES:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                removed.append(entry.name)
    return removed


_OUTPUT_NAMES = ("decisions.jsonl", "changes.jsonl", "summary.json", "summary.txt")


def cap_workers(workers: int, units: int) -> int:
    """No more processes than units of work or CPUs: ``--workers 400`` on two files forks two."""
    return max(1, min(workers, units, os.cpu_count() or 1))


def unit_sizes(units: list[WorkUnit]) -> list[int]:
    """Bytes per unit, for a progress bar that moves with the work rather than the unit count."""
    sizes = []
    for unit in units:
        if unit.end is not None:
            sizes.append(unit.end - unit.start)
        else:
            try:
                sizes.append(os.path.getsize(unit.source.path) if unit.source.member is None else 0)
            except OSError:
                sizes.append(0)
    return sizes
