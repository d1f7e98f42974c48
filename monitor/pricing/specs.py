"""The price table as written: a model entry (`ModelSpec`) and its dated price blocks (`BlockSpec`), with
exact integer rates, before the provider's rules fill gaps. Built by `schema.parse_models`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

TierRates = dict[str, dict[str, int]]
"""tier -> token type -> rate (picodollars per token), as written (before rules)."""


@dataclass
class BlockSpec:
    """One dated price block of a model, as written."""

    effective_from: date
    source: str
    note: str
    where: str
    tiers: TierRates = field(default_factory=dict)
    fine_tuned: TierRates = field(default_factory=dict)
    long_above: int | None = None
    long_tiers: TierRates = field(default_factory=dict)
    inference_geo: dict[str, Decimal] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    origin: str = ""
    """The price source the block comes from ("bundled", "files", ...); set by whoever loads it."""
    geo_known: bool = True
    """False when the source says nothing about inference geos (rows of a non-default geo stay unpriced)."""
    derive: bool = True
    """False when the provider's billing rules must not fill gaps (the community source)."""


@dataclass
class ModelSpec:
    """One model entry, as written."""

    provider: str
    model: str
    where: str
    aliases: list[str] = field(default_factory=list)
    cheaper: str | None = None
    note: str = ""
    deprecated: date | None = None
    shutdown: date | None = None
    blocks: list[BlockSpec] = field(default_factory=list)


def with_origin(specs: Sequence[ModelSpec], origin: str) -> Sequence[ModelSpec]:
    """Mark every block of `specs` as coming from the price source `origin`; returns `specs`."""
    for spec in specs:
        for block in spec.blocks:
            block.origin = origin
    return specs
