"""pyx12 as an oracle: validate an X12 file and return pyx12's error messages.

``pyx12_errors(path)`` runs the same validation as ``x12valid`` (map picked from GS08) and returns
every ERROR line pyx12 logs; an empty list means pyx12 accepts the file. Used by the tests of every
writer (277CA, 999, filtered 837).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyx12.params
import pyx12.x12n_document

from edi_gate.vocabulary import ISA_FIELDS_LENGTH, ISA_LENGTH

_LOCK = threading.Lock()  # pyx12 logs through a shared logger

# A stand-alone TA1 interchange (ISA TA1 IEA) has no GS, which pyx12's control map requires.
TA1_ONLY_ERRORS = ('Mandatory loop "Functional Group Header" (GS_LOOP) missing',)


@dataclass(frozen=True)
class TR3Exception:
    """A known difference between pyx12's map and the TR3 as payers implement it, where edi-gate
    follows the TR3: pyx12's error ``message`` is tolerated only at segments ``applies`` to."""

    name: str
    message: str  # the text of pyx12's error (after its "Line:N ELE:M - " prefix)
    applies: Callable[[list[str], int], bool]  # (segments of the file, 1-based segment) -> bool
    evidence: str


def _service_line_stc(segments: list[str], number: int) -> bool:
    """Segment ``number`` is the STC of a 2220D loop: an STC right after an SVC."""
    return (
        1 < number <= len(segments)
        and segments[number - 1].startswith("STC")
        and segments[number - 2].startswith("SVC")
    )


# Named exceptions (README "Acknowledgments" cites the evidence); the tests prove each one live.
TR3_EXCEPTIONS: tuple[TR3Exception, ...] = (
    TR3Exception(
        name="277CA-2220D-STC02-EMPTY",
        message='Mandatory data element "Status Information Effective Date" (STC02) is missing',
        applies=_service_line_stc,
        evidence=(
            "NGS Medicare's 277CA sends STC*A7:584**U in 2220D; stupidedi's X214 grammar marks "
            "2220D STC02 Not Used; pyx12's X214 map alone requires it"
        ),
    ),
)
_LINE = re.compile(r"^Line:(\d+) ELE:\d+ - (.*)$")


def _tolerated(message: str, segments: list[str], exceptions: Iterable[TR3Exception]) -> bool:
    match = _LINE.match(message)
    if match is None:
        return False
    number, text = int(match.group(1)), match.group(2)
    return any(e.message == text and e.applies(segments, number) for e in exceptions)


def _segments(path: str | os.PathLike[str]) -> list[str]:
    """The file's segments (ISA first), split on the terminator the ISA declares."""
    text = open(path, encoding="latin-1").read().lstrip()  # noqa: SIM115 - small test files
    terminator = text[ISA_FIELDS_LENGTH:ISA_LENGTH] or "~"
    return [seg.strip() for seg in text.split(terminator) if seg.strip()]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def pyx12_errors(
    path: str | os.PathLike[str],
    *,
    exclude_external: Iterable[str] = (),
    ignore: Iterable[str] = (),
    exceptions: Iterable[TR3Exception] = TR3_EXCEPTIONS,
) -> list[str]:
    """pyx12's error messages for the X12 file at ``path`` ([] when valid).

    ``exclude_external`` names external code lists not to check (as ``x12valid -x``); messages
    containing any of the ``ignore`` strings are dropped (e.g. ``TA1_ONLY_ERRORS``), and so are
    the errors of the named ``exceptions`` where they apply (only there).
    """
    param = pyx12.params.params()
    param.set("exclude_external_codes", ",".join(exclude_external))
    logger = logging.getLogger("pyx12")
    handler = _Collect()
    with _LOCK:
        old_level, old_propagate = logger.level, logger.propagate
        logger.addHandler(handler)
        logger.setLevel(logging.ERROR)
        logger.propagate = False
        try:
            ok = pyx12.x12n_document.x12n_document(
                param=param, src_file=os.fspath(path), fd_997=None, fd_html=None
            )
        except Exception as exc:  # pyx12 raises on unknown maps and some malformed input
            handler.messages.append(f"pyx12 crashed: {type(exc).__name__}: {exc}")
            ok = False
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
            logger.propagate = old_propagate
    ignored = tuple(ignore)
    messages = [m for m in handler.messages if not any(i in m for i in ignored)]
    exceptions = tuple(exceptions)
    if exceptions and messages:
        segments = _segments(path)
        messages = [m for m in messages if not _tolerated(m, segments, exceptions)]
    if not ok and not handler.messages:
        messages.append("pyx12 reports failure without a message")
    return messages
