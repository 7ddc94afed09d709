"""Where a compiled run spends its cycles: `perf` samples charged to edi-gate's functions.

Why: cProfile cannot see inside the mypyc extensions, and a plain `perf report` charges most samples
to libpython (the object allocator, dict lookups) without saying which edi-gate function asked for
the work. This records `edi-gate filter` under ``perf record --call-graph dwarf`` and charges each
sample to the innermost compiled function on its stack (mypyc names them
``CPyDef_<module>___<name>``), and reports which shared objects the cycles were spent in.

Usage (needs Linux ``perf``; the compiled build)::

    python -m bench.native_profile FILE [--roster CSV] [--top 20] [--frequency 1500]

On a small file start-up (imports, loading the ruleset and pyx12's code lists) is a large share,
shown as '(outside)'; the 100k bench file gives the steady state.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

COMPILED_PREFIX = "CPyDef_"


def parse_samples(lines: Iterable[str]) -> list[list[tuple[str, str]]]:
    """``perf script -F ip,sym,dso`` output as samples: stacks of (symbol, dso), leaf first."""
    samples: list[list[tuple[str, str]]] = []
    stack: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            if stack:
                samples.append(stack)
            stack = []
            continue
        parts = line.split(None, 1)  # ip, then "symbol (dso)"
        rest = parts[1] if len(parts) > 1 else "[unknown] ([unknown])"
        symbol, _, dso = rest.rpartition(" (")
        dso = dso.rstrip(")")
        # an inlined frame names no object: it is in the one of the next frame that does
        stack.append((symbol.strip() or "[unknown]", "" if dso == "inlined" else Path(dso).name))
    if stack:
        samples.append(stack)
    return samples


def by_compiled_function(samples: list[list[tuple[str, str]]]) -> Counter[str]:
    """Samples per innermost compiled function (the work it did itself or asked libpython for);
    samples with no compiled function on the stack (start-up, imports) count as '(outside)'."""
    counts: Counter[str] = Counter()
    for stack in samples:
        owner = next((sym for sym, _ in stack if sym.startswith(COMPILED_PREFIX)), "(outside)")
        counts[owner] += 1
    return counts


def by_object(samples: list[list[tuple[str, str]]]) -> Counter[str]:
    """Samples per shared object of the leaf frame (the first that names one, past inlined
    frames): where the cycles were spent."""
    return Counter(next((dso for _, dso in stack if dso), "[unknown]") for stack in samples)


def readable(symbol: str) -> str:
    """'CPyDef_ca277___Ack277Writer____claim_ack' -> 'ca277.Ack277Writer._claim_ack'."""
    if not symbol.startswith(COMPILED_PREFIX):
        return symbol
    return symbol[len(COMPILED_PREFIX) :].replace("____", "._").replace("___", ".")


def record(path: Path, roster: Path | None, frequency: int, workdir: Path) -> Path:
    data = workdir / "perf.data"
    command = [sys.executable, "-m", "edi_gate.cli", "filter", str(path)]
    command += ["-o", str(workdir / "out.837"), "--acks", str(workdir / "out.277")]
    command += ["--decisions", str(workdir / "out.jsonl"), "--log-format", "json"]
    if roster is not None:
        command += ["--roster", str(roster)]
    perf = ["perf", "record", "--call-graph", "dwarf,16384", "-F", str(frequency), "-o", str(data)]
    run = subprocess.run([*perf, "--", *command], capture_output=True, text=True, errors="replace")
    if run.returncode != 0:
        raise SystemExit(f"perf record failed ({run.returncode}):\n{run.stderr[-2000:]}")
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.native_profile", description=__doc__)
    ap.add_argument("file", type=Path)
    ap.add_argument("--roster", type=Path)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--frequency", type=int, default=1500, help="samples per second")
    args = ap.parse_args(argv)
    if shutil.which("perf") is None:
        print("perf is not installed (linux-perf / linux-tools)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="edi-gate-perf-") as tmp:
        data = record(args.file, args.roster, args.frequency, Path(tmp))
        script = subprocess.run(
            ["perf", "script", "-i", str(data), "-F", "ip,sym,dso"],
            check=True,
            capture_output=True,
            text=True,
            errors="replace",
        )
    samples = parse_samples(script.stdout.splitlines())
    total = max(1, len(samples))
    print(f"{len(samples):,} samples of edi-gate filter on {args.file}")
    print("\ncycles by shared object (leaf frame):")
    for name, count in by_object(samples).most_common(8):
        print(f"  {count / total:6.1%}  {name}")
    print(f"\ncycles by innermost compiled function (top {args.top}):")
    for name, count in by_compiled_function(samples).most_common(args.top):
        print(f"  {count / total:6.1%}  {readable(name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
