"""Benchmark harness: edi-gate vs pyx12 vs the pure-Python floor, at several file sizes.

Why: the project promises throughput far above pyx12's, close to the raw-parse floor, in
constant memory. This harness makes each claim measurable and repeatable: every tool runs in
its own subprocess on the same cached synthetic file, started by a tiny wrapper interpreter that
times it (``perf_counter`` around fork/exec/wait) and reads its ``ru_maxrss`` from ``os.wait4``
(Linux reports the largest single process among the child and the descendants it reaped, so a
worker pool reports its biggest process, not the sum).

Usage::

    python -m bench.run [--sizes 10000,100000,1000000] [--out bench/out] [--tools filter,floor]

Writes ``<out>/results.json`` and ``<out>/results.md`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.floor import floor_pass
from bench.generate import GENERATOR_VERSION, Generator, generate
from edi_gate.pipeline.isa import byte_ranges
from edi_gate.pipeline.replay import DEFAULT_SPLIT_SIZE

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
TOOLS = ("filter", "interpreted", "pyx12", "floor", "replay", "directory")
# The hot path is compiled with mypyc (setup.py); "interpreted" runs the same sources without
# the extensions, to show what compiling buys (slow: by default on files up to this size only).
DEFAULT_INTERPRETED_MAX_CLAIMS = 100_000

# Targets the README promises (see results.md "Targets").
TARGET_VS_PYX12 = 100.0  # edi-gate claims/s >= 100x pyx12 claims/s
TARGET_VS_FLOOR = 0.25  # edi-gate MB/s >= 0.25x floor MB/s
TARGET_RSS_MB = 64.0  # peak RSS below this at every size
TARGET_RSS_FLAT_MB = 8.0  # ...and growing by at most max(8 MB, 25%) from smallest to largest
TARGET_REPLAY_SPEEDUP = 1.8  # replay --workers 2 vs --workers 1
TARGET_DIRECTORY_COST = 0.05  # filter with the SQLite directory vs the CSV roster: <= 5% slower
# Below this size interpreter start-up (imports) dominates both runs: the floor ratio is shown
# but not judged.
MIN_MB_FOR_FLOOR_TARGET = 10.0


@dataclass
class Row:
    """One measured (or skipped) command."""

    tool: str
    claims: int
    bytes: int
    seconds: float | None = None
    peak_rss_mb: float | None = None
    exit_status: int | None = None
    ok: bool | None = None
    skipped: str | None = None
    note: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def mb(self) -> float:
        return self.bytes / 1e6

    @property
    def claims_per_s(self) -> float | None:
        return self.claims / self.seconds if self.seconds else None

    @property
    def mb_per_s(self) -> float | None:
        return self.mb / self.seconds if self.seconds else None

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["mb"] = round(self.mb, 3)
        d["claims_per_s"] = _round(self.claims_per_s)
        d["mb_per_s"] = _round(self.mb_per_s, 2)
        return d


def _round(x: float | None, nd: int = 1) -> float | None:
    return None if x is None else round(x, nd)


@dataclass
class Measurement:
    seconds: float
    peak_rss_mb: float
    exit_status: int
    stdout: str
    stderr: str
    timed_out: bool


# Runs in a fresh, tiny interpreter (-S -E): forks, execs the measured command, and reports the
# wall time and the child's ru_maxrss. Why a wrapper: Linux carries the RSS high-water mark of the
# process that forked a child into the child's ru_maxrss at exec (and Python's subprocess uses
# vfork), so measuring straight from this harness would report at least the harness's own RSS.
_RSS_WRAPPER = r"""
import os, sys, time
result, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - t0
with open(result, "w") as fh:
    fh.write("%r %d %d" % (seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status)))
