"""The price table everything prices with: the chain of price sources, in the order config gives them.

`PriceTable.load` builds the layers of `pricing.sources` (see sources.py): the bundled `prices.yaml`
merged with the user's price files and overrides (later wins per model and date), then the community
source (genai-prices data the daemon hands in, already converted by community.py) for the models no
earlier layer lists. Every lookup asks the layers in order; the first layer that lists a model prices
it, and each entry carries the source it came from (`PriceEntry.origin`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from monitor.errors import PricingError
from monitor.pricing.entry import PriceEntry
from monitor.pricing.files import read_price_file
from monitor.pricing.layer import PriceLayer
from monitor.pricing.resolve import ResolvedModel
from monitor.pricing.schema import parse_models
from monitor.pricing.sources import (
    BILL,
    BUNDLED,
    DEFAULT_SOURCES,
    FILES,
    GENAI_PRICES,
    TABLE_SOURCES,
    PriceSource,
    layer_groups,
    source_problems,
)
from monitor.pricing.specs import ModelSpec, with_origin
from monitor.records import SERVICE_TIERS

BUNDLED_PATH = Path(__file__).with_name("prices.yaml")
TABLE_LAYER = "table"
"""The name of the layer made of the bundled table and the user's files."""


@dataclass(frozen=True, slots=True)
class CommunityPrices:
    """Converted community data (community.py) with a label for `source` texts and a digest for versions."""

    specs: tuple[ModelSpec, ...]
    label: str
    digest: str


class PriceTable:
    """Prices by provider and model across the source chain, with name resolution and effective dates."""

    def __init__(self, layers: Sequence[PriceSource], version: str) -> None:
        self.version = version
        self.layers = tuple(layers)
        self.sources = tuple(layer.name for layer in self.layers)
        self._providers = sorted({p for layer in self.layers for p in layer.providers()})

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
        *,
        sources: Sequence[str] = DEFAULT_SOURCES,
        community: CommunityPrices | None = None,
    ) -> PriceTable:
        """The chain of `sources`: the bundled table, `extra_files` and config `overrides` (the `files`
        source), and `community` data for `genai-prices` (left out while the daemon has none).

        Raises PricingError naming the file (or `pricing.overrides`) and key path of every problem, or
        the source list's problems. The version is the bundled one, suffixed `+local.<hash>` when files
        or overrides change it and `+genai-prices.<digest>` with community data.
        """
        problems = source_problems(list(sources))
        if problems:
            raise PricingError("\n".join(problems))
        plain = tuple(s for s in sources if s != BILL) == TABLE_SOURCES and community is None
        if plain and not extra_files and not overrides and not aliases:
            return cls.bundled()
        version, bundled_specs = _bundled_specs()
        file_specs: list[ModelSpec] = []
        digest = hashlib.sha256()
        for path in extra_files:
            _, specs = read_price_file(Path(path))
            file_specs.extend(with_origin(specs, FILES))
            digest.update(Path(path).read_bytes())
        if overrides:
            specs, problems = parse_models(list(overrides), "pricing.overrides")
            if problems:
                raise PricingError("\n".join(problems))
            file_specs.extend(with_origin(specs, FILES))
            digest.update(json.dumps(list(overrides), sort_keys=True, default=str).encode())
        if (extra_files or overrides) and FILES in sources:
            version = f"{version}+local.{digest.hexdigest()[:8]}"
        layers: list[PriceSource] = []
        for group in layer_groups(sources):
            if group[0] == GENAI_PRICES:
                if community is not None:
                    layers.append(_community_layer(community, layers, aliases))
                    version = f"{version}+{GENAI_PRICES}.{community.digest[:8]}"
                continue
            by_source = {BUNDLED: bundled_specs, FILES: file_specs}
            layers.append(PriceLayer(TABLE_LAYER, [s for name in group for s in by_source[name]], aliases))
        return cls(layers, version)

    # ---- lookups ------------------------------------------------------------------------------------

    def resolve(self, provider: str, model: str) -> ResolvedModel | None:
        """The model that prices `model` ("" provider = any) in the first layer that lists it, or None."""
        return self._find(provider, model)[1]

    def price_for(
        self, provider: str, model: str, tier: str, context_window: str, at: int
    ) -> PriceEntry | None:
        """The entry in force at unix second `at` for a (normalised) tier and a reported context window.

        Only the first layer that lists the model answers: None when it has no price for that tier,
        context or date (a later source is never asked for what this one lacks). A long-context window
        ("200k-1M") takes the block's long-context prices when the block has them.
        """
        layer, resolved = self._find(provider, model)
        if layer is None or resolved is None:
            return None
        return layer.price_for(resolved.provider, resolved.model, tier, context_window, at)

    def source_of(self, provider: str, model: str) -> str | None:
        """The name of the layer that prices `model`, or None."""
        layer = self._find(provider, model)[0]
        return None if layer is None else layer.name

    def entries_in_force(self, at: int) -> list[PriceEntry]:
        """Every entry in force at `at` that prices something (a model an earlier layer lists is left
        out of later ones), ordered by provider, model, tier, context."""
        order = {tier: i for i, tier in enumerate(SERVICE_TIERS)}
        entries: list[PriceEntry] = []
        for i, layer in enumerate(self.layers):
            earlier = self.layers[:i]
            entries.extend(
                e
                for e in layer.entries_in_force(at)
                if not any(o.resolve(e.provider, e.model) for o in earlier)
            )
        return sorted(entries, key=lambda e: (e.provider, e.model, order.get(e.tier, 99), e.context))

    def models(self) -> list[str]:
        """Every priced model name (fine-tuned rates as `ft:BASE`), sorted."""
        return sorted({model for layer in self.layers for model in layer.models()})

    def names(self) -> list[str]:
        """Every name the table knows (models and aliases), sorted; for suggestions."""
        return sorted({name for layer in self.layers for name in layer.names()})

    def providers(self) -> list[str]:
        return list(self._providers)

    def family_cheaper(self, model: str) -> str | None:
        """The next-cheaper model of the same family (gpt-4.1 -> gpt-4.1-mini), or None."""
        layer = self._find("", model)[0]
        return None if layer is None else layer.family_cheaper(model)

    def _find(self, provider: str, model: str) -> tuple[PriceSource | None, ResolvedModel | None]:
        for layer in self.layers:
            resolved = layer.resolve(provider, model)
            if resolved is not None:
                return layer, resolved
        return None, None


def _community_layer(
    community: CommunityPrices, earlier: Sequence[PriceSource], aliases: Mapping[str, str] | None
) -> PriceLayer:
    """The community layer, keeping only models (and aliases) no earlier layer lists: the rest would
    never price anything, so it is not kept in memory."""
    kept = [
        spec
        for spec in community.specs
        if not any(
            layer.resolve(spec.provider, name) for layer in earlier for name in (spec.model, *spec.aliases)
        )
    ]
    return PriceLayer(GENAI_PRICES, kept, aliases)


@cache
def _bundled_specs() -> tuple[str, tuple[ModelSpec, ...]]:
    version, specs = read_price_file(BUNDLED_PATH)
    if not version:
        raise PricingError(f"{BUNDLED_PATH}: missing 'version'")
    return version, tuple(with_origin(specs, BUNDLED))


@cache
def _bundled() -> PriceTable:
    version, specs = _bundled_specs()
    return PriceTable([PriceLayer(TABLE_LAYER, specs)], version)
