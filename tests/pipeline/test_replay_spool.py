"""`edi-gate replay` keeps memory flat: a unit's decisions go to a file in a spool directory under
--out, the worker sends back only its path and tallies, and the writer appends the file a chunk at
a time, then deletes it. No spool file outlives the run, whether it succeeds, fails or is
interrupted."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi_gate.pipeline import isa
from edi_gate.pipeline import replay as rp
from edi_gate.pipeline.positions import shift_positions
from edi_gate.pipeline.replay import merge
from tests.pipeline.support import demo_variant, generated

SPLIT = 150_000  # bytes: the generated file below becomes several units


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.837"
    path.write_bytes(generated(3000, 11, "BIG", interchanges=6))
    return path


def run(inputs: list[Path], out: Path, *, workers: int = 1, progress=None) -> dict:
    sources, missing = rp.expand_inputs([str(p) for p in inputs])
    report = rp.ResultMerger(out, rp.EngineSpec())
    report.errors.extend(missing)
    rp.replay_local(rp.plan_units(sources, SPLIT), report, workers=workers, progress=progress)
    return report.finish()


def test_a_unit_result_carries_the_path_of_its_decisions_not_the_decisions(tmp_path, big):
    spool = tmp_path / "spool"
    spool.mkdir()
    unit = rp.plan_units([rp.Source(str(big), str(big))], SPLIT)[1]
    result = rp.process_unit(unit, spool=spool)

    assert result.error is None and result.claims > 100
    assert result.decisions_path is not None
    decisions = Path(result.decisions_path)
    assert decisions.parent == spool
    assert len(decisions.read_bytes().splitlines()) == result.claims
    # What crosses the process boundary is tallies and a path: a small fraction of the decisions.
    shipped = len(pickle.dumps(result))
    assert shipped * 20 < decisions.stat().st_size, (shipped, decisions.stat().st_size)

    result.discard()
    assert list(spool.iterdir()) == []


def test_a_unit_that_cannot_be_read_leaves_no_file(tmp_path):
    (tmp_path / "bad.837").write_bytes(b"not X12 at all\n")
    truncated = demo_variant("T")
    (tmp_path / "cut.837").write_bytes(truncated[: len(truncated) * 2 // 3])
    spool = tmp_path / "spool"
    spool.mkdir()
    for name in ("bad.837", "cut.837"):
        path = str(tmp_path / name)
        result = rp.process_unit(rp.WorkUnit(0, rp.Source(path, path)), spool=spool)
        assert result.error is not None and result.decisions_path is None and result.claims == 0
    assert list(spool.iterdir()) == []


def test_the_writer_streams_unit_files_in_small_chunks(tmp_path, big, monkeypatch):
    reference = run([big], tmp_path / "reference")
    monkeypatch.setattr(merge, "COPY_CHUNK", 512)
    shifted: list[int] = []
    real_shift = merge.shift_positions

    def spy(blob: bytes, offset: int) -> bytes:
        shifted.append(len(blob))
        return real_shift(blob, offset)

    monkeypatch.setattr(merge, "shift_positions", spy)
    small = run([big], tmp_path / "small")

    assert small == reference
    for name in ("decisions.jsonl", "summary.json", "summary.txt"):
        assert (tmp_path / "small" / name).read_bytes() == (
            tmp_path / "reference" / name
        ).read_bytes()
    # Later units are shifted, a chunk (plus the rest of a line) at a time, never whole.
    longest_line = max(map(len, (tmp_path / "small" / "decisions.jsonl").read_bytes().split(b"\n")))
    assert len(shifted) > 10
    assert max(shifted) <= 512 + longest_line


def test_append_shifted_equals_shifting_the_whole_file(tmp_path):
    lines = [b'{"a":1,"position":%d,"b":"%s"}' % (n, b"x" * (n % 37)) for n in range(1, 400)]
    path = tmp_path / "unit.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    for chunk in (1, 7, 64, 1 << 20):
        for offset in (0, 5, 123456):
            out = tmp_path / "out"
            with open(out, "wb") as sink:
                rp.append_shifted(str(path), sink, offset, chunk)
            assert out.read_bytes() == shift_positions(path.read_bytes(), offset)


@pytest.mark.parametrize("workers", [1, 2])
def test_no_spool_file_outlives_a_run(tmp_path, big, workers):
    (tmp_path / "bad.837").write_bytes(b"not X12 at all\n")
    summary = run([big, tmp_path / "bad.837"], tmp_path / "out", workers=workers)
    assert summary["claims"] == 3000 and len(summary["errors"]) == 1
    assert sorted(os.listdir(tmp_path / "out")) == [
        "decisions.jsonl",
        "summary.json",
        "summary.txt",
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_interrupted_run_leaves_nothing_behind(tmp_path, big, workers):
    seen = []

    def interrupt(result: rp.UnitResult) -> None:
        seen.append(result.index)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run([big], tmp_path / "out", workers=workers, progress=interrupt)
    assert os.listdir(tmp_path / "out") == []


def test_planning_reads_a_window_at_a_time_and_cuts_where_the_isa_scan_does(tmp_path, big):
    """The windowed scan (no memory map of the whole archive) cuts where a scan of the whole
    file in memory does, whatever the window."""
    one, two = demo_variant("A"), demo_variant("B", sender="OTHER02")
    inside = demo_variant("C").replace(b"NM1*IL*1*PATIENT1", b"NM1*IL*1*ISA*PATIENT1", 1)
    cases = {
        "big.837": big.read_bytes(),
        "crlf.837": b"\xef\xbb\xbf\r\n" + one + b"\r\n" + two + b"\n" + inside + one,
        "none.837": b"garbage\n" * 5000,
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        for target in (1, len(one) + 1, 150_000, 1 << 20):
            expected = _ranges_in_memory(data, target)
            for window in (16, 1000, 4096, 1 << 20):  # windows that cut ISAs and lines in two
                assert isa.byte_ranges(path, target, window) == expected, (name, target, window)


def _ranges_in_memory(data: bytes, target: int) -> list[tuple[int, int]]:
    if len(data) <= target:
        return [(0, len(data))]
    offsets = isa.interchange_offsets(data)
    if len(offsets) <= 1:
        return [(0, len(data))]
    ranges, start = [], 0
    for offset in offsets[1:]:
        if offset - start >= target:
            ranges.append((start, offset))
            start = offset
    return [*ranges, (start, len(data))]


_POSITION = re.compile(rb'"position":(\d+)')


def reference_shift(blob: bytes, offset: int) -> bytes:
    """The plain regex statement of what shift_positions does."""
    return _POSITION.sub(lambda m: b'"position":%d' % (int(m.group(1)) + offset), blob)


@given(
    st.lists(
        st.one_of(
            st.integers(0, 10**12).map(lambda n: b'"position":%d' % n),
            st.binary(max_size=12),
            st.sampled_from([b'"position":', b'"position":-3', b'"position', b"position:7", b"\n"]),
        ),
        max_size=30,
    ),
    st.integers(-5, 10**9),
)
def test_shift_positions_equals_the_regex(pieces: list[bytes], offset: int) -> None:
    blob = b"".join(pieces)
    assert shift_positions(blob, offset) == reference_shift(blob, offset)
