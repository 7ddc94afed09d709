"""The hostile table: peak RSS and time of edi-gate on inputs built to exhaust memory or time.

Every row of issue 15's memory table, measured at several sizes: whitespace between and after
interchanges (and the same gzipped, through ``replay``), claimless HL segments, a claim of
megabyte NTEs, a flood of empty segments, one transaction set of 50,000 / 100,000 claims, the
same claims in sets of 5,000, and (``--full``) a million claims in one set. Each run is a child
process measured with ``os.wait4`` (bench.run.measure); a row passes when every size stays under
``--budget`` MB and time grows no faster than the input (``time / size`` of the largest run at
most ``--slack`` times that of the smallest).

    python -m bench.hostile                 # modest sizes (~1 minute)
    python -m bench.hostile --full          # the issue's sizes, plus 1M claims in one set
    make bench-hostile
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.generate import generate
from bench.run import ROOT, edi_gate_command, measure

DEMO = (ROOT / "fixtures" / "demo.837").read_bytes()
MB = 1 << 20


@dataclass
class Case:
    """One row: how to build an input of a given size, and how to run edi-gate on it."""

    name: str
    unit: str  # what the sizes count
    quick: tuple[int, ...]
    full: tuple[int, ...]
    build: Callable[[Path, int], Path]
    command: str = "filter"  # or "replay"


def _write_blank_runs(path: Path, total: int, blank: bytes) -> None:
    """demo, ``total`` bytes of ``blank`` between two interchanges and after the last one."""
    second = DEMO.replace(b"000000101", b"000000102")
    block = blank * (MB // len(blank))
    with open(path, "wb") as out:
        out.write(DEMO)
        for _ in range(total // 2 // MB):
            out.write(block)
        out.write(second)
        for _ in range(total // 2 // MB):
            out.write(block)


def whitespace(path: Path, megabytes: int) -> Path:
    _write_blank_runs(path, megabytes * MB, b" ")
    return path


def whitespace_gz(path: Path, megabytes: int) -> Path:
    plain = path.with_suffix(".plain")
    _write_blank_runs(plain, megabytes * MB, b" ")
    target = path.with_name(path.name + ".gz")
    with open(plain, "rb") as src, gzip.open(target, "wb", compresslevel=9) as dst:
        shutil.copyfileobj(src, dst, MB)
    plain.unlink()
    return target


def _one_set(path: Path, body: Callable[[Callable[[bytes], None]], None]) -> Path:
    """demo's envelope and header around ``body`` (written in pieces), SE counted."""
    head = DEMO[: DEMO.index(b"HL*1**20*1~")]
    count = head[head.index(b"ST*837") :].count(b"~")
    with open(path, "wb") as out:
        out.write(head)

        def emit(data: bytes) -> None:
            nonlocal count
            count += data.count(b"~")
            out.write(data)

        body(emit)
        out.write(b"SE*%d*0001~\nGE*1*101~\nIEA*1*000000101~\n" % (count + 1))
    return path


def claimless_hls(path: Path, thousands: int) -> Path:
    def body(emit: Callable[[bytes], None]) -> None:
        emit(b"HL*1**20*1~\nNM1*85*2*DEMO IMAGING GROUP*****XX*1234567893~\n")
        for block in range(1, thousands * 1000, 1000):
            emit(
                b"".join(
                    b"HL*%d*1*22*0~\nSBR*P*18*******CI~\nNM1*IL*1*SMITH*PAT****MI*M%d~\n" % (n, n)
                    for n in range(block + 1, block + 1001)
                )
            )

    return _one_set(path, body)


def megabyte_notes(path: Path, notes: int) -> Path:
    claim = DEMO[DEMO.index(b"HL*1**20*1~") : DEMO.index(b"LX*1~")]
    note = b"NTE*ADD*" + b"N" * (MB - 10) + b"~\n"

    def body(emit: Callable[[bytes], None]) -> None:
        emit(claim)
        for _ in range(notes):
            emit(note)

    return _one_set(path, body)


def empty_segments(path: Path, thousands: int) -> Path:
    cut = DEMO.index(b"GS*")
    path.write_bytes(DEMO[:cut] + b"~" * (thousands * 1000) + DEMO[cut:])
    return path


def bad_trailers(path: Path, thousands: int) -> Path:
    """Many small interchanges whose IEA02 disagrees with their ISA13 (a TA1 each)."""
    one = DEMO.replace(b"IEA*1*000000101", b"IEA*1*000000999")
    with open(path, "wb") as out:
        for _ in range(thousands):
            out.write(one * 1000)
    return path


def _claims(per_set: int | None) -> Callable[[Path, int], Path]:
    def build(path: Path, thousands: int) -> Path:
        claims = thousands * 1000
        # max_claims_per_st twice the claims: the generator draws set sizes from [max/2, max]
        generate(path, claims, seed=7, max_claims_per_st=per_set or 2 * claims, interchanges=1)
        return path

    return build


