"""What the command line says: one line per error, the documented exit statuses, the target's
name (not a temporary file's), help for every option, and a true description of bad input.
In-process (tests.invoke): these read what is printed; tests/core/test_cli.py runs the script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.invoke import invoke
from tests.report.support import DEMO


def test_an_error_is_printed_once(tmp_path: Path):
    bad_ruleset = tmp_path / "bad.toml"
    bad_ruleset.write_text("[ruleset\n")
    for args in (
        ("filter", tmp_path / "missing.837"),
        ("filter", DEMO, "--roster", tmp_path / "missing.csv"),
        ("filter", DEMO, "-o", tmp_path / "no-such-dir" / "out.837"),
        ("check", "--ruleset", bad_ruleset, DEMO),
        ("replay", DEMO, "--out", tmp_path / "r", "--ruleset", bad_ruleset),
    ):
        for log_format in ("json", "console"):
            result = invoke(*args, "--log-format", log_format)
            assert result.status != 0
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("edi-gate: "), (args, result.stderr)


def test_74_names_the_target_not_the_hidden_temporary_file(tmp_path: Path):
    target = tmp_path / "no-such-dir" / "out.837"
    result = invoke("filter", DEMO, "-o", target)
    assert result.status == 74
    assert f"{target}: No such file or directory" in result.stderr, result.stderr
    assert ".tmp" not in result.stderr


def exit_statuses(text: str) -> set[str]:
    return set(re.findall(r"^\s+(\d+)\s+\S", text, flags=re.MULTILINE))


def test_help_and_readme_list_every_exit_status():
    expected = {"0", "1", "2", "65", "66", "74"}
    helped = invoke("--help")
    assert helped.status == 0
    assert expected <= exit_statuses(helped.stdout.split("Exit statuses:")[1]), helped.stdout
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Exit statuses")[1].split("\n## ")[0]
    assert expected <= set(re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)), section


def test_filter_help_shows_input_optional():
    result = invoke("filter", "--help")
    assert "Usage: edi-gate filter [OPTIONS] [INPUT]" in result.stdout


@pytest.mark.parametrize("command,option", [("ack", "--control-state"), ("replay", "--workers")])
def test_every_option_has_help(command: str, option: str):
    text = invoke(command, "--help").stdout
    block = text.split(option, 1)[1].split("\n  --", 1)[0]
    assert len(re.sub(r"\s+", " ", block).strip()) > len("PATH") + 10, block


def test_random_binary_is_not_called_utf16(tmp_path: Path):
    binary = tmp_path / "random.bin"
    binary.write_bytes(bytes([0x1F, 0x8B, 0x08, 0x00, 0x9C, 0xFF, 0x00, 0x12, 0x7F]) * 40)
    result = invoke("filter", binary, "-o", tmp_path / "out.837")
    assert result.status == 65
    assert "UTF-16" not in result.stderr and "binary" in result.stderr, result.stderr
    utf16 = tmp_path / "utf16.837"
    utf16.write_bytes(DEMO.read_text().encode("utf-16-le"))
    result = invoke("filter", utf16, "-o", tmp_path / "out.837")
    assert result.status == 65 and "UTF-16" in result.stderr, result.stderr


def test_no_option_of_any_command_is_without_help():
    import click

    from edi_gate.cli import main

    missing = []

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        missing.extend(
            f"{' '.join(path)} {param.opts[0]}"
            for param in command.params
            if isinstance(param, click.Option) and not param.help
        )

    walk(main, [])
    assert missing == []
