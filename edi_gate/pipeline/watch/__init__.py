"""`edi-gate watch`: filter every complete file an SFTP client drops in an inbox, exactly once.

Why this shape: trading partners upload 837s over SFTP at any time, the watcher can be killed at
any moment (deploys, OOM, kill -9), the partner's names, modes and bytes are hostile, and a claim
must reach the payer neither zero nor two times.

Taking a file. Names a client is still writing (``*.part``, ``*.filepart``, ``*.tmp``,
``*.partial``, dot-files) are ignored; so are entries that are not regular files (symbolic links,
FIFOs, directories), each with one logged reason. A regular file is taken when it is complete:
as soon as inotify reports it was renamed into place (what careful clients do), or once its
(inode, size, mtime) has not changed for ``settle`` seconds, no client holds it open for writing
(inotify: no close after its last write), *and* it ends with a complete interchange (an IEA whose
control number matches its ISA13, nothing after it). A file whose tail stays incomplete is taken
after ``max_wait`` seconds anyway: the parser then quarantines it with a TA1. Files go in arrival
order (ctime: the last write or the rename into place).

Exactly once: a job is a small state machine whose state lives on disk in the work area, a
private directory (0700, owned by the watcher) outside the inbox and on its filesystem, so
claiming is an atomic rename. By default it is ``.INBOXNAME.edi-gate`` beside the inbox::

    work/jobs/ID.json {"state": "claiming", "name": ...}        CLAIMING   (the partner's name)
    inbox/NAME --rename--> work/claimed/ID                      CLAIMED
    work/claimed/ID --copy--> work/snap/ID (0600, ours)         the bytes decided and archived
    work/jobs/ID.json {"state": "staging"}                      STAGING    outputs written to
        hidden staged names (.ID.SUFFIX.staged) next to their targets
    work/jobs/ID.json {"state": "committed", "outcome", "base", "partner"}   COMMITTED
        each staged output renamed to BASE.SUFFIX; the snapshot renamed into --archive (or
        --quarantine) last; the claimed original deleted
    work/jobs/ID.json deleted                                   DONE

Manifests are not trusted for paths: recovery re-derives every source and target from the job id,
the configured directories and a validated base name, and moves only regular files the watcher
owns. A COMMITTED job is rolled forward (each move is idempotent), a STAGING job rolled back
(staged files and snapshot deleted; the claimed input is processed again), a CLAIMING job whose
rename never happened is dropped. A move that fails (a directory removed or read-only, a full
disk) leaves the job COMMITTED and is retried; it is never dropped. Bytes appended to a claimed
file after its snapshot (a client still writing) roll the job back: it is retried once quiet.

Modules: :mod:`.names` (partners' file names), :mod:`.inotify`, :mod:`.drop_folder` (when a file
is complete), :mod:`.config` (directories, timing), :mod:`.startup` (start-up checks),
:mod:`.router` (partner routing), :mod:`.journal` (a job's record and moves on disk),
:mod:`.protocol` (the exactly-once protocol, step by step), :mod:`.stage` (what a job writes),
:mod:`.appended` (bytes appended after a job), :mod:`.watcher` (the loop that ties them).
"""

from edi_gate.pipeline.watch.config import WatchConfig, check_directory, default_work
from edi_gate.pipeline.watch.drop_folder import MAX_WAIT, DropFolder
from edi_gate.pipeline.watch.inotify import Inotify
from edi_gate.pipeline.watch.journal import ACK999_SUFFIX, Job, MoveError, apply_moves, checkpoint
from edi_gate.pipeline.watch.names import is_incomplete_name, printable, safe_base
from edi_gate.pipeline.watch.router import Route, Router
from edi_gate.pipeline.watch.startup import WatchFatal
from edi_gate.pipeline.watch.watcher import Watcher, recover

__all__ = [
    "ACK999_SUFFIX",
    "MAX_WAIT",
    "DropFolder",
    "Inotify",
    "Job",
    "MoveError",
    "Route",
    "Router",
    "WatchConfig",
    "WatchFatal",
    "Watcher",
    "apply_moves",
    "check_directory",
    "checkpoint",
    "default_work",
    "is_incomplete_name",
    "printable",
    "recover",
    "safe_base",
]
