"""`edi-gate replay --engine spark`: the same replay on Apache Spark, for archives beyond one box.

Why Spark: a multi-year archive does not fit one machine's cores. The units are the local
engine's (:func:`edi_gate.pipeline.replay.plan_units`: files, zip members, large files cut at ISA
boundaries), so both engines decide exactly the same claims the same way; Spark only decides
where each unit runs. Executors read the files by path (a shared filesystem or the driver's disk
with ``local[*]``), decide them with :func:`process_unit`, and write the decisions as a Parquet
table; only small per-unit tallies travel back to the driver for the summary.

PySpark is an optional extra: ``pip install edi-gate[spark]`` (and a Java runtime).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from edi_gate.pipeline.positions import shift_positions
from edi_gate.pipeline.replay import ResultMerger, UnitResult, UnitSettings, WorkUnit, process_unit
from edi_gate.vocabulary import Scope
from edi_gate.x12.loops import Limits

DECISIONS_TABLE = "decisions.parquet"
CHANGES_TABLE = "changes.parquet"


class SparkUnavailable(RuntimeError):
    """PySpark (or Java) is missing: say how to get it."""


def _schema():
    from pyspark.sql.types import (
        ArrayType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    return StructType(
        [
            StructField("source", StringType(), False),
            StructField("position", LongType(), False),
            StructField("claim", StringType(), True),
            StructField("decision", StringType(), False),
            StructField("interchange", StringType(), True),
            StructField("group", StringType(), True),
            StructField("transaction", StringType(), True),
            StructField("service_date", StringType(), True),
            StructField("billing_npi", StringType(), True),
            StructField("rules", ArrayType(StringType()), False),
            StructField("record", StringType(), False),  # the full JSON row, as decisions.jsonl
        ]
    )


def decide_unit(unit: WorkUnit, settings: UnitSettings) -> tuple[UnitResult, bytes, bytes]:
    """One unit on an executor: its result (tallies only), its decisions and its changes.

    :func:`process_unit` writes them to files (in a directory of the executor's own, removed
    here); Spark holds them per partition (``MEMORY_AND_DISK``) for the Parquet writers, while
    only the tallies travel to the driver."""
    with tempfile.TemporaryDirectory(prefix="edi-gate-replay-") as spool:
        result = process_unit(unit, settings, spool=spool)
        blobs = []
        for path in (result.decisions_path, result.changes_path):
            blobs.append(Path(path).read_bytes() if path is not None else b"")
        result.discard()
    return result, blobs[0], blobs[1]


def decision_rows(blob: bytes) -> list[tuple[Any, ...]]:
    """Parquet rows for JSON Lines decisions (positions already file-relative)."""
    from edi_gate.decisions.record import parquet_row

    return [parquet_row(json.loads(line), line.decode("utf-8")) for line in blob.splitlines()]


def _change_rows(blob: bytes) -> list[tuple[str, int, str]]:
    rows = []
    for line in blob.splitlines():
        change = json.loads(line)
        rows.append((change["source"], int(change["position"]), line.decode("utf-8")))
    return rows


def spark_session(master: str = "local[*]"):
    """A Spark session bound to this host, no UI, Python workers on this interpreter."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise SparkUnavailable(
            "--engine spark needs PySpark: pip install 'edi-gate[spark]' (and a Java runtime)"
        ) from error
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(master)
        .appName("edi-gate replay")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.python.worker.reuse", "true")
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # Java missing or not starting: say so plainly
        raise SparkUnavailable(f"cannot start Spark ({master}): {error}") from error
    session.sparkContext.setLogLevel("ERROR")
    return session


def replay_spark(
    units: list[WorkUnit],
    merger: ResultMerger,
    *,
    scope: str = Scope.CLAIM,
    master: str = "local[*]",
    session=None,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """Decide every unit on Spark; write Parquet tables; feed tallies to ``merger`` in order."""
    from pyspark import StorageLevel

    own_session = session is None
    spark = session or spark_session(master)
    try:
        if not units:
            return {"engine": "spark", "master": master}
        settings = UnitSettings(merger.spec, merger.compare_with, scope, limits)
        results = (
            spark.sparkContext.parallelize(units, len(units))
            .map(lambda unit: decide_unit(unit, settings))
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        shift = spark.sparkContext.broadcast(_merge_tallies(results, merger))
        decisions = _shifted_rows(results, shift, 1, decision_rows)
        table = _write_table(spark, decisions, _schema(), merger.out / DECISIONS_TABLE)
        extra: dict[str, Any] = {"engine": "spark", "master": master, "decisions_table": table}
        if merger.compare_with is not None:
            changes = _shifted_rows(results, shift, 2, _change_rows)
            schema = _changes_schema()
            extra["changes_table"] = _write_table(
                spark, changes, schema, merger.out / CHANGES_TABLE
            )
        results.unpersist()
        return extra
    except BaseException:
        merger.abort()
        raise
    finally:
        if own_session:
            spark.stop()


def _merge_tallies(results, merger: ResultMerger) -> dict[int, int]:
    """Small facts first: every unit's tallies merged in unit order; returns each readable
    unit's position offset in its file (claims of the earlier units of the same file)."""
    tallies: list[UnitResult] = sorted(
        results.map(lambda decided: decided[0]).collect(), key=lambda r: r.index
    )
    offsets: dict[int, int] = {}
    claims_before: dict[str, int] = {}
    for result in tallies:
        offsets[result.index] = claims_before.get(result.source, 0)
        claims_before[result.source] = offsets[result.index] + result.claims
        merger.add(result)
    # A file with a part that could not be read is an error as a whole (as in one piece).
    failed = {e["source"] for e in merger.errors}
    return {r.index: offsets[r.index] for r in tallies if r.source not in failed}


def _shifted_rows(results, shift, blob: int, to_rows):
    """The rows of each readable unit's decisions (``blob`` 1) or changes (2), positions shifted
    to be file-relative; the units of a file with an unreadable part give none."""
    return results.flatMap(
        lambda d: (
            to_rows(shift_positions(d[blob], shift.value[d[0].index]))
            if d[0].index in shift.value
            else []
        )
    )


def _write_table(spark, rows, schema, path: Path) -> str:
    """Write ``rows`` as a Parquet table. One partition per unit, in unit order: the part files
    are already in file/position order, so no shuffle is needed to write them."""
    spark.createDataFrame(rows, schema).write.mode("overwrite").parquet(str(path))
    return str(path)


def _changes_schema():
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    return StructType(
        [
            StructField("source", StringType(), False),
            StructField("position", LongType(), False),
            StructField("change", StringType(), False),
        ]
    )


def read_decisions(spark, out: Path) -> list[dict[str, Any]]:
    """The decisions of a Spark replay as records, in file and position order (for checks)."""
    frame = spark.read.parquet(str(out / DECISIONS_TABLE)).orderBy("source", "position")
    return [json.loads(row["record"]) for row in frame.select("record").collect()]
