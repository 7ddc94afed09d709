"""Soak: a running watcher is fed a few thousand files in waves, as an SFTP inbox is; every claim
is accounted for and its memory stays flat (peak RSS after ten waves no more than a few MB above
the peak after one)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

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
