"""Model name resolution: which table model prices a name a provider reports.

In order: a config alias (`pricing.aliases`, the target then resolved by the rules below); the exact
table name; a name the table lists as an alias (e.g. `claude-3-5-haiku-latest`); a fine-tune
(`ft:BASE:org:suffix:id` -> the fine-tuned rates of BASE, i.e. table model `ft:BASE`); a dated
snapshot (`gpt-4.1-2025-04-14`, `claude-sonnet-4-5-20250929`) -> its undated name, unless the table
lists the dated name itself (`gpt-4o-2024-05-13`). Anything else is unknown: no guessing by prefix.

A channel (a relay, OpenRouter, Azure OpenAI: a row provider the table has no prices of) reports the
upstream model's name: it is resolved with any provider's prices (`resolve_upstream`), the provider
named by a `vendor/` prefix first (`openai/gpt-4.1`, `anthropic/claude-sonnet-4.5`), and a version
written with a dot between digits (OpenRouter's `claude-sonnet-4.5`) also as the dash form the
providers use (`claude-sonnet-4-5`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_VERSION_DOT = re.compile(r"(?<=\d)\.(?=\d)")
_SNAPSHOT = re.compile(r"^(?P<base>.+?)-(?:\d{4}-\d{2}-\d{2}|\d{8})$")
_FINE_TUNE = re.compile(r"^ft:(?P<base>[^:]+)(?::|$)")
FINE_TUNED_PREFIX = "ft:"


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A reported model name and the table model that prices it.

    `rule` says how it was found: "exact", "alias", "config alias", "fine-tune" or "snapshot".
    """

    provider: str
    model: str
    requested: str
    rule: str

    @property
    def fine_tuned(self) -> bool:
        return self.model.startswith(FINE_TUNED_PREFIX)


def resolve_name(
    provider: str,
    name: str,
    known: Mapping[tuple[str, str], str],
    providers: Sequence[str],
    config_aliases: Mapping[str, str],
) -> ResolvedModel | None:
    """Resolve `name` for `provider` ("" = any provider, first match in `providers` order).

    `known` maps (provider, table model or table alias) to the table model.
    """
    target = config_aliases.get(name)
    found = _any_provider(provider, target if target is not None else name, known, providers)
    if found is None or target is None:
        return found
    return ResolvedModel(found.provider, found.model, name, "config alias")


def resolve_upstream(
    name: str,
    known: Mapping[tuple[str, str], str],
    providers: Sequence[str],
    config_aliases: Mapping[str, str],
) -> ResolvedModel | None:
    """Resolve the upstream model a channel row names, with any provider's prices (see the module doc)."""
    target = config_aliases.get(name)
    wanted = target if target is not None else name
    vendor, _, bare = wanted.rpartition("/")
    order = [vendor] if vendor in providers else []
    candidates = (bare, _VERSION_DOT.sub("-", bare)) if bare else ()
    for candidate in dict.fromkeys(candidates):
        for provider in dict.fromkeys([*order, *providers]):
            found = _lookup(provider, candidate, known)
            if found is not None:
                rule = "config alias" if target is not None else "upstream"
                return ResolvedModel(found.provider, found.model, name, rule)
    return None


def _any_provider(
    provider: str, name: str, known: Mapping[tuple[str, str], str], providers: Sequence[str]
) -> ResolvedModel | None:
    for candidate in (provider,) if provider else providers:
        found = _lookup(candidate, name, known)
        if found is not None:
            return found
    return None


def _lookup(provider: str, name: str, known: Mapping[tuple[str, str], str]) -> ResolvedModel | None:
    model = known.get((provider, name))
    if model is not None:
        return ResolvedModel(provider, model, name, "exact" if model == name else "alias")
    fine_tune = _FINE_TUNE.match(name)
    if fine_tune is not None:
        base = _lookup(provider, fine_tune["base"], known)
        if base is None or base.fine_tuned:
            return None
        model = known.get((provider, FINE_TUNED_PREFIX + base.model))
        return None if model is None else ResolvedModel(provider, model, name, "fine-tune")
    snapshot = _SNAPSHOT.match(name)
    if snapshot is not None:
        model = known.get((provider, snapshot["base"]))
        if model is not None:
            return ResolvedModel(provider, model, name, "snapshot")
    return None
