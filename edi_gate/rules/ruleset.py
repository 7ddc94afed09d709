"""Rulesets as data: TOML files under rulesets/ holding tables, code families and rule docs.

Loading validates everything (unknown keys, malformed codes and taxonomies, dates, references)
because a typo in a payer edit silently changes who gets paid; ``validate`` collects every problem
for ``rules lint`` while ``load_ruleset`` raises the first as a ConfigError with file and line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from edi_gate.errors import ConfigError, read_config_text
from edi_gate.memo import TextMemo
from edi_gate.rules.base import Rule, RuleMeta, registry
from edi_gate.rules.codeset import (
    CODE_RE,
    TAXONOMY_PREFIX_RE,
    TAXONOMY_RE,
    CodeSet,
    parse_entries,
    plain_codes,
)

COMPONENTS = ("technical", "global")  # ordered from least to most permissive
NO_CODES = CodeSet()  # shared empty set: an unknown family matches nothing
MAX_TAXONOMY_LENGTH = 10  # a NUCC code; longer PRV03 texts are looked up, never memoised
RULE_ID_RE = re.compile(r"^[A-Z]{2,6}\d{3}$")
STATUS_RE = re.compile(r"^(A[0-8]):(\d{1,3})$")
MAX_PYX12_STATUS = 771  # pyx12's X214 claim_status list stops at 771
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
POS_RE = re.compile(r"^\d{2}$")

# Allowed keys per section ("*" marks a table of named sub-tables).
SECTION_KEYS: dict[str, set[str]] = {
    "ruleset": {"id", "title", "effective_from", "effective_to", "sources", "notes"},
    "settings": {
        "office_pos",
        "radiologist_prefixes",
        "imaging_provider_taxonomies",
        "npp_prefixes",
        "imaging_ranges",
        "ultrasound_guidance_excluded_specialties",
        "reading",
    },
    "specialties*": {"label", "taxonomies", "prefixes", "reading"},
    "privilege_tables*": {
        "title",
        "source",
        "specialties",
        "component",
        "prior_authorization",
        "codes",
        "reading",
    },
    "certifications*": {"title", "source", "credentials", "codes", "reading"},
    "mobile": {"taxonomies", "ob_table", "interpretation_credentials", "reading"},
    "families": set(),  # free names -> code lists
    "deleted_codes*": {"replacement", "deleted_on", "reading"},
    "nonspecific_codes*": {"instead", "reading"},
    "add_ons*": {"primaries", "primary_label"},
    "pctc": set(),  # indicator digit -> code list
    "equivalents": set(),  # name -> {code: code}
    "rules*": {"summary", "source", "reading", "status", "enabled"},
}
TOP_KEYS = {k.rstrip("*") for k in SECTION_KEYS}


@dataclass(slots=True)
class Specialty:
    id: str
    label: str
    taxonomies: frozenset[str]
    prefixes: tuple[str, ...]
    reading: str = ""


@dataclass(slots=True)
class PrivilegeTable:
    id: str
    title: str
    source: str
    specialties: tuple[str, ...]
    component: str
    prior_authorization: bool
    codes: CodeSet
    code_list: tuple[str, ...]
    reading: str = ""


@dataclass(slots=True)
class Certification:
    id: str
    title: str
    source: str
    credentials: tuple[str, ...]
    codes: CodeSet
    code_list: tuple[str, ...]
    reading: str = ""


@dataclass(slots=True)
class Mobile:
    taxonomies: frozenset[str] = frozenset()
    ob_codes: CodeSet = field(default_factory=CodeSet)
    interpretation_credentials: tuple[str, ...] = ()
    reading: str = ""


@dataclass(slots=True)
class AddOn:
    primaries: CodeSet
    label: str


class Ruleset:
    """One ruleset file, validated, with lookups precomputed or memoised for the hot path."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        head = data.get("ruleset", {})
        self.id: str = head.get("id", "")
        self.title: str = head.get("title", "")
        self.effective_from: date | None = None
        self.effective_to: date | None = None
        self.sources: tuple[str, ...] = tuple(head.get("sources", ()))
        self.notes: str = head.get("notes", "")
        self.office_pos: frozenset[str] = frozenset({"11"})
        self.radiologist_prefixes: tuple[str, ...] = ()
        self.imaging_provider_taxonomies: frozenset[str] = frozenset()
        self.npp_prefixes: tuple[str, ...] = ()
        self.imaging: CodeSet = CodeSet()
        self.guidance_excluded_specialties: tuple[str, ...] = ()
        self.specialties: dict[str, Specialty] = {}
        self.tables: dict[str, PrivilegeTable] = {}
        self.certifications: dict[str, Certification] = {}
        self.mobile = Mobile()
        self.families: dict[str, CodeSet] = {}
        self.deleted: dict[str, tuple[str, date | None, str]] = {}
        self.nonspecific: dict[str, str] = {}
        self.add_ons: dict[str, AddOn] = {}
        self.pctc: dict[str, str] = {}
        self.equivalents: dict[str, dict[str, str]] = {}
        self.rule_meta: dict[str, RuleMeta] = {}
        self.rules: list[Rule] = []
        self.prior_auth_codes: CodeSet = CodeSet()
        self.certification_codes: CodeSet = CodeSet()
        # Keyed by PRV03 text from the input: bounded in entries and key length (edi_gate.memo).
        self._specialty_memo = TextMemo(self._specialties_of, MAX_TAXONOMY_LENGTH)
        # Keyed by the specialty ids a taxonomy maps to: as many as the ruleset makes, no more.
        self._grant_memo: dict[tuple[str, ...], dict[str, str]] = {}

    # -- dates -------------------------------------------------------------------------------
    def covers(self, on: date) -> bool:
        """True when the ruleset is in force on ``on`` (both ends inclusive, None = open)."""
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to
        )

    def range_text(self) -> str:
        start = self.effective_from.isoformat() if self.effective_from else "open"
        end = self.effective_to.isoformat() if self.effective_to else "open"
        return f"{start} .. {end}"

    # -- lookups -----------------------------------------------------------------------------
    def family(self, name: str) -> CodeSet:
        """The named code family; an empty set when the ruleset has none (no new object)."""
        return self.families.get(name, NO_CODES)

    def specialties_for(self, taxonomy: str) -> tuple[str, ...]:
        """Specialty ids a taxonomy belongs to (exact codes, then 'and subspecialties' prefixes)."""
        return self._specialty_memo.get(taxonomy)

    def _specialties_of(self, taxonomy: str) -> tuple[str, ...]:
        return tuple(
            s.id
            for s in self.specialties.values()
            if taxonomy in s.taxonomies or any(taxonomy.startswith(p) for p in s.prefixes)
        )

    def grants_for(self, taxonomy: str) -> dict[str, str]:
        """code -> component a taxonomy is privileged for: the union of its tables, where a code
        appears in two of them the more permissive component wins. Ranges are not allowed in
        privilege tables, so this is a plain dict."""
        key = self.specialties_for(taxonomy)
        hit = self._grant_memo.get(key)
        if hit is None:
            specs = set(key)
            hit = {}
            for table in self.tables.values():
                if specs.intersection(table.specialties):
                    rank = COMPONENTS.index(table.component)
                    for code in table.code_list:
                        old = hit.get(code)
                        if old is None or COMPONENTS.index(old) < rank:
                            hit[code] = table.component
            self._grant_memo[key] = hit
        return hit

    def tables_for(self, taxonomy: str) -> list[PrivilegeTable]:
        specs = set(self.specialties_for(taxonomy))
        return [t for t in self.tables.values() if specs.intersection(t.specialties)]

    def describe_taxonomy(self, taxonomy: str) -> str:
        """'Cardiovascular disease (207RC0000X)' for messages; the taxonomy alone when unmapped."""
        labels = [self.specialties[s].label for s in self.specialties_for(taxonomy)]
        if self.is_radiologist(taxonomy):
            labels = ["Radiology"]
        elif self.is_npp(taxonomy):
            labels = ["Non-physician practitioner"]
        if not labels:
            return f"taxonomy {taxonomy}"
        return f"{'/'.join(labels)} ({taxonomy})"

    def is_radiologist(self, taxonomy: str) -> bool:
        return taxonomy.startswith(self.radiologist_prefixes)

    def is_npp(self, taxonomy: str) -> bool:
        return taxonomy.startswith(self.npp_prefixes)

    def is_imaging(self, code: str) -> bool:
        return code in self.imaging


