"""Readers of a ruleset's tables: privilege tables, certifications, mobile imaging, code tables.

Each reader checks one section with the validators of ``edi_gate.rules.validators`` and returns
the model's parts (``edi_gate.rules.ruleset``); the rules section has its own module
(``edi_gate.rules.rule_sections``). ``SECTION_KEYS`` is the file's schema: the keys each section
may hold, so a misspelt key is an error instead of a silently ignored setting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from edi_gate.rules.codeset import CODE_RE, CodeSet, plain_codes
from edi_gate.rules.ruleset import (
    COMPONENTS,
    AddOn,
    Certification,
    Mobile,
    PrivilegeTable,
    Specialty,
)
from edi_gate.rules.validators import Checker

PCTC_INDICATOR_RE = re.compile(r"^[0-9]$")

# Allowed keys per section ("*" marks a table of named sub-tables).
SECTION_KEYS: dict[str, set[str]] = {
    "ruleset": {"id", "title", "effective_from", "effective_to", "sources", "notes"},
    "settings": {
        "office_pos",
        "outpatient_pos",
        "distinct_service_modifiers",
        "radiologist_prefixes",
        "imaging_provider_taxonomies",
        "npp_prefixes",
        "imaging_ranges",
        "ultrasound_guidance_excluded_specialties",
        "reading",
    },
    "specialties*": {"label", "classifications", "specializations", "reading"},
    "privilege_tables*": {
        "title",
        "source",
        "specialties",
        "component",
        "prior_authorization",
        "codes",
        "reading",
    },
    "certifications*": {
        "title",
        "source",
        "credentials",
        "practice_credentials",
        "initial_only",
        "codes",
        "reading",
    },
    "mobile": {"taxonomies", "ob_table", "interpretation_credentials", "reading"},
    "families": set(),  # free names -> code lists
    "deleted_codes*": {"replacement", "deleted_on", "reading"},
    "nonspecific_codes*": {"instead", "reading"},
    "add_ons*": {"primaries", "primary_label", "remedies"},
    "pctc": set(),  # indicator digit -> code list
    "equivalents": set(),  # name -> {code: code}
    "rules*": {
        "summary",
        "source",
        "reading",
        "status",
        "enabled",
        # a declared same-day edit (SameDayEdit): no Python class of its own
        "kind",
        "target",
        "partner",
        "bypass",
        "message",
        "instead",
        "otherwise",
    },
}


def listed_codes(entries: object) -> tuple[str, ...]:
    """The single codes of a list as written, for table walks and the catalog."""
    return tuple(plain_codes(entries if isinstance(entries, list) else []))


def read_tables(
    check: Checker, data: dict[str, Any], specialties: dict[str, Specialty]
) -> dict[str, PrivilegeTable]:
    """[privilege_tables.*]: the seed's rows of codes each specialty may bill in the office."""
    return {
        tid: read_table(check, f"privilege_tables.{tid}", tid, body, specialties)
        for tid, body in check.subtables(data, "privilege_tables").items()
    }


def read_table(
    check: Checker, sec: str, tid: str, body: object, specialties: dict[str, Specialty]
) -> PrivilegeTable:
    """One privilege table: known specialties, a component, single codes only (a range would
    privilege codes the seed never listed)."""
    body = check.table(sec, body, SECTION_KEYS["privilege_tables*"], f"[{sec}]")
    specialty_ids = tuple(
        check.strings(body.get("specialties", []), f"[{sec}] specialties", sec, "specialties")
    )
    for sid in specialty_ids:
        if sid not in specialties:
            check.add(f"[{sec}] unknown specialty {sid!r}", sec, "specialties", sid)
    component = body.get("component", "global")
    if component not in COMPONENTS:
        check.add(f"[{sec}] component must be one of {', '.join(COMPONENTS)}", sec, "component")
        component = "global"
    entries = body.get("codes", [])
    codes = check.codes(entries, f"[{sec}] codes", sec, "codes")
    if codes.ranges or (
        isinstance(entries, list)
        and any(isinstance(e, str) and not CODE_RE.match(e) for e in entries)
    ):
        message = f"[{sec}] codes must be single codes (the seed's rows), not ranges or references"
        check.add(message, sec, "codes")
    return PrivilegeTable(
        tid,
        str(body.get("title", tid)),
        str(body.get("source", "")),
        specialty_ids,
        component,
        check.flag(body, sec, "prior_authorization", False),
        codes,
        listed_codes(entries),
        str(body.get("reading", "")),
    )


def read_certifications(check: Checker, data: dict[str, Any]) -> dict[str, Certification]:
    """[certifications.*]: codes only holders of a credential may bill (ISCD, AIUM, ASBS)."""
    return {
        cid: read_certification(check, f"certifications.{cid}", cid, body)
        for cid, body in check.subtables(data, "certifications").items()
    }


def read_certification(check: Checker, sec: str, cid: str, body: object) -> Certification:
    """One certification: at least one credential, and its practice-level and initial-only
    credentials among them (a subset naming another credential grants nothing)."""
    body = check.table(sec, body, SECTION_KEYS["certifications*"], f"[{sec}]")
    creds = check.credentials(
        body.get("credentials", []), f"[{sec}] credentials", sec, "credentials"
    )
    if not creds:
        check.add(f"[{sec}] needs at least one credential", sec)
    subsets: dict[str, tuple[str, ...]] = {}
    for key in ("practice_credentials", "initial_only"):
        subsets[key] = check.credentials(body.get(key, []), f"[{sec}] {key}", sec, key)
        for cred in subsets[key]:
            if cred not in creds:
                check.add(f"[{sec}] {key}: {cred!r} is not one of its credentials", sec, key, cred)
    entries = body.get("codes", [])
    return Certification(
        cid,
        str(body.get("title", cid)),
        str(body.get("source", "")),
        creds,
        check.codes(entries, f"[{sec}] codes", sec, "codes"),
        listed_codes(entries),
        str(body.get("reading", "")),
        subsets["practice_credentials"],
        subsets["initial_only"],
    )


