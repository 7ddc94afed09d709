"""A watcher's directories and timing, and the start-up checks that refuse unsafe ones."""

from __future__ import annotations

import grp
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from edi_gate.errors import ConfigError
from edi_gate.vocabulary import Scope
from edi_gate.x12.loops import Limits

MAX_WAIT = 600.0  # seconds an incomplete tail may wait before it is taken (and quarantined)


def default_work(inbox: Path) -> Path:
    """Beside the inbox, never inside it: same filesystem (claiming is a rename), out of reach of
    the account that writes the inbox."""
    return inbox.parent / f".{inbox.name}.edi-gate"


@dataclass
class WatchConfig:
    """Directories and timing of one watcher."""

    inbox: Path
    out: Path
    acks: Path
    archive: Path
    quarantine: Path
    decisions: Path | None = None  # default: --out
    work: Path | None = None  # default: .INBOXNAME.edi-gate beside the inbox
    settle: float = 2.0
    interval: float = 1.0
    scope: str = Scope.CLAIM
    control_state: Path | None = None  # a JSON file; default: the state database
    # -- exactly once across processes (edi_gate.state): the state database holds the control
    # numbers and the duplicate record, shared with every watcher and filter using the same
    # state directory (default: the user's; see edi_gate.state.paths).
    state_dir: Path | None = None
    duplicate_window: float = 0.0  # seconds; 0: no duplicate check
    duplicate_claims: bool = False  # also reject claims accepted before (same window)
    require_ruleset: bool = False  # a partner's require_ruleset overrides
    max_wait: float = MAX_WAIT
    create_dirs: bool = False
    outbox_mode: int | None = None  # acknowledgments in an outbox: this mode (default 0600)
    outbox_group: str | int | None = None  # ... and this group
    limits: Limits | None = None  # bounds on hostile input (--limits, the partners' [limits])

    def __post_init__(self) -> None:
        self.scope = Scope(self.scope).value  # checked; the compiled filter compares plain text
        self.decisions = self.decisions or self.out
        self.work = self.work or default_work(self.inbox)

    def _in_work(self, name: str) -> Path:
        assert self.work is not None
        return self.work / name

    @property
    def legacy_control_state(self) -> Path:
        """Where an older edi-gate kept this watcher's control numbers (with --work): the shared
        authority continues after them."""
        return self._in_work("control-numbers.json")

    # The work area's parts (see edi_gate.pipeline.watch.protocol): claimed inputs, job records,
    # snapshots, and originals kept after their job for appended bytes.
    claimed_dir = property(lambda self: self._in_work("claimed"))
    jobs_dir = property(lambda self: self._in_work("jobs"))
    snap_dir = property(lambda self: self._in_work("snap"))
    done_dir = property(lambda self: self._in_work("done"))


# -- start-up checks -----------------------------------------------------------------------------


def _trusted_owner(info: os.stat_result) -> bool:
    return info.st_uid in (os.geteuid(), 0)


def check_directory(path: Path, role: str, *, partner_writable: bool = False) -> None:
    """Refuse a directory another user could use against the watcher: owned by someone else,
    or writable by group or others (the inbox may be group-writable: the partner's group
    writes there, but never world-writable). Raise ConfigError naming it and why."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(
            f"{role} directory does not exist (create it, or pass --create-dirs)", path=str(path)
        ) from None
    except OSError as error:
        raise ConfigError(f"{role} directory: {error.strerror}", path=str(path)) from None
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{role} is not a directory", path=str(path))
    if not _trusted_owner(info):
        raise ConfigError(
            f"{role} directory is owned by another user (uid {info.st_uid})", path=str(path)
        )
    unsafe = stat.S_IWOTH if partner_writable else stat.S_IWGRP | stat.S_IWOTH
    if info.st_mode & unsafe:
        who = "others" if info.st_mode & stat.S_IWOTH else "its group"
        raise ConfigError(
            f"{role} directory is writable by {who} (mode {stat.S_IMODE(info.st_mode):04o})",
            path=str(path),
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{role} directory is not writable by this user", path=str(path))


def check_parent(path: Path, role: str) -> None:
    """Nobody else may rename ``path`` away: its parent is ours (or root's) and not writable by
    group or others, unless sticky (then only its owner may rename it)."""
    parent = path.resolve().parent
    info = os.stat(parent)
    writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if not _trusted_owner(info) or (writable and not info.st_mode & stat.S_ISVTX):
        raise ConfigError(
            f"the {role} lies in a directory other users can write to (mode "
            f"{stat.S_IMODE(info.st_mode):04o}, uid {info.st_uid}): choose --work elsewhere",
            path=str(path),
        )


def is_inside(path: Path, directory: Path) -> bool:
    path, directory = path.resolve(), directory.resolve()
    return path == directory or directory in path.parents


def resolve_group(group: str | int | None) -> int | None:
    if group is None:
        return None
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(str(group)).gr_gid
    except KeyError:
        raise ConfigError(f"outbox group {group!r} does not exist") from None
