"""`replay --report`: one self-contained HTML file whose every figure is summary.json's, rendered
by a real browser (headless Chromium) with its charts drawn; a screenshot is kept as an artifact
(build/test-artifacts/, or $EDI_GATE_TEST_ARTIFACTS)."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from edi_gate.report.html import BAR_COLOR, render_html
from tests.helpers import REPO
from tests.pipeline.support import generated
from tests.report.support import RULESET, cli, ruleset_without

INSTALL_HINT = "run scripts/install-test-deps.sh (installs Debian's chromium)"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class Metrics(HTMLParser):
    """Every data-metric of a page, with the value it claims to show and the text it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.tags: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if "data-metric" in values:
            self.found.append((values["data-metric"] or "", values["data-value"] or ""))
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]


def lookup(data: object, path: str) -> object:
    """summary.json's value at a dotted path (rule ids, months and taxonomies hold no dot)."""
    for part in path.split("."):
        if isinstance(data, list):
            data = data[int(part)]
        else:
            assert isinstance(data, dict), path
            data = data[part]
    return data


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("report")
    source = tmp / "gen.837"
    source.write_bytes(generated(3000, 7, "HR"))
    other = ruleset_without(tmp, "PRIV003")
    result = cli(
        "replay", source, "--out", tmp / "out", "--report", tmp / "report.html",
        "--compare", RULESET, other, "--scope", "line", "--log-format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return tmp / "report.html", json.loads((tmp / "out" / "summary.json").read_text())


def test_every_number_of_the_report_is_summary_json(replayed):
    report, summary = replayed
    page = Metrics()
    page.feed(report.read_text())
    paths = {path for path, _ in page.found}
    for path, shown in page.found:
        assert float(shown) == pytest.approx(float(lookup(summary, path))), path  # type: ignore[arg-type]
    # the figures the issue asks for are all there
    for needed in (
        "claims",
        "by_decision.rejected",
        "claims_by_rule.PRIV006",
        "findings_by_rule.PRIV007",
        "dollars_at_stake.total",
        "dollars_at_stake.removed_lines",
        "top_rejected_codes.0.lines",
        "top_providers.0.claims",
        "compare.released.claims",
        "compare.released.dollars",
        "compare.released.by_rule.PRIV003.dollars",
        "compare.newly_rejected.dollars",
        "compare.b_summary.dollars_at_stake.total",
    ):
        assert needed in paths, needed
    assert any(p.startswith("by_month.") for p in paths)
    assert any(p.startswith("by_taxonomy.") for p in paths)
    assert summary["dollars_at_stake"]["removed_lines"] > 0  # line scope: SV102 counted


def test_the_report_is_self_contained(replayed):
    report, _ = replayed
    text = report.read_text()
    page = Metrics()
    page.feed(text)
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert page.links == []
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "@import" not in text and "url(" not in text
    assert text.count("<svg") >= 4  # rules, months, and for --compare released/new, under B
    assert report.stat().st_mode & 0o777 == 0o644


def test_hostile_names_are_escaped():
    data = json.loads(json.dumps(_minimal_summary()))
    data["ruleset"] = "<script>alert(1)</script>"
    data["errors"] = [{"source": "a<b>.837", "error": "x"}]
    page = render_html(data)
    assert "<script>" not in page and "&lt;script&gt;" in page and "a&lt;b&gt;.837" in page


def _minimal_summary() -> dict:
    return {
        "ruleset": "r",
        "files": 1,
        "files_read": 1,
        "claims": 0,
        "by_decision": {},
        "lines_removed": 0,
        "by_rule": {},
        "by_taxonomy": {},
        "by_month": {},
        "top_rejected_codes": [],
        "errors": [],
    }


def artifacts_dir() -> Path:
    path = Path(os.environ.get("EDI_GATE_TEST_ARTIFACTS", REPO / "build" / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(f"chromium not found: {INSTALL_HINT}", pytrace=False)
    return found


def png_pixels(data: bytes) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the set of RGB colours of an 8-bit RGB(A) PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * step
    previous, colours, offset = bytearray(stride), set(), 0
    for _ in range(height):
        kind, line = raw[offset], bytearray(raw[offset + 1 : offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        colours.update((line[i], line[i + 1], line[i + 2]) for i in range(0, stride, step * 2))
        previous = line
    return width, height, colours


def test_chromium_renders_the_report_with_its_charts(replayed, tmp_path: Path):
    report, summary = replayed
    browser = chromium()
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*common, "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The browser parsed the page: the charts' bars and the headline figures are in its DOM.
    assert len(re.findall(r'<rect class="bar"', dom.stdout)) >= len(summary["claims_by_rule"])
    assert f'data-value="{summary["claims"]}"' in dom.stdout
    shot = tmp_path / "report.png"
    rendered = subprocess.run(
        [*common, "--window-size=1200,2200", f"--screenshot={shot}", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert rendered.returncode == 0 and shot.exists(), rendered.stderr[-2000:]
    shutil.copy(shot, artifacts_dir() / "replay-report.png")
    width, height, colours = png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 2200)
    bar = tuple(int(BAR_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    assert bar in colours, "the rule chart's bars were not painted"
    assert len(colours) > 50, "a blank or nearly blank page"
