"""``--limits`` and a partners file's ``[limits]``: every bound settable, checked at start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edi_gate.errors import ConfigError
from edi_gate.limits import limits_from_table, parse_limits
from edi_gate.pipeline.partners import load_partners
from edi_gate.x12.loops import Limits
from tests.helpers import FIXTURES


def test_key_value_pairs_with_units():
    limits = parse_limits("max_loop_bytes=4MiB, max_claim_lines=60,max_segment_bytes=1_000")
    assert limits == Limits(max_loop_bytes=4 << 20, max_claim_lines=60, max_segment_bytes=1000)


def test_a_toml_file_with_a_limits_table(tmp_path):
    path = tmp_path / "limits.toml"
    path.write_text('[limits]\nmax_claimless_bytes = "64MiB"\nmax_hl_per_set = 1000\n')
    limits = parse_limits(str(path))
    assert limits.max_claimless_bytes == 64 << 20 and limits.max_hl_per_set == 1000
    assert limits.max_loop_bytes == Limits().max_loop_bytes


@pytest.mark.parametrize(
    "spec,message",
    [
        ("max_loop_byte=1", "unknown limit 'max_loop_byte'"),
        ("max_loop_bytes=0", "positive whole number"),
        ("max_loop_bytes=lots", "positive whole number"),
        ("max_loop_bytes", "limits file"),  # not a pair: read as a file name, which is missing
    ],
)
def test_mistakes_are_configuration_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_limits(spec)


def test_command_line_limits_override_the_partners_file(tmp_path):
    book = tmp_path / "partners.toml"
    book.write_text('unknown_sender = "default"\n[limits]\nmax_loop_bytes = 5000\n')
    loaded = load_partners(book)
    assert limits_from_table(loaded.limits).max_loop_bytes == 5000
    both = parse_limits("max_loop_bytes=6000", limits_from_table(loaded.limits))
    assert both.max_loop_bytes == 6000
    book.write_text("[limits]\nmax_loop_bytez = 5000\n")
    with pytest.raises(ConfigError, match="unknown limit"):
        load_partners(book)


def test_filter_applies_limits(tmp_path):
    command = [sys.executable, "-m", "edi_gate.cli", "filter", str(FIXTURES / "demo.837")]
    command += ["-o", str(tmp_path / "out.837")]
    tight = subprocess.run([*command, "--limits", "max_loop_bytes=200"], capture_output=True)
    assert tight.returncode == 65, tight.stderr
    assert b"holds more than 200 bytes (limit max_loop_bytes)" in tight.stderr
    wrong = subprocess.run([*command, "--limits", "nonsense=1"], capture_output=True)
    assert wrong.returncode == 2 and b"unknown limit 'nonsense'" in wrong.stderr
    assert subprocess.run(command, capture_output=True).returncode == 0
