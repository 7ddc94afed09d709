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
from edi_gate.rules import nucc
from edi_gate.rules.base import (
    NCCI_DISTINCT_SERVICE,
    SAME_DAY_KINDS,
    Rule,
    RuleMeta,
    SameDayEdit,
    SameDaySpec,
    registry,
)
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
MODIFIER_RE = re.compile(r"^[0-9A-Z]{2}$")

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
TOP_KEYS = {k.rstrip("*") for k in SECTION_KEYS}


@dataclass(slots=True)
class Specialty:
    """A seed specialty as NUCC nodes: whole classifications and named specializations, expanded
    at load time into ``taxonomies`` (every code that counts) from the shipped code set."""

    id: str
    label: str
    taxonomies: frozenset[str]
    classifications: tuple[str, ...] = ()
    specializations: tuple[str, ...] = ()
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
    # accreditations of a practice (AIUM, IAC accredit facilities): the billing NPI's counts too
    practice_credentials: tuple[str, ...] = ()
    # credentials whose first period only counts (ASBS: re-privilege with AIUM when it expires)
    initial_only: tuple[str, ...] = ()


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
    # same-day code -> the remedy when the add-on sits beside it (93320 beside 93306: "remove")
    remedies: dict[str, str] = field(default_factory=dict)


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
        self.outpatient_pos: frozenset[str] = frozenset()
        self.distinct_service_modifiers: tuple[str, ...] = NCCI_DISTINCT_SERVICE
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
        self.advanced_imaging: CodeSet = CodeSet()  # MRI/MRA, CT/CTA, PET: radiologists only
        # Keyed by PRV03 text from the input: bounded in entries and key length (edi_gate.memo).
        self._specialty_memo = TextMemo(self._specialties_of, MAX_TAXONOMY_LENGTH)
        # Keyed by the specialty ids a taxonomy maps to: as many as the ruleset makes, no more.
        self._grant_memo: dict[tuple[str, ...], dict[str, str]] = {}
        self._describe_memo = TextMemo(self._describe, MAX_TAXONOMY_LENGTH)

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
        """Specialty ids a taxonomy belongs to (its NUCC classification or specialization)."""
        return self._specialty_memo.get(taxonomy)

    def _specialties_of(self, taxonomy: str) -> tuple[str, ...]:
        return tuple(s.id for s in self.specialties.values() if taxonomy in s.taxonomies)

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
        """The taxonomy in words for messages: 'Cardiovascular disease (207RC0000X)' by the seed
        specialties it counts for; else NUCC's own name, 'Internal Medicine / Gastroenterology
        (207RG0100X)'; 'taxonomy X (not a NUCC code)' when the code set has no such code."""
        return self._describe_memo.get(taxonomy)

    def _describe(self, taxonomy: str) -> str:
        labels = [self.specialties[s].label for s in self.specialties_for(taxonomy)]
        if self.is_radiologist(taxonomy):
            labels = ["Radiology"]
        elif self.is_npp(taxonomy):
            labels = ["Non-physician practitioner"]
        node = nucc.code_set().get(taxonomy)
        if labels:
            return f"{'/'.join(labels)} ({taxonomy})"
        if node is not None:
            return f"{node.name} ({taxonomy})"
        return f"taxonomy {taxonomy} (not a NUCC code)"

    def known_credentials(self) -> frozenset[str]:
        """Every credential the ruleset reads from a roster (certifications, mobile reading):
        for `rules lint` to reject a roster credential nothing would ever look at (AIUMX)."""
        creds = {c for cert in self.certifications.values() for c in cert.credentials}
        return frozenset(creds | set(self.mobile.interpretation_credentials))

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
    codes_nucc = nucc.code_set()

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
            elif t not in codes_nucc:
                add(f"{where}: {t!r} is not in the NUCC code set ({nucc.VERSION})", section, key, t)
            else:
                out.append(t)
        return out

    def prefix_list(obj: object, where: str, section: str, key: str) -> tuple[str, ...]:
        out = []
        for t in str_list(obj, where, section, key):
            if not TAXONOMY_PREFIX_RE.match(t):
                add(f"{where}: malformed taxonomy prefix {t!r}", section, key, t)
            elif not any(code.startswith(t) for code in codes_nucc.by_code):
                add(
                    f"{where}: no NUCC taxonomy starts with {t!r} ({nucc.VERSION})", section, key, t
                )
            else:
                out.append(t)
        return tuple(out)

    def pos_list(obj: object, key: str, default: list[str]) -> frozenset[str]:
        out = str_list(obj if obj is not None else default, f"[settings] {key}", "settings", key)
        for code in out:
            if not POS_RE.match(code):
                add(f"[settings] {key}: malformed place of service {code!r}", "settings", key, code)
        return frozenset(out)

    # [settings]
    st = check_keys("settings", data.get("settings", {}), SECTION_KEYS["settings"], "[settings]")
    rs.office_pos = pos_list(st.get("office_pos"), "office_pos", ["11"])
    rs.outpatient_pos = pos_list(st.get("outpatient_pos"), "outpatient_pos", [])
    rs.distinct_service_modifiers = tuple(
        str_list(
            st.get("distinct_service_modifiers", list(NCCI_DISTINCT_SERVICE)),
            "[settings] distinct_service_modifiers",
            "settings",
            "distinct_service_modifiers",
        )
    )
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
        classes = taxonomy_list(
            body.get("classifications", []), f"[{sec}] classifications", sec, "classifications"
        )
        named = taxonomy_list(
            body.get("specializations", []), f"[{sec}] specializations", sec, "specializations"
        )
        members: list[str] = list(named)
        for code in classes:
            node = codes_nucc.get(code)
            if node is not None and not node.is_classification:
                add(
                    f"[{sec}] classifications: {code!r} is the specialization {node.name}, not a "
                    "classification; list it under specializations",
                    sec,
                    "classifications",
                    code,
                )
                continue
            members.extend(codes_nucc.classification_members(code))
        if not body.get("classifications") and not body.get("specializations"):
            add(f"[{sec}] needs classifications or specializations (NUCC codes)", sec)
        rs.specialties[sid] = Specialty(
            sid,
            str(body.get("label", sid)),
            frozenset(members),
            tuple(classes),
            tuple(named),
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
        subsets: dict[str, tuple[str, ...]] = {}
        for key in ("practice_credentials", "initial_only"):
            listed = tuple(
                c.upper() for c in str_list(body.get(key, []), f"[{sec}] {key}", sec, key)
            )
            for c in listed:
                if c not in creds:
                    add(f"[{sec}] {key}: {c!r} is not one of its credentials", sec, key, c)
            subsets[key] = listed
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
            subsets["practice_credentials"],
            subsets["initial_only"],
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
        remedies = body.get("remedies", {})
        if not isinstance(remedies, dict) or not all(
            isinstance(v, str) and CODE_RE.match(k) for k, v in remedies.items()
        ):
            add(f'add-on {code} remedies must be a table code = "text"', "add_ons", code)
            remedies = {}
        rs.add_ons[code] = AddOn(
            prim,
            str(body.get("primary_label", "its primary procedure")),
            {str(k): str(v) for k, v in remedies.items()},
        )

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

    def same_day_spec(rid: str, body: dict[str, Any], sec: str) -> SameDaySpec:
        """The pair a declared rule names; every problem reported against its section."""
        kind = body.get("kind")
        if kind not in SAME_DAY_KINDS:
            add(f"[{sec}] kind must be one of {', '.join(SAME_DAY_KINDS)}", sec, "kind")
        targets = codeset(body.get("target", []), f"[{sec}] target", sec, "target")
        partners = codeset(body.get("partner", []), f"[{sec}] partner", sec, "partner")
        if not targets or not partners:
            add(f"[{sec}] needs a target and a partner code list", sec)
        raw_bypass = body.get("bypass", list(rs.distinct_service_modifiers))
        bypass = str_list(raw_bypass, f"[{sec}] bypass", sec, "bypass")
        for mod in bypass:
            if not MODIFIER_RE.match(mod):
                add(f"[{sec}] bypass: malformed modifier {mod!r}", sec, "bypass", mod)
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            add(f"[{sec}] message is required", sec)
            message = f"{{ct}}: {rid}"
        instead = body.get("instead", {})
        if not isinstance(instead, dict) or not all(
            isinstance(v, str) and CODE_RE.match(k) for k, v in instead.items()
        ):
            add(f'[{sec}] instead must be a table code = "text"', sec, "instead")
            instead = {}
        otherwise = body.get("otherwise", "")
        for key, text in (("message", message), ("otherwise", otherwise)):
            try:
                str(text).format(ct="", code="", partner="", instead="")
            except (KeyError, IndexError, ValueError):
                add(
                    f"[{sec}] {key} may only use {{ct}}, {{code}}, {{partner}}, {{instead}}",
                    sec,
                    key,
                )
        return SameDaySpec(
            str(kind),
            targets,
            partners,
            frozenset(bypass),
            str(message).strip(),
            {str(k): str(v) for k, v in instead.items()},
            str(otherwise).strip(),
        )

    # [rules.*]
    impls = registry()
    for rid, body in _subtables(data, "rules", add).items():
        sec = f"rules.{rid}"
        body = check_keys(sec, body, SECTION_KEYS["rules*"], f"[{sec}]")
        if not RULE_ID_RE.match(rid):
            add(f"rule id {rid!r} is malformed (like PRIV001)", sec)
            continue
        declared = "kind" in body
        if declared and rid in impls:
            add(f"rule {rid} is declared with a kind but also has a Python class", sec, "kind")
            continue
        if not declared and rid not in impls:
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
        if declared:
            rs.rules.append(SameDayEdit(meta, rs, same_day_spec(rid, body, sec)))
            continue
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
    rs.advanced_imaging = rs.family("mri") | rs.family("ct") | rs.family("pet")
    rs.rules.sort(key=lambda r: r.meta.id)
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
