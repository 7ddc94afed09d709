"""Fixtures for the acknowledgment tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pyx12_oracle import pyx12_errors


@pytest.fixture
def oracle(tmp_path: Path) -> Callable[..., list[str]]:
    """Write bytes to a file and return pyx12's errors for it ([] when pyx12 accepts it)."""
    counter = iter(range(1_000_000))

    def check(data: bytes, **kwargs: object) -> list[str]:
        path = tmp_path / f"out{next(counter)}.x12"
        path.write_bytes(data)
        return pyx12_errors(path, **kwargs)  # type: ignore[arg-type]

    return check
