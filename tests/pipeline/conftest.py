"""Markers of the pipeline tests."""

from __future__ import annotations


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "spark: runs PySpark on a local session (needs `pip install edi-gate[spark]` and Java; "
        "skipped only when pyspark is not installed, unless EDI_GATE_REQUIRE_SPARK=1)",
    )