"""


def measure(cmd: list[str], timeout: float, cwd: Path = ROOT) -> Measurement:
    """Run cmd; wall seconds and peak RSS (ru_maxrss, KiB on Linux) of it and its descendants."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory(prefix="edi-gate-bench-") as tmp,
    ):
        result = Path(tmp) / "rusage"
        wrapper = [sys.executable, "-S", "-E", "-c", _RSS_WRAPPER, str(result), *cmd]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            wrapper, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
            start_new_session=True,  # so a timeout can kill the whole process group
            # a fresh edi-gate state directory per run: runs of the same file are not
            # refused as duplicate interchanges, and nothing lands in the user's state
            env={**os.environ, "XDG_STATE_HOME": tmp},
        )  # fmt: skip
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        outer = time.perf_counter() - t0
        if result.exists() and not timed_out:
            secs_s, rss_s, status_s = result.read_text().split()
            seconds, rss_kib, status = float(secs_s), int(rss_s), int(status_s)
        else:
            seconds, rss_kib, status = outer, 0, proc.returncode
        out.seek(0)
        err.seek(0)
        return Measurement(
            seconds=seconds,
            peak_rss_mb=rss_kib / 1024.0,
            exit_status=status,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            timed_out=timed_out,
        )


def _tail(text: str, n: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-n:])


def roster_file(data_dir: Path, seed: int) -> Path:
    """The provider roster matching every data file of this seed (generated on first use)."""
    path = data_dir / f"roster_s{seed}_g{GENERATOR_VERSION}.csv"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "w", encoding="ascii") as fh:
            Generator(seed).write_roster(fh)
        tmp.replace(path)
    return path


def data_file(data_dir: Path, claims: int, seed: int) -> tuple[Path, dict[str, object] | None]:
    """Cached input for (claims, seed); generated on first use. Returns (path, gen stats|None)."""
    path = data_dir / f"claims_{claims}_s{seed}_g{GENERATOR_VERSION}.837"
    if path.exists():
        return path, None
    print(f"generating {path} ...", file=sys.stderr, flush=True)
    stats = generate(path, claims, seed)
    d = stats.as_dict()
    d.pop("recipes", None)
    print(
        f"  {stats.claims} claims, {stats.bytes / 1e6:.1f} MB in {stats.seconds:.1f} s "
        f"({stats.claims / stats.seconds:,.0f} claims/s)",
        file=sys.stderr,
    )
    return path, d


def edi_gate_command(explicit: str | None) -> Path | None:
    """The edi-gate executable: --edi-gate, else next to this interpreter, else on PATH."""
    if explicit:
        return Path(explicit)
    candidate = Path(sys.executable).parent / "edi-gate"
    if candidate.exists():
        return candidate
    found = shutil.which("edi-gate")
    return Path(found) if found else None


