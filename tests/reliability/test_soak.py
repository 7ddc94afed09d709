"""Soak: a running watcher is fed a few thousand files in waves, as an SFTP inbox is; every claim
is accounted for and its memory stays flat (peak RSS after ten waves no more than a few MB above
the peak after one)."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import time
from collections import Counter
from pathlib import Path

from edi_gate.pipeline.watch import is_incomplete_name
from tests.helpers import count_clm
from tests.pipeline.support import EDI_GATE, assert_files_conservation, demo_variant

WAVE = 200
TIME_LIMIT = 600  # seconds for a whole run: bounded, never a hang


def _soak(tmp_path: Path, waves: int) -> tuple[list[bytes], Path, int]:
    """Feed ``waves`` waves of WAVE demo variants to `edi-gate watch`, each once the previous one
    is taken; stop it with SIGTERM; return the inputs, the root and the watcher's peak RSS."""
    root = tmp_path / f"soak{waves}"
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    (root / "partners.toml").write_text('unknown_sender = "default"\n')
    dirs = {name: root / name for name in ("out", "acks", "archive", "quarantine")}
    started = time.monotonic()
    with open(root / "watch.log", "wb") as log:
        process = subprocess.Popen(
            [
                EDI_GATE,
                "watch",
                str(inbox),
                "--settle",
                "0",
                "--interval",
                "0.05",
                "--log-format",
                "json",
                "--partners",
                str(root / "partners.toml"),
                "--create-dirs",
                *[arg for name, path in dirs.items() for arg in (f"--{name}", str(path))],
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        inputs: list[bytes] = []
        try:
            for wave in range(waves):
                for index in range(WAVE):
                    data = demo_variant(f"W{waves}X{wave:02d}N{index:03d}")
                    temp = inbox / f".w{wave}-{index}.837"
                    temp.write_bytes(data)
                    temp.rename(inbox / f"w{wave:02d}-{index:03d}.837")  # as SFTP clients do
                    inputs.append(data)
                while len(list(dirs["archive"].glob("*.837"))) < len(inputs):
                    assert process.poll() is None, (root / "watch.log").read_text()[-2000:]
                    assert time.monotonic() - started < TIME_LIMIT, "watcher fell behind"
                    time.sleep(0.1)
        finally:
            process.send_signal(signal.SIGTERM)
        # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix in other tests').
        _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, (root / "watch.log").read_text()[-2000:]
    return inputs, root, usage.ru_maxrss


def test_thousands_of_files_conserve_every_claim_with_flat_memory(tmp_path: Path):
    one_inputs, one_root, one_peak = _soak(tmp_path, 1)
    ten_inputs, ten_root, ten_peak = _soak(tmp_path, 10)
    print(f"soak: peak RSS {one_peak} KiB after {WAVE} files, {ten_peak} KiB after {10 * WAVE}")
    for inputs, root in ((one_inputs, one_root), (ten_inputs, ten_root)):
        counts = assert_files_conservation(
            inputs,
            sorted((root / "out").glob("*.filtered.837")),
            sorted((root / "out").glob("*.decisions.jsonl")),
        )
        assert counts["claims"] == 8 * len(inputs)
        assert len(list((root / "archive").iterdir())) == len(inputs)
        assert not list((root / "quarantine").iterdir())
    assert ten_peak - one_peak < 4 * 1024, (one_peak, ten_peak)


# -- the hostile feeder ----------------------------------------------------------------------------

FEED_SECONDS = 20.0  # the feeder's run; draining and checks bring the test to about 35 s
DRAIN_SECONDS = 25.0
NAME_BYTES = bytes(b for b in range(1, 256) if b != ord("/"))


def _hostile_name(rng: random.Random, taken: set[str]) -> str:
    """A name a partner could create: 1 to NAME_MAX (255) bytes, any byte but '/' and NUL, not
    UTF-8 at all half of the time (never one the watcher ignores by design: hidden, *.part)."""
    while True:
        length = rng.choice([rng.randint(1, 40), rng.randint(200, 255), 255])
        alphabet = NAME_BYTES if rng.random() < 0.5 else b"abcdefghijklmnopqrstuvwxyz0123456789_.-"
        raw = bytes(rng.choice(alphabet) for _ in range(length))
        name = os.fsdecode(raw)
        if not is_incomplete_name(name) and name not in taken and raw not in (b".", b".."):
            taken.add(name)
            return name


def _tree_state(root: Path) -> dict[str, tuple[int, int, bytes]]:
    return {
        str(p): (p.lstat().st_mode, p.lstat().st_mtime_ns, p.read_bytes() if p.is_file() else b"")
        for p in sorted(root.rglob("*"))
    }


class HostileFeeder:
    """Feeds an inbox the way a hostile or broken partner would, and keeps the books: which
    claims must be decided (``good``) and which bytes must never be (``bad_tags``)."""

    def __init__(self, root: Path, inbox: Path, secret: Path, rng: random.Random) -> None:
        self.root, self.inbox, self.secret, self.rng = root, inbox, secret, rng
        self.good: list[bytes] = []
        self.taken: set[str] = set()
        self.figures: Counter[str] = Counter()
        self.serial = 0

    def _tag(self) -> str:
        self.serial += 1
        return f"H{self.serial:05d}"

    def _path(self) -> Path:
        return self.inbox / _hostile_name(self.rng, self.taken)

    def renamed(self) -> None:  # a careful client: hidden temporary name, then rename
        data = demo_variant(self._tag())
        temp = self.inbox / f".upload-{self.serial}"
        temp.write_bytes(data)
        target = self._path()
        os.rename(temp, target)
        if self.rng.random() < 0.5:
            os.chmod(target, self.rng.choice([0o000, 0o666]))
            self.figures["modes 000/666"] += 1
        self.good.append(data)
        self.figures["files renamed into place"] += 1

    def in_place(self) -> None:  # a client writing in place, pausing between interchanges
        tag = self._tag()
        first = demo_variant(f"{tag}A")
        second = demo_variant(f"{tag}B").replace(b"000000101", b"000000102")
        with open(self._path(), "wb") as handle:
            handle.write(first)
            handle.flush()
            time.sleep(self.rng.uniform(0.3, 0.8))  # longer than --settle
            handle.write(second)
        self.good.append(first + second)
        self.figures["files written in place with a pause"] += 1

    def junk(self) -> None:
        kind = self.rng.choice(["symlink", "fifo", "directory", "garbage", "truncated"])
        path = self._path()
        if kind == "symlink":
            path.symlink_to(self.rng.choice([self.secret, Path("/etc/passwd"), self.root]))
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "directory":
            path.mkdir()
        elif kind == "garbage":
            path.write_bytes(b"GARBAGE" + self.rng.randbytes(self.rng.randint(0, 5000)))
        else:  # never completed: waits --max-wait, then quarantined (its claims never decided)
            data = demo_variant(f"T{self.serial:05d}")
            path.write_bytes(data[: self.rng.randint(200, len(data) - 20)])
        self.figures[f"junk: {kind}"] += 1


class WatchProcess:
    """`edi-gate watch` under test: signalled and restarted at random, its stderr appended to
    one log."""

    def __init__(self, command: list[str], log_path: Path) -> None:
        self.command, self.log_path = command, log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed by stop()
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=self.log)

    def tail(self) -> str:
        return self.log_path.read_text()[-3000:]

    def assert_alive(self) -> None:
        assert self.process.poll() is None, self.tail()

    def restart_after(self, signum: int) -> None:
        self.process.send_signal(signum)
        status = self.process.wait(timeout=30)
        assert status in (0, -signum), self.tail()
        self.process = self._start()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=30)
        self.log.close()
        return status