# ------------------------------------------------------------------------------------------
# locating problems in the source text


class Locator:
    """Best-effort line numbers for problems found after TOML parsing (tomllib keeps none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(
        self, section: str | None = None, key: str | None = None, value: str | None = None
    ) -> int | None:
        start = 0
        found: int | None = None
        if section and key:
            # [deleted_codes.75998] style: the key is part of the header
            hit = self._header(f"{section}.{key}")
            if hit is not None:
                start, found, key = hit, hit + 1, None
        if section and found is None:
            hit = self._header(section)
            if hit is not None:
                start, found = hit, hit + 1
        if key:
            kpat = re.compile(
                rf"^\s*(\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*="
            )
            for i in range(start, len(self.lines)):
                if i > start and section and self.lines[i].lstrip().startswith("["):
                    break
                if kpat.match(self.lines[i]):
                    start, found = i, i + 1
                    break
        if value is not None:
            for needle in (f'"{value}"', f"'{value}'", value):  # quoted first: '7681' vs 76812
                for i in range(start, len(self.lines)):
                    if i > start and self.lines[i].lstrip().startswith("["):
                        break
                    if needle in self.lines[i]:
                        return i + 1
        return found

    def _header(self, section: str) -> int | None:
        pat = _header_pattern(section)
        return next((i for i, ln in enumerate(self.lines) if pat.match(ln)), None)


def _header_pattern(section: str) -> re.Pattern[str]:
    parts = section.split(".")
    quoted = (rf"(?:\"{re.escape(p)}\"|'{re.escape(p)}'|{re.escape(p)})" for p in parts)
    return re.compile(r"^\s*\[\[?\s*" + r"\s*\.\s*".join(quoted) + r"\s*\]\]?\s*(#.*)?$")


@dataclass(slots=True)
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


# ------------------------------------------------------------------------------------------
# parsing + validation


def _toml_error_line(exc: tomllib.TOMLDecodeError, text: str) -> int | None:
    m = re.search(r"line (\d+)", str(exc))
    if m:
        return int(m.group(1))
    if "end of document" in str(exc):
        return max(1, len(text.splitlines()))
    return None


def _as_date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return date.fromisoformat(value)  # may raise ValueError on 2025-02-30
    raise ValueError(value)


def validate(path: Path, text: str | None = None) -> tuple[Ruleset | None, list[Problem]]:
    """Parse and check one ruleset file; returns the ruleset (None if unreadable) and problems."""
    problems: list[Problem] = []
    p = str(path)
    if text is None:
        try:
            text = read_config_text(path, "ruleset")
        except ConfigError as exc:
            return None, [Problem(p, exc.line, exc.message)]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(p, _toml_error_line(exc, text), f"invalid TOML: {exc}")]
    loc = Locator(text)
    rs = Ruleset(path, data)

    def add(
        msg: str, section: str | None = None, key: str | None = None, value: str | None = None
    ) -> None:
        problems.append(Problem(p, loc.find(section, key, value), msg))

    def str_list(obj: object, where: str, section: str, key: str) -> list[str]:
        if not isinstance(obj, list) or not all(isinstance(x, str) for x in obj):
            add(f"{where} must be a list of strings", section, key)
            return []
        return list(obj)

    def check_keys(section: str, table: object, allowed: set[str], where: str) -> dict[str, Any]:
        if not isinstance(table, dict):
            add(f"{where} must be a table", section)
            return {}
        for k in table:
            if allowed and k not in allowed:
                add(f"unknown key {k!r} in {where}", section, k)
        return table

    for k in data:
        if k not in TOP_KEYS:
            add(f"unknown top-level key {k!r}", k)

    # [ruleset]
    head = check_keys("ruleset", data.get("ruleset", {}), SECTION_KEYS["ruleset"], "[ruleset]")
    if not isinstance(head.get("id"), str) or not re.match(
        r"^[A-Za-z0-9][A-Za-z0-9._-]*$", head.get("id", "")
    ):
        add("[ruleset] id is missing or malformed", "ruleset", "id")
    for key in ("effective_from", "effective_to"):
        try:
            setattr(rs, key, _as_date(head.get(key)))
        except ValueError:
            add(f"[ruleset] {key} {head.get(key)!r} is not a date YYYY-MM-DD", "ruleset", key)
    if "effective_from" not in head:
        add("[ruleset] effective_from is required", "ruleset")
    if rs.effective_from and rs.effective_to and rs.effective_to < rs.effective_from:
        add("[ruleset] effective_to is before effective_from", "ruleset", "effective_to")
    rs.sources = tuple(str_list(head.get("sources", []), "[ruleset] sources", "ruleset", "sources"))
    if not rs.sources:
        add("[ruleset] sources must name at least one seed", "ruleset", "sources")

    # [families] first: other sections reference them with @name
    raw_families = check_keys("families", data.get("families", {}), set(), "[families]")
    family_lists: dict[str, list[object]] = {}
    for name, entries in raw_families.items():
        if not NAME_RE.match(name):
            add(f"family name {name!r} must be lower_snake_case", "families", name)
        if not isinstance(entries, list):
            add(f"family {name!r} must be a list of codes", "families", name)
            continue
        family_lists[name] = entries
    for name, entries in family_lists.items():
        codes, errs = parse_entries(entries, family_lists)
        for e in errs:
            add(f"family {name!r}: {e}", "families", name, _needle(e))
        rs.families[name] = codes

    def codeset(entries: object, where: str, section: str, key: str) -> CodeSet:
        if not isinstance(entries, list):
            add(f"{where} must be a list of codes", section, key)
            return CodeSet()
        codes, errs = parse_entries(entries, family_lists)
        for e in errs:
            add(f"{where}: {e}", section, key, _needle(e))
        return codes

    def taxonomy_list(obj: object, where: str, section: str, key: str) -> list[str]:
        out = []
        for t in str_list(obj, where, section, key):
            if not TAXONOMY_RE.match(t):
                add(
                    f"{where}: malformed taxonomy {t!r} (10 characters ending in X)",
                    section,
                    key,
                    t,
                )
            elif t in out:
                add(f"{where}: duplicate taxonomy {t!r}", section, key, t)
            else:
                out.append(t)
        return out

    def prefix_list(obj: object, where: str, section: str, key: str) -> tuple[str, ...]:
        out = []
        for t in str_list(obj, where, section, key):
            if not TAXONOMY_PREFIX_RE.match(t):
                add(f"{where}: malformed taxonomy prefix {t!r}", section, key, t)
            else:
                out.append(t)
        return tuple(out)

    # [settings]
    st = check_keys("settings", data.get("settings", {}), SECTION_KEYS["settings"], "[settings]")
    pos = str_list(st.get("office_pos", ["11"]), "[settings] office_pos", "settings", "office_pos")
    for code in pos:
        if not POS_RE.match(code):
            add(
                f"[settings] office_pos: malformed place of service {code!r}",
                "settings",
                "office_pos",
                code,
            )
    rs.office_pos = frozenset(pos)
    rs.radiologist_prefixes = prefix_list(
        st.get("radiologist_prefixes", []),
        "[settings] radiologist_prefixes",
        "settings",
        "radiologist_prefixes",
    )
    rs.npp_prefixes = prefix_list(
        st.get("npp_prefixes", []), "[settings] npp_prefixes", "settings", "npp_prefixes"
    )
    rs.imaging_provider_taxonomies = frozenset(
        taxonomy_list(
            st.get("imaging_provider_taxonomies", []),
            "[settings] imaging_provider_taxonomies",
            "settings",
            "imaging_provider_taxonomies",
        )
    )
    rs.guidance_excluded_specialties = tuple(
        str_list(
            st.get("ultrasound_guidance_excluded_specialties", []),
            "[settings] ultrasound_guidance_excluded_specialties",
            "settings",
            "ultrasound_guidance_excluded_specialties",
        )
    )
    imaging = codeset(
        st.get("imaging_ranges", []), "[settings] imaging_ranges", "settings", "imaging_ranges"
    )

    # [specialties.*]
    for sid, body in _subtables(data, "specialties", add).items():
        sec = f"specialties.{sid}"
        body = check_keys(sec, body, SECTION_KEYS["specialties*"], f"[{sec}]")
        if not NAME_RE.match(sid):
            add(f"specialty id {sid!r} must be lower_snake_case", sec)
        taxes = taxonomy_list(body.get("taxonomies", []), f"[{sec}] taxonomies", sec, "taxonomies")
        prefixes = prefix_list(body.get("prefixes", []), f"[{sec}] prefixes", sec, "prefixes")
        if not body.get("taxonomies") and not body.get("prefixes"):
            add(f"[{sec}] needs taxonomies or prefixes", sec)
        rs.specialties[sid] = Specialty(
            sid,
            str(body.get("label", sid)),
            frozenset(taxes),
            prefixes,
            str(body.get("reading", "")),
        )
    for sid in rs.guidance_excluded_specialties:
        if sid not in rs.specialties:
            add(
                f"[settings] ultrasound_guidance_excluded_specialties: unknown specialty {sid!r}",
                "settings",
                "ultrasound_guidance_excluded_specialties",
                sid,
            )

    # [privilege_tables.*]
    for tid, body in _subtables(data, "privilege_tables", add).items():
        sec = f"privilege_tables.{tid}"
        body = check_keys(sec, body, SECTION_KEYS["privilege_tables*"], f"[{sec}]")
        specs = tuple(
            str_list(body.get("specialties", []), f"[{sec}] specialties", sec, "specialties")
        )
        for s in specs:
            if s not in rs.specialties:
                add(f"[{sec}] unknown specialty {s!r}", sec, "specialties", s)
        comp = body.get("component", "global")
        if comp not in COMPONENTS:
            add(f"[{sec}] component must be one of {', '.join(COMPONENTS)}", sec, "component")
            comp = "global"
        entries = body.get("codes", [])
        codes = codeset(entries, f"[{sec}] codes", sec, "codes")
        if codes.ranges or (
            isinstance(entries, list)
            and any(isinstance(e, str) and not CODE_RE.match(e) for e in entries)
        ):
            add(
                f"[{sec}] codes must be single codes (the seed's rows), not ranges or references",
                sec,
                "codes",
            )
        if not isinstance(body.get("prior_authorization", False), bool):
            add(f"[{sec}] prior_authorization must be true or false", sec, "prior_authorization")
        rs.tables[tid] = PrivilegeTable(
            tid,
            str(body.get("title", tid)),
            str(body.get("source", "")),
            specs,
            comp,
            bool(body.get("prior_authorization", False)),
            codes,
            tuple(plain_codes(entries if isinstance(entries, list) else [])),
            str(body.get("reading", "")),
        )

    # [certifications.*]
    for cid, body in _subtables(data, "certifications", add).items():
        sec = f"certifications.{cid}"
        body = check_keys(sec, body, SECTION_KEYS["certifications*"], f"[{sec}]")
        creds = tuple(
            c.upper()
            for c in str_list(
                body.get("credentials", []), f"[{sec}] credentials", sec, "credentials"
            )
        )
        if not creds:
            add(f"[{sec}] needs at least one credential", sec)
        entries = body.get("codes", [])
        codes = codeset(entries, f"[{sec}] codes", sec, "codes")
        rs.certifications[cid] = Certification(
            cid,
            str(body.get("title", cid)),
            str(body.get("source", "")),
            creds,
            codes,
            tuple(plain_codes(entries if isinstance(entries, list) else [])),
            str(body.get("reading", "")),
        )

    # [mobile]
    mob = check_keys("mobile", data.get("mobile", {}), SECTION_KEYS["mobile"], "[mobile]")
    ob_table = mob.get("ob_table", "")
    if ob_table and ob_table not in rs.tables:
        add(f"[mobile] ob_table {ob_table!r} is not a privilege table", "mobile", "ob_table")
    rs.mobile = Mobile(
        frozenset(
            taxonomy_list(mob.get("taxonomies", []), "[mobile] taxonomies", "mobile", "taxonomies")
        ),
        rs.tables[ob_table].codes if ob_table in rs.tables else CodeSet(),
        tuple(
            c.upper()
            for c in str_list(
                mob.get("interpretation_credentials", []),
                "[mobile] interpretation_credentials",
                "mobile",
                "interpretation_credentials",
            )
        ),
        str(mob.get("reading", "")),
    )

    # [deleted_codes.*], [nonspecific_codes.*], [add_ons.*]
    for code, body in _subtables(data, "deleted_codes", add).items():
        sec = f"deleted_codes.{code}"
        _check_code_key(code, "deleted_codes", add)
        body = check_keys(
            "deleted_codes", body, SECTION_KEYS["deleted_codes*"], f"deleted code {code}"
        )
        repl = body.get("replacement", "")
        if not isinstance(repl, str) or (repl and not CODE_RE.match(repl)):
            add(
                f"deleted code {code}: malformed replacement {repl!r}",
                "deleted_codes",
                code,
                str(repl),
            )
        try:
            when = _as_date(body.get("deleted_on"))
        except ValueError:
            add(
                f"deleted code {code}: deleted_on {body.get('deleted_on')!r} "
                "is not a date YYYY-MM-DD",
                "deleted_codes",
                code,
            )
            when = None
        rs.deleted[code] = (str(repl), when, str(body.get("reading", "")))
    for code, body in _subtables(data, "nonspecific_codes", add).items():
        _check_code_key(code, "nonspecific_codes", add)
        body = check_keys(
            "nonspecific_codes",
            body,
            SECTION_KEYS["nonspecific_codes*"],
            f"nonspecific code {code}",
        )
        rs.nonspecific[code] = str(body.get("instead", "the specific CPT code"))
    for code, body in _subtables(data, "add_ons", add).items():
        _check_code_key(code, "add_ons", add)
        body = check_keys("add_ons", body, SECTION_KEYS["add_ons*"], f"add-on {code}")
        prim = codeset(body.get("primaries", []), f"add-on {code} primaries", "add_ons", code)
        if not prim:
            add(f"add-on {code} lists no primaries", "add_ons", code)
        rs.add_ons[code] = AddOn(prim, str(body.get("primary_label", "its primary procedure")))

    # [pctc]
    pctc = check_keys("pctc", data.get("pctc", {}), set(), "[pctc]")
    for ind, entries in pctc.items():
        if not re.match(r"^[0-9]$", ind):
            add(f"[pctc] key {ind!r} must be a PC/TC indicator 0-9", "pctc", ind)
            continue
        for c in str_list(entries, f"[pctc] {ind}", "pctc", ind):
            if not CODE_RE.match(c):
                add(f"[pctc] {ind}: malformed procedure code {c!r}", "pctc", ind, c)
            elif c in rs.pctc:
                add(
                    f"[pctc] code {c!r} listed under indicators {rs.pctc[c]} and {ind}",
                    "pctc",
                    ind,
                    c,
                )
            else:
                rs.pctc[c] = ind

    # [equivalents.*]
    for name, mapping in check_keys(
        "equivalents", data.get("equivalents", {}), set(), "[equivalents]"
    ).items():
        sec = f"equivalents.{name}"
        if not isinstance(mapping, dict):
            add(f"[{sec}] must be a table code = code", sec)
            continue
        for a, b in mapping.items():
            if not CODE_RE.match(a) or not isinstance(b, str) or not CODE_RE.match(b):
                add(f"[{sec}] malformed pair {a!r} = {b!r}", sec, a)
        rs.equivalents[name] = {str(a): str(b) for a, b in mapping.items()}

    # [rules.*]
    impls = registry()
    for rid, body in _subtables(data, "rules", add).items():
        sec = f"rules.{rid}"
        body = check_keys(sec, body, SECTION_KEYS["rules*"], f"[{sec}]")
        if not RULE_ID_RE.match(rid):
            add(f"rule id {rid!r} is malformed (like PRIV001)", sec)
            continue
        if rid not in impls:
            add(f"rule {rid} has no implementation", sec)
            continue
        for key in ("summary", "source"):
            if not isinstance(body.get(key), str) or not body.get(key, "").strip():
                add(f"[{sec}] {key} is required", sec)
        m = STATUS_RE.match(str(body.get("status", "")))
        if not m:
            add(f"[{sec}] status must be CATEGORY:CODE like A7:145", sec, "status")
            category, status = "A7", "21"
        else:
            category, status = m.group(1), m.group(2)
            if category not in ("A3", "A6", "A7", "A8"):
                add(f"[{sec}] category {category} is not a rejection category", sec, "status")
            if int(status) > MAX_PYX12_STATUS:
                add(
                    f"[{sec}] status {status} is newer than pyx12's X214 list "
                    f"(max {MAX_PYX12_STATUS})",
                    sec,
                    "status",
                )
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            add(f"[{sec}] enabled must be true or false", sec, "enabled")
            enabled = True
        meta = RuleMeta(
            rid,
            str(body.get("summary", "")).strip(),
            str(body.get("source", "")).strip(),
            str(body.get("reading", "")).strip(),
            category,
            status,
            enabled,
        )
        rs.rule_meta[rid] = meta
        impl = impls[rid]
        for fam in impl.needs:
            if fam not in rs.families:
                add(f"rule {rid} needs code family {fam!r} in [families]", sec)
        rs.rules.append(impl(meta, rs))
    if not rs.rules:
        add("ruleset documents no rules", "rules")

    # derived sets
    table_codes = [c for t in rs.tables.values() for c in t.code_list]
    cert_codes = [code for cert in rs.certifications.values() for code in cert.code_list]
    rs.certification_codes = CodeSet(cert_codes)
    rs.prior_auth_codes = CodeSet(
        c for t in rs.tables.values() if t.prior_authorization for c in t.code_list
    )
    rs.imaging = imaging | CodeSet(table_codes + cert_codes) | rs.family("imaging_hcpcs")
    rs.rules.sort(key=lambda r: r.id)
    for rule in rs.rules:  # the ruleset is complete now: let rules resolve what they read
        rule.prepare()
    return rs, problems


def _subtables(data: dict[str, Any], name: str, add: Callable[..., None]) -> dict[str, Any]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        add(f"[{name}] must be a table", name)
        return {}
    return section


def _check_code_key(code: str, section: str, add: Callable[..., None]) -> None:
    if not CODE_RE.match(code):
        add(f"[{section}] malformed procedure code {code!r}", section, code)


def _needle(problem: str) -> str | None:
    m = re.search(r"'([^']+)'", problem)
    return m.group(1) if m else None


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
