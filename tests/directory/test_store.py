"""The SQLite directory: NPPES and roster imports, lookups by date, atomic re-imports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from bench.nppes import HEADER, Provider, synthetic, write
from edi_gate.directory import store
from edi_gate.directory.lookup import ProviderDirectory
from edi_gate.directory.nppes import NppesFormatError
from edi_gate.directory.store import SqliteSource
from edi_gate.errors import ConfigError
from tests.claims import npi

CARDIO, ENDO, RAD, FAMILY = "207RC0000X", "207RE0101X", "2085R0202X", "207Q00000X"
A, B, C, D = npi(300000001), npi(300000002), npi(300000003), npi(300000004)


def lookup(db: Path) -> ProviderDirectory:
    return ProviderDirectory([SqliteSource(db)], capacity=4)


class TestNppesFormat:
    def test_the_generator_writes_the_published_layout(self):
        assert len(HEADER) == 330
        assert HEADER[:2] == ["NPI", "Entity Type Code"]
        assert HEADER[HEADER.index("NPI Deactivation Date") + 1] == "NPI Reactivation Date"
        first = HEADER.index("Healthcare Provider Taxonomy Code_1")
        assert HEADER[first : first + 4] == [
            "Healthcare Provider Taxonomy Code_1",
            "Provider License Number_1",
            "Provider License Number State Code_1",
            "Healthcare Provider Primary Taxonomy Switch_1",
        ]
        assert HEADER[-1] == "Certification Date"

    def test_import_reads_taxonomies_switch_entity_and_dates(self, build):
        db = build(
            nppes=[
                Provider(A, "1", [ENDO, CARDIO], primary=1),
                Provider(B, deactivated=date(2024, 3, 1)),
                Provider(C, "2", ["261QR0200X"], date(2019, 3, 1), date(2020, 6, 15)),
            ]
        )
        directory = lookup(db)
        hit = directory.taxonomies(A, date(2025, 1, 1))
        assert hit.codes == (CARDIO, ENDO) and hit.source == "nppes"  # primary first
        assert directory.listings(C)[0].entity_type == "2"
        assert directory.taxonomies(B, date(2025, 1, 1)).codes == ()
        assert directory.deactivation(B, date(2024, 2, 29)) is None
        period, source = directory.deactivation(B, date(2024, 3, 1))
        assert (period.start, period.end, source) == (date(2024, 3, 1), None, "nppes")
        assert directory.deactivation(C, date(2020, 6, 14)) is not None
        assert directory.deactivation(C, date(2020, 6, 15)) is None  # reactivated that day
        assert directory.deactivation(C, date(2019, 2, 28)) is None

    def test_columns_are_found_by_name_not_position(self, tmp_path):
        src = tmp_path / "npidata.csv"
        src.write_text(
            '"Certification Date","NPI Reactivation Date","NPI Deactivation Date",'
            '"Healthcare Provider Primary Taxonomy Switch_1","Healthcare Provider Taxonomy Code_1",'
            '"Entity Type Code","NPI"\n'
            f'"","","","Y","{RAD}","1","{A}"\n'
        )
        db = tmp_path / "d.sqlite"
        store.import_nppes(db, src, progress=False)
        assert lookup(db).taxonomies(A, None).codes == (RAD,)

    def test_malformed_rows_are_skipped_and_counted(self, tmp_path):
        src = tmp_path / "npidata.csv"
        write(src, [Provider(A, "1", [RAD]), Provider("12345", "1", [RAD]), Provider(B, "1", [])])
        with open(src, "a", encoding="utf-8") as fh:
            fh.write('"' + C + '","1"\r\n')  # a short row
        result = store.import_nppes(tmp_path / "d.sqlite", src, progress=False)
        assert (result.npis, result.skipped) == (2, 2)
        assert store.stats(tmp_path / "d.sqlite")[0].skipped == 2

    @pytest.mark.parametrize(
        "text,words",
        [
            ("", "empty"),
            ("npi,taxonomy,credential,effective,expires\n", "not an NPPES data file"),
            ('"NPI","Entity Type Code"\n', "NPI Deactivation Date"),
        ],
    )
    def test_a_file_that_is_not_nppes_is_refused(self, tmp_path, text, words):
        src = tmp_path / "x.csv"
        src.write_text(text)
        with pytest.raises(NppesFormatError, match=words):
            store.import_nppes(tmp_path / "d.sqlite", src, progress=False)


class TestReimport:
    def test_reimport_replaces_what_the_last_import_of_that_source_said(self, build, tmp_path):
        db = build(
            nppes=[Provider(A, "1", [RAD]), Provider(B, "1", [FAMILY])], roster=f"{C},{CARDIO},,,\n"
        )
        second = tmp_path / "second.csv"
        write(second, [Provider(A, "1", [FAMILY])])
        store.import_nppes(db, second, progress=False)
        directory = lookup(db)
        assert directory.taxonomies(A, None).codes == (FAMILY,)
        assert directory.taxonomies(B, None).codes == ()  # gone from the new file
        assert directory.taxonomies(C, None).codes == (CARDIO,)  # the roster is untouched
        rows = {s.source: s for s in store.stats(db)}
        assert rows["nppes"].npis == 1 and rows["nppes"].file == "second.csv"
        assert rows["roster"].npis == 1

    def test_a_failed_import_leaves_the_directory_as_it_was(self, build, tmp_path):
        db = build(nppes=[Provider(A, "1", [RAD])])
        bad = tmp_path / "bad.csv"
        write(bad, [Provider(B, "1", [FAMILY])])
        with open(bad, "a", encoding="utf-8") as fh:
            fh.write('"' + "x" * 200_000 + '"\r\n')  # over the csv field limit, mid-file
        with pytest.raises(ConfigError, match="nothing imported"):
            store.import_nppes(db, bad, progress=False)
        directory = lookup(db)
        assert directory.taxonomies(A, None).codes == (RAD,)
        assert directory.taxonomies(B, None).codes == ()

    def test_kill_9_mid_import_leaves_the_previous_directory_usable(self, build, tmp_path):
        db = build(nppes=[Provider(A, "1", [RAD])], roster=f"{C},{CARDIO},,,\n")
        before = {s.source: s.imported_at for s in store.stats(db)}
        big = tmp_path / "npidata_big.csv"
        write(big, synthetic(40_000, seed=3))
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
        proc = subprocess.Popen(
            [sys.executable, "-m", "edi_gate.cli", "directory", "import", "--nppes", str(big),
             "--directory", str(db)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wal = Path(str(db) + "-wal")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if wal.exists() and wal.stat().st_size > 1 << 20:  # rows are being written
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL, "the import finished before it could be killed"
        directory = lookup(db)
        assert directory.taxonomies(A, None).codes == (RAD,)
        assert directory.taxonomies(C, None).codes == (CARDIO,)
        assert {s.source: s.imported_at for s in store.stats(db)} == before
        first_new = next(iter(synthetic(1, seed=3))).npi
        assert directory.listings(first_new) == ()
        # and the next import goes through
        result = store.import_nppes(db, big, progress=False)
        assert result.npis > 35_000 and lookup(db).listings(first_new)


class TestLookups:
    def test_roster_before_nppes_and_dates_honoured(self, build):
        db = build(
            nppes=[Provider(A, "1", [FAMILY]), Provider(B, "1", [RAD])],
            roster=f"{A},{CARDIO},,2024-01-01,2024-12-31\n{A},,ISCD,2024-06-01,\n",
        )
        directory = lookup(db)
        hit = directory.taxonomies(A, date(2024, 5, 1))
        assert (hit.codes, hit.source) == ((CARDIO,), "roster")
        hit = directory.taxonomies(A, date(2025, 1, 1))  # roster row expired: NPPES speaks
        assert (hit.codes, hit.source) == ((FAMILY,), "nppes")
        assert directory.taxonomies(B, date(2025, 1, 1)).source == "nppes"
        assert directory.has_credential(A, "ISCD", date(2024, 6, 1))
        assert not directory.has_credential(A, "ISCD", date(2024, 5, 31))

    def test_every_taxonomy_in_force_counts(self, build):
        db = build(roster=f"{A},{CARDIO},,2020-01-01,\n{A},{ENDO},,2023-01-01,\n")
        assert set(lookup(db).taxonomies(A, date(2024, 1, 1)).codes) == {CARDIO, ENDO}
        assert lookup(db).taxonomies(A, date(2022, 1, 1)).codes == (CARDIO,)

    def test_the_cache_is_bounded_and_sees_a_reimport(self, build, tmp_path):
        db = build(nppes=[Provider(npi(400000000 + i), "1", [RAD]) for i in range(10)])
        directory = ProviderDirectory([SqliteSource(db)], capacity=3)
        for i in range(10):
            directory.taxonomies(npi(400000000 + i), None)
        assert len(directory._cache) == 3 and directory.misses == 10
        directory.taxonomies(npi(400000009), None)
        assert directory.hits == 1
        second = tmp_path / "second.csv"
        write(second, [Provider(npi(400000009), "1", [FAMILY])])
        store.import_nppes(db, second, progress=False)
        directory._until_check = 1  # the next lookup asks the source whether it changed
        assert directory.taxonomies(npi(400000009), None).codes == (FAMILY,)

    def test_a_file_that_is_not_a_directory_is_one_line_error(self, tmp_path):
        bogus = tmp_path / "d.sqlite"
        bogus.write_bytes(b"not a database at all" * 100)
        with pytest.raises(ConfigError, match="provider directory unusable|not an edi-gate"):
            SqliteSource(bogus).check()

    def test_directory_file_is_private(self, build):
        db = build(roster=f"{A},{CARDIO},,,\n")
        assert db.stat().st_mode & 0o077 == 0

    def test_default_path_follows_xdg_state_home(self, tmp_path):
        assert store.default_path() == tmp_path / "state" / "edi-gate" / "directory.sqlite"


def test_the_progress_bar_follows_the_bytes_read(tmp_path, monkeypatch):
    import contextlib

    import click

    src = tmp_path / "npidata.csv"
    write(src, synthetic(10_000, seed=2))
    seen: dict[str, int] = {"length": 0, "done": 0, "updates": 0}

    class Bar:
        def update(self, n: int) -> None:
            seen["done"] += n
            seen["updates"] += 1

    @contextlib.contextmanager
    def progressbar(length: int, label: str, file):
        seen["length"] = length
        yield Bar()

    monkeypatch.setattr(click, "progressbar", progressbar)
    result = store.import_nppes(tmp_path / "d.sqlite", src, progress=True)
    assert result.npis > 9_000
    assert seen["length"] == seen["done"] == src.stat().st_size
    assert seen["updates"] > 1
