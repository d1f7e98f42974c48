"""Billing rules the providers state, used to fill prices a price block leaves out.

OpenAI and Anthropic: the Batch API costs 50% of the standard price for every token type. Anthropic:
a 5-minute cache write costs 1.25x the input price, a 1-hour cache write 2x (of the same tier's input
price). Explicit prices always win. Nothing is derived for other providers, and a tier with neither a
price nor a rule stays unpriced.

Cache reads are never derived: Anthropic's "0.1x input" stopped holding (Claude Sonnet 5.5 reads at
0.05x since 2026-10-07), so every cache-read price is written per model. The remaining rules are a
convenience for users' own price files and overrides; the bundled table writes every price (and the
community source never derives: see community.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from monitor.records import TOKEN_TYPES

Rates = tuple[int | None, ...]
"""Picodollars per token in TOKEN_TYPES order; None = no price."""


@dataclass(frozen=True)
class ProviderRules:
    batch_factor: Fraction | None = None
    cache_factors: Mapping[str, Fraction] = field(default_factory=dict)


PROVIDER_RULES: dict[str, ProviderRules] = {
    "openai": ProviderRules(batch_factor=Fraction(1, 2)),
    "anthropic": ProviderRules(
        batch_factor=Fraction(1, 2),
        cache_factors={
            "cache_write": Fraction(5, 4),
            "cache_write_1h": Fraction(2),
        },
    ),
}
_NO_RULES = ProviderRules()


def complete_tiers(
    provider: str, tiers: Mapping[str, Mapping[str, int]], where: str, problems: list[str]
) -> dict[str, Rates]:
    """The written tiers plus what the provider's rules derive, as rate tuples per tier.

    A derived price that is not a whole number of picodollars per token is reported in `problems`
    (give it explicitly) and left unpriced.
    """
    rules = PROVIDER_RULES.get(provider, _NO_RULES)
    filled = {tier: dict(rates) for tier, rates in tiers.items()}
    for tier, rates in filled.items():
        base = rates.get("input")
        if base is None:
            continue
        for token_type, factor in rules.cache_factors.items():
            if token_type not in rates:
                at = f"{where}.{tier}.{token_type}"
                _derive(
                    rates,
                    token_type,
                    base * factor,
                    at=at,
                    rule=f"{_times(factor)}x input",
                    problems=problems,
                )
    standard = filled.get("standard")
    if rules.batch_factor is not None and standard:
        batch = filled.setdefault("batch", {})
        rule = f"{_times(rules.batch_factor)}x standard"
        for token_type, rate in standard.items():
            if token_type not in batch:
                at = f"{where}.batch.{token_type}"
                _derive(batch, token_type, rate * rules.batch_factor, at=at, rule=rule, problems=problems)
    return {tier: tuple(rates.get(t) for t in TOKEN_TYPES) for tier, rates in filled.items()}


def _derive(
    rates: dict[str, int], token_type: str, value: Fraction, *, at: str, rule: str, problems: list[str]
) -> None:
    if value.denominator == 1:
        rates[token_type] = int(value)
    else:
        problems.append(
            f"{at}: the derived price ({rule}) is not exact to 6 decimals of USD per 1M; give it explicitly"
        )


def _times(factor: Fraction) -> Decimal:
    return Decimal(factor.numerator) / Decimal(factor.denominator)
