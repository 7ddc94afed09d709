"""Speed floor: the least work any X12 reader must do, in pure Python.

Why: edi-gate's throughput only means something next to what plain CPython can do at all. This
pass reads 1 MiB chunks, splits segments on the terminator the first ISA declares, splits every
segment into elements, and counts segments and CLMs - no validation, no loops, no output. A real
parser cannot beat it; edi-gate should stay within a small factor of it.

Usage: ``python -m bench.floor FILE`` (prints one JSON line).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

CHUNK = 1 << 20
ISA_TERMINATOR_INDEX = 105  # ISA is fixed width: 105 characters, then the segment terminator


def floor_pass(path: str | Path, chunk_size: int = CHUNK) -> dict[str, int]:
    """Count segments, elements and CLM segments of an X12 file; returns the counts."""
    segments = elements = clms = 0
    with open(path, "rb", buffering=0) as fh:
        first = fh.read(chunk_size)
        start = first.lstrip()
        if not start.startswith(b"ISA") or len(start) <= ISA_TERMINATOR_INDEX:
            raise ValueError(f"{path}: does not start with an ISA segment")
        element_sep = start[3:4]
        terminator = start[ISA_TERMINATOR_INDEX : ISA_TERMINATOR_INDEX + 1]
        clm_tag = b"CLM"
        rest = b""
        data = first
        while data:
            parts = (rest + data).split(terminator)
            rest = parts.pop()  # incomplete last segment carries over to the next chunk
            segments += len(parts)
            for seg in parts:
                fields = seg.strip().split(element_sep)
                elements += len(fields)
                if fields[0] == clm_tag:
                    clms += 1
            data = fh.read(chunk_size)
        if rest.strip():
            segments += 1
            elements += len(rest.strip().split(element_sep))
    return {"segments": segments, "elements": elements, "clms": clms}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.floor FILE", file=sys.stderr)
        return 2
    path = Path(args[0])
    t0 = time.perf_counter()
    counts = floor_pass(path)
    secs = time.perf_counter() - t0
    size = path.stat().st_size
    out = {**counts, "bytes": size, "seconds": round(secs, 4)}
    out["mb_per_s"] = round(size / 1e6 / secs, 2) if secs else None
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
