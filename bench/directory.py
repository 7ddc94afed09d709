"""The provider-directory bench: import a 1M-NPI NPPES-format file, then filter with it.

Rows it adds to ``bench.run`` (tool ``directory``):

- ``directory import nppes``: `edi-gate directory import --nppes` of a generated npidata_pfile
  of ``--directory-providers`` NPIs (default 1M; the bench roster's providers among them):
  seconds, NPIs/s, peak RSS (the import streams: RSS must not grow with the file);
- ``edi-gate filter (directory)``: the same filter run as the ``edi-gate filter`` row (which
  reads the CSV roster), but asking the SQLite directory (the roster imported into it, plus the
  1M NPPES NPIs) through its bounded cache: throughput and RSS side by side, same run.

The import row's ``extra`` also holds the per-lookup cost measured in-process over the same file:
a cache miss (one indexed SQLite read) and a cache hit (a dict hit), in microseconds.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from bench import nppes

DEFAULT_PROVIDERS = 1_000_000


def nppes_file(data_dir: Path, providers: int, seed: int, roster: Path) -> Path:
    """The cached NPPES-format file for (providers, seed), listing ``roster``'s NPIs too."""
    path = data_dir / f"npidata_pfile_{providers}_s{seed}.csv"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        nppes.main([str(path), "--providers", str(providers), "--seed", str(seed),
                    "--include-roster", str(roster)])  # fmt: skip
    return path


def lookup_costs(db: Path, sample: int = 20_000, seed: int = 1) -> dict[str, float]:
    """Microseconds per lookup through ProviderDirectory: cache misses over random NPIs of the
    file, then hits over a working set that fits the cache."""
    import sqlite3

    from edi_gate.directory.lookup import ProviderDirectory
    from edi_gate.directory.store import SqliteSource

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    npis = [r[0] for r in con.execute(
        "SELECT DISTINCT npi FROM entry WHERE source = 'nppes' AND kind = 'T' LIMIT ?",
        (sample * 5,),
    )]  # fmt: skip
    con.close()
    rng = random.Random(seed)
    picked = rng.sample(npis, min(sample, len(npis)))
    source = SqliteSource(db)
    directory = ProviderDirectory([source], capacity=sample + 1)
    day = None
    started = time.perf_counter()
    for npi in picked:
        directory.taxonomies(npi, day)
    miss = (time.perf_counter() - started) / len(picked) * 1e6
    started = time.perf_counter()
    for _ in range(5):
        for npi in picked:
            directory.taxonomies(npi, day)
    hit = (time.perf_counter() - started) / (5 * len(picked)) * 1e6
    source.close()
    return {"lookup_miss_us": round(miss, 2), "lookup_hit_us": round(hit, 2)}


def directory_args(gate_args: list[str], db: Path) -> list[str]:
    """The filter row's arguments with the CSV roster replaced by the directory."""
    out: list[str] = []
    skip = False
    for arg in gate_args:
        if skip:
            skip = False
            continue
        if arg == "--roster":
            skip = True
            continue
        out.append(arg)
    return [*out, "--directory", str(db)]
