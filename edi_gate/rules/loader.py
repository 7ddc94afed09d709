"""Reading a ruleset file: TOML in, every part checked, one ``Ruleset`` built out of the parts.

Loading validates everything (unknown keys, malformed codes and taxonomies, dates, references)
because a typo in a payer edit silently changes who gets paid; ``validate`` collects every problem
for ``rules lint`` while ``load_ruleset`` raises the first as a ConfigError with file and line.
Each section has its reader here, in ``edi_gate.rules.sections`` (tables) or in
``edi_gate.rules.rule_sections`` (rules); the checks on
single values are the validators of ``edi_gate.rules.validators``. Runs once per file: interpreted.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from edi_gate.config_text import toml_error_line
from edi_gate.errors import ConfigError, read_config_text
from edi_gate.rules.base import NCCI_DISTINCT_SERVICE
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.rule_sections import read_rules
from edi_gate.rules.ruleset import Header, Ruleset, Settings, Specialty
from edi_gate.rules.sections import (
    SECTION_KEYS,
    read_add_ons,
    read_certifications,
    read_deleted,
    read_equivalents,
    read_mobile,
    read_nonspecific,
    read_pctc,
    read_tables,
)
from edi_gate.rules.validators import NAME_RE, Checker, Problem

__all__ = ["Problem", "load_ruleset", "overlaps", "validate"]

TOP_KEYS = {k.rstrip("*") for k in SECTION_KEYS}
RULESET_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def validate(path: Path, text: str | None = None) -> tuple[Ruleset | None, list[Problem]]:
    """Parse and check one ruleset file; returns the ruleset (None if unreadable) and problems."""
    where = str(path)
    if text is None:
        try:
            text = read_config_text(path, "ruleset")
        except ConfigError as exc:
            return None, [Problem(where, exc.line, exc.message)]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(where, toml_error_line(exc, text), f"invalid TOML: {exc}")]
    check = Checker(where, text)
    return read_ruleset(check, path, data), check.problems


def load_ruleset(path: Path) -> Ruleset:
    """Load one ruleset or raise ConfigError (file, line, reason) for its first problem."""
    rs, problems = validate(path)
    if problems or rs is None:
        first = problems[0]
        more = (
            f" (and {len(problems) - 1} more problems; run `edi-gate rules lint`)"
            if len(problems) > 1
            else ""
        )
        raise ConfigError(first.message + more, path=first.path, line=first.line)
    return rs


def read_ruleset(check: Checker, path: Path, data: dict[str, Any]) -> Ruleset:
    """Every section in the order a reader of the file meets them (problems keep that order),
    [families] before anything that names one with @name."""
    for key in data:
        if key not in TOP_KEYS:
            check.add(f"unknown top-level key {key!r}", key)
    header = read_header(check, data)
    families = read_families(check, data)
    settings = read_settings(check, data)
    specialties = read_specialties(check, data)
    check_excluded_specialties(check, settings, specialties)
    tables = read_tables(check, data, specialties)
    return Ruleset(
        path,
        header,
        settings,
        specialties=specialties,
        tables=tables,
        certifications=read_certifications(check, data),
        mobile=read_mobile(check, data, tables),
        families=families,
        deleted=read_deleted(check, data),
        nonspecific=read_nonspecific(check, data),
        add_ons=read_add_ons(check, data),
        pctc=read_pctc(check, data),
        equivalents=read_equivalents(check, data),
        rules=read_rules(check, data, settings, families),
    )


def read_header(check: Checker, data: dict[str, Any]) -> Header:
    """[ruleset]: an id (file-name safe), a start date, an end date not before it, and the seeds
    it comes from: the engine picks a ruleset by date, so a bad date misroutes every claim."""
    head = check.table("ruleset", data.get("ruleset", {}), SECTION_KEYS["ruleset"], "[ruleset]")
    ruleset_id = head.get("id")
    if not isinstance(ruleset_id, str) or not RULESET_ID_RE.match(ruleset_id):
        check.add("[ruleset] id is missing or malformed", "ruleset", "id")
    start, end = (
        check.optional_date(
            head.get(key),
            f"[ruleset] {key} {head.get(key)!r} is not a date YYYY-MM-DD",
            "ruleset",
            key,
        )
        for key in ("effective_from", "effective_to")
    )
    if "effective_from" not in head:
        check.add("[ruleset] effective_from is required", "ruleset")
    if start and end and end < start:
        check.add("[ruleset] effective_to is before effective_from", "ruleset", "effective_to")
    sources = check.strings(head.get("sources", []), "[ruleset] sources", "ruleset", "sources")
    if not sources:
        check.add("[ruleset] sources must name at least one seed", "ruleset", "sources")
    return Header(
        str(head.get("id", "")),
        str(head.get("title", "")),
        start,
        end,
        tuple(sources),
        str(head.get("notes", "")),
    )


def read_families(check: Checker, data: dict[str, Any]) -> dict[str, CodeSet]:
    """[families]: named code lists (lower_snake_case) that other lists reference as @name."""
    raw = check.table("families", data.get("families", {}), set(), "[families]")
    for name, entries in raw.items():
        if not NAME_RE.match(name):
            check.add(f"family name {name!r} must be lower_snake_case", "families", name)
        if not isinstance(entries, list):
            check.add(f"family {name!r} must be a list of codes", "families", name)
            continue
        check.families[name] = entries
    return {
        name: check.codes(entries, f"family {name!r}", "families", name)
        for name, entries in check.families.items()
    }


def read_settings(check: Checker, data: dict[str, Any]) -> Settings:
    """[settings]: places of service, the provider prefixes exempt from or barred from office
    imaging, and the ranges that make a code imaging at all."""
    st = check.table("settings", data.get("settings", {}), SECTION_KEYS["settings"], "[settings]")
    office = check.places(st.get("office_pos"), "office_pos", ["11"])
    outpatient = check.places(st.get("outpatient_pos"), "outpatient_pos", [])
    modifiers = check.strings(
        st.get("distinct_service_modifiers", list(NCCI_DISTINCT_SERVICE)),
        *_setting("distinct_service_modifiers"),
    )
    radiologists = check.prefixes(
        st.get("radiologist_prefixes", []), *_setting("radiologist_prefixes")
    )
    npps = check.prefixes(st.get("npp_prefixes", []), *_setting("npp_prefixes"))
    providers = check.taxonomies(
        st.get("imaging_provider_taxonomies", []), *_setting("imaging_provider_taxonomies")
    )
    excluded = check.strings(
        st.get("ultrasound_guidance_excluded_specialties", []),
        *_setting("ultrasound_guidance_excluded_specialties"),
    )
    imaging = check.codes(st.get("imaging_ranges", []), *_setting("imaging_ranges"))
    return Settings(
        office,
        outpatient,
        tuple(modifiers),
        radiologists,
        frozenset(providers),
        npps,
        imaging,
        tuple(excluded),
    )


def _setting(key: str) -> tuple[str, str, str]:
    """How a validator names a [settings] key: in messages, and to find its line."""
    return f"[settings] {key}", "settings", key


def read_specialties(check: Checker, data: dict[str, Any]) -> dict[str, Specialty]:
    """[specialties.*]: each seed specialty as NUCC classifications (every code under them) and
    named specializations, expanded here into the taxonomies that count for it."""
    specialties: dict[str, Specialty] = {}
    for sid, body in check.subtables(data, "specialties").items():
        sec = f"specialties.{sid}"
        body = check.table(sec, body, SECTION_KEYS["specialties*"], f"[{sec}]")
        if not NAME_RE.match(sid):
            check.add(f"specialty id {sid!r} must be lower_snake_case", sec)
        classes = check.taxonomies(
            body.get("classifications", []), f"[{sec}] classifications", sec, "classifications"
        )
        named = check.taxonomies(
            body.get("specializations", []), f"[{sec}] specializations", sec, "specializations"
        )
        members = list(named) + expand_classifications(check, sec, classes)
        if not body.get("classifications") and not body.get("specializations"):
            check.add(f"[{sec}] needs classifications or specializations (NUCC codes)", sec)
        specialties[sid] = Specialty(
            sid,
            str(body.get("label", sid)),
            frozenset(members),
            tuple(classes),
            tuple(named),
            str(body.get("reading", "")),
        )
    return specialties


def expand_classifications(check: Checker, sec: str, classes: list[str]) -> list[str]:
    """Every NUCC code under the listed classifications; a specialization listed as one is a
    problem (it would silently stand for itself only)."""
    members: list[str] = []
    for code in classes:
        node = check.nucc.get(code)
        if node is not None and not node.is_classification:
            check.add(
                f"[{sec}] classifications: {code!r} is the specialization {node.name}, not a "
                "classification; list it under specializations",
                sec,
                "classifications",
                code,
            )
            continue
        members.extend(check.nucc.classification_members(code))
    return members


def check_excluded_specialties(
    check: Checker, settings: Settings, specialties: dict[str, Specialty]
) -> None:
    """[settings] ultrasound_guidance_excluded_specialties must name [specialties.*] ids."""
    key = "ultrasound_guidance_excluded_specialties"
    for sid in settings.guidance_excluded_specialties:
        if sid not in specialties:
            check.add(f"[settings] {key}: unknown specialty {sid!r}", "settings", key, sid)


def overlaps(rulesets: list[Ruleset]) -> list[Problem]:
    """Pairs of rulesets in force on a common date: the engine could not pick one."""
    out = []
    ordered = sorted(rulesets, key=lambda r: r.effective_from or date.min)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            a_end = a.effective_to or date.max
            b_start = b.effective_from or date.min
            if b_start <= a_end:
                out.append(
                    Problem(
                        str(b.path),
                        None,
                        f"effective range {b.range_text()} of {b.id} overlaps "
                        f"{a.id} ({a.range_text()}) in {a.path}",
                    )
                )
    return out
