"""`edi-gate filter` and `check` as scripts use them: exit statuses, atomic outputs, logs.

What only a real process shows (the status a shell sees, standard input, the mode of files
created) runs the installed script; the rest runs in-process (tests.invoke)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.data import x12
from tests.helpers import FIXTURES, count_clm
from tests.invoke import invoke

EDI_GATE = str(Path(sys.executable).with_name("edi-gate"))
DEMO = FIXTURES / "demo.837"


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None):
    return subprocess.run(
        [EDI_GATE, *args], input=stdin, capture_output=True, timeout=120, check=False, cwd=cwd
    )


def log_events(stderr: bytes) -> list[dict]:
    return [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]


def test_filter_writes_every_output_and_one_summary_event(tmp_path: Path):
    out, dec = tmp_path / "out.837", tmp_path / "decisions.jsonl"
    result = run("filter", str(DEMO), "-o", str(out), "--decisions", str(dec))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in dec.read_text().splitlines()]
    assert len(records) == count_clm(DEMO.read_bytes())
    accepted = [r["claim"] for r in records if r["decision"] == "accepted"]
    assert count_clm(out.read_bytes()) == len(accepted)
    (summary,) = [e for e in log_events(result.stderr) if e["event"] == "filter.summary"]
    assert summary["claims"] == len(records)
    assert summary["accepted"] == len(accepted)
    assert summary["rejected"] == len(records) - len(accepted)
    assert sum(summary["by_rule"].values()) == sum(len(r["findings"]) for r in records)
    assert out.stat().st_mode & 0o777 == 0o600


def test_stdin_to_stdout_is_a_filter():
    result = run("filter", stdin=DEMO.read_bytes())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"ISA*")
    assert result.stdout.rstrip().endswith(b"IEA*1*000000101~")


def test_unreadable_x12_exits_65_and_writes_nothing(tmp_path: Path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    out, dec = outdir / "out.837", outdir / "decisions.jsonl"
    broken = tmp_path / "no_IEA.837"
    broken.write_bytes(x12.no_iea())
    result = run("filter", str(broken), "-o", str(out), "--decisions", str(dec))
    assert result.returncode == 65
    message = result.stderr.decode()
    assert "no_IEA.837: segment 164 (IEA)" in message and "Traceback" not in message
    assert list(outdir.iterdir()) == []


def test_unreadable_stdin_writes_nothing_to_stdout():
    data = DEMO.read_bytes()
    result = run("filter", stdin=data[: len(data) // 2])
    assert result.returncode == 65
    assert result.stdout == b""
    assert b"<stdin>: segment" in result.stderr


def test_bad_ruleset_is_a_configuration_error(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = not [valid toml\n")
    result = invoke("filter", DEMO, "--ruleset", bad, "-o", tmp_path / "o.837")
    assert result.status == 2
    assert result.stderr.startswith(f"edi-gate: configuration error: {bad}: line 1: ")
    assert not (tmp_path / "o.837").exists()


def test_unreadable_roster_is_a_configuration_error(tmp_path: Path):
    result = invoke("filter", DEMO, "--roster", tmp_path / "missing.csv")
    assert result.status == 2
    assert result.stderr == (
        f"edi-gate: configuration error: {tmp_path / 'missing.csv'}: cannot read roster: "
        "No such file or directory\n"
    )


def test_check_prints_a_table_and_json():
    table = invoke("check", DEMO)
    assert table.status == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == f"# {DEMO}"
    assert sum(1 for line in lines if line.startswith("DEMO-")) == 8
    as_json = invoke("check", "--format", "json", DEMO)
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["claim"] for r in records] == [f"DEMO-00{i}" for i in range(1, 9)]
    decided = {r["claim"]: r["decision"] for r in records}
    assert decided == {
        line.split()[0]: line.split()[1] for line in lines if line.startswith("DEMO-")
    }


def test_rules_list_show_and_lint(tmp_path: Path):
    listed = invoke("rules", "list")
    assert listed.status == 0, listed.stderr
    ids = [line.split()[0] for line in listed.stdout.splitlines()[1:] if line.strip()]
    assert {"PRIV003", "MOD001", "CODE001", "GUID001"} <= set(ids)
    shown = invoke("rules", "show", "code001")
    assert shown.status == 0 and "004_2050c99125bda26c.txt" in shown.stdout
    unknown = invoke("rules", "show", "NOPE999")
    assert (unknown.status, unknown.stderr) == (2, "edi-gate: no rule 'NOPE999' in the ruleset\n")
    assert invoke("rules", "lint").status == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (Path(__file__).parents[2] / "edi_gate/data/rulesets/imaging-2024.toml")
        .read_text()
        .replace("[ruleset]", "[ruleset]\nsurprise = 1", 1)
    )
    linted = invoke("rules", "lint", bad)
    assert linted.status == 1 and "surprise" in linted.stdout


def test_ack_rebuilds_the_277ca_from_decisions(tmp_path: Path):
    dec, acks = tmp_path / "d.jsonl", tmp_path / "live.277"
    filtered = invoke("filter", DEMO, "-o", tmp_path / "o", "--decisions", dec, "--acks", acks)
    assert filtered.status == 0, filtered.stderr
    rebuilt = invoke("ack", DEMO, "--decisions", dec, "-o", tmp_path / "re.277")
    assert rebuilt.status == 0, rebuilt.stderr

    def body(path: Path) -> list[str]:
        # Everything but the envelope lines that carry timestamps and control numbers.
        return [
            s
            for s in path.read_text().split("~\n")
            if s[:3] not in ("ISA", "GS*", "ST*", "SE*", "GE*", "IEA", "BHT", "DTP", "STC")
            # TRN*1 names the 277CA by its control numbers, which go on from run to run
            and not s.startswith("TRN*1*")
        ]

    assert body(tmp_path / "re.277") == body(acks)
    assert invoke("ack", DEMO, "--decisions", tmp_path / "missing").status == 2
    (tmp_path / "taken").mkdir()
    unwritable = invoke("ack", DEMO, "--decisions", dec, "-o", tmp_path / "taken")
    assert unwritable.status == 74
    assert (
        unwritable.stderr
        == f"edi-gate: cannot write outputs: {tmp_path / 'taken'}: Is a directory\n"
    )
    missing_input = invoke("ack", tmp_path / "nope.837", "--decisions", dec)
    assert missing_input.status == 66
    assert missing_input.stderr == f"edi-gate: {tmp_path / 'nope.837'}: No such file or directory\n"
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text('{"claim": 1}\n[1, 2]\n')
    unusable = invoke("ack", DEMO, "--decisions", garbage, "-o", tmp_path / "g.277")
    # a ConfigError is a ValueError now: still exit 2 with its reason, not "not usable" (65)
    assert (unusable.status, unusable.stderr) == (
        2,
        f"edi-gate: configuration error: {garbage}: line 2: not a JSON object\n",
    )
    assert not (tmp_path / "g.277").exists()


def test_a_transaction_set_without_se_is_refused_not_swallowed(tmp_path: Path):
    text = DEMO.read_text()
    broken = tmp_path / "no-se.837"
    broken.write_text(text.replace(text[text.index("SE*") : text.index("GE*")], ""))
    result = invoke("filter", broken, "-o", tmp_path / "out.837")
    assert result.status == 65
    assert "(GE), segment" in result.stderr and "SE missing" in result.stderr
    assert not (tmp_path / "out.837").exists()


def test_an_unwritable_output_is_a_clean_io_error(tmp_path: Path):
    (tmp_path / "taken").mkdir()
    result = run(
        "filter", str(DEMO), "-o", str(tmp_path / "taken"), "--decisions", str(tmp_path / "d.jsonl")
    )
    assert result.returncode == 74
    assert b"Traceback" not in result.stderr and b"taken: Is a directory" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_writing_to_a_device_keeps_the_device(tmp_path: Path):
    fifo = tmp_path / "pipe"
    import os
    import threading

    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = run("filter", str(DEMO), "-o", str(fifo), "--decisions", "/dev/null")
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert received and received[0].startswith(b"ISA*")
    assert fifo.is_fifo() and Path("/dev/null").is_char_device()


def _two_interchanges_one_damaged(tmp_path: Path) -> Path:
    """Interchange 1: two sets, the second with a wrong SE01. Interchange 2: sound."""
    text = DEMO.read_text()
    st, ge = text.index("ST*837*"), text.index("GE*")
    body = text[st:ge]
    second = body.replace("ST*837*0001", "ST*837*0002").replace("SE*", "SE*9", 1)
    second = second.replace("*0001~", "*0002~")  # ST02 and SE02
    second = second.replace("CLM*DEMO-", "CLM*SET2-")
    first = text[:ge] + second + text[ge:].replace("GE*1*", "GE*2*", 1)
    sound = text.replace("CLM*DEMO-", "CLM*ISA2-").replace("000000101", "000000102")
    path = tmp_path / "two.837"
    path.write_text(first + sound)
    return path


def test_reject_set_or_whole_interchange(tmp_path: Path):
    from tests.helpers import ack277_claims
    from tests.pyx12_oracle import pyx12_errors

    path = _two_interchanges_one_damaged(tmp_path)
    decided = {}
    for mode in ("set", "interchange"):
        dec, acks = tmp_path / f"{mode}.jsonl", tmp_path / f"{mode}.277"
        out = tmp_path / f"{mode}.837"
        result = invoke(
            "filter", path, "--reject", mode, "-o", out, "--decisions", dec, "--acks", acks
        )
        assert result.status == 0, result.stderr
        records = [json.loads(line) for line in dec.read_text().splitlines()]
        assert len(records) == count_clm(path.read_bytes()) == 24
        assert sorted(ack277_claims(acks.read_bytes())) == sorted(r["claim"] for r in records)
        assert pyx12_errors(acks) == []  # pyx12, apart from the named TR3 exceptions
        assert count_clm(out.read_bytes()) == sum(r["decision"] == "accepted" for r in records)
        decided[mode] = {r["claim"]: r for r in records}
    by_set, whole = decided["set"], decided["interchange"]
    assert all(r["decision"] == "rejected" for c, r in by_set.items() if c.startswith("SET2-"))
    assert any(r["decision"] == "accepted" for c, r in by_set.items() if c.startswith("DEMO-"))
    for claim, record in whole.items():
        if claim.startswith(("DEMO-", "SET2-")):  # the damaged interchange: every claim goes
            assert record["decision"] == "rejected"
        else:  # the sound interchange is decided exactly as before
            assert record["decision"] == by_set[claim]["decision"]
    reason = whole["DEMO-001"]["findings"][0]["message"]
    assert reason.startswith("interchange rejected: transaction set 0002 has syntax errors")
    assert "SE01" in reason
