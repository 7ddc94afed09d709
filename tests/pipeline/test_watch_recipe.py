"""The README's least-privilege recipe, as written: two accounts. A partner account that can only
SFTP into a chroot (upload into ``inbox``, download from ``outbox``), and the account edi-gate
runs as, which owns its private work area, out/, archive/ and quarantine/ and publishes the
acknowledgments 0640 to the partner's group. Needs root (useradd, sshd's chroot); elsewhere it
skips saying so."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import site
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.pipeline.support import demo_variant
from tests.pipeline.test_watch_sftp import (
    SftpServer,
    chroot_parent,
    free_port,
    make_keys,
    require_binaries,
    start_sshd,
    stop,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the two-account recipe needs root")


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def _python_for(user: pwd.struct_passwd, groups: list[int]) -> tuple[str, dict[str, str]]:
    """An interpreter the unprivileged account can run, with edi-gate and its dependencies."""
    path = os.pathsep.join([str(REPO), *site.getsitepackages()])
    env = {"PATH": "/usr/bin:/bin", "HOME": "/", "PYTHONPATH": path, "LC_ALL": "C.UTF-8"}
    for candidate in (sys.executable, "/usr/bin/python3"):
        try:
            probe = subprocess.run(
                [candidate, "-c", "import edi_gate.cli"],
                user=user.pw_uid,
                group=user.pw_gid,
                extra_groups=groups,
                env=env,
                cwd="/",
                capture_output=True,
                timeout=60,
                check=False,
            )
        except OSError:
            continue
        if probe.returncode == 0:
            return candidate, env
    pytest.skip("no Python interpreter and sources the unprivileged account can read")


def _accounts(group: str, runner: str, partner: str, created: list[tuple[str, str]]) -> None:
    """The recipe's group and two accounts (each undone by ``created``, in order)."""
    _run("groupadd", group)
    created.append(("groupdel", group))
    nologin = ("--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", group)
    _run("useradd", "--system", *nologin, runner)
    created.insert(0, ("userdel", runner))
    # password "*": no password login, but not a locked account (sshd refuses those)
    _run("useradd", *nologin, "--password", "*", partner)
    created.insert(0, ("userdel", partner))


def _directories(base: Path, partner: str, runner: pwd.struct_passwd, gid: int) -> Path:
    """The chroot's inbox and outbox, and edi-gate's private directories; returns the chroot."""
    chroot = base / "sftp" / partner  # root:root 0755, as sshd's ChrootDirectory wants
    chroot.mkdir(parents=True, mode=0o755)
    os.chmod(base / "sftp", 0o755)
    for name, mode in (("inbox", 0o2770), ("outbox", 0o2750)):
        (chroot / name).mkdir()
        os.chown(chroot / name, runner.pw_uid, gid)
        os.chmod(chroot / name, mode)
    state = base / "edi-gate"  # root:root 0755; beneath it, edi-gate's own 0700 dirs
    state.mkdir(mode=0o755)
    for name in ("work", "out", "archive", "quarantine"):
        (state / name).mkdir(mode=0o700)
        os.chown(state / name, runner.pw_uid, runner.pw_gid)
    return chroot


def _watch(runner: pwd.struct_passwd, gid: int, group: str, chroot: Path, state: Path):
    """`edi-gate watch` as the runner account, as the recipe starts it."""
    python, env = _python_for(runner, [gid])
    command = [
        python, "-m", "edi_gate.cli", "watch", str(chroot / "inbox"),
        "--work", str(state / "work"), "--out", str(state / "out"),
        "--archive", str(state / "archive"), "--quarantine", str(state / "quarantine"),
        "--acks", str(chroot / "outbox"), "--outbox-mode", "0640", "--outbox-group", group,
        "--settle", "0.5", "--interval", "0.1", "--log-format", "json",
        "--state-dir", str(state / "work" / "state"),
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        user=runner.pw_uid,
        group=runner.pw_gid,
        extra_groups=[gid],
        env=env,
        cwd="/",
        stderr=subprocess.PIPE,
        text=True,
    )