def subcommand_available(exe: Path | None, sub: str) -> str | None:
    """None if `exe sub --help` works, else the reason to skip (the CLI may not exist yet)."""
    if exe is None or not exe.exists():
        return "edi-gate executable not found (run `make venv`)"
    try:
        res = subprocess.run(
            [str(exe), sub, "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`edi-gate {sub} --help` failed: {error}"
    if res.returncode != 0:
        return f"`edi-gate {sub}` not available yet: {_tail(res.stderr or res.stdout, 1)}"
    return None


def _summary_from_logs(stderr: str) -> dict[str, object]:
    """edi-gate logs a JSON `filter.summary` line on stderr; keep it for the report."""
    for line in reversed(stderr.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and "summary" in line:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            record.pop("timestamp", None)
            return record
    return {}


def interpreted_tree(out: Path) -> Path:
    """A copy of the package (its rulesets and conf/ included) without its compiled extensions,
    to run the same sources interpreted."""
    root = out / "interpreted"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    ignore = shutil.ignore_patterns("*.so", "*.pyd", "__pycache__")
    shutil.copytree(ROOT / "edi_gate", root / "edi_gate", ignore=ignore)
    return root


# edi-gate from interpreted_tree(): run with cwd=tree, whose edi_gate comes first on sys.path.
INTERPRETED_CLI = [sys.executable, "-c", "from edi_gate.cli import main; main()"]


def run_filter(
    exe: Path | list[str],
    src: Path,
    claims: int,
    work: Path,
    timeout: float,
    extra: list[str],
    *,
    label: str = "edi-gate filter",
    cwd: Path = ROOT,
) -> Row:
    out = work / "filtered.837"
    cmd = [str(exe)] if isinstance(exe, Path) else list(exe)
    cmd += ["filter", str(src), "-o", str(out)]
    cmd += ["--acks", str(work / "out.277"), "--decisions", str(work / "out.jsonl")]
    cmd += ["--log-format", "json", *extra]
    m = measure(cmd, timeout, cwd=cwd)
    row = Row(label, claims, src.stat().st_size, m.seconds, m.peak_rss_mb)
    row.exit_status = m.exit_status
    row.ok = m.exit_status == 0 and not m.timed_out
    if m.timed_out:
        row.note = f"timed out after {timeout:.0f} s"
    elif not row.ok:
        row.note = _tail(m.stderr)
    else:
        row.extra["summary"] = _summary_from_logs(m.stderr)
        if out.exists():  # counted outside the timed region
            row.extra["claims_out"] = floor_pass(out)["clms"]
            row.extra["output_bytes"] = out.stat().st_size
    return row


def run_replay(
    exe: Path, src: Path, claims: int, work: Path, workers: int, timeout: float, extra: list[str]
) -> Row:
    out_dir = work / f"replay_w{workers}"
    cmd = [str(exe), "replay", str(src), "--out", str(out_dir), "--force"]
    cmd += ["--workers", str(workers), *extra]
    m = measure(cmd, timeout)
    row = Row(f"edi-gate replay w{workers}", claims, src.stat().st_size, m.seconds, m.peak_rss_mb)
    # How many work units replay cuts the file into (at interchange boundaries): one unit cannot
    # be shared between workers.
    row.extra["units"] = len(byte_ranges(src, DEFAULT_SPLIT_SIZE))
    row.exit_status = m.exit_status
    row.ok = m.exit_status == 0 and not m.timed_out
    if not row.ok:
        row.note = f"timed out after {timeout:.0f} s" if m.timed_out else _tail(m.stderr)
    shutil.rmtree(out_dir, ignore_errors=True)
    return row


def run_pyx12(src: Path, claims: int, work: Path, timeout: float) -> Row:
    """x12valid on a symlink in the work dir: it writes FILE.997 (a 999) beside its input."""
    x12valid = Path(sys.executable).parent / "x12valid"
    link = work / src.name
    link.unlink(missing_ok=True)
    link.symlink_to(src.resolve())
    cmd = [str(x12valid) if x12valid.exists() else "x12valid", str(link)]
    m = measure(cmd, timeout)
    row = Row("pyx12 x12valid", claims, src.stat().st_size, m.seconds, m.peak_rss_mb)
    row.exit_status = m.exit_status  # 1 whether valid or not; the verdict is on stderr
    verdict = [ln for ln in m.stderr.splitlines() if ln.endswith((": OK", ": Failure"))]
    row.ok = bool(verdict) and verdict[-1].endswith(": OK") and not m.timed_out
    if m.timed_out:
        row.note = f"timed out after {timeout:.0f} s"
    else:
        row.note = (verdict or ["no verdict: " + _tail(m.stderr, 1)])[-1].rsplit(": ", 1)[-1]
    ack = Path(str(link) + ".997")
    if ack.exists():
        ak9 = [s for s in ack.read_text().split("~") if s.strip().startswith("AK9")]
        if ak9:
            row.note += f" ({ak9[-1].strip()})"
            row.extra["ak9"] = ak9[-1].strip()
    return row


def run_floor(src: Path, claims: int, timeout: float) -> Row:
    m = measure([sys.executable, "-m", "bench.floor", str(src)], timeout)
    row = Row("floor (pure Python)", claims, src.stat().st_size, m.seconds, m.peak_rss_mb)
    row.exit_status = m.exit_status
    row.ok = m.exit_status == 0
    if row.ok:
        counts = json.loads(m.stdout.strip().splitlines()[-1])
        row.extra = counts  # includes in-process seconds (excludes interpreter start-up)
        if counts.get("clms") != claims:
            row.ok = False
            row.note = f"floor counted {counts.get('clms')} CLM, expected {claims}"
    else:
        row.note = _tail(m.stderr)
    return row


def best_of(repeat: int, run: Callable[..., Row], *args: object, **kwargs: object) -> Row:
    """Run `repeat` times; keep the fastest successful run, with the highest peak RSS seen."""
    runs = [run(*args, **kwargs) for _ in range(max(1, repeat))]
    good = [r for r in runs if r.ok and r.seconds is not None]
    if not good:
        return runs[-1]
    best = min(good, key=lambda r: r.seconds or 0.0)
    best.peak_rss_mb = max(r.peak_rss_mb or 0.0 for r in good)
    if len(runs) > 1:
        best.extra["runs_seconds"] = [round(r.seconds or 0.0, 3) for r in runs]
    return best


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _by(rows: list[Row], tool: str, claims: int) -> Row | None:
    for r in rows:
        if r.tool == tool and r.claims == claims and r.ok:
            return r
    return None


def ratios(rows: list[Row]) -> None:
    """Attach edi-gate/pyx12 and edi-gate/floor ratios to edi-gate rows (pyx12 may be 10k only)."""
    pyx = [r for r in rows if r.tool == "pyx12 x12valid" and r.ok and r.claims_per_s]
    best_pyx = max((r.claims_per_s for r in pyx if r.claims_per_s), default=None)
    for r in rows:
        if not r.tool.startswith("edi-gate") or not r.ok or not r.seconds:
            continue
        same = _by(rows, "pyx12 x12valid", r.claims)
        ref = same.claims_per_s if same else best_pyx
        if ref and r.claims_per_s:
            r.extra["vs_pyx12"] = round(r.claims_per_s / ref, 1)
            if not same:
                r.extra["vs_pyx12_basis"] = "pyx12 rate measured on a smaller file"
        fl = _by(rows, "floor (pure Python)", r.claims)
        if fl and fl.mb_per_s and r.mb_per_s:
            r.extra["vs_floor"] = round(r.mb_per_s / fl.mb_per_s, 3)


def targets(rows: list[Row]) -> list[dict[str, object]]:
    """Pass/fail against the README targets; 'n/a' when the tool did not run."""
    out: list[dict[str, object]] = []
    filt = [r for r in rows if r.tool == "edi-gate filter" and r.ok]

    def add(name: str, value: object, passed: bool | None) -> None:
        verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        out.append({"target": name, "value": value, "result": verdict})

    for r in filt:
        v = r.extra.get("vs_pyx12")
        add(f"filter {r.claims}: >= {TARGET_VS_PYX12:g}x pyx12 claims/s", v,
            None if v is None else float(v) >= TARGET_VS_PYX12)  # fmt: skip
        v = r.extra.get("vs_floor")
        name = f"filter {r.claims}: >= {TARGET_VS_FLOOR:g}x floor MB/s"
        if v is not None and r.mb < MIN_MB_FOR_FLOOR_TARGET:
            out.append({"target": name, "value": v, "result": "info (start-up dominated)"})
        else:
            add(name, v, None if v is None else float(v) >= TARGET_VS_FLOOR)
        add(f"filter {r.claims}: peak RSS < {TARGET_RSS_MB:g} MB", _round(r.peak_rss_mb),
            (r.peak_rss_mb or 0) < TARGET_RSS_MB)  # fmt: skip
    if len(filt) >= 2:
        small = min(filt, key=lambda r: r.claims)
        big = max(filt, key=lambda r: r.claims)
        growth = (big.peak_rss_mb or 0) - (small.peak_rss_mb or 0)
        allowed = max(TARGET_RSS_FLAT_MB, 0.25 * (small.peak_rss_mb or 0))
        add(f"filter RSS flat {small.claims}->{big.claims} (growth <= {allowed:.1f} MB)",
            round(growth, 1), growth <= allowed)  # fmt: skip
    elif not filt:
        add("edi-gate filter targets", None, None)
    sizes = sorted({r.claims for r in rows})
    for n in sizes:
        compiled = _by(rows, "edi-gate filter", n)
        interpreted = _by(rows, "edi-gate filter (interpreted)", n)
        if compiled and interpreted and compiled.seconds and interpreted.seconds:
            out.append({
                "target": f"filter {n}: compiled build vs the same sources interpreted",
                "value": round(interpreted.seconds / compiled.seconds, 2),
                "result": "info",
            })  # fmt: skip
    for n in sizes:
        w1 = _by(rows, "edi-gate replay w1", n)
        w2 = _by(rows, "edi-gate replay w2", n)
        if w1 and w2 and w1.seconds and w2.seconds:
            sp = w1.seconds / w2.seconds
            name = f"replay {n}: w2 >= {TARGET_REPLAY_SPEEDUP:g}x w1"
            if w2.extra.get("units") == 1:
                out.append({"target": name, "value": round(sp, 2),
                            "result": "info (one work unit: nothing to share)"})  # fmt: skip
            else:
                add(name, round(sp, 2), sp >= TARGET_REPLAY_SPEEDUP)
    for n in sizes:
        roster_row = _by(rows, "edi-gate filter", n)
        directory_row = _by(rows, "edi-gate filter (directory)", n)
        if roster_row and directory_row and roster_row.seconds and directory_row.seconds:
            cost = directory_row.seconds / roster_row.seconds - 1
            limit = TARGET_DIRECTORY_COST
            add(f"filter {n}: SQLite directory costs <= {limit:.0%} over CSV roster",
                f"{cost:+.1%}", cost <= limit)  # fmt: skip
            rss = directory_row.peak_rss_mb or 0
            add(f"filter {n} (directory): peak RSS < {TARGET_RSS_MB:g} MB", _round(rss),
                rss < TARGET_RSS_MB)  # fmt: skip
    if not any(r.tool.startswith("edi-gate replay") and r.ok for r in rows):
        add("replay targets", None, None)
    return out


HEADER = ("tool", "claims", "MB", "seconds", "claims/s", "MB/s", "peak RSS MB", "vs pyx12",
          "vs floor", "note")  # fmt: skip


def table_rows(rows: list[Row]) -> list[tuple[str, ...]]:
    lines = []
    for r in rows:
        if r.skipped:
            lines.append((r.tool, f"{r.claims:,}", f"{r.mb:.1f}", "-", "-", "-", "-", "-", "-",
                          f"skipped: {r.skipped}"))  # fmt: skip
            continue
        vp, vf = r.extra.get("vs_pyx12"), r.extra.get("vs_floor")
        note = r.note or ""
        if not r.ok:
            note = f"FAILED (exit {r.exit_status}): {note}"
        if len(note) > 110:
            note = note[:50] + " ... " + note[-55:]
        cps = r.claims_per_s if r.ok else None  # a failed run's speed means nothing
        mbs = r.mb_per_s if r.ok else None
        lines.append((
            r.tool, f"{r.claims:,}", f"{r.mb:.1f}", _fmt(r.seconds, ".2f"),
            _fmt(cps, ",.0f"), _fmt(mbs, ".1f"), _fmt(r.peak_rss_mb, ".1f"),
            "-" if vp is None else f"{vp}x", "-" if vf is None else f"{vf}x", note,
        ))  # fmt: skip
    return lines


def render_text(rows: list[Row], tgts: list[dict[str, object]]) -> str:
    body = table_rows(rows)
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(HEADER)]  # fmt: skip
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*HEADER), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*b) for b in body]
    lines.append("")
    lines += [f"{t['result']:<5} {t['target']}  (value: {t['value']})" for t in tgts]
    return "\n".join(lines)


