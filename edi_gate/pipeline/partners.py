"""Trading partners of the drop-folder watcher: who may send, with which rules, acks to where.

``conf/partners.toml`` maps an ISA06 interchange sender id to the ruleset and roster its claims
are judged by and the outbox its 277CA/999 go to. The file is checked completely at start-up
(unknown keys, missing ruleset or roster files, bad outboxes) so a typo stops the watcher with a
ConfigError naming the file and line, instead of quarantining a partner's files at 3 a.m.

    unknown_sender = "quarantine"        # or "default": --ruleset/--roster, acks in --acks
    outbox_mode = "0640"                 # acknowledgments readable by the outbox's group
    outbox_group = "sftp"                # (--outbox-mode / --outbox-group win over these)

    [partners.DEMOSUB01]
    name = "Demo billing service"        # for the logs
    ruleset = "../rulesets/imaging-2024.toml"   # relative to this file; default: --ruleset
    roster = "roster.csv"                # default: --roster
    outbox = "demosub01"                 # relative: under --acks; absolute: as is
    scope = "claim"                      # or "line"; default: the watcher's --scope
    require_ruleset = true               # reject unjudged claims; default: --require-ruleset

    [limits]                             # bounds on hostile input, see edi_gate.limits
    max_loop_bytes = "2MiB"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from edi_gate.config_text import Locator, toml_error_line
from edi_gate.errors import ConfigError, read_config_text
from edi_gate.vocabulary import Scope

UNKNOWN_SENDER_ACTIONS = ("quarantine", "default")
TOP_LEVEL_KEYS = {"unknown_sender", "partners", "outbox_mode", "outbox_group", "limits"}
PARTNER_KEYS = {"name", "ruleset", "roster", "outbox", "scope", "require_ruleset"}
SCOPES = tuple(Scope)


@dataclass(frozen=True)
class Partner:
    """One sender: its rules (None: the watcher's defaults) and its acknowledgment outbox."""

    sender: str
    name: str
    ruleset: Path | None = None
    roster: Path | None = None
    outbox: Path | None = None  # None: the watcher's --acks directory
    scope: str | None = None
    require_ruleset: bool | None = None  # None: the watcher's --require-ruleset


@dataclass
class PartnerBook:
    """The partners by sender id, and what to do with files from anyone else."""

    partners: dict[str, Partner] = field(default_factory=dict)
    unknown_sender: str = "default"
    path: Path | None = None
    outbox_mode: int | None = None  # acknowledgments in the outboxes (None: 0600)
    outbox_group: str | None = None
    limits: dict[str, object] | None = None  # the [limits] table, checked (edi_gate.limits)

    def find(self, sender: str) -> Partner | None:
        """The partner for an ISA06 value (compared trimmed, as written in the file)."""
        return self.partners.get(sender.strip())

    def engine_keys(self) -> set[tuple[Path | None, Path | None]]:
        """Each distinct (ruleset, roster) pair, so every engine is loaded once at start-up."""
        return {(p.ruleset, p.roster) for p in self.partners.values()}


def parse_mode(value: object, what: str = "outbox_mode") -> int:
    """An octal file mode for acknowledgments: owner read-write at least, never writable or
    executable by group or others, never setuid/setgid."""
    if not isinstance(value, str) or not re.fullmatch(r"0?[0-7]{3}", value.strip()):
        raise ConfigError(f"{what} must be an octal mode such as 0640, not {value!r}")
    mode = int(value, 8)
    if mode & 0o133 or mode & 0o600 != 0o600:
        raise ConfigError(f"{what} {value}: only 0600 plus read for group/others is allowed")
    return mode


class PartnersText:
    """A partners file being read: where its problems are (``edi_gate.config_text.Locator``) and
    the ConfigError that names the file and line."""

    def __init__(self, path: Path, text: str) -> None:
        self.where = str(path)
        self.text = text
        self.locator = Locator(text)

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        raise ConfigError(message, path=self.where, line=line)

    def line_of(self, key: str) -> int | None:
        """The line of a top-level key, written as ``key = ...`` or as a ``[key]`` table."""
        return self.locator.header(key) or self.locator.find(key=key)

    def parse(self) -> dict[str, Any]:
        """The TOML, or a ConfigError at the line tomllib names."""
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            line = toml_error_line(error, self.text)
            raise ConfigError(f"not valid TOML: {error}", path=self.where, line=line) from error


def load_partners(path: str | Path) -> PartnerBook:
    """Read and check a partners file; raise ConfigError(message, path=, line=) on any mistake."""
    path = Path(path)
    conf = PartnersText(path, read_config_text(path, "partners file"))
    data = conf.parse()
    check_top_keys(conf, data)
    unknown = unknown_sender(conf, data)
    tables = data.get("partners", {})
    if not isinstance(tables, dict):
        conf.fail("partners must be a table of [partners.SENDER_ID]")
    outbox_mode = read_outbox_mode(conf, data)
    outbox_group = read_outbox_group(conf, data)
    limits = read_limits(conf, data)
    base = path.resolve().parent
    partners = {
        sender.strip(): read_partner(PartnerEntry(conf, sender), base, entry)
        for sender, entry in tables.items()
    }
    return PartnerBook(partners, unknown, path, outbox_mode, outbox_group, limits)


def check_top_keys(conf: PartnersText, data: dict[str, Any]) -> None:
    """Only the known top-level keys: a misspelt one would silently keep its default."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            conf.fail(
                f"unknown key {key!r} (expected one of: {', '.join(sorted(TOP_LEVEL_KEYS))})",
                conf.line_of(key),
            )


def unknown_sender(conf: PartnersText, data: dict[str, Any]) -> str:
    """What to do with a sender not listed: quarantine (the safe default) or the defaults."""
    unknown = data.get("unknown_sender", "quarantine")
    if unknown not in UNKNOWN_SENDER_ACTIONS:
        conf.fail(
            f"unknown_sender must be one of {', '.join(UNKNOWN_SENDER_ACTIONS)}, not {unknown!r}",
            conf.line_of("unknown_sender"),
        )
    return str(unknown)


def read_outbox_mode(conf: PartnersText, data: dict[str, Any]) -> int | None:
    """The acknowledgments' file mode (``parse_mode``), None when not set."""
    if "outbox_mode" not in data:
        return None
    try:
        return parse_mode(data["outbox_mode"])
    except ConfigError as error:
        conf.fail(error.message, conf.line_of("outbox_mode"))


def read_outbox_group(conf: PartnersText, data: dict[str, Any]) -> str | None:
    """The group that owns the acknowledgments: a name or a numeric id, None when not set."""
    if "outbox_group" not in data:
        return None
    group = data["outbox_group"]
    if not isinstance(group, str | int) or isinstance(group, bool) or not str(group).strip():
        conf.fail("outbox_group must be a group name or id", conf.line_of("outbox_group"))
    return str(group)


def read_limits(conf: PartnersText, data: dict[str, Any]) -> dict[str, object] | None:
    """The [limits] table, checked now (edi_gate.limits): a typo stops the watcher at start."""
    if "limits" not in data:
        return None
    from edi_gate.limits import limits_from_table

    limits_from_table(data["limits"], conf.where)
    table: dict[str, object] = data["limits"]
    return table


class PartnerEntry:
    """One [partners.SENDER] table being read: its problems name the sender and the line of the
    key at fault (the table's header when the key cannot be found)."""

    def __init__(self, conf: PartnersText, sender: str) -> None:
        self.conf = conf
        self.sender = sender
        self.section = ("partners", sender)
        self.line = conf.locator.header(self.section)

    def fail(self, message: str, key: str | None = None) -> NoReturn:
        at = self.line
        if key is not None and self.line is not None:
            at = self.conf.locator.find(self.section, key)
        self.conf.fail(f"partner {self.sender!r}: {message}", at)

    def path(self, base: Path, value: object, key: str) -> Path:
        """A file the partner names: relative to the partners file unless absolute."""
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{key} must be a non-empty string", key)
        path = Path(value)
        return path if path.is_absolute() else (base / path).resolve()


def read_partner(entry: PartnerEntry, base: Path, table: object) -> Partner:
    """One sender's table: a valid ISA06, known keys, and every setting checked."""
    if not isinstance(table, dict):
        entry.fail("must be a table")
    sender = entry.sender
    if not sender.strip() or len(sender) > 15:
        entry.fail("the sender id (ISA06) must be 1 to 15 characters")
    for key in table:
        if key not in PARTNER_KEYS:
            expected = ", ".join(sorted(PARTNER_KEYS))
            entry.fail(f"unknown key {key!r} (expected one of: {expected})", key)
    ruleset, roster = partner_rules(entry, base, table)
    outbox = partner_outbox(entry, table)
    scope = table.get("scope")
    if scope is not None and scope not in SCOPES:
        entry.fail(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
    name = table.get("name", sender)
    if not isinstance(name, str):
        entry.fail("name must be a string", "name")
    require_ruleset = table.get("require_ruleset")
    if require_ruleset is not None and not isinstance(require_ruleset, bool):
        entry.fail("require_ruleset must be true or false", "require_ruleset")
    return Partner(sender.strip(), name, ruleset, roster, outbox, scope, require_ruleset)


def partner_rules(
    entry: PartnerEntry, base: Path, table: dict[str, Any]
) -> tuple[Path | None, Path | None]:
    """The ruleset (a file or a directory of dated rulesets) and roster the partner names: they
    must exist now, not when the partner's first file arrives."""
    ruleset = roster = None
    if "ruleset" in table:
        ruleset = entry.path(base, table["ruleset"], "ruleset")
        if not ruleset.exists():
            entry.fail(f"ruleset {str(ruleset)!r} does not exist", "ruleset")
    if "roster" in table:
        roster = entry.path(base, table["roster"], "roster")
        if not roster.is_file():
            entry.fail(f"roster {str(roster)!r} is not a file", "roster")
    return ruleset, roster


def partner_outbox(entry: PartnerEntry, table: dict[str, Any]) -> Path | None:
    """The partner's acknowledgment outbox: absolute, or relative and staying under --acks."""
    if "outbox" not in table:
        return None
    value = table["outbox"]
    if not isinstance(value, str) or not value.strip():
        entry.fail("outbox must be a non-empty string", "outbox")
    outbox = Path(value)
    if not outbox.is_absolute() and ".." in outbox.parts:
        entry.fail("a relative outbox must stay under --acks (no '..')", "outbox")
    if outbox.exists() and not outbox.is_dir():
        entry.fail(f"outbox {value!r} exists and is not a directory", "outbox")
    return outbox
