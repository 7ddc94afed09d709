"""What every worker of a replay needs to decide a unit exactly as every other worker does.

Why specs, not engines: rule engines are large and are not sent between processes (or to Spark
executors); paths are. Each process loads an engine once per spec (:func:`make_engine`) and keeps
it for every unit it decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edi_gate.pipeline.filter import RuleEngine
from edi_gate.vocabulary import Scope
from edi_gate.x12.loops import Limits


@dataclass(frozen=True)
class EngineSpec:
    """How a worker loads its rule engine: the ruleset and roster paths (None: the defaults)."""

    ruleset: str | None = None
    roster: str | None = None

    def load(self) -> RuleEngine:
        from edi_gate.rules.engine import Engine

        return Engine.load(
            Path(self.ruleset) if self.ruleset else None, Path(self.roster) if self.roster else None
        )

    @property
    def label(self) -> str:
        return self.ruleset or "default rulesets"


@dataclass(frozen=True)
class UnitSettings:
    """The ruleset (and, for ``--compare``, ruleset B), the scope and the bounds on hostile input
    (``--limits``) every unit is decided with, whichever process or executor decides it."""

    spec: EngineSpec = EngineSpec()
    compare_with: EngineSpec | None = None
    scope: str = Scope.CLAIM
    limits: Limits | None = None  # None: the defaults, as in filter

    def __post_init__(self) -> None:
        # Checked once here; the compiled filter compares the plain string (see vocabulary).
        object.__setattr__(self, "scope", Scope(self.scope).value)

    def engines(self) -> tuple[RuleEngine, RuleEngine | None]:
        """This process's engines for ruleset A and ruleset B (None without ``--compare``)."""
        other = make_engine(self.compare_with) if self.compare_with is not None else None
        return make_engine(self.spec), other


DEFAULTS = UnitSettings()  # the shipped rulesets, claim scope, default limits

_ENGINES: dict[EngineSpec, RuleEngine] = {}


def make_engine(spec: EngineSpec) -> RuleEngine:
    """The engine of ``spec``, loaded once per process: loading rulesets costs more than a small
    unit. A ruleset or roster that cannot be loaded raises ConfigError (the CLI calls this first,
    so a bad one exits 2 before any worker starts)."""
    if spec not in _ENGINES:
        _ENGINES[spec] = spec.load()
    return _ENGINES[spec]


def ruleset_labels(engine: RuleEngine) -> list[str]:
    """The rulesets an engine judges by ('id (from .. to)') for the summary; [] if it can't say."""
    labels = getattr(engine, "ruleset_labels", None)
    return list(labels()) if callable(labels) else []