def read_mobile(check: Checker, data: dict[str, Any], tables: dict[str, PrivilegeTable]) -> Mobile:
    """[mobile]: mobile imaging taxonomies, the privilege table of its OB ultrasound codes and
    who may read those."""
    mob = check.table("mobile", data.get("mobile", {}), SECTION_KEYS["mobile"], "[mobile]")
    ob_table = mob.get("ob_table", "")
    known = isinstance(ob_table, str) and ob_table in tables
    if ob_table and not known:
        check.add(f"[mobile] ob_table {ob_table!r} is not a privilege table", "mobile", "ob_table")
    taxonomies = check.taxonomies(
        mob.get("taxonomies", []), "[mobile] taxonomies", "mobile", "taxonomies"
    )
    interpreters = "interpretation_credentials"
    return Mobile(
        frozenset(taxonomies),
        tables[ob_table].codes if known else CodeSet(),
        check.credentials(
            mob.get(interpreters, []), f"[mobile] {interpreters}", "mobile", interpreters
        ),
        str(mob.get("reading", "")),
    )


def code_tables(
    check: Checker, data: dict[str, Any], name: str, what: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The [name.CODE] tables of a section keyed by procedure code, each checked for its keys
    (``what`` names one in messages: 'deleted code 75998'). One at a time, so the problems of a
    table come together, in file order."""
    for code, body in check.subtables(data, name).items():
        check.code_key(code, name)
        yield code, check.table(f"{name}.{code}", body, SECTION_KEYS[f"{name}*"], f"{what} {code}")


def read_deleted(check: Checker, data: dict[str, Any]) -> dict[str, tuple[str, date | None, str]]:
    """[deleted_codes.*]: deleted codes, their replacement and the date they stopped counting."""
    deleted: dict[str, tuple[str, date | None, str]] = {}
    for code, body in code_tables(check, data, "deleted_codes", "deleted code"):
        repl = body.get("replacement", "")
        if not isinstance(repl, str) or (repl and not CODE_RE.match(repl)):
            message = f"deleted code {code}: malformed replacement {repl!r}"
            check.add(message, "deleted_codes", code, str(repl))
        raw = body.get("deleted_on")
        message = f"deleted code {code}: deleted_on {raw!r} is not a date YYYY-MM-DD"
        when = check.optional_date(raw, message, "deleted_codes", code)
        deleted[code] = (str(repl), when, str(body.get("reading", "")))
    return deleted


def read_nonspecific(check: Checker, data: dict[str, Any]) -> dict[str, str]:
    """[nonspecific_codes.*]: unlisted codes and what to bill instead."""
    bodies = code_tables(check, data, "nonspecific_codes", "nonspecific code")
    return {code: str(body.get("instead", "the specific CPT code")) for code, body in bodies}


def read_add_ons(check: Checker, data: dict[str, Any]) -> dict[str, AddOn]:
    """[add_ons.*]: add-on codes, the primaries one of which must be billed beside them, and the
    remedy for a code beside it that explains the error."""
    add_ons: dict[str, AddOn] = {}
    for code, body in code_tables(check, data, "add_ons", "add-on"):
        where = f"add-on {code}"
        primaries = check.codes(body.get("primaries", []), f"{where} primaries", "add_ons", code)
        if not primaries:
            check.add(f"{where} lists no primaries", "add_ons", code)
        remedies = check.code_notes(body.get("remedies", {}), f"{where} remedies", "add_ons", code)
        label = str(body.get("primary_label", "its primary procedure"))
        add_ons[code] = AddOn(primaries, label, remedies)
    return add_ons


def read_pctc(check: Checker, data: dict[str, Any]) -> dict[str, str]:
    """[pctc]: code -> PC/TC indicator, each code under one indicator only."""
    pctc: dict[str, str] = {}
    for ind, entries in check.table("pctc", data.get("pctc", {}), set(), "[pctc]").items():
        if not PCTC_INDICATOR_RE.match(ind):
            check.add(f"[pctc] key {ind!r} must be a PC/TC indicator 0-9", "pctc", ind)
            continue
        for code in check.strings(entries, f"[pctc] {ind}", "pctc", ind):
            if not CODE_RE.match(code):
                check.add(f"[pctc] {ind}: malformed procedure code {code!r}", "pctc", ind, code)
            elif code in pctc:
                message = f"[pctc] code {code!r} listed under indicators {pctc[code]} and {ind}"
                check.add(message, "pctc", ind, code)
            else:
                pctc[code] = ind
    return pctc


def read_equivalents(check: Checker, data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """[equivalents.*]: named tables code = code (a code and the one it stands for)."""
    raw = check.table("equivalents", data.get("equivalents", {}), set(), "[equivalents]")
    equivalents: dict[str, dict[str, str]] = {}
    for name, mapping in raw.items():
        sec = f"equivalents.{name}"
        if not isinstance(mapping, dict):
            check.add(f"[{sec}] must be a table code = code", "equivalents", name)
            continue
        for a, b in mapping.items():
            if not CODE_RE.match(a) or not isinstance(b, str) or not CODE_RE.match(b):
                check.add(f"[{sec}] malformed pair {a!r} = {b!r}", sec, a)
        equivalents[name] = {str(a): str(b) for a, b in mapping.items()}
    return equivalents
