"""The price table: dated price entries per (provider, model, tier, context), and lookups into it.

Built from the bundled `prices.yaml`, then extra price files, then config overrides; for the same
model and effective date the later block replaces the earlier one. A block is a model's complete price
sheet from its effective date (00:00 UTC) until the model's next block.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from monitor.errors import PricingError
from monitor.pricing.files import read_price_file
from monitor.pricing.resolve import FINE_TUNED_PREFIX, ResolvedModel, resolve_name
from monitor.pricing.rules import Rates, complete_tiers
from monitor.pricing.schema import BlockSpec, ModelSpec, parse_models
from monitor.pricing.tiers import context_floor, context_label
from monitor.records import SERVICE_TIERS, TOKEN_INDEX

BUNDLED_PATH = Path(__file__).with_name("prices.yaml")
BUNDLED, FILES = "bundled", "files"
"""The price sources of the table: the bundled prices.yaml, and the user's price files and overrides."""
_RESOLVE_CACHE_LIMIT = 100_000
NEUTRAL_GEOS = frozenset({"", "global", "not_available"})
"""Inference geos that never change a price: not reported, the default ("global"), or unknown."""
_ONE = Fraction(1)


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """The prices of one (provider, model, tier, context) from `effective_from` on.

    `rates` are picodollars per token (= micro-dollars per 1M tokens) in TOKEN_TYPES order, None where
    there is no price. `unit_rates` are picodollars per unit of non-token usage (e.g. web searches).
    `context` is "" or a long-context label such as ">200k". `id` is stable and stored in the ledger,
    with `origin`: the price source that gave the entry ("bundled", "files", "genai-prices").
    `geo_factors` multiply every price for a reported inference geo (the block's `inference_geo`); a
    geo it does not list costs the same, and None means the source cannot tell (see `geo_factor`).
    """

    id: str
    provider: str
    model: str
    tier: str
    context: str
    effective_from: date
    source: str
    rates: Rates
    unit_rates: Mapping[str, int] = field(default_factory=dict, hash=False)
    note: str = ""
    origin: str = ""
    geo_factors: Mapping[str, Fraction] | None = field(default_factory=dict, hash=False)

    def geo_factor(self, inference_geo: str) -> Fraction | None:
        """What a row's inference geo multiplies this entry's prices by; None if the source cannot say.

        "", "global" and "not_available" never change a price. A geo the entry's block lists takes its
        multiplier (Anthropic's "us" 1.1x); one it does not list costs the same, since the table writes
        multipliers wherever the provider documents one. A source that knows nothing about geos
        (`geo_factors` None, e.g. the community source) prices only the neutral geos.
        """
        if inference_geo in NEUTRAL_GEOS:
            return _ONE
        if self.geo_factors is None:
            return None
        return self.geo_factors.get(inference_geo, _ONE)

    def usd_per_million(self, token_type: str) -> Decimal | None:
        """The list price of `token_type` in USD per 1M tokens, exactly; None if it has no price."""
        rate = self.rates[TOKEN_INDEX[token_type]]
        return None if rate is None else Decimal(rate).scaleb(-6)

    def usd_per_unit(self, unit: str) -> Decimal | None:
        """The price of one `unit` (e.g. "web_search_requests") in USD; None if it has no price."""
        rate = self.unit_rates.get(unit)
        return None if rate is None else Decimal(rate).scaleb(-12)


@dataclass(frozen=True, slots=True)
class _Block:
    start: int
    entries: dict[tuple[str, str], PriceEntry]
    long_above: int | None
    long_label: str