CASES = (
    Case("whitespace between/after interchanges", "MB", (8, 32), (25, 50, 100, 200), whitespace),
    Case("the same as .gz in replay (2 claims)", "MB", (8, 32), (200,), whitespace_gz, "replay"),
    Case("HL segments with no claims", "k HLs", (50, 200), (200, 400, 800), claimless_hls),
    Case("one claim of NTE segments of 1 MB", "NTEs", (4, 16), (200,), megabyte_notes),
    Case("bare ~ (empty segments)", "k", (250, 1000), (1000,), empty_segments),
    Case("interchanges whose IEA disagrees", "k", (2, 8), (20,), bad_trailers),
    Case("one set of N valid claims", "k claims", (5, 20), (50, 100), _claims(None)),
    Case("the same claims in sets of 5,000", "k claims", (5, 20), (100,), _claims(5000)),
)
MILLION = Case("1M claims in a single set", "k claims", (), (1000,), _claims(None))


def run_case(case: Case, size: int, exe: Path, work: Path, timeout: float) -> dict[str, object]:
    source = case.build(work / f"{case.name[:12].replace(' ', '-')}-{size}.837", size)
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    if case.command == "replay":
        cmd = [str(exe), "replay", str(source), "--out", str(out), "--log-format", "json"]
    else:
        cmd = [str(exe), "filter", str(source), "-o", str(out / "f.837"), "--acks"]
        cmd += [str(out / "a.277"), "--ack999", str(out / "a.999"), "--decisions"]
        cmd += [str(out / "d.jsonl"), "--log-format", "json"]
    m = measure(cmd, timeout)
    input_mb = source.stat().st_size / MB
    source.unlink()
    return {
        "case": case.name,
        "size": f"{size} {case.unit}",
        "input_mb": round(input_mb, 2),
        "seconds": round(m.seconds, 2),
        "peak_rss_mb": round(m.peak_rss_mb, 1),
        "exit_status": m.exit_status,
        "outcome": m.stderr.strip().splitlines()[-1][:160] if m.stderr.strip() else "",
    }


def judge(rows: list[dict[str, object]], budget: float, slack: float) -> str:
    """'ok' when every run is under budget and time per input byte does not grow."""
    if any(float(r["peak_rss_mb"]) >= budget for r in rows):  # type: ignore[arg-type]
        return f"over {budget:.0f} MB"
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        per = [float(r["seconds"]) / max(float(r["input_mb"]), 0.01) for r in (first, last)]  # type: ignore[arg-type]
        if float(first["seconds"]) > 0.5 and per[1] > per[0] * slack:  # type: ignore[arg-type]
            return f"time grows {per[1] / per[0]:.1f}x per MB"
    return "ok"


def render(results: list[tuple[Case, list[dict[str, object]], str]]) -> str:
    lines = [
        "| input | size | input MB | time (s) | peak RSS (MB) | exit | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, rows, verdict in results:
        for index, row in enumerate(rows):
            lines.append(
                f"| {case.name if index == 0 else ''} | {row['size']} | {row['input_mb']} | "
                f"{row['seconds']} | {row['peak_rss_mb']} | {row['exit_status']} | "
                f"{verdict if index == len(rows) - 1 else ''} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="the issue's sizes and the 1M-claim set")
    ap.add_argument("--only", help="run the rows whose name contains this text")
    ap.add_argument("--edi-gate", default=None, help="path of the edi-gate executable")
    ap.add_argument("--work", type=Path, default=Path("/tmp/edi-gate-hostile"))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--budget", type=float, default=64.0, help="peak RSS bound, MB")
    ap.add_argument("--slack", type=float, default=2.0, help="allowed growth of time per MB")
    ap.add_argument("--timeout", type=float, default=1800.0)
    args = ap.parse_args(argv)
    exe = edi_gate_command(args.edi_gate)
    if exe is None:
        print("edi-gate executable not found (--edi-gate)", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    cases = [*CASES, MILLION] if args.full else list(CASES)
    results = []
    for case in cases:
        if args.only and args.only not in case.name:
            continue
        rows = [
            run_case(case, size, exe, args.work, args.timeout)
            for size in (case.full if args.full else case.quick)
        ]
        verdict = judge(rows, args.budget, args.slack)
        results.append((case, rows, verdict))
        for row in rows:
            print(f"{case.name} {row['size']}: {row['seconds']} s, {row['peak_rss_mb']} MB")
        print(f"  -> {verdict}", flush=True)
    table = render(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "hostile.md").write_text(table)
    (args.out / "hostile.json").write_text(
        json.dumps([{"verdict": v, "rows": r} for _, r, v in results], indent=1) + "\n"
    )
    shutil.rmtree(args.work, ignore_errors=True)
    print(table)
    return 0 if all(v == "ok" for _, _, v in results) else 1


if __name__ == "__main__":
    sys.exit(main())
