"""Partners' file names: which are still being written, and the safe form outputs take."""

from __future__ import annotations

import re
from fnmatch import fnmatch

INCOMPLETE_PATTERNS = ("*.part", "*.filepart", "*.tmp", "*.partial", "*.crdownload")
MAX_BASE_BYTES = 200  # a base plus ".N" and the longest suffix stays under NAME_MAX (255)
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=@,-]")


def is_incomplete_name(name: str) -> bool:
    """Names an SFTP client is still writing (or hides): never taken."""
    return name.startswith(".") or any(fnmatch(name, p) for p in INCOMPLETE_PATTERNS)


def safe_base(name: str) -> str:
    """The name outputs and archive copies get: the partner's name when it is plain, else with
    every other character (escapes, bytes that are not UTF-8, '/') replaced by '_' and cut to
    MAX_BASE_BYTES, so ``BASE.N.decisions.jsonl`` always fits NAME_MAX."""
    text = _UNSAFE.sub("_", name).lstrip(".") or "unnamed"
    return text[:MAX_BASE_BYTES]


def is_safe_base(base: object) -> bool:
    """A base :func:`safe_base` or the watcher's ``stem.N.ext`` form of one could have made:
    only safe characters, not hidden, at most MAX_BASE_BYTES plus room for ".N". Not
    ``safe_base(base) == base``: that cuts at MAX_BASE_BYTES, so the ".N" base of a long name
    was refused and its committed job set aside and decided again."""
    return (
        isinstance(base, str)
        and 0 < len(base) <= MAX_BASE_BYTES + 12
        and not base.startswith(".")
        and _UNSAFE.search(base) is None
    )


def printable(name: str) -> str:
    """A partner's file name as logs may show it: escapes and undecodable bytes made visible."""
    return repr(name.encode("utf-8", "surrogateescape"))[2:-1][:300]
