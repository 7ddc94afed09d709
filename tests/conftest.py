"""The interop layer: tests marked ``interop`` read the public corpus beside the checkout.

``make test`` must pass on a fresh clone, where ``../shared`` does not exist: there every interop
test is skipped under one summary line. CI has the corpus and sets EDI_GATE_REQUIRE_INTEROP=1
(``.ci/run``): then a missing corpus stops the run before any test, and an interop test that
skips for any reason fails.

Every test also gets its own edi-gate state directory (control numbers, duplicate record).
"""

from __future__ import annotations

import os

import pytest

from tests.helpers import SHARED, shared_missing

REQUIRE = "EDI_GATE_REQUIRE_INTEROP"
_INTEROP_COUNT = pytest.StashKey[int]()


def _required() -> bool:
    return os.environ.get(REQUIRE, "") not in ("", "0")


def pytest_report_header(config: pytest.Config) -> str:
    missing = shared_missing()
    state = f"absent ({', '.join(missing)})" if missing else "present"
    return f"interop corpus: {SHARED} {state}; {REQUIRE}={int(_required())}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    count = sum(1 for item in items if item.get_closest_marker("interop"))
    config.stash[_INTEROP_COUNT] = count
    missing = shared_missing()
    if missing and _required():
        raise pytest.UsageError(
            f"{REQUIRE}=1 but the public X12 corpus is not complete at {SHARED} "
            f"(missing: {', '.join(missing)}); set EDI_GATE_SHARED"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """One reason, raised from this line for every interop test: pytest folds them into one."""
    if item.get_closest_marker("interop") and shared_missing():
        count = item.config.stash.get(_INTEROP_COUNT, 0)
        pytest.skip(
            f"public X12 corpus not found: {count} interop tests skipped; set EDI_GATE_SHARED"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """A skip must say why in one line; under EDI_GATE_REQUIRE_INTEROP=1 an interop test that
    skips (for any reason) fails."""
    report = yield
    if not report.skipped or hasattr(report, "wasxfail"):
        return report
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    reason = reason.removeprefix("Skipped").removeprefix(":").strip(" ")
    if not reason.strip() or "\n" in reason.strip():
        report.outcome = "failed"
        report.longrepr = f"a skip must say why in one line, not {reason!r}"
    elif _required() and item.get_closest_marker("interop"):
        report.outcome = "failed"
        report.longrepr = f"interop test skipped although {REQUIRE}=1: {reason}"
    return report


@pytest.fixture(autouse=True)
def restore_umask():
    """The CLI sets the process umask to 077 (everything it creates is private); a command run
    in-process (CliRunner) must not leave it to later tests that create shared directories (the
    least-privilege recipe's keys and chroot, read by other accounts)."""
    mask = os.umask(0o022)
    os.umask(mask)
    yield
    os.umask(mask)


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path_factory, monkeypatch) -> None:
    """Each test its own edi-gate state directory (control numbers, duplicate record): runs
    share one by default, so tests filtering the same fixture would refuse each other's
    interchanges as duplicates, and nothing may be written to the developer's home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
