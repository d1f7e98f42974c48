"""The price-table format: reading and checking model entries into specs with exact integer rates.

One format serves the bundled `prices.yaml`, extra price files and config `pricing.overrides`: a list
of model entries, each with dated price blocks (see docs/pricing.md). Checking gathers every problem,
each prefixed with its key path, instead of stopping at the first. The specs are in `specs.py`, one
block's checks in `blocks.py`, the reading of single values in `fields.py`.
"""

from __future__ import annotations

from datetime import date

from monitor.pricing.blocks import read_block
from monitor.pricing.fields import Problems, check_keys, kind_of, read_date, read_name, read_text
from monitor.pricing.rules import complete_tiers
from monitor.pricing.specs import BlockSpec, ModelSpec

_MODEL_KEYS = ("provider", "model", "aliases", "cheaper", "note", "deprecated", "shutdown", "prices")
_RENAMED_TIERS: dict[str, dict[str, str]] = {"openai": {"priority": "fast"}}
"""Tier keys a price file may still write under an old name: OpenAI's Priority became Fast on 2026-07-30."""


def check_price_entries(data: object, where: str) -> list[str]:
    """Problems with a list of model entries in the table format, one line each, never raising.

    Each line starts with its key path under `where`, e.g.
    `pricing.overrides[0].prices[1].standard.input: '1.2.3' is not a number`.
    """
    specs, problems = parse_models(data, where)
    for spec in specs:  # also the prices the provider's rules would derive
        for block in spec.blocks:
            complete_tiers(spec.provider, block.tiers, block.where, problems)
            complete_tiers(spec.provider, block.long_tiers, f"{block.where}.long_context", problems)
            complete_tiers(spec.provider, block.fine_tuned, f"{block.where}.fine_tuned", problems)
    return problems


def parse_models(data: object, where: str) -> tuple[list[ModelSpec], list[str]]:
    """Model entries -> specs, plus the problems found (specs with problems are left out)."""
    problems = Problems()
    specs: list[ModelSpec] = []
    if not isinstance(data, list):
        problems.add(where, f"expected a list of model entries, got {kind_of(data)}")
        return specs, problems
    for i, item in enumerate(data):
        before = len(problems)
        spec = _model(item, f"{where}[{i}]", problems)
        if spec is not None and len(problems) == before:
            specs.append(spec)
    return specs, problems


def _model(item: object, where: str, problems: Problems) -> ModelSpec | None:
    if not isinstance(item, dict):
        problems.add(where, f"expected a model entry (a mapping), got {kind_of(item)}")
        return None
    check_keys(item, _MODEL_KEYS, where, problems)
    provider = read_name(item, "provider", where, problems)
    model = read_name(item, "model", where, problems)
    spec = ModelSpec(provider=provider, model=model, where=where)
    aliases = item.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        problems.add(f"{where}.aliases", "expected a list of model names")
    else:
        spec.aliases = [a.strip() for a in aliases]
    if item.get("cheaper") is not None:
        spec.cheaper = read_name(item, "cheaper", where, problems)
    spec.note = read_text(item, "note", where, problems, required=False)
    for key in ("deprecated", "shutdown"):
        if item.get(key) is not None:
            setattr(spec, key, read_date(item[key], f"{where}.{key}", problems))
    prices = item.get("prices")
    if not isinstance(prices, list) or not prices:
        problems.add(f"{where}.prices", "expected a non-empty list of dated price blocks")
        return spec
    seen: set[date] = set()
    for j, block_data in enumerate(prices):
        block = read_block(block_data, f"{where}.prices[{j}]", problems)
        if block is None:
            continue
        if block.effective_from in seen:
            problems.add(f"{block.where}.effective_from", f"{block.effective_from} appears twice for {model}")
        seen.add(block.effective_from)
        _rename_tiers(provider, block, problems)
        spec.blocks.append(block)
    return spec


def _rename_tiers(provider: str, block: BlockSpec, problems: Problems) -> None:
    """Read a tier written under its old name (OpenAI `priority`) as its new one (`fast`)."""
    for old, new in _RENAMED_TIERS.get(provider, {}).items():
        for where, tiers in (
            (block.where, block.tiers),
            (f"{block.where}.fine_tuned", block.fine_tuned),
            (f"{block.where}.long_context", block.long_tiers),
        ):
            if old not in tiers:
                continue
            if new in tiers:
                problems.add(
                    f"{where}.{old}", f"{provider} calls this tier {new!r} since 2026-07-30; give {new} only"
                )
                continue
            tiers[new] = tiers.pop(old)
