"""`replay --engine spark` on a local Spark session decides exactly what the local engine does.

Marked ``spark``: it needs the extra (`pip install edi-gate[spark]`) and Java. When pyspark is
installed it always runs (a missing Java fails it); without pyspark it is skipped, unless
EDI_GATE_REQUIRE_SPARK=1 (CI) turns that into a failure."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pipeline.support import (
    EDI_GATE,
    assert_replay_conservation,
    demo_variant,
    generated,
    read_decisions,
)

pytestmark = pytest.mark.spark


def require_spark() -> None:
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("pyarrow") is None:
        message = "pyspark/pyarrow not installed: pip install -e '.[spark]'"
        if os.environ.get("EDI_GATE_REQUIRE_SPARK") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("java not found: run scripts/install-test-deps.sh", pytrace=False)


def test_spark_decisions_equal_the_local_engine(tmp_path: Path):
    require_spark()
    archive = tmp_path / "archive"
    (archive / "nested").mkdir(parents=True)
    streams = {
        str(archive / "big.837"): generated(1500, 21, "SPK", interchanges=3),
        str(archive / "nested" / "demo.837"): demo_variant("SD"),
    }
    for name, data in streams.items():
        Path(name).write_bytes(data)
    (archive / "broken.837").write_bytes(b"not X12\n")
    common = [str(archive), "--split-size", "1", "--log-format", "json"]  # 1 MiB: big.837 splits

    local = subprocess.run(
        [str(EDI_GATE), "replay", *common, "--out", str(tmp_path / "local")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert local.returncode == 0, local.stderr
    spark = subprocess.run(
        [
            str(EDI_GATE),
            "replay",
            *common,
            "--out",
            str(tmp_path / "spark"),
            "--engine",
            "spark",
            "--master",
            "local[2]",
        ],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert spark.returncode == 0, spark.stderr[-3000:]

    import pyarrow.parquet as pq  # comes with the spark extra; no second JVM just to read

    table = pq.read_table(tmp_path / "spark" / "decisions.parquet")
    rows = sorted(table.to_pylist(), key=lambda row: (row["source"], row["position"]))
    spark_records = [json.loads(row["record"]) for row in rows]
    assert {row["decision"] for row in rows} <= {"accepted", "rejected"}
    assert all(
        row["rules"] == sorted({f["rule"] for f in json.loads(row["record"])["findings"]})
        for row in rows
    )

    local_records = read_decisions([tmp_path / "local" / "decisions.jsonl"])
    key = lambda r: (r["source"], r["position"])  # noqa: E731
    assert sorted(local_records, key=key) == spark_records
    assert_replay_conservation(streams, spark_records)

    local_summary = json.loads((tmp_path / "local" / "summary.json").read_text())
    spark_summary = json.loads((tmp_path / "spark" / "summary.json").read_text())
    for field in (
        "claims",
        "by_decision",
        "by_rule",
        "by_taxonomy",
        "by_month",
        "top_rejected_codes",
        "errors",
        "files",
        "files_read",
    ):
        assert spark_summary[field] == local_summary[field], field
    assert [e["source"] for e in spark_summary["errors"]] == [str(archive / "broken.837")]
    assert spark_summary["engine"] == "spark"
