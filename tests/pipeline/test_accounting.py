"""Silent passes made visible (issue 13 item 10): the ruleset of every decision, "not evaluated"
claims and passed-through sets counted by reason, X222 by GS08 or ST03, --require-ruleset."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from edi_gate.pipeline.accounting import passthrough_reason
from edi_gate.pipeline.filter import FilterRun
from edi_gate.rules.engine import Engine
from tests.helpers import count_clm
from tests.pipeline.support import DEMO, EDI_GATE

DEMO_BYTES = DEMO.read_bytes()
CLAIMS = count_clm(DEMO_BYTES)


def variant(gs08: bytes | None = None, st03: bytes | None = None, st01: bytes = b"837") -> bytes:
    data = DEMO_BYTES
    if gs08 is not None:
        data = data.replace(b"*X*005010X222A1~", b"*X*" + gs08 + b"~", 1)
    if st03 is not None or st01 != b"837":
        data = data.replace(
            b"ST*837*0001*005010X222A1~",
            b"ST*" + st01 + b"*0001*" + (st03 or b"005010X222A1") + b"~",
            1,
        )
    return data


def dated_2019() -> bytes:
    """demo.837 served in 2019, before every shipped ruleset's effective range."""
    return DEMO_BYTES.replace(b"DTP*472*D8*2025", b"DTP*472*D8*2019")


class Decisions:
    def __init__(self) -> None:
        self.records: list[dict] = []

    def write(self, text: str) -> int:
        self.records += [json.loads(line) for line in text.splitlines()]
        return len(text)


def run(data: bytes, **options):
    sink = Decisions()
    summary = FilterRun(Engine.load(), decisions=sink, **options).run(io.BytesIO(data), "t.837")
    return summary, sink.records


@pytest.mark.parametrize(
    ("st01", "gs08", "st03", "reason"),
    [
        ("837", "004010X098A1", "004010X098A1", "4010"),
        ("837", "004010X098A1", "", "4010"),
        ("837", "005010X223A2", "005010X223A2", "837I"),
        ("837", "005010X224A2", "005010X224A2", "837D"),
        ("837", "005010X999", "005010X999", "other 837 version"),
        ("835", "005010X221A1", "005010X221A1", "not 837 (835)"),
        ("8*5", "005010X221A1", "", "not 837"),
    ],
)
def test_passthrough_reasons(st01: str, gs08: str, st03: str, reason: str) -> None:
    assert passthrough_reason(st01, gs08, st03) == reason


def test_judged_claims_name_their_ruleset() -> None:
    summary, records = run(DEMO_BYTES)
    assert {r["ruleset"] for r in records} == {"imaging-2024.05"}
    assert summary.not_evaluated == {} and summary.passed_through == {}


def test_claims_before_every_ruleset_are_counted_not_evaluated() -> None:
    summary, records = run(dated_2019())
    assert len(records) == CLAIMS and {r["ruleset"] for r in records} == {None}
    assert {r["decision"] for r in records} == {"accepted"}
    assert summary.as_dict()["not_evaluated"] == {"no ruleset in force": CLAIMS}


@pytest.mark.parametrize(
    ("gs08", "st03", "reason"),
    [
        (b"004010X098A1", b"004010X098A1", "4010"),
        (b"005010X223A2", b"005010X223A2", "837I"),
        (b"005010X224A2", b"005010X224A2", "837D"),
    ],
)
def test_sets_passed_through_are_counted_with_their_claims(gs08, st03, reason) -> None:
    summary, records = run(variant(gs08, st03))
    assert records == [] and summary.claims == 0
    assert summary.as_dict()["passed_through"] == {reason: 1}
    assert summary.as_dict()["not_evaluated"] == {reason: CLAIMS}


def test_non_837_set_is_counted_as_passed_through() -> None:
    summary, _ = run(variant(b"005010X221A1", b"005010X221A1", st01=b"835"))
    assert summary.passed_through == {"not 837 (835)": 1}


def test_mislabelled_gs08_with_st03_x222_is_judged_as_837p() -> None:
    """GS08 005010X221A1 (the 835 guide) with ST03 005010X222A1: an 837P under the wrong group
    version. Before, every claim passed through unjudged and uncounted."""
    summary, records = run(variant(b"005010X221A1"))
    assert len(records) == CLAIMS and summary.claims == CLAIMS
    assert summary.rejected > 0 and summary.passed_through == {}
    assert {r["ruleset"] for r in records} == {"imaging-2024.05"}


def test_require_ruleset_rejects_what_no_ruleset_covers() -> None:
    summary, records = run(dated_2019(), require_ruleset=True)
    assert summary.rejected == CLAIMS and summary.accepted == 0
    assert summary.by_rule == {"NO-RULESET": CLAIMS} and summary.not_evaluated == {}
    finding = records[0]["findings"][0]
    assert (finding["rule"], finding["category"], finding["status"]) == ("NO-RULESET", "A3", "187")
    assert "2019-03-10" in finding["message"]
    # claims a ruleset covers are judged as before
    assert run(DEMO_BYTES, require_ruleset=True)[0].by_rule == run(DEMO_BYTES)[0].by_rule


def test_require_ruleset_on_the_command_line_and_277ca(tmp_path: Path) -> None:
    source = tmp_path / "old.837"
    source.write_bytes(dated_2019())
    out = tmp_path / "out.837"
    ack = tmp_path / "out.277"
    command = [str(EDI_GATE), "filter", str(source), "-o", str(out), "--acks", str(ack)]
    result = subprocess.run([*command, "--require-ruleset"], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == b""  # nothing forwarded
    assert ack.read_bytes().count(b"STC*A3:187") == CLAIMS
    plain = subprocess.run(
        [*command, "--log-format", "json", "--duplicate-window", "0"],
        capture_output=True,
        timeout=120,
    )
    assert plain.returncode == 0 and count_clm(out.read_bytes()) == CLAIMS
    summary = [json.loads(x) for x in plain.stderr.decode().splitlines() if x.startswith("{")]
    (event,) = [e for e in summary if e["event"] == "filter.summary"]
    assert event["not_evaluated"] == {"no ruleset in force": CLAIMS}


def test_check_summary_counts_not_evaluated(tmp_path: Path) -> None:
    source = tmp_path / "mixed.837"
    source.write_bytes(dated_2019())
    result = subprocess.run(
        [str(EDI_GATE), "check", str(source), "--log-format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(x) for x in result.stderr.splitlines() if x.startswith("{")]
    (event,) = [e for e in events if e["event"] == "check.summary"]
    assert event["not_evaluated"] == {"no ruleset in force": CLAIMS}


def test_replay_summary_counts_not_evaluated_and_passed_through(tmp_path: Path) -> None:
    old, i837 = tmp_path / "old.837", tmp_path / "institutional.837"
    old.write_bytes(dated_2019())
    i837.write_bytes(variant(b"005010X223A2", b"005010X223A2"))
    out = tmp_path / "replay"
    result = subprocess.run(
        [str(EDI_GATE), "replay", str(old), str(i837), str(DEMO), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "summary.json").read_text())
    assert data["not_evaluated"] == {"837I": CLAIMS, "no ruleset in force": CLAIMS}
    assert data["passed_through"] == {"837I": 1}
    assert data["claims"] == 2 * CLAIMS  # the 837I's claims are not decided, only counted
    text = (out / "summary.txt").read_text()
    assert "Claims not evaluated" in text and "no ruleset in force" in text
    records = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    assert sorted({str(r["ruleset"]) for r in records}) == ["None", "imaging-2024.05"]
