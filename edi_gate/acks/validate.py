"""pyx12 as an oracle: validate an X12 file and return pyx12's error messages.

``pyx12_errors(path)`` runs the same validation as ``x12valid`` (map picked from GS08) and returns
every ERROR line pyx12 logs; an empty list means pyx12 accepts the file. Used by the tests of every
writer (277CA, 999, filtered 837).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

import pyx12.params
import pyx12.x12n_document

_LOCK = threading.Lock()  # pyx12 logs through a shared logger

# A stand-alone TA1 interchange (ISA TA1 IEA) has no GS, which pyx12's control map requires.
TA1_ONLY_ERRORS = ('Mandatory loop "Functional Group Header" (GS_LOOP) missing',)


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
) -> list[str]:
    """pyx12's error messages for the X12 file at ``path`` ([] when valid).

    ``exclude_external`` names external code lists not to check (as ``x12valid -x``); messages
    containing any of the ``ignore`` strings are dropped (e.g. ``TA1_ONLY_ERRORS``).
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
    if not ok and not handler.messages:
        messages.append("pyx12 reports failure without a message")
    return messages
