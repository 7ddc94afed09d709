"""Profile ``edi-gate filter`` in-process: where does the time per segment / per line go?

Why: the harness says *how fast*; this says *why*. It runs the real CLI entry point (so it
profiles exactly what users run) under cProfile, then prints the top functions by cumulative
and by own time, and the cost per segment, per service line and per claim.

Usage::

    python -m bench.profile FILE [--top 25] [--sort cumulative,tottime] [--save prof.out]
    python -m bench.profile --floor FILE      # same report for the raw floor pass
    python -m bench.profile --stages FILE     # cost per stage, timed without a profiler

cProfile sees Python functions only: in the compiled build (setup.py) the hot path is C and shows
up as a few opaque calls, so ``--stages`` times each stage in-process instead (the reader alone,
then the rules, then each writer added on its own). For function-level detail, profile the
interpreted build (install with EDI_GATE_PURE_PYTHON=1).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.floor import floor_pass


def count_lines(path: Path) -> int:
    """Service lines (LX segments), counted outside the profile."""
    with open(path, "rb") as fh:
        head = fh.read(106).lstrip()
        term = re.escape(head[105:106])
        fh.seek(0)
        pattern = re.compile(term + rb"\s*LX" + re.escape(head[3:4]))
        n = 0
        carry = b""
        while chunk := fh.read(1 << 20):
            data = carry + chunk
            cut = data.rfind(head[105:106])
            cut = len(data) if cut < 0 else cut
            n += len(pattern.findall(data, 0, cut))
            carry = data[cut:]  # from the last terminator on: a match may straddle chunks
        return n + len(pattern.findall(carry))


def filter_target(path: Path, workdir: Path) -> Callable[[], None]:
    """A callable running `edi-gate filter` on path through the click entry point."""
    from edi_gate.cli import main as cli_main  # imported here so --floor works without edi_gate

    args = ["filter", str(path), "-o", str(workdir / "out.837")]
    args += ["--acks", str(workdir / "out.277"), "--decisions", str(workdir / "out.jsonl")]
    args += ["--log-format", "json"]

    def run() -> None:
        try:
            cli_main.main(args=args, standalone_mode=False)
        except SystemExit as stop:  # the CLI exits non-zero on data/config errors
            if stop.code not in (0, None):
                raise RuntimeError(f"edi-gate filter exited with {stop.code}") from None

    return run


class _Discard(io.RawIOBase):
    """A binary sink that keeps nothing: stage timings without disk writes."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        return len(data)


def stages(path: Path, roster: Path | None, repeat: int = 3) -> list[tuple[str, float]]:
    """Seconds for: the tokenizer; + 837P loops; + rules; and rules + each writer on its own;
    and everything together (what `edi-gate filter` does, minus start-up and the final rename).
    Each the fastest of ``repeat`` runs: on a shared machine single runs vary by a third."""
    from datetime import UTC, datetime

    from edi_gate.acks.ca277 import Ack277Writer
    from edi_gate.acks.state import ControlNumbers
    from edi_gate.pipeline.filter import FilterRun
    from edi_gate.rules.engine import Engine
    from edi_gate.x12.loops import EventReader
    from edi_gate.x12.tokenizer import SegmentReader

    engine = Engine.load(None, roster)

    def sink() -> io.BufferedWriter:
        return io.BufferedWriter(_Discard(), 1 << 20)

    def ack277() -> Ack277Writer:
        return Ack277Writer(sink(), control=ControlNumbers(), now=datetime.now(UTC))

    def read(events: bool) -> None:
        with open(path, "rb") as fh:
            segments = SegmentReader(fh, str(path))
            for _ in EventReader(segments, str(path)) if events else segments:
                pass

    def run(**outputs: object) -> None:
        with open(path, "rb") as fh:
            FilterRun(engine, **outputs).run(fh, str(path))  # type: ignore[arg-type]

    plan: list[tuple[str, Callable[[], None]]] = [
        ("tokenizer", lambda: read(False)),
        ("tokenizer + 837P loops", lambda: read(True)),
        ("+ rules (no outputs)", run),
        ("+ rules + filtered 837", lambda: run(out=sink())),
        ("+ rules + decisions", lambda: run(decisions=io.TextIOWrapper(sink(), "ascii"))),
        ("+ rules + 277CA", lambda: run(acks=ack277())),
        (
            "everything",
            lambda: run(out=sink(), decisions=io.TextIOWrapper(sink(), "ascii"), acks=ack277()),
        ),
        ("floor (bare split)", lambda: floor_pass(path) and None),
    ]
    best = dict.fromkeys((name for name, _ in plan), float("inf"))
    for _ in range(max(1, repeat)):  # rounds, so a slow spell of the machine hits every stage
        for name, step in plan:
            t0 = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - t0)
    return list(best.items())


def print_stages(path: Path, roster: Path | None, claims: int, repeat: int) -> None:
    timings = stages(path, roster, repeat)
    base = dict(timings)["+ rules (no outputs)"]
    print(f"stages on {path} ({claims:,} claims), in-process, no profiler, best of {repeat}:")
    print(f"  {'stage':<26} {'seconds':>8} {'us/claim':>9} {'over rules':>11}")
    for name, secs in timings:
        extra = f"{(secs - base) / claims * 1e6:+9.1f}" if name.startswith("+ rules +") else ""
        print(f"  {name:<26} {secs:8.2f} {secs / claims * 1e6:9.1f} {extra:>11}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--sort", default="cumulative,tottime")
    ap.add_argument("--save", type=Path, help="also dump raw stats (for snakeviz / pstats)")
    ap.add_argument("--floor", action="store_true", help="profile the floor pass instead")
    ap.add_argument("--stages", action="store_true", help="time each stage, no profiler")
    ap.add_argument("--roster", type=Path, help="provider roster for --stages")
    ap.add_argument("--repeat", type=int, default=3, help="runs per stage for --stages")
    args = ap.parse_args(argv)
    if args.stages:
        print_stages(args.file, args.roster, max(1, floor_pass(args.file)["clms"]), args.repeat)
        return 0

    counts = floor_pass(args.file)
    lines = count_lines(args.file)
    size = args.file.stat().st_size
    with tempfile.TemporaryDirectory(prefix="edi-gate-profile-") as tmp:
        if args.floor:

            def target() -> None:
                floor_pass(args.file)
        else:
            target = filter_target(args.file, Path(tmp))
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        target()
        prof.disable()
        secs = time.perf_counter() - t0

    stats = pstats.Stats(prof, stream=sys.stdout)
    if args.save:
        stats.dump_stats(str(args.save))
    what = "floor pass" if args.floor else "edi-gate filter"
    print(f"{what} on {args.file}: {size / 1e6:.1f} MB, {counts['segments']:,} segments, "
          f"{lines:,} service lines, {counts['clms']:,} claims")  # fmt: skip
    print(
        f"profiled wall time {secs:.2f} s (includes cProfile overhead, several x for call-heavy"
        " code: use bench.run for speed, this for proportions)"
    )
    seg, ln, clm = (max(1, x) for x in (counts["segments"], lines, counts["clms"]))
    print(f"  per segment {secs / seg * 1e6:8.2f} us   per line {secs / ln * 1e6:8.2f} us   "
          f"per claim {secs / clm * 1e6:8.2f} us")  # fmt: skip
    for key in args.sort.split(","):
        print(f"\n=== top {args.top} by {key} ===")
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(args.top)
        text = buf.getvalue()
        start = text.find("   ncalls")
        print((text[start:] if start >= 0 else text).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