def _feed(feeder: HostileFeeder, watch: WatchProcess, dirs: dict[str, Path], removed: Path):
    """FEED_SECONDS of a hostile partner and a careless operator: files of every kind, archive/
    and the outbox removed for a while, SIGKILL and SIGTERM (both, every run) and restarts."""
    rng = feeder.rng
    restore: list[tuple[float, Path, Path]] = []
    started = time.monotonic()
    next_signal = started + rng.uniform(2.5, 4.5)
    while time.monotonic() - started < FEED_SECONDS:
        watch.assert_alive()
        action = rng.choices(["renamed", "in_place", "junk", "remove"], weights=[10, 2, 4, 1])[0]
        if action == "remove":
            name = rng.choice(["archive", "acks"])
            if dirs[name].exists() and not any(p == dirs[name] for _, p, _ in restore):
                aside = removed / f"{name}-{feeder.serial}-{len(restore)}"
                os.rename(dirs[name], aside)
                restore.append((time.monotonic() + rng.uniform(0.3, 1.5), dirs[name], aside))
                feeder.figures[f"fault: {name}/ removed mid-run"] += 1
        else:
            getattr(feeder, action)()
        now = time.monotonic()
        for entry in [r for r in restore if r[0] <= now]:
            restore.remove(entry)
            entry[1].mkdir(mode=0o700, exist_ok=True)
        if now >= next_signal:
            kills = feeder.figures["SIGKILL"] + feeder.figures["SIGTERM"]
            signum = (signal.SIGKILL, signal.SIGTERM)[kills % 2]
            watch.restart_after(signum)
            feeder.figures["SIGKILL" if signum == signal.SIGKILL else "SIGTERM"] += 1
            next_signal = now + rng.uniform(2.5, 4.5)
        time.sleep(rng.uniform(0.05, 0.2))  # a partner's pace, not a benchmark's
    for _, path, _ in restore:
        path.mkdir(mode=0o700, exist_ok=True)


