"""End to end over real SFTP: OpenSSH's sshd on 127.0.0.1, chrooted; partners upload with the
`sftp` client as real ones do (temporary name + rename, and a file written in place in two
steps); the watcher takes only complete files; results are downloaded over SFTP and every claim
is accounted for. Missing binaries FAIL (run scripts/install-test-deps.sh), they do not skip."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pipeline.support import EDI_GATE, assert_files_conservation, demo_variant, generated

SSHD = Path("/usr/sbin/sshd")
INSTALL_HINT = "run scripts/install-test-deps.sh (installs openssh-server/openssh-client)"


def require_binaries() -> dict[str, str]:
    found = {"sshd": str(SSHD) if SSHD.exists() else shutil.which("sshd")}
    for name in ("sftp", "ssh-keygen"):
        found[name] = shutil.which(name)
    missing = [name for name, path in found.items() if not path]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: {INSTALL_HINT}", pytrace=False)
    return found  # type: ignore[return-value]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chroot_parent() -> Path:
    """A directory whose every component is root-owned and not group/world-writable: sshd
    refuses to chroot anywhere else (so not under /tmp)."""
    for candidate in (Path("/var/lib/edi-gate-test"), Path("/srv/edi-gate-test")):
        try:
            candidate.mkdir(mode=0o755, parents=True, exist_ok=True)
        except OSError:
            continue
        parts = [candidate, *candidate.parents]
        if all(
            p.stat().st_uid == 0 and not p.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            for p in parts
        ):
            return candidate
    pytest.fail("no root-owned directory for the sshd chroot", pytrace=False)


@dataclass
class SftpServer:
    port: int
    key: Path
    user: str
    root: Path  # what the SFTP user sees as /
    sftp: str

    def batch(self, commands: str, cwd: Path) -> str:
        script = cwd / "batch.sftp"
        script.write_text(commands)
        result = subprocess.run(
            [
                self.sftp,
                "-b",
                str(script),
                "-F",
                "/dev/null",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "LogLevel=ERROR",
                "-i",
                str(self.key),
                "-P",
                str(self.port),
                f"{self.user}@127.0.0.1",
            ],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"sftp failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout


def make_keys(keygen: str, keys: Path) -> None:
    """A host key and a user key in ``keys``; the user key authorized (readable by the user)."""
    for name in ("host", "user"):
        command = [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(keys / name)]
        subprocess.run(command, check=True, timeout=30)
    (keys / "authorized_keys").write_text((keys / "user.pub").read_text())
    os.chmod(keys / "authorized_keys", 0o644)


def start_sshd(sshd: str, keys: Path, port: int, settings: list[str]) -> subprocess.Popen:
    """sshd on 127.0.0.1:``port``, keys only, SFTP only, plus ``settings``; returned once it
    listens (a failure to start fails the test with sshd's words)."""
    config = keys / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"ListenAddress 127.0.0.1:{port}",
                f"HostKey {keys / 'host'}",
                "PidFile none",
                f"AuthorizedKeysFile {keys / 'authorized_keys'}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "AllowTcpForwarding no",
                "X11Forwarding no",
                "PermitTTY no",
                "LogLevel ERROR",
                "Subsystem sftp internal-sftp",
                *settings,
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    process = subprocess.Popen(
        [sshd, "-f", str(config), "-D", "-e"], stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            pytest.fail(f"sshd exited: {process.stderr.read()}", pytrace=False)  # type: ignore[union-attr]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            if time.monotonic() > deadline:
                stop(process)
                pytest.fail("sshd did not start listening", pytrace=False)
            time.sleep(0.05)


def stop(process: subprocess.Popen, timeout: float = 10) -> str:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; what it wrote to stderr (if piped)."""
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return stderr or ""


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[SftpServer]:
    binaries = require_binaries()
    keys = tmp_path / "keys"
    keys.mkdir()
    make_keys(binaries["ssh-keygen"], keys)
    as_root = os.geteuid() == 0
    user = "root" if as_root else os.environ.get("USER") or os.getlogin()
    if as_root:
        root = Path(tempfile.mkdtemp(prefix="chroot-", dir=chroot_parent()))
        os.chmod(root, 0o755)
        jail = [f"ChrootDirectory {root}", "ForceCommand internal-sftp -d /drop"]
    else:  # sshd cannot chroot without root: same checks, absolute paths instead
        root = tmp_path / "sftp-root"
        root.mkdir()
        jail = [f"ForceCommand internal-sftp -d {root}/drop"]
    (root / "drop").mkdir()
    port = free_port()
    process = start_sshd(binaries["sshd"], keys, port, ["PermitRootLogin prohibit-password", *jail])
    try:
        yield SftpServer(port, keys / "user", user, root, binaries["sftp"])
    finally:
        stop(process)
        if as_root:
            shutil.rmtree(root, ignore_errors=True)


def watch_command(drop: Path, tmp_path: Path, partners: Path) -> list[str]:
    return [
        str(EDI_GATE), "watch", str(drop / "inbox"),
        *("--out", str(drop / "out"), "--acks", str(drop / "outbox")),
        *("--archive", str(tmp_path / "archive"), "--quarantine", str(tmp_path / "quarantine")),
        *("--partners", str(partners), "--create-dirs", "--settle", "2.5", "--interval", "0.2"),
        *("--log-format", "json"),
    ]  # fmt: skip


def test_sftp_drop_folder_end_to_end(sftp_server: SftpServer, tmp_path: Path):
    drop = sftp_server.root / "drop"
    for name in ("inbox", "outbox", "out"):
        (drop / name).mkdir()
    partners = tmp_path / "partners.toml"
    partners.write_text(
        '[partners.DEMOSUB01]\noutbox = "demosub01"\n'
        '[partners.SYNSUBMIT01]\noutbox = "synsubmit01"\n'
    )
    local = tmp_path / "local"
    local.mkdir()
    renamed = demo_variant("REN")
    slow = generated(4000, 77, "SLOW", interchanges=2)
    bad = b"ISA*00*garbage that is not an interchange~"
    (local / "renamed.837").write_bytes(renamed)
    (local / "slow.837").write_bytes(slow)
    (local / "slow-first-half.837").write_bytes(slow[: len(slow) // 2])
    (local / "bad.837").write_bytes(bad)

    watcher = subprocess.Popen(
        watch_command(drop, tmp_path, partners), stderr=subprocess.PIPE, text=True
    )
    try:
        # 1. a careful client: upload under a temporary name, rename into place when complete
        sftp_server.batch(
            "cd inbox\nput renamed.837 renamed.837.part\nrename renamed.837.part renamed.837\n",
            local,
        )
        # 2. a client writing in place, in two steps: the watcher must wait for the whole file
        sftp_server.batch("cd inbox\nput slow-first-half.837 slow.837\n", local)
        time.sleep(0.8)
        assert not (tmp_path / "archive" / "slow.837").exists()
        assert not (tmp_path / "quarantine" / "slow.837").exists()
        sftp_server.batch("cd inbox\nreput slow.837 slow.837\n", local)
        # 3. a file that is not X12 at all
        sftp_server.batch("cd inbox\nput bad.837\n", local)

        deadline = time.monotonic() + 40
        expected = {
            tmp_path / "archive" / "renamed.837",
            tmp_path / "archive" / "slow.837",
            tmp_path / "quarantine" / "bad.837",
        }
        while not all(p.exists() for p in expected) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(p.exists() for p in expected), sorted(tmp_path.rglob("*"))
    finally:
        stderr = stop(watcher, timeout=20)
    assert watcher.returncode == 0, stderr
    assert (tmp_path / "archive" / "slow.837").read_bytes() == slow
    assert (tmp_path / "quarantine" / "bad.837.error.json").exists()

    results = tmp_path / "results"
    results.mkdir()
    listing = sftp_server.batch("lcd results\nget -r out\nget -r outbox\nls -1 inbox\n", tmp_path)
    assert "renamed.837" not in listing.split("ls -1 inbox", 1)[1]
    acks = {
        p.relative_to(results / "outbox").as_posix()
        for p in (results / "outbox").rglob("*")
        if p.is_file()
    }
    assert {
        "demosub01/renamed.837.277ca",
        "demosub01/renamed.837.999",
        "synsubmit01/slow.837.277ca",
        "synsubmit01/slow.837.999",
    } <= acks
    counts = assert_files_conservation(
        [renamed, slow],
        sorted((results / "out").glob("*.filtered.837")),
        sorted((results / "out").glob("*.decisions.jsonl")),
    )
    assert counts["claims"] == 8 + 4000
    assert '"partner": "SYNSUBMIT01"' in stderr and '"watch.file"' in stderr
