"""What a watcher checks before it takes a single file: its directories, its lock, its state.

Why first: a shared or foreign directory, a second watcher on the same work area, or a corrupt
control-number state would each break the exactly-once promise later, file by file; refused at
start-up they are one clear configuration error (exit 2).
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from edi_gate.acks.state import ControlNumbers
from edi_gate.errors import ConfigError
from edi_gate.pipeline.watch.config import (
    WatchConfig,
    check_directory,
    check_parent,
    is_inside,
    resolve_group,
)
from edi_gate.pipeline.watch.journal import PRIVATE_DIR, PRIVATE_FILE
from edi_gate.pipeline.watch.router import Router
from edi_gate.state.control import SharedControlNumbers
from edi_gate.state.paths import database_path
from edi_gate.state.store import StateStore


class WatchFatal(Exception):
    """A fault no file can get past (a corrupt control-number state): stop with an exit status."""


@dataclass
class Prepared:
    """What start-up hands the watcher: the state database, the lock and the outbox group."""

    state: StateStore
    lock_fd: int
    outbox_gid: int | None


def directories(cfg: WatchConfig, router: Router) -> list[tuple[Path, str]]:
    """Every directory the watcher uses, with its role, each once."""
    assert cfg.decisions is not None and cfg.work is not None
    found = [
        (cfg.inbox, "inbox"),
        (cfg.out, "out"),
        (cfg.decisions, "decisions"),
        (cfg.archive, "archive"),
        (cfg.quarantine, "quarantine"),
    ]
    found += [(box, "outbox") for box in router.outboxes()]
    found.append((cfg.work, "work"))
    return list({path: (path, role) for path, role in found}.values())


def prepare(cfg: WatchConfig, router: Router) -> Prepared:
    """Check (or create, with ``create_dirs``) every directory, check renames can be atomic and
    the control-number state is readable, and take the single-watcher lock."""
    assert cfg.work is not None
    outbox_gid = resolve_group(cfg.outbox_group)
    _refuse_work_in_inbox(cfg)
    for directory, role in directories(cfg, router):
        if not directory.exists() and (cfg.create_dirs or role == "work"):
            _create(directory, role, cfg, outbox_gid)
        check_directory(directory, role, partner_writable=role == "inbox")
    check_parent(cfg.work, "work area")
    for sub in (cfg.claimed_dir, cfg.jobs_dir, cfg.snap_dir, cfg.done_dir):
        if not sub.exists():
            _create(sub, "work", cfg, outbox_gid)
        check_directory(sub, "work")
    for role, path in (("work", cfg.work), ("work", cfg.claimed_dir)):
        if os.stat(path).st_mode & 0o077:
            raise ConfigError(f"the {role} area must be private (mode 0700)", path=str(path))
    if os.stat(cfg.inbox).st_dev != os.stat(cfg.claimed_dir).st_dev:
        raise ConfigError(
            "the work area must be on the inbox's filesystem (claiming is a rename)",
            path=str(cfg.work),
        )
    state = open_state(cfg)
    return Prepared(state, _lock(cfg.work), outbox_gid)


def _refuse_work_in_inbox(cfg: WatchConfig) -> None:
    assert cfg.work is not None
    if is_inside(cfg.work, cfg.inbox):
        raise ConfigError("the work area must not be inside the inbox", path=str(cfg.work))
    legacy = cfg.inbox / ".edi-gate"
    if legacy.is_dir() and not legacy.is_symlink():
        raise ConfigError(
            "a work area of an earlier edi-gate is inside the inbox, where partners can "
            "write: check its control-numbers.json and claimed/ files, move what is sound "
            f"to {cfg.work}, then remove it",
            path=str(legacy),
        )


def _lock(work: Path) -> int:
    """One watcher per work area: an exclusive lock on work/lock, held while it runs."""
    fd = os.open(work / "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        os.close(fd)
        raise ConfigError("another watcher is running on this work area", path=str(work)) from error
    return fd


def _create(directory: Path, role: str, cfg: WatchConfig, outbox_gid: int | None) -> None:
    try:
        directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        os.chmod(directory, PRIVATE_DIR if role != "outbox" else _outbox_dir_mode(cfg))
        if role == "outbox" and outbox_gid is not None:
            os.chown(directory, -1, outbox_gid)
    except OSError as error:
        raise ConfigError(
            f"cannot create the {role} directory: {error.strerror}", path=str(directory)
        ) from None


def _outbox_dir_mode(cfg: WatchConfig) -> int:
    mode = cfg.outbox_mode or 0
    return PRIVATE_DIR | (0o050 if mode & 0o040 else 0) | (0o005 if mode & 0o004 else 0)


def open_state(cfg: WatchConfig) -> StateStore:
    """The state database, opened now so a corrupt one stops start-up (ConfigError), and the
    control numbers continued after a work area's older control-numbers.json."""
    state = StateStore(database_path(cfg.state_dir))
    state.connect()
    if cfg.control_state is None:
        SharedControlNumbers(state).continue_after(cfg.legacy_control_state)
    else:
        try:
            ControlNumbers(state_path=cfg.control_state).peek()
        except (ValueError, OSError) as error:  # corrupt: stop now, not quarantine every file
            raise ConfigError(
                f"control-number state is unusable: {error}", path=str(cfg.control_state)
            ) from None
    return state


def check_control_state(cfg: WatchConfig, state: StateStore | None) -> None:
    """The control numbers can still be read: the --control-state file, else the state
    database (a ConfigError names what is wrong)."""
    path = cfg.control_state
    try:
        if path is None:
            assert state is not None
            SharedControlNumbers(state).peek()
        elif path.exists():
            ControlNumbers(state_path=path).peek()
    except (ValueError, OSError) as error:
        raise ConfigError(
            f"control-number state is unusable: {error}", path=str(path or state)
        ) from None
