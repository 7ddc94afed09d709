"""Reading [rules.*]: each rule's documentation and status pair, and the declared same-day edits.

A rule is either a Python class (found by its id in ``edi_gate.rules.base.registry``) documented
here, or a same-day edit declared entirely in the file (``kind = "same_day_with"``); never both,
never neither: a rule documented but not run, or run but not documented, misleads the analyst.
"""

from __future__ import annotations

import re
from typing import Any

from edi_gate.rules.base import SAME_DAY_KINDS, RuleMeta, SameDaySpec, registry
from edi_gate.rules.codeset import CodeSet
from edi_gate.rules.ruleset import RuleEntry, Settings
from edi_gate.rules.sections import SECTION_KEYS
from edi_gate.rules.validators import Checker

RULE_ID_RE = re.compile(r"^[A-Z]{2,6}\d{3}$")
STATUS_RE = re.compile(r"^(A[0-8]):(\d{1,3})$")
MODIFIER_RE = re.compile(r"^[0-9A-Z]{2}$")
MAX_PYX12_STATUS = 771  # pyx12's X214 claim_status list stops at 771
REJECTION_CATEGORIES = ("A3", "A6", "A7", "A8")
UNREADABLE_STATUS = ("A7", "21")  # stands in for a malformed status while the rest is checked
TEMPLATE_FIELDS = ("ct", "code", "partner", "instead")


def read_rules(
    check: Checker, data: dict[str, Any], settings: Settings, families: dict[str, CodeSet]
) -> list[RuleEntry]:
    """[rules.*]: every rule the ruleset runs, in file order; a ruleset with none is a mistake."""
    impls = registry()
    entries: list[RuleEntry] = []
    for rid, body in check.subtables(data, "rules").items():
        sec = f"rules.{rid}"
        body = check.table(sec, body, SECTION_KEYS["rules*"], f"[{sec}]")
        if not has_one_implementation(check, sec, rid, body, impls):
            continue
        meta = read_meta(check, sec, rid, body)
        if "kind" in body:
            entries.append(RuleEntry(meta, same_day=read_same_day(check, sec, rid, body, settings)))
            continue
        impl = impls[rid]
        for name in impl.needs:
            if name not in families:
                check.add(f"rule {rid} needs code family {name!r} in [families]", sec)
        entries.append(RuleEntry(meta, impl=impl))
    if not entries:
        check.add("ruleset documents no rules", "rules")
    return entries


def has_one_implementation(
    check: Checker, sec: str, rid: str, body: dict[str, Any], impls: dict[str, Any]
) -> bool:
    """A well-formed id (PRIV001) run by exactly one thing: its Python class or its ``kind``."""
    if not RULE_ID_RE.match(rid):
        check.add(f"rule id {rid!r} is malformed (like PRIV001)", sec)
        return False
    declared = "kind" in body
    if declared and rid in impls:
        check.add(f"rule {rid} is declared with a kind but also has a Python class", sec, "kind")
        return False
    if not declared and rid not in impls:
        check.add(f"rule {rid} has no implementation", sec)
        return False
    return True


def read_meta(check: Checker, sec: str, rid: str, body: dict[str, Any]) -> RuleMeta:
    """A rule's summary and seed source (both required: every rule cites its policy), its 277CA
    status pair and its on/off switch."""
    for key in ("summary", "source"):
        if not isinstance(body.get(key), str) or not body.get(key, "").strip():
            check.add(f"[{sec}] {key} is required", sec)
    category, status = read_status(check, sec, body.get("status", ""))
    return RuleMeta(
        rid,
        str(body.get("summary", "")).strip(),
        str(body.get("source", "")).strip(),
        str(body.get("reading", "")).strip(),
        category,
        status,
        check.flag(body, sec, "enabled", True),
    )


def read_status(check: Checker, sec: str, value: object) -> tuple[str, str]:
    """CATEGORY:CODE as the 277CA's STC01 sends it: a rejection category (A3, A6, A7, A8) and a
    claim status code a partner's translator knows (pyx12's X214 list)."""
    found = STATUS_RE.match(str(value))
    if not found:
        check.add(f"[{sec}] status must be CATEGORY:CODE like A7:145", sec, "status")
        return UNREADABLE_STATUS
    category, status = found.group(1), found.group(2)
    if category not in REJECTION_CATEGORIES:
        check.add(f"[{sec}] category {category} is not a rejection category", sec, "status")
    if int(status) > MAX_PYX12_STATUS:
        check.add(
            f"[{sec}] status {status} is newer than pyx12's X214 list (max {MAX_PYX12_STATUS})",
            sec,
            "status",
        )
    return category, status


def read_same_day(
    check: Checker, sec: str, rid: str, body: dict[str, Any], settings: Settings
) -> SameDaySpec:
    """The pair a declared same-day edit names, its bypass modifiers (by default the ruleset's
    distinct-service ones), and the message templates; every problem against its section."""
    kind = body.get("kind")
    if kind not in SAME_DAY_KINDS:
        check.add(f"[{sec}] kind must be one of {', '.join(SAME_DAY_KINDS)}", sec, "kind")
    targets = check.codes(body.get("target", []), f"[{sec}] target", sec, "target")
    partners = check.codes(body.get("partner", []), f"[{sec}] partner", sec, "partner")
    if not targets or not partners:
        check.add(f"[{sec}] needs a target and a partner code list", sec)
    raw_bypass = body.get("bypass", list(settings.distinct_service_modifiers))
    bypass = check.strings(raw_bypass, f"[{sec}] bypass", sec, "bypass")
    for mod in bypass:
        if not MODIFIER_RE.match(mod):
            check.add(f"[{sec}] bypass: malformed modifier {mod!r}", sec, "bypass", mod)
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        check.add(f"[{sec}] message is required", sec)
        message = f"{{ct}}: {rid}"
    instead = check.code_notes(body.get("instead", {}), f"[{sec}] instead", sec, "instead")
    otherwise = body.get("otherwise", "")
    check_templates(check, sec, {"message": message, "otherwise": otherwise})
    return SameDaySpec(
        str(kind),
        targets,
        partners,
        frozenset(bypass),
        str(message).strip(),
        instead,
        str(otherwise).strip(),
    )


def check_templates(check: Checker, sec: str, templates: dict[str, object]) -> None:
    """Message templates may name only the fields a same-day finding fills in: any other
    {field} would fail on the first claim it fires on, in the middle of a file."""
    blank = dict.fromkeys(TEMPLATE_FIELDS, "")
    for key, text in templates.items():
        try:
            str(text).format(**blank)
        except (KeyError, IndexError, ValueError):
            names = ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)
            check.add(f"[{sec}] {key} may only use {names}", sec, key)