class PriceTable:
    """Prices by provider and model, with name resolution and effective dates. Read-only once built."""

    def __init__(
        self, specs: Sequence[ModelSpec], version: str, aliases: Mapping[str, str] | None = None
    ) -> None:
        self.version = version
        self._config_aliases = dict(aliases or {})
        self._blocks: dict[tuple[str, str], list[_Block]] = {}
        self._starts: dict[tuple[str, str], list[int]] = {}
        self._known: dict[tuple[str, str], str] = {}
        self._cheaper: dict[tuple[str, str], str] = {}
        self._resolved: dict[tuple[str, str], ResolvedModel | None] = {}
        self._build(specs)
        self._providers = tuple(sorted({provider for provider, _ in self._blocks}))

    @classmethod
    def bundled(cls) -> PriceTable:
        """The table shipped with the package (`monitor/pricing/prices.yaml`), loaded once."""
        return _bundled()

    @classmethod
    def load(
        cls,
        extra_files: Sequence[Path] = (),
        overrides: Sequence[Mapping[str, Any]] = (),
        aliases: Mapping[str, str] | None = None,
    ) -> PriceTable:
        """The bundled table, then `extra_files`, then config `overrides` (later wins per model and date).

        Raises PricingError naming the file (or `pricing.overrides`) and key path of every problem.
        The version is the bundled one, suffixed `+local.<hash>` when files or overrides change it.
        """
        if not extra_files and not overrides and not aliases:
            return cls.bundled()
        version, bundled_specs = _bundled_specs()
        specs = list(bundled_specs)
        digest = hashlib.sha256()
        for path in extra_files:
            _, file_specs = read_price_file(Path(path))
            specs.extend(with_origin(file_specs, FILES))
            digest.update(Path(path).read_bytes())
        if overrides:
            override_specs, problems = parse_models(list(overrides), "pricing.overrides")
            if problems:
                raise PricingError("\n".join(problems))
            specs.extend(with_origin(override_specs, FILES))
            digest.update(json.dumps(list(overrides), sort_keys=True, default=str).encode())
        if extra_files or overrides:
            version = f"{version}+local.{digest.hexdigest()[:8]}"
        return cls(specs, version, aliases)

    def resolve(self, provider: str, model: str) -> ResolvedModel | None:
        """The table model that prices `model` ("" provider = any), or None; cached."""
        key = (provider, model)
        try:
            return self._resolved[key]
        except KeyError:
            pass
        if len(self._resolved) >= _RESOLVE_CACHE_LIMIT:
            self._resolved.clear()
        found = resolve_name(provider, model, self._known, self._providers, self._config_aliases)
        self._resolved[key] = found
        return found

    def price_for(
        self, provider: str, model: str, tier: str, context_window: str, at: int
    ) -> PriceEntry | None:
        """The entry in force at unix second `at` for a (normalised) tier and a reported context window.

        A long-context window ("200k-1M") takes the block's long-context prices when the block has
        them (None if that tier has none there); otherwise the base prices apply.
        """
        resolved = self.resolve(provider, model)
        if resolved is None:
            return None
        block = self._block_at(resolved.provider, resolved.model, at)
        if block is None:
            return None
        if block.long_above is not None and context_floor(context_window) >= block.long_above:
            return block.entries.get((tier, block.long_label))
        return block.entries.get((tier, ""))

    def entries_in_force(self, at: int) -> list[PriceEntry]:
        """Every entry in force at `at`, ordered by provider, model, tier, context."""
        order = {tier: i for i, tier in enumerate(SERVICE_TIERS)}
        entries: list[PriceEntry] = []
        for provider, model in sorted(self._blocks):
            block = self._block_at(provider, model, at)
            if block is not None:
                entries.extend(block.entries.values())
        return sorted(entries, key=lambda e: (e.provider, e.model, order.get(e.tier, 99), e.context))

    def models(self) -> list[str]:
        """Every priced model name (fine-tuned rates as `ft:BASE`), sorted."""
        return sorted({model for _, model in self._blocks})

    def names(self) -> list[str]:
        """Every name the table knows (models and aliases), sorted; for suggestions."""
        return sorted({name for _, name in self._known})

    def providers(self) -> list[str]:
        return list(self._providers)

    def family_cheaper(self, model: str) -> str | None:
        """The next-cheaper model of the same family (gpt-4.1 -> gpt-4.1-mini), or None."""
        resolved = self.resolve("", model)
        if resolved is None:
            return None
        return self._cheaper.get((resolved.provider, resolved.model))

    def _block_at(self, provider: str, model: str, at: int) -> _Block | None:
        key = (provider, model)
        starts = self._starts.get(key)
        if not starts:
            return None
        i = bisect.bisect_right(starts, at) - 1
        return self._blocks[key][i] if i >= 0 else None

    def _build(self, specs: Sequence[ModelSpec]) -> None:
        merged: dict[tuple[str, str], dict[date, BlockSpec]] = {}
        notes: dict[tuple[str, str], str] = {}
        cheaper: dict[tuple[str, str], tuple[str, str]] = {}
        for spec in specs:
            key = (spec.provider, spec.model)
            merged.setdefault(key, {}).update({b.effective_from: b for b in spec.blocks})
            self._known[key] = spec.model
            for alias in spec.aliases:
                self._known[(spec.provider, alias)] = spec.model
            if spec.cheaper:
                cheaper[key] = (spec.cheaper, spec.where)
            if spec.note:
                notes[key] = spec.note
        problems: list[str] = []
        for (provider, model), by_date in merged.items():
            blocks = [by_date[day] for day in sorted(by_date)]
            note = notes.get((provider, model), "")
            for block in blocks:
                self._add(provider, model, block, note=note, problems=problems)
            if any(block.fine_tuned for block in blocks):
                # Every block is a complete sheet: one without fine_tuned ends the fine-tuned prices.
                fine_tuned = FINE_TUNED_PREFIX + model
                self._known[(provider, fine_tuned)] = fine_tuned
                for block in blocks:
                    self._add(provider, fine_tuned, block, note="", problems=problems, fine_tuned=True)
        for (provider, model), (target, where) in cheaper.items():
            if (provider, target) not in merged:
                problems.append(f"{where}.cheaper: {target!r} is not a {provider} model in the table")
            else:
                self._cheaper[(provider, model)] = target
        if problems:
            raise PricingError("\n".join(problems))

    def _add(
        self,
        provider: str,
        model: str,
        block: BlockSpec,
        *,
        note: str,
        problems: list[str],
        fine_tuned: bool = False,
    ) -> None:
        """Append the entries of one block (its fine-tuned rates when `fine_tuned`) to the model's blocks."""
        tiers = block.fine_tuned if fine_tuned else block.tiers
        long_tiers = {} if fine_tuned else block.long_tiers
        start = int(datetime.combine(block.effective_from, time(), tzinfo=UTC).timestamp())
        note = " ".join(n for n in (note, block.note) if n)
        label = context_label(block.long_above) if block.long_above is not None else ""
        units = MappingProxyType(block.units)
        geo = MappingProxyType({name: Fraction(factor) for name, factor in block.inference_geo.items()})

        def entry(tier: str, context: str, rates: Rates) -> PriceEntry:
            parts = [provider, model, tier, *([context] if context else []), block.effective_from.isoformat()]
            return PriceEntry(
                "/".join(parts), provider, model, tier, context, block.effective_from, block.source,
                rates, units, note, block.origin, geo,
            )  # fmt: skip

        entries: dict[tuple[str, str], PriceEntry] = {}
        where = f"{block.where}.fine_tuned" if fine_tuned else block.where
        for tier, rates in complete_tiers(provider, tiers, where, problems).items():
            entries[(tier, "")] = entry(tier, "", rates)
        long_where = f"{block.where}.long_context"
        for tier, rates in complete_tiers(provider, long_tiers, long_where, problems).items():
            entries[(tier, label)] = entry(tier, label, rates)
        if not entries and block.units and not fine_tuned:  # units only, e.g. code interpreter
            entries[("standard", "")] = entry("standard", "", (None,) * len(TOKEN_INDEX))
        key = (provider, model)
        self._blocks.setdefault(key, []).append(
            _Block(start, entries, block.long_above if long_tiers else None, label)
        )
        self._starts.setdefault(key, []).append(start)


def with_origin(specs: Sequence[ModelSpec], origin: str) -> Sequence[ModelSpec]:
    """Mark every block of `specs` as coming from the price source `origin`; returns `specs`."""
    for spec in specs:
        for block in spec.blocks:
            block.origin = origin
    return specs


@cache
def _bundled_specs() -> tuple[str, tuple[ModelSpec, ...]]:
    version, specs = read_price_file(BUNDLED_PATH)
    if not version:
        raise PricingError(f"{BUNDLED_PATH}: missing 'version'")
    return version, tuple(with_origin(specs, BUNDLED))


@cache
def _bundled() -> PriceTable:
    version, specs = _bundled_specs()
    return PriceTable(specs, version)