def render_markdown(rows: list[Row], tgts: list[dict[str, object]], env: dict[str, object]) -> str:
    md = ["# edi-gate benchmark results", ""]
    md.append(
        f"{env['date']} - Python {env['python']} on {env['platform']}, {env['cpus']} CPUs; "
        f"seed {env['seed']}."
    )
    md += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    md += ["| " + " | ".join(c.replace("|", "/") for c in b) + " |" for b in table_rows(rows)]
    md += ["", "## Targets", "", "| target | value | result |", "|---|---|---|"]
    md += [f"| {t['target']} | {t['value']} | {t['result']} |" for t in tgts]
    md += ["", "Method: see bench/run.py docstring (wall clock per subprocess, wait4 ru_maxrss)."]
    return "\n".join(md) + "\n"


def run_directory_import(
    exe: Path, data_dir: Path, work: Path, roster: Path, providers: int, seed: int, timeout: float
) -> tuple[Path | None, Row]:
    """Import the roster and a generated NPPES file of ``providers`` NPIs into a fresh directory
    (bench.directory); the row is the NPPES import, measured."""
    from bench.directory import lookup_costs, nppes_file

    src = nppes_file(data_dir, providers, seed, roster)
    db = work / "directory.sqlite"
    for stale in work.glob("directory.sqlite*"):
        stale.unlink()
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(exe), "directory", "import", str(roster), "--directory", str(db)],
                   check=True, capture_output=True, timeout=timeout)  # fmt: skip
    m = measure([str(exe), "directory", "import", "--nppes", str(src), "--directory", str(db)],
                timeout)  # fmt: skip
    row = Row("directory import nppes", providers, src.stat().st_size, m.seconds, m.peak_rss_mb)
    row.exit_status = m.exit_status
    row.ok = m.exit_status == 0 and not m.timed_out
    if not row.ok:
        row.note = f"timed out after {timeout:.0f} s" if m.timed_out else _tail(m.stderr)
        return None, row
    row.extra.update(lookup_costs(db))
    row.extra["db_mb"] = round(db.stat().st_size / 1e6, 1)
    row.note = (f"{providers:,} NPIs; lookup {row.extra['lookup_miss_us']} us miss, "
                f"{row.extra['lookup_hit_us']} us hit")  # fmt: skip
    return db, row


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"subset of {','.join(TOOLS)}")
    ap.add_argument(
        "--pyx12-max-claims",
        type=int,
        default=10_000,
        help="run pyx12 only on files up to this many claims (it validates ~300 claims/s)",
    )
    ap.add_argument(
        "--interpreted-max-claims",
        type=int,
        default=DEFAULT_INTERPRETED_MAX_CLAIMS,
        help="run the interpreted build only on files up to this many claims",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool (fastest kept)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per command, seconds")
    ap.add_argument("--edi-gate", default=None, help="path of the edi-gate executable")
    ap.add_argument(
        "--edi-gate-args",
        default="",
        help="extra arguments for filter and replay, e.g. '--ruleset R.toml --roster R.csv'",
    )
    ap.add_argument(
        "--no-roster",
        action="store_true",
        help="do not pass the generated provider roster (claims without PRV then get rejected)",
    )
    ap.add_argument("--keep-outputs", action="store_true", help="keep edi-gate outputs in OUT/work")
    ap.add_argument(
        "--directory-providers",
        type=int,
        default=1_000_000,
        help="NPIs in the generated NPPES file the directory rows import (tool 'directory')",
    )
    args = ap.parse_args(argv)

    gate_args = shlex.split(args.edi_gate_args)
    if not args.no_roster:
        gate_args = ["--roster", str(roster_file(args.data, args.seed)), *gate_args]
    rep = args.repeat
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    tools = {t.strip() for t in args.tools.split(",") if t.strip()}
    unknown = tools - set(TOOLS)
    if unknown:
        ap.error(f"unknown tools: {sorted(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    exe = edi_gate_command(args.edi_gate)
    skip_filter = subcommand_available(exe, "filter") if "filter" in tools else "not requested"
    skip_replay = subcommand_available(exe, "replay") if "replay" in tools else "not requested"
    for sub, why in (("filter", skip_filter), ("replay", skip_replay)):
        if why and why != "not requested":
            print(f"NOTE: skipping edi-gate {sub}: {why}", file=sys.stderr)

    tree = interpreted_tree(args.out) if "interpreted" in tools else None
    if not skip_filter and exe is not None:
        # One untimed run per build on the bundled fixture, so the first timed row does not pay
        # for a cold page cache or (interpreted tree) for compiling its bytecode.
        with tempfile.TemporaryDirectory(prefix="edi-gate-warm-") as warm:
            demo = ROOT / "fixtures" / "demo.837"
            run_filter(exe, demo, 0, Path(warm), args.timeout, gate_args)
            if tree is not None:
                run_filter(INTERPRETED_CLI, demo, 0, Path(warm), args.timeout, gate_args, cwd=tree)
    rows: list[Row] = []
    generated: dict[str, object] = {}
    directory_db: Path | None = None
    if "directory" in tools and not skip_filter and exe is not None:
        from bench.directory import directory_args

        print(f"== directory: {args.directory_providers:,} NPPES NPIs", file=sys.stderr)
        directory_db, imported = run_directory_import(
            exe, args.data, args.out / "directory", roster_file(args.data, args.seed),
            args.directory_providers, args.seed, args.timeout,
        )  # fmt: skip
        rows.append(imported)
        print(f"   import {_fmt(imported.seconds, '.1f')} s  "
              f"{_fmt(imported.peak_rss_mb, '.1f')} MB  {imported.note}",
              file=sys.stderr)  # fmt: skip
    for n in sizes:
        src, gen = data_file(args.data, n, args.seed)
        if gen:
            generated[str(n)] = gen
        size = src.stat().st_size
        work = args.out / "work" / str(n)
        work.mkdir(parents=True, exist_ok=True)
        print(f"== {n:,} claims ({size / 1e6:.1f} MB): {src}", file=sys.stderr, flush=True)
        if "filter" in tools:
            if skip_filter or exe is None:
                rows.append(Row("edi-gate filter", n, size, skipped=skip_filter))
            else:
                rows.append(best_of(rep, run_filter, exe, src, n, work, args.timeout, gate_args))
        if tree is not None and not skip_filter:
            label = "edi-gate filter (interpreted)"
            if n > args.interpreted_max_claims:
                why = f"> --interpreted-max-claims {args.interpreted_max_claims}"
                rows.append(Row(label, n, size, skipped=why))
            else:
                rows.append(
                    best_of(
                        rep,
                        run_filter,
                        INTERPRETED_CLI,
                        src,
                        n,
                        work,
                        args.timeout,
                        gate_args,
                        label=label,
                        cwd=tree,
                    )
                )
        if directory_db is not None:
            with_directory = directory_args(gate_args, directory_db)
            rows.append(best_of(rep, run_filter, exe, src, n, work, args.timeout, with_directory,
                                label="edi-gate filter (directory)"))  # fmt: skip
        if "pyx12" in tools:
            if n > args.pyx12_max_claims:
                rate = max((r.claims_per_s or 0 for r in rows if r.tool == "pyx12 x12valid"),
                           default=0) or 300.0  # fmt: skip
                why = (f"> --pyx12-max-claims {args.pyx12_max_claims} "
                       f"(would take ~{n / rate / 60:.0f} min)")  # fmt: skip
                rows.append(Row("pyx12 x12valid", n, size, skipped=why))
            else:
                rows.append(run_pyx12(src, n, work, args.timeout))  # slow: once
        if "floor" in tools:
            rows.append(best_of(rep, run_floor, src, n, args.timeout))
        if "replay" in tools:
            for w in (1, 2):
                if skip_replay or exe is None:
                    rows.append(Row(f"edi-gate replay w{w}", n, size, skipped=skip_replay))
                else:
                    rows.append(
                        best_of(rep, run_replay, exe, src, n, work, w, args.timeout, gate_args)
                    )
        for r in rows[-7:]:
            if r.claims == n and not r.skipped:
                print(f"   {r.tool:<22} {_fmt(r.seconds, '.2f'):>8} s  "
                      f"{_fmt(r.peak_rss_mb, '.1f'):>7} MB  {'ok' if r.ok else 'FAILED'} "
                      f"{(r.note or '')[-100:]}",
                      file=sys.stderr, flush=True)  # fmt: skip
        if not args.keep_outputs:
            shutil.rmtree(work, ignore_errors=True)

    ratios(rows)
    tgts = targets(rows)
    env = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "seed": args.seed,
        "edi_gate": str(exe) if exe else None,
        "edi_gate_args": gate_args,
    }
    results = {
        "environment": env,
        "rows": [r.as_dict() for r in rows],
        "targets": tgts,
        "generated": generated,
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(render_markdown(rows, tgts, env))
    print(render_text(rows, tgts))
    print(f"\nwrote {args.out / 'results.json'} and {args.out / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
