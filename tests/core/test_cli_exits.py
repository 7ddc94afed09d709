"""The errors edi-gate raises on purpose and the exit statuses the command line gives them.

One base (EdiGateError) with ConfigError and X12Error under it, each a ValueError; one click
exception per exit status printing one escaped line; the status table of `--help` made from those
classes; the options several commands share defined once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from edi_gate.cli import main
from edi_gate.commands import exits
from edi_gate.directory.nppes import NppesFormatError
from edi_gate.errors import ConfigError, EdiGateError, X12Error
from edi_gate.state.errors import StateError
from tests.invoke import invoke
from tests.report.support import DEMO


@pytest.mark.parametrize("error", [ConfigError, X12Error, StateError, NppesFormatError])
def test_every_refusal_is_an_edi_gate_error_and_a_value_error(error: type[Exception]):
    assert issubclass(error, EdiGateError) and issubclass(error, ValueError)


@pytest.mark.parametrize("first", ["edi_gate.x12.errors", "edi_gate.errors", "edi_gate.cli"])
def test_either_errors_module_imports_first(first: str):
    """X12Error's module imports the base from edi_gate.errors, which re-exports X12Error."""
    code = (
        f"import {first}; from edi_gate.errors import X12Error, EdiGateError; "
        "import edi_gate.x12.errors as x; assert X12Error is x.X12Error; "
        "assert issubclass(X12Error, EdiGateError)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _run(raise_it) -> tuple[int, str, str]:
    @click.command()
    def command() -> None:
        raise_it()

    result = CliRunner().invoke(command, [])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "failure,status",
    [
        (exits.ConfigFailure, 2),
        (exits.DataFailure, 65),
        (exits.NoInputFailure, 66),
        (exits.OutputFailure, 74),
    ],
)
def test_each_failure_is_one_escaped_line_and_its_status(failure, status: int):
    def fail() -> None:
        raise failure("in\x1b[2Jbox/na\udcffme.837: went wrong")

    assert _run(fail) == (status, "", "edi-gate: in\\x1b[2Jbox/na\\xffme.837: went wrong\n")


def test_run_errors_map_to_their_statuses(tmp_path: Path):
    hidden = tmp_path / ".out.837.Ab12Cd34.tmp"

    def mapped(error: Exception):
        def fail() -> None:
            with exits.exit_statuses():
                raise error

        return _run(fail)

    config = ConfigError("no such rule", path="rules.toml", line=3)
    assert mapped(config) == (
        2,
        "",
        "edi-gate: configuration error: rules.toml: line 3: no such rule\n",
    )
    data = X12Error("file ends inside the ISA header", source="in.837", ordinal=1, segment_id="ISA")
    assert mapped(data) == (65, "", f"edi-gate: {data}\n")
    disk = OSError(28, "No space left on device", str(hidden))
    expected = f"edi-gate: cannot write outputs: {tmp_path / 'out.837'}: No space left on device\n"
    assert mapped(disk) == (74, "", expected)
    with pytest.raises(KeyError), exits.exit_statuses():  # a bug is not dressed up as a refusal
        raise KeyError("x")


def test_the_status_table_is_made_from_the_failures():
    table = [
        line.strip() for line in invoke("--help").stdout.split("Exit statuses:\n")[1].splitlines()
    ]
    listed = [int(line.split()[0]) for line in table if line[:1].isdigit()]
    assert listed == [0, 1, *(failure.exit_code for failure in exits.FAILURES)]
    for failure in exits.FAILURES:
        first_line = failure.meaning.splitlines()[0]
        assert f"{failure.exit_code:<4}{first_line}" in table


def _options(command: click.Command, path: tuple[str, ...] = ()):
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _options(sub, (*path, name))
        return
    for param in command.params:
        if isinstance(param, click.Option):
            yield " ".join(path), param


def test_a_shared_option_means_the_same_on_every_command():
    seen: dict[str, dict] = {}
    for path, option in _options(main):
        if path.startswith(("rules ", "directory ")):
            continue  # their --ruleset / --directory name other things, said in their help
        meaning = (option.help, option.default, str(option.type.to_info_dict()), option.is_flag)
        seen.setdefault(option.opts[-1], {})[path] = meaning
    shared = {
        "--ruleset": {"filter", "check", "watch", "replay"},
        "--roster": {"filter", "check", "watch", "replay"},
        "--directory": {"filter", "check", "watch", "replay"},
        "--scope": {"filter", "check", "watch", "replay"},
        "--limits": {"filter", "check", "watch", "replay"},
        "--log-format": {"filter", "check", "watch", "replay", "ack"},
        "--state-dir": {"filter", "watch", "ack"},
        "--duplicate-window": {"filter", "watch"},
    }
    for name, commands in shared.items():
        assert set(seen[name]) == commands, name
        assert len(set(seen[name].values())) == 1, (name, seen[name])


def test_duplicate_claims_without_a_window_is_a_usage_error(tmp_path: Path):
    result = invoke("filter", DEMO, "--duplicate-claims", "reject", "-o", tmp_path / "o.837")
    assert result.status == 2
    assert "--duplicate-claims reject needs a --duplicate-window" in result.stderr
    assert not (tmp_path / "o.837").exists()


def test_check_goes_on_after_an_unreadable_input_then_exits_65(tmp_path: Path):
    broken = tmp_path / "half.837"
    broken.write_bytes(DEMO.read_bytes()[:3000])
    result = invoke("check", broken, DEMO, "--log-format", "json")
    assert result.status == 65
    assert f"# {DEMO}" in result.stdout and "DEMO-008" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("edi-gate: ")]
    assert errors == [
        f"edi-gate: {broken}: segment 120 (IEA): file ends before the interchange's IEA trailer"
    ]
