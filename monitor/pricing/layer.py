"""One layer of the price chain: dated price entries per (provider, model, tier, context) and lookups.

Built from model specs in order; for the same model and effective date the later block replaces the
earlier one (the bundled table, then price files, then config overrides). A block is a model's complete
price sheet from its effective date (00:00 UTC) until the model's next block.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from fractions import Fraction
from types import MappingProxyType

from monitor.errors import PricingError
from monitor.pricing.entry import PriceEntry
from monitor.pricing.resolve import FINE_TUNED_PREFIX, ResolvedModel, resolve_name, resolve_upstream
from monitor.pricing.rules import Rates, complete_tiers
from monitor.pricing.specs import BlockSpec, ModelSpec
from monitor.pricing.tiers import context_floor, context_label
from monitor.records import SERVICE_TIERS, TOKEN_INDEX

_RESOLVE_CACHE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class _Block:
    start: int
    entries: dict[tuple[str, str], PriceEntry]
    long_above: int | None
    long_label: str


class PriceLayer:
    """One layer of the price chain: prices by provider and model from one source (or the merged
    table sources), with name resolution and effective dates. Read-only once built.

    `name` is the layer's source ("table" for the bundled table merged with the user's files).
    """

    def __init__(
        self, name: str, specs: Sequence[ModelSpec], aliases: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self._config_aliases = dict(aliases or {})
        self._blocks: dict[tuple[str, str], list[_Block]] = {}
        self._starts: dict[tuple[str, str], list[int]] = {}
        self._known: dict[tuple[str, str], str] = {}
        self._cheaper: dict[tuple[str, str], str] = {}
        self._resolved: dict[tuple[str, str], ResolvedModel | None] = {}
        self._build(specs)
        self._providers = tuple(sorted({provider for provider, _ in self._blocks}))

    def resolve(self, provider: str, model: str) -> ResolvedModel | None:
        """The table model that prices `model` ("" provider = any), or None; cached.

        A provider this layer has no prices of is a channel reselling other providers' models (a relay,
        OpenRouter, Azure): its rows name the upstream model, resolved with any provider's prices
        (resolve.resolve_upstream).
        """
        key = (provider, model)
        try:
            return self._resolved[key]
        except KeyError:
            pass
        if len(self._resolved) >= _RESOLVE_CACHE_LIMIT:
            self._resolved.clear()
        if provider and provider not in self._providers:
            found = resolve_upstream(model, self._known, self._providers, self._config_aliases)
        else:
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

    def knows(self, provider: str, name: str) -> bool:
        """Whether `name` is one of this layer's model names or aliases for `provider`."""
        return (provider, name) in self._known

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
        rules = provider if block.derive else ""  # no provider: no billing rules fill gaps

        def entry(tier: str, context: str, rates: Rates) -> PriceEntry:
            parts = [provider, model, tier, *([context] if context else []), block.effective_from.isoformat()]
            return PriceEntry(
                "/".join(parts), provider, model, tier, context, block.effective_from, block.source,
                rates, units, note, block.origin, geo if block.geo_known else None,
            )  # fmt: skip

        entries: dict[tuple[str, str], PriceEntry] = {}
        where = f"{block.where}.fine_tuned" if fine_tuned else block.where
        for tier, rates in complete_tiers(rules, tiers, where, problems).items():
            entries[(tier, "")] = entry(tier, "", rates)
        long_where = f"{block.where}.long_context"
        for tier, rates in complete_tiers(rules, long_tiers, long_where, problems).items():
            entries[(tier, label)] = entry(tier, label, rates)
        if not entries and block.units and not fine_tuned:  # units only, e.g. code interpreter
            entries[("standard", "")] = entry("standard", "", (None,) * len(TOKEN_INDEX))
        key = (provider, model)
        self._blocks.setdefault(key, []).append(
            _Block(start, entries, block.long_above if long_tiers else None, label)
        )
        self._starts.setdefault(key, []).append(start)
