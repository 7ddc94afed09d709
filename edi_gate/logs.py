"""Structured logging: JSON lines on stderr in pipelines, readable output on a terminal."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from edi_gate.x12.errors import shown_name


def _escape_strings(
    _logger: object, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Escape control characters and undecodable bytes in every text of an event: a partner's
    file name (or anything else a log quotes) must not drive the terminal or break JSON."""
    for key, value in event.items():
        if isinstance(value, str) and not value.isprintable():
            event[key] = shown_name(value)
    return event


def configure(*, json_lines: bool | None = None, level: int = logging.INFO) -> None:
    """Set up structlog once per process. ``json_lines`` None: JSON unless stderr is a terminal."""
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _escape_strings,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "edi_gate") -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name)
