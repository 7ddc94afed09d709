"""Fixtures for every test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path_factory, monkeypatch) -> None:
    """Each test its own edi-gate state directory (control numbers, duplicate record): runs
    share one by default, so tests filtering the same fixture would refuse each other's
    interchanges as duplicates, and nothing may be written to the developer's home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
