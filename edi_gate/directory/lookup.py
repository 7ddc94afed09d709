"""What the rule engine asks of the provider directory, and the bounded cache in front of it.

The engine asks three questions about an NPI on a date of service: which taxonomies are in
force (every one counts: a cardiologist who is also an endocrinologist holds both), which
credentials, and whether the NPI was deactivated. The answers come from sources in the payer's
order of trust: the roster (the payer's word) before the public registry (NPPES).

A source hands back everything it knows about one NPI (its ``Listing``: a few dated rows), and
``ProviderDirectory`` keeps the listings of recently seen NPIs in a bounded LRU cache, so a
directory of millions of NPIs in SQLite costs one indexed read per NPI not seen lately and a
dict hit otherwise. Date filtering runs on the cached listing: one cache entry serves every date.

This module is on the compiled hot path (setup.py); the SQLite source lives, interpreted, in
``edi_gate.directory.store``.
"""

from __future__ import annotations

from datetime import date
from typing import Final, Protocol

ROSTER: Final = "roster"
NPPES: Final = "nppes"
SOURCES: Final = (ROSTER, NPPES)  # order of trust: the first source that speaks wins

DEFAULT_CACHE_SIZE: Final = 8192  # NPIs; a listing is a few hundred bytes
CHANGE_CHECK_EVERY: Final = 4096  # lookups between asking the sources whether they changed


class Period:
    """One dated statement: ``code`` (a taxonomy or a credential) in force from ``start`` to
    ``end`` inclusive (None: open). ``primary`` is NPPES's primary taxonomy switch."""

    __slots__ = ("code", "start", "end", "primary")

    def __init__(
        self, code: str, start: date | None, end: date | None, primary: bool = False
    ) -> None:
        self.code = code
        self.start = start
        self.end = end
        self.primary = primary

    def in_force(self, on: date | None) -> bool:
        """In force on ``on``; without a date only a row with no limits can be trusted."""
        if on is None:
            return self.start is None and self.end is None
        start, end = self.start, self.end
        return (start is None or start <= on) and (end is None or on <= end)

    def __repr__(self) -> str:
        return f"Period({self.code!r}, {self.start}, {self.end}, primary={self.primary})"


class Listing:
    """What one source says about one NPI: taxonomies, credentials, deactivations, entity type.

    ``taxonomies`` are kept primary first, then most recent first, so the first code in force
    is the one a single-valued field (the decisions' ``taxonomy``) shows.
    ``inactive`` periods are deactivations: from the deactivation date to the day before the
    reactivation (None: still deactivated).
    """

    __slots__ = ("source", "npi", "taxonomies", "credentials", "inactive", "entity_type")

    def __init__(
        self,
        source: str,
        npi: str,
        taxonomies: list[Period] | None = None,
        credentials: list[Period] | None = None,
        inactive: list[Period] | None = None,
        entity_type: str = "",
    ) -> None:
        self.source = source
        self.npi = npi
        self.taxonomies: list[Period] = taxonomies if taxonomies is not None else []
        self.credentials: list[Period] = credentials if credentials is not None else []
        self.inactive: list[Period] = inactive if inactive is not None else []
        self.entity_type = entity_type
        self.taxonomies.sort(key=_taxonomy_order)

    def taxonomies_on(self, on: date | None) -> tuple[str, ...]:
        """Every taxonomy in force on the date, primary first, without repeats."""
        found: list[str] = []
        for period in self.taxonomies:
            if period.in_force(on) and period.code not in found:
                found.append(period.code)
        return tuple(found)

    def deactivated_on(self, on: date | None) -> Period | None:
        """The deactivation in force on the date (``on`` None: one still open), else None."""
        for period in self.inactive:
            if on is None:
                if period.end is None:
                    return period
            elif period.in_force(on):
                return period
        return None


def _taxonomy_order(period: Period) -> tuple[bool, int]:
    start = period.start
    return (not period.primary, -(start.toordinal() if start is not None else 0))


def _period_start(period: Period) -> date:
    return period.start if period.start is not None else date.min


class Source(Protocol):
    """A place that knows NPIs: the in-memory roster, the SQLite directory."""

    def listings(self, npi: str) -> list[Listing]:
        """Every listing for ``npi``, most trusted source first ([] when unknown)."""
        ...

    def changed(self) -> bool:
        """True when the source was re-imported since the last call (the cache is stale)."""
        ...


class Resolution:
    """The taxonomies found for an NPI on a date and the source that gave them."""

    __slots__ = ("codes", "source")

    def __init__(self, codes: tuple[str, ...], source: str) -> None:
        self.codes = codes
        self.source = source


NOT_FOUND: Final = Resolution((), "")


class ProviderDirectory:
    """Sources in order of trust behind one bounded LRU cache of listings by NPI."""

    __slots__ = ("sources", "capacity", "_cache", "_until_check", "hits", "misses")

    def __init__(self, sources: list[Source], capacity: int = DEFAULT_CACHE_SIZE) -> None:
        self.sources = sources
        self.capacity = max(1, capacity)
        self._cache: dict[str, tuple[Listing, ...]] = {}
        self._until_check = CHANGE_CHECK_EVERY
        self.hits = 0
        self.misses = 0

    def listings(self, npi: str) -> tuple[Listing, ...]:
        """Every source's listing for the NPI, most trusted first (cached)."""
        self._until_check -= 1
        if self._until_check <= 0:
            self._until_check = CHANGE_CHECK_EVERY
            if any([source.changed() for source in self.sources]):
                self._cache.clear()
        cache = self._cache
        hit = cache.pop(npi, None)
        if hit is not None:
            self.hits += 1
            cache[npi] = hit  # most recently used goes last
            return hit
        self.misses += 1
        found: list[Listing] = []
        for source in self.sources:
            found.extend(source.listings(npi))
        listings = tuple(found)
        if len(cache) >= self.capacity:
            del cache[next(iter(cache))]  # least recently used
        cache[npi] = listings
        return listings

    def taxonomies(self, npi: str, on: date | None) -> Resolution:
        """The taxonomies in force from the most trusted source that has any on the date."""
        if not npi:
            return NOT_FOUND
        for listing in self.listings(npi):
            codes = listing.taxonomies_on(on)
            if codes:
                return Resolution(codes, listing.source)
        return NOT_FOUND

    def has_credential(self, npi: str, credential: str, on: date | None) -> bool:
        """True when any source grants ``credential`` in force on the date (not retroactive)."""
        if not npi:
            return False
        for listing in self.listings(npi):
            for period in listing.credentials:
                if period.code == credential and period.in_force(on):
                    return True
        return False

    def credential_periods(self, npi: str, credential: str) -> list[Period]:
        """Every period of ``credential`` the sources list for the NPI, earliest first (an
        initial-only credential counts in its first period alone)."""
        if not npi:
            return []
        found = [
            period
            for listing in self.listings(npi)
            for period in listing.credentials
            if period.code == credential
        ]
        found.sort(key=_period_start)
        return found

    def deactivation(self, npi: str, on: date | None) -> tuple[Period, str] | None:
        """(the deactivation period, its source) when the NPI was deactivated on the date."""
        if not npi:
            return None
        for listing in self.listings(npi):
            period = listing.deactivated_on(on)
            if period is not None:
                return period, listing.source
        return None

    def clear(self) -> None:
        self._cache.clear()