def test_least_privilege_recipe_two_accounts(tmp_path: Path):
    binaries = require_binaries()
    tag = f"{os.getpid() % 100000}"
    group, runner, partner = f"sftp{tag}", f"edigate{tag}", f"partner{tag}"
    base = Path(tempfile.mkdtemp(prefix="recipe-", dir=chroot_parent()))
    os.chmod(base, 0o755)
    created: list[tuple[str, str]] = []
    process = sshd = None
    stderr = ""
    try:
        # --- the recipe (README, "Running beside an SFTP server") --------------------------
        _accounts(group, runner, partner, created)
        run_user, gid = pwd.getpwnam(runner), grp.getgrnam(group).gr_gid
        chroot = _directories(base, partner, run_user, gid)
        state = base / "edi-gate"
        # ------------------------------------------------------------------------------------
        keys = base / "keys"
        keys.mkdir(mode=0o755)
        make_keys(binaries["ssh-keygen"], keys)
        port = free_port()
        jail = [f"ChrootDirectory {base / 'sftp'}/%u", "ForceCommand internal-sftp -d /inbox"]
        sshd = start_sshd(binaries["sshd"], keys, port, jail)
        server = SftpServer(port, keys / "user", partner, chroot, binaries["sftp"])
        process = _watch(run_user, gid, group, chroot, state)
        _upload_and_check(server, process, tmp_path / "local", chroot, state, run_user, gid)
    finally:
        if process is not None:
            stderr = stop(process, timeout=20)
        if sshd is not None:
            stop(sshd)
        for command, name in created:
            subprocess.run([command, name], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def _upload_and_check(server, process, local: Path, chroot: Path, state: Path, run_user, gid):
    """The partner uploads a file and a file it made unreadable; the first is archived, its
    acknowledgments published to the partner's group only, the second quarantined."""
    local.mkdir()
    data = demo_variant("RCP")
    (local / "claims.837").write_bytes(data)
    (local / "locked.837").write_bytes(demo_variant("LCK"))
    server.batch(
        "put claims.837 claims.837.part\nrename claims.837.part claims.837\n"
        "put locked.837 locked.837.part\nchmod 000 locked.837.part\n"
        "rename locked.837.part locked.837\n",
        local,
    )
    deadline = time.monotonic() + 60
    archived = state / "archive" / "claims.837"
    held = state / "quarantine" / "locked.837"
    while not (archived.exists() and held.exists()):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the watcher did not take the uploads"
        time.sleep(0.1)

    # the partner downloads its 277CA, and cannot write to the outbox
    listing = server.batch(
        "cd /outbox\nls -l\nget claims.837.277ca\n-put claims.837 planted.837\n", local
    )
    assert (local / "claims.837.277ca").read_bytes().startswith(b"ISA")
    assert not (chroot / "outbox" / "planted.837").exists()
    assert "claims.837.999" in listing
    ack = (chroot / "outbox" / "claims.837.277ca").stat()
    assert stat.S_IMODE(ack.st_mode) == 0o640 and ack.st_gid == gid
    assert ack.st_uid == run_user.pw_uid
    for path in (state / "out").iterdir():
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == run_user.pw_uid
    archived_info = archived.stat()
    assert archived_info.st_uid == run_user.pw_uid
    assert stat.S_IMODE(archived_info.st_mode) == 0o600
    assert archived.read_bytes() == data
    report = (state / "quarantine" / "locked.837.error.json").read_text()
    assert "cannot be read" in report


def test_unwritable_directories_stop_start_up_as_an_unprivileged_user():
    """Root writes anywhere, so these run as ``nobody``: a read-only archive/ or out/, an inbox
    edi-gate cannot rename from: exit 2 and one line each, never a traceback."""
    nobody = pwd.getpwnam("nobody")
    python, env = _python_for(nobody, [])
    base = Path(tempfile.mkdtemp(prefix="edi-gate-nobody-"))
    try:
        os.chmod(base, 0o755)
        dirs = {name: base / name for name in ("inbox", "out", "acks", "archive", "quarantine")}
        for path in dirs.values():
            path.mkdir(mode=0o700)
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        work = base / "work"
        work.mkdir(mode=0o700)
        os.chown(work, nobody.pw_uid, nobody.pw_gid)
        command = [
            python, "-m", "edi_gate.cli", "watch", str(dirs["inbox"]), "--work", str(work),
            *[arg for name in ("out", "acks", "archive", "quarantine")
              for arg in (f"--{name}", str(dirs[name]))],
            "--once", "--log-format", "json", "--state-dir", str(work / "state"),
        ]  # fmt: skip
        for name in ("archive", "out", "inbox"):
            os.chmod(dirs[name], 0o500)
            result = subprocess.run(
                command,
                user=nobody.pw_uid,
                group=nobody.pw_gid,
                extra_groups=[],
                env=env,
                cwd="/",
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            os.chmod(dirs[name], 0o700)
            assert result.returncode == 2, result.stderr
            assert "Traceback" not in result.stderr
            lines = [ln for ln in result.stderr.splitlines() if ln.startswith("edi-gate: ")]
            assert len(lines) == 1 and "not writable" in lines[0] and name in lines[0], lines
    finally:
        shutil.rmtree(base, ignore_errors=True)
