"""Which rules and outbox a file gets, from the ISA06 senders of its interchanges."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from edi_gate.pipeline.filter import RuleEngine
from edi_gate.pipeline.partners import Partner, PartnerBook
from edi_gate.pipeline.watch.config import WatchConfig

EngineLoader = Callable[[Path | None, Path | None], RuleEngine]


@dataclass
class Route:
    """What a file gets: its partner (None: unknown sender), rules, scope and ack outbox; or the
    reason it goes straight to quarantine."""

    partner: Partner | None
    engine: RuleEngine | None
    scope: str
    outbox: Path
    quarantine_reason: str | None = None

    @property
    def label(self) -> str:
        return self.partner.sender if self.partner else "-"


class Router:
    """Chooses the route of a file from the ISA06 senders of its interchanges."""

    def __init__(
        self,
        config: WatchConfig,
        loader: EngineLoader,
        partners: PartnerBook | None = None,
        ruleset: Path | None = None,
        roster: Path | None = None,
    ) -> None:
        self.config = config
        self.partners = partners
        self.ruleset, self.roster = ruleset, roster
        self._loader = loader
        self._engines: dict[tuple[Path | None, Path | None], RuleEngine] = {}

    def load_all(self) -> None:
        """Load every engine now, so a bad ruleset or roster stops start-up (ConfigError)."""
        self._engine(None, None)
        if self.partners is not None:
            for ruleset, roster in self.partners.engine_keys():
                self._engine(ruleset, roster)

    def engines(self) -> list[RuleEngine]:
        """The engines loaded so far (every one after load_all): their rules name the summary's."""
        return list(self._engines.values())

    def policy(self) -> str:
        """The partner policy in force, as start-up states it."""
        if self.partners is None:
            return "no partners file: every sender is accepted with the default rules"
        known = len(self.partners.partners)
        if self.partners.unknown_sender == "quarantine":
            return f"{known} partners; files from any other sender are quarantined"
        return f"{known} partners; other senders get the default rules and --acks"

    def _engine(self, ruleset: Path | None, roster: Path | None) -> RuleEngine:
        key = (ruleset or self.ruleset, roster or self.roster)
        if key not in self._engines:
            self._engines[key] = self._loader(*key)
        return self._engines[key]

    def outbox_of(self, partner: Partner | None) -> Path:
        if partner is None or partner.outbox is None:
            return self.config.acks
        return partner.outbox if partner.outbox.is_absolute() else self.config.acks / partner.outbox

    def outboxes(self) -> list[Path]:
        boxes = [self.config.acks]
        if self.partners is not None:
            boxes += [self.outbox_of(p) for p in self.partners.partners.values()]
        return list(dict.fromkeys(boxes))

    def partner_named(self, sender: object) -> Partner | None:
        """The partner a manifest names (None: the default route, or a name not in the book)."""
        if not isinstance(sender, str) or self.partners is None:
            return None
        return self.partners.find(sender)

    def route(self, senders: Iterable[str]) -> Route:
        senders = sorted({s for s in senders if s})
        default = Route(None, self._engine(None, None), self.config.scope, self.config.acks)
        if self.partners is None or not senders:
            return default  # no partner routing, or no readable ISA: the parser will say why
        known = {s: self.partners.find(s) for s in senders}
        partners = {p.sender: p for p in known.values() if p is not None}
        unknown = [s for s, p in known.items() if p is None]
        if unknown and self.partners.unknown_sender == "quarantine":
            return Route(
                None,
                None,
                self.config.scope,
                self.config.acks,
                f"unknown sender {', '.join(unknown)} (not in the partners file)",
            )
        if len(partners) + (1 if unknown else 0) > 1:
            return Route(
                None,
                None,
                self.config.scope,
                self.config.acks,
                f"interchanges from several trading partners in one file: {', '.join(senders)}",
            )
        if not partners:
            return default
        partner = next(iter(partners.values()))
        return Route(
            partner,
            self._engine(partner.ruleset, partner.roster),
            partner.scope or self.config.scope,
            self.outbox_of(partner),
        )
