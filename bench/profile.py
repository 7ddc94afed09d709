"""Profile ``edi-gate filter`` in-process: where does the time per segment / per line go?

Why: the harness says *how fast*; this says *why*. It runs the real CLI entry point (so it
profiles exactly what users run) under cProfile, then prints the top functions by cumulative
and by own time, and the cost per segment, per service line and per claim.

Usage::

    python -m bench.profile FILE [--top 25] [--sort cumulative,tottime] [--save prof.out]
    python -m bench.profile --floor FILE      # same report for the raw floor pass
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--sort", default="cumulative,tottime")
    ap.add_argument("--save", type=Path, help="also dump raw stats (for snakeviz / pstats)")
    ap.add_argument("--floor", action="store_true", help="profile the floor pass instead")
    args = ap.parse_args(argv)

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
