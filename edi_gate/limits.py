"""The bounds on hostile input (``edi_gate.x12.loops.Limits``), as an operator sets them.

``--limits`` takes a TOML file (its ``[limits]`` table, or its top-level keys) or a list of
``key=value`` pairs separated by commas; a partners file may hold a ``[limits]`` table. Sizes
may be written in bytes or with a unit: ``max_loop_bytes = "4MiB"``. Unknown keys, and values
that are not positive whole numbers, are configuration errors (exit 2).
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from edi_gate.errors import ConfigError, read_config_text
from edi_gate.x12.loops import Limits

UNITS = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "KB": 1000, "MB": 10**6, "GB": 10**9}
KEYS = tuple(f.name for f in dataclasses.fields(Limits))


def _number(key: str, value: object, where: str | None) -> int:
    if isinstance(value, bool):
        value = None
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        scale = 1
        for unit, size in UNITS.items():
            if text.endswith(unit):
                text, scale = text[: -len(unit)].strip(), size
                break
        value = int(text) * scale if text.isascii() and text.isdigit() else None
    if not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"limit {key} must be a positive whole number (or e.g. '4MiB')", path=where
        )
    return value


def limits_from_table(
    table: object, where: str | None = None, base: Limits | None = None
) -> Limits:
    """``base`` (default: the defaults) with the values of a ``[limits]`` table."""
    if not isinstance(table, dict):
        raise ConfigError("limits must be a table of key = value", path=where)
    values: dict[str, int] = {}
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(
                f"unknown limit {key!r} (expected one of: {', '.join(KEYS)})", path=where
            )
        values[key] = _number(key, value, where)
    return dataclasses.replace(base or Limits(), **values)


def parse_limits(spec: str, base: Limits | None = None) -> Limits:
    """``--limits`` over ``base``: a TOML file, or ``key=value[,key=value...]``."""
    if "=" in spec and not Path(spec).is_file():
        table: dict[str, object] = {}
        for pair in spec.split(","):
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"--limits: expected key=value, got {pair.strip()!r}")
            table[key.strip()] = value.strip()
        return limits_from_table(table, "--limits", base)
    path = Path(spec)
    text = read_config_text(path, "limits file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}", path=str(path)) from None
    return limits_from_table(data.get("limits", data), str(path), base)
