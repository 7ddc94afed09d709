"""Long fuzz run: ``python -m fuzz.run --minutes 10`` (``make fuzz``).

Mutates the public corpus, the fixtures and generated 837Ps (see ``fuzz.mutations``) and runs each
result through the whole pipeline (``fuzz.oracle.check``): edi-gate must either refuse the input
with X12Error or process it with every claim accounted for. Each distinct failure is minimized and
saved under ``--out`` (default ``fuzz/crashes/``) as ``<signature>.x12`` plus a ``.txt`` with the
traceback; turn it into a regression test by copying it to ``tests/regressions/``. Exit status 1
when anything failed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import random
import re
import signal
import sys
import time
import traceback
from pathlib import Path

from edi_gate import logs
from fuzz.mutations import generated, mutate, seed_files, split_segments
from fuzz.oracle import check, real_engine

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("EDI_GATE_CORPUS", REPO.parent / "shared" / "corpus"))
CHUNK_SIZES = (7, 106, 4096, 1 << 16)
SLOW_SECONDS = 20.0


def signature(error: BaseException) -> str:
    """Failures with the same type, message shape and innermost edi-gate frame are one bug."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "edi_gate" in f.filename]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "-"
    shape = re.sub(r"\d+|'[^']*'|\"[^\"]*\"", "#", str(error).splitlines()[0] if str(error) else "")
    return f"{type(error).__name__}|{where}|{shape[:80]}"


class Hang(Exception):
    """An input ran longer than SLOW_SECONDS; raised inside edi-gate, the traceback says where."""


def _alarm(_signum, _frame):
    raise Hang(f"input still running after {SLOW_SECONDS:.0f}s")


def fails(data: bytes, scope: str, chunk: int, engine=None) -> BaseException | None:
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(SLOW_SECONDS))
    try:
        check(data, engine, scope=scope, chunk_size=chunk)
    except Exception as error:  # noqa: BLE001 - any failure is a finding
        return error
    finally:
        signal.alarm(0)
    return None


def minimize(
    data: bytes, scope: str, chunk: int, sig: str, engine=None, budget: float = 60.0
) -> bytes:
    """Greedy delta debugging: drop segment runs, then byte runs, while the same failure holds."""
    deadline = time.monotonic() + budget

    def same(candidate: bytes) -> bool:
        error = fails(candidate, scope, chunk, engine)
        return error is not None and signature(error) == sig

    segments, terminator = split_segments(data)
    size = max(1, len(segments) // 2)
    while size >= 1 and time.monotonic() < deadline:
        i, changed = 0, False
        while i < len(segments) and time.monotonic() < deadline:
            candidate = segments[:i] + segments[i + size :]
            if candidate and same(terminator.join(candidate)):
                segments, changed = candidate, True
            else:
                i += size
        if not changed:
            size //= 2
    data = terminator.join(segments)
    size = max(1, len(data) // 4)
    while size >= 1 and time.monotonic() < deadline:
        i, changed = 0, False
        while i < len(data) and time.monotonic() < deadline:
            candidate = data[:i] + data[i + size :]
            if candidate and same(candidate):
                data, changed = candidate, True
            else:
                i += size
        if not changed:
            size //= 2
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.run", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=None, help="default: random, printed")
    parser.add_argument("--out", type=Path, default=REPO / "fuzz" / "crashes")
    args = parser.parse_args(argv)
    logs.configure(json_lines=True, level=logging.CRITICAL)  # envelope warnings by the thousand
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rng = random.Random(seed)
    seeds = [p.read_bytes() for p in seed_files(CORPUS, REPO / "fixtures")]
    seeds += [generated(n, claims=rng.choice([3, 12, 30]), newlines=n % 2 == 1) for n in range(8)]
    print(f"fuzz: seed {seed}, {len(seeds)} seed inputs, {args.minutes} minutes", file=sys.stderr)
    engines = [None, real_engine()] if real_engine() is not None else [None]
    deadline = time.monotonic() + args.minutes * 60
    runs, found = 0, {}
    while time.monotonic() < deadline:
        data = mutate(rng, rng.choice(seeds))
        scope, chunk = rng.choice(("claim", "line")), rng.choice(CHUNK_SIZES)
        if len(data) > 20_000:
            chunk = max(chunk, 4096)  # tiny reads of big inputs only measure Python overhead
        engine = rng.choice(engines)
        error = fails(data, scope, chunk, engine)
        runs += 1
        if error is None:
            continue
        sig = signature(error)
        if sig in found:
            continue
        if not isinstance(error, Hang):
            data = minimize(data, scope, chunk, sig, engine)
        found[sig] = data
        args.out.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(sig.encode()).hexdigest()[:12]
        (args.out / f"{name}.x12").write_bytes(data)
        detail = "".join(traceback.format_exception(error))
        (args.out / f"{name}.txt").write_text(
            f"signature: {sig}\nscope: {scope}\nchunk_size: {chunk}\nseed: {seed}\n"
            f"engine: {type(engine).__name__ if engine else 'HashEngine'}\n\n{detail}"
        )
        print(f"fuzz: FAILURE {sig} -> {args.out / name}.x12 ({len(data)} bytes)", file=sys.stderr)
    print(f"fuzz: {runs} inputs, {len(found)} distinct failures", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