def _drain(feeder: HostileFeeder, watch: WatchProcess, out: Path, inbox: Path) -> None:
    """Wait until every good claim is decided and no regular file is left in the inbox."""
    expected = sum(count_clm(data) for data in feeder.good)
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        watch.assert_alive()
        decided = sum(len(p.read_bytes().splitlines()) for p in out.glob("*.decisions.jsonl"))
        regular = [p for p in inbox.iterdir() if p.is_file() and not p.is_symlink()]
        if decided >= expected and not regular:
            break
        assert time.monotonic() < deadline, (decided, expected, len(regular))
        time.sleep(0.2)
    time.sleep(0.5)  # a last look at done/ and the retries


def test_hostile_feeder_soak_every_claim_once_nothing_outside_no_traceback(tmp_path: Path):
    rng = random.Random(14)
    root = tmp_path / "gate"
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    dirs = {name: root / name for name in ("out", "acks", "archive", "quarantine")}
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.837"
    secret.write_bytes(demo_variant("SECRET"))
    before = _tree_state(outside)
    removed = tmp_path / "removed"  # where "removed" archive/outbox directories are kept
    removed.mkdir()
    partners = tmp_path / "partners.toml"
    partners.write_text('unknown_sender = "default"\n')
    log_path = tmp_path / "watch.log"
    command = [
        str(EDI_GATE),
        "watch",
        str(inbox),
        *[arg for name, path in dirs.items() for arg in (f"--{name}", str(path))],
        *("--partners", str(partners), "--create-dirs", "--log-format", "json"),
        *("--settle", "0.2", "--interval", "0.05", "--max-wait", "2"),
    ]
    feeder = HostileFeeder(root, inbox, secret, rng)
    started = time.monotonic()
    watch = WatchProcess(command, log_path)
    try:
        _feed(feeder, watch, dirs, removed)
        _drain(feeder, watch, dirs["out"], inbox)
    finally:
        status = watch.stop()
    assert status == 0, log_path.read_text()[-3000:]

    text = log_path.read_text(errors="replace")
    assert "Traceback" not in text
    counts = assert_files_conservation(
        feeder.good,
        sorted(dirs["out"].glob("*.filtered.837")),
        sorted(dirs["out"].glob("*.decisions.jsonl")),
    )
    # nothing outside the configured directories touched, nothing read through a link
    assert _tree_state(outside) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gate", "outside", "partners.toml", "removed", "watch.log"
    ]  # fmt: skip
    assert sorted(p.name for p in root.iterdir()) == sorted([".inbox.edi-gate", "inbox", *dirs])
    for entry in inbox.iterdir():  # what is left is what can never be taken, each logged
        assert entry.is_symlink() or entry.is_dir() or stat.S_ISFIFO(entry.lstat().st_mode)
    work = root / ".inbox.edi-gate"
    for sub in ("claimed", "jobs", "snap"):
        assert not list((work / sub).iterdir()), sub
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    faults = sum(e["event"] == "watch.file_fault" for e in events)
    quarantined = sum(e["event"] == "watch.file" and e["outcome"] == "quarantined" for e in events)
    figures = dict(sorted(feeder.figures.items()))
    print(
        f"hostile soak: {len(feeder.good)} files with claims, {counts['claims']} claims decided "
        f"once ({counts['accepted']} accepted), {quarantined} quarantined, {faults} per-file "
        f"faults retried, {figures}, {time.monotonic() - started:.0f} s"
    )
    assert feeder.figures["SIGKILL"] >= 2 and feeder.figures["SIGTERM"] >= 2
