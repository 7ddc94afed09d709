"""The pyx12 oracle on 277CAs the project writes: it accepts ours and reports each planted error.

The project-owned counterpart of ``test_validate.py``'s reference samples (interop): the same four
negatives (2200C STC02 used, 2000C HL04 '0', an external status code 796, a wrong SE count), made
by damaging the 277CA edi-gate writes for ``fixtures/two-claims.837`` (one claim accepted, one
rejected).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import FIXTURES
from tests.pyx12_oracle import pyx12_errors

EDI_GATE = str(Path(sys.executable).with_name("edi-gate"))


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> list[str]:
    """The 277CA's segments (terminator '~' and a newline after each)."""
    tmp = tmp_path_factory.mktemp("oracle")
    done = subprocess.run(
        [EDI_GATE, "filter", str(FIXTURES / "two-claims.837"), "-o", str(tmp / "out.837")]
        + ["--acks", str(tmp / "acks.277")],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [s.strip() for s in (tmp / "acks.277").read_text().split("~") if s.strip()]


def check(tmp_path: Path, segs: list[str], **kwargs) -> list[str]:
    path = tmp_path / "ack.277"
    path.write_text("~\n".join(segs) + "~\n")
    return pyx12_errors(path, **kwargs)


def with_se_count(segs: list[str]) -> list[str]:
    """SE01 recounted after segments were removed."""
    st = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    control = segs[se].split("*")[2]
    return [*segs[:se], f"SE*{se - st + 1}*{control}", *segs[se + 1 :]]


def test_accepts_our_277ca(tmp_path: Path, ours: list[str]) -> None:
    assert any(s.startswith("STC*A7:") for s in ours), "the fixture should hold a rejection"
    assert check(tmp_path, ours) == []


def test_reports_stc02_used_in_2200c(tmp_path: Path, ours: list[str]) -> None:
    provider = ours.index(next(s for s in ours if re.match(r"HL\*\d+\*\d+\*19\*", s)))
    stc = next(i for i in range(provider, len(ours)) if ours[i].startswith("STC*"))
    elements = ours[stc].split("*")
    assert elements[2] == "", "2200C STC02 is not used"
    elements[2] = "20240115"
    damaged = [*ours[:stc], "*".join(elements), *ours[stc + 1 :]]
    assert any("STC02" in e for e in check(tmp_path, damaged))


def test_reports_a_2000c_hl04_of_0_with_children(tmp_path: Path, ours: list[str]) -> None:
    """HL04 '0' says the provider level has no child; cut its patients as the TR3 then wants."""
    provider = ours.index(next(s for s in ours if re.match(r"HL\*\d+\*\d+\*19\*1$", s)))
    first_child = next(i for i in range(provider, len(ours)) if ours[i].endswith("*PT"))
    se = next(i for i, s in enumerate(ours) if s.startswith("SE*"))
    damaged = [*ours[:provider], ours[provider][:-1] + "0", *ours[provider + 1 : first_child]]
    damaged = with_se_count([*damaged, *ours[se:]])
    assert any("HL04" in e for e in check(tmp_path, damaged))


def test_reports_an_unknown_status_code_unless_external_codes_are_excluded(
    tmp_path: Path, ours: list[str]
) -> None:
    rejected = next(i for i, s in enumerate(ours) if s.startswith("STC*A7:"))
    elements = ours[rejected].split("*")
    elements[1] = "A7:796"
    damaged = [*ours[:rejected], "*".join(elements), *ours[rejected + 1 :]]
    assert any("796" in e for e in check(tmp_path, damaged))
    assert check(tmp_path, damaged, exclude_external=["claim_status"]) == []


def test_reports_a_wrong_se_count(tmp_path: Path, ours: list[str]) -> None:
    se = next(i for i, s in enumerate(ours) if s.startswith("SE*"))
    elements = ours[se].split("*")
    elements[1] = str(int(elements[1]) - 1)
    damaged = [*ours[:se], "*".join(elements), *ours[se + 1 :]]
    assert any("SE count" in e for e in check(tmp_path, damaged))
