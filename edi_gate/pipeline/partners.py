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

from edi_gate.errors import ConfigError, read_config_text

UNKNOWN_SENDER_ACTIONS = ("quarantine", "default")
TOP_LEVEL_KEYS = {"unknown_sender", "partners", "outbox_mode", "outbox_group", "limits"}
PARTNER_KEYS = {"name", "ruleset", "roster", "outbox", "scope", "require_ruleset"}
SCOPES = ("claim", "line")
_TOML_LINE = re.compile(r"at line (\d+)")


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


def _line_of(text: str, sender: str | None = None, key: str | None = None) -> int | None:
    """Best-effort line of a top-level key, a partner table, or a key inside it (tomllib gives
    no positions, and an error without a line sends people hunting)."""
    lines = text.splitlines()
    start = 0
    if sender is not None:
        header = re.compile(
            r"^\s*\[\s*partners\s*\.\s*(?:" + re.escape(sender) + r'|"' + re.escape(sender) + r'"'
            r"|'" + re.escape(sender) + r"')\s*\]"
        )
        found = next((i for i, line in enumerate(lines) if header.match(line)), None)
        if found is None:
            return None
        if key is None:
            return found + 1
        start = found + 1
    if key is None:
        return None
    pattern = re.compile(r"^\s*(?:" + re.escape(key) + r'|"' + re.escape(key) + r'")\s*=')
    for index in range(start, len(lines)):
        if sender is not None and index > start and lines[index].lstrip().startswith("["):
            break
        if pattern.match(lines[index]):
            return index + 1
    return None


def parse_mode(value: object, what: str = "outbox_mode") -> int:
    """An octal file mode for acknowledgments: owner read-write at least, never writable or
    executable by group or others, never setuid/setgid."""
    if not isinstance(value, str) or not re.fullmatch(r"0?[0-7]{3}", value.strip()):
        raise ConfigError(f"{what} must be an octal mode such as 0640, not {value!r}")
    mode = int(value, 8)
    if mode & 0o133 or mode & 0o600 != 0o600:
        raise ConfigError(f"{what} {value}: only 0600 plus read for group/others is allowed")
    return mode


def _resolve(base: Path, value: object, what: str, fail) -> Path:
    if not isinstance(value, str) or not value.strip():
        fail(f"{what} must be a non-empty string")
    path = Path(value)  # type: ignore[arg-type]
    return path if path.is_absolute() else (base / path).resolve()


def load_partners(path: str | Path) -> PartnerBook:
    """Read and check a partners file; raise ConfigError(message, path=, line=) on any mistake."""
    path = Path(path)
    where = str(path)
    text = read_config_text(path, "partners file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = _TOML_LINE.search(str(error))
        raise ConfigError(
            f"not valid TOML: {error}", path=where, line=int(match.group(1)) if match else None
        ) from error

    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(
                f"unknown key {key!r} (expected one of: {', '.join(sorted(TOP_LEVEL_KEYS))})",
                path=where,
                line=_line_of(text, key=key),
            )
    unknown = data.get("unknown_sender", "quarantine")
    if unknown not in UNKNOWN_SENDER_ACTIONS:
        raise ConfigError(
            f"unknown_sender must be one of {', '.join(UNKNOWN_SENDER_ACTIONS)}, not {unknown!r}",
            path=where,
            line=_line_of(text, key="unknown_sender"),
        )
    tables = data.get("partners", {})
    if not isinstance(tables, dict):
        raise ConfigError("partners must be a table of [partners.SENDER_ID]", path=where)

    base = path.resolve().parent
    book = PartnerBook(unknown_sender=unknown, path=path)
    if "outbox_mode" in data:
        try:
            book.outbox_mode = parse_mode(data["outbox_mode"])
        except ConfigError as error:
            raise ConfigError(
                error.message, path=where, line=_line_of(text, key="outbox_mode")
            ) from None
    if "outbox_group" in data:
        group = data["outbox_group"]
        if not isinstance(group, str | int) or isinstance(group, bool) or not str(group).strip():
            raise ConfigError(
                "outbox_group must be a group name or id",
                path=where,
                line=_line_of(text, key="outbox_group"),
            )
        book.outbox_group = str(group)
    if "limits" in data:
        from edi_gate.limits import limits_from_table

        book.limits = data["limits"]
        limits_from_table(book.limits, where)  # checked now: a typo stops the watcher at start
    for sender, entry in tables.items():
        line = _line_of(text, sender)

        def fail(message: str, key: str | None = None, sender: str = sender, line=line):
            at = _line_of(text, sender, key) if key else line
            raise ConfigError(f"partner {sender!r}: {message}", path=where, line=at or line)

        if not isinstance(entry, dict):
            fail("must be a table")
        if not sender.strip() or len(sender) > 15:
            fail("the sender id (ISA06) must be 1 to 15 characters")
        for key in entry:
            if key not in PARTNER_KEYS:
                fail(
                    f"unknown key {key!r} (expected one of: {', '.join(sorted(PARTNER_KEYS))})",
                    key,
                )
        ruleset = roster = outbox = None
        if "ruleset" in entry:
            ruleset = _resolve(base, entry["ruleset"], "ruleset", lambda m: fail(m, "ruleset"))
            if not ruleset.exists():
                fail(f"ruleset {str(ruleset)!r} does not exist", "ruleset")
        if "roster" in entry:
            roster = _resolve(base, entry["roster"], "roster", lambda m: fail(m, "roster"))
            if not roster.is_file():
                fail(f"roster {str(roster)!r} is not a file", "roster")
        if "outbox" in entry:
            value = entry["outbox"]
            if not isinstance(value, str) or not value.strip():
                fail("outbox must be a non-empty string", "outbox")
            outbox = Path(value)
            if not outbox.is_absolute() and ".." in outbox.parts:
                fail("a relative outbox must stay under --acks (no '..')", "outbox")
            if outbox.exists() and not outbox.is_dir():
                fail(f"outbox {value!r} exists and is not a directory", "outbox")
        scope = entry.get("scope")
        if scope is not None and scope not in SCOPES:
            fail(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
        name = entry.get("name", sender)
        if not isinstance(name, str):
            fail("name must be a string", "name")
        require_ruleset = entry.get("require_ruleset")
        if require_ruleset is not None and not isinstance(require_ruleset, bool):
            fail("require_ruleset must be true or false", "require_ruleset")
        book.partners[sender.strip()] = Partner(
            sender.strip(), name, ruleset, roster, outbox, scope, require_ruleset
        )
    return book
