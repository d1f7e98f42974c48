"""The one place that maps a config `type` to its adapter and its config keys.

A new provider or channel is a module under `providers/` that declares a `ProviderType` (see
schema.py) and one line in `TYPES` below; the loader, `check-config`, budget scopes and the daemon
find it here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import httpx

from monitor.providers import anthropic, azure_openai, newapi, openai, openrouter
from monitor.providers.base import Provider
from monitor.providers.schema import Build, ProviderType

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig

TYPES: Mapping[str, ProviderType] = MappingProxyType(
    {
        t.name: t
        for t in sorted(
            (openai.TYPE, anthropic.TYPE, newapi.TYPE, openrouter.TYPE, azure_openai.TYPE),
            key=lambda t: t.name,
        )
    }
)
"""Every provider type by its config `type` name, in alphabetical order."""

TYPE_NAMES: tuple[str, ...] = tuple(TYPES)


def provider_type(name: str) -> ProviderType:
    """The type named `name`; ValueError listing the known ones otherwise."""
    try:
        return TYPES[name]
    except KeyError:
        raise ValueError(f"unknown type {name!r} (expected one of: {', '.join(TYPE_NAMES)})") from None


def option_of(cfg: ProviderConfig, key: str) -> Any:
    """The value of type option `key` of an entry (its default when left out); None when the entry's
    type has no such option (e.g. `claude_code` of a channel)."""
    kind = TYPES.get(cfg.type)
    if kind is None or key not in kind.options:
        return None
    return kind.option(cfg, key)


def make_provider(
    cfg: ProviderConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    transport: httpx.BaseTransport | None = None,
    where: str = "",
) -> Provider:
    """The adapter for one configured account. `where` names the entry in messages such as the
    401/403 one ("providers[0]"); by default the entry is named by its `name`."""
    try:
        kind = provider_type(cfg.type)
    except ValueError as exc:
        raise ValueError(f"providers entry {cfg.name!r}: {exc}") from None
    build = Build(
        sleep=sleep, rng=rng, transport=transport, where=where or f"the providers entry named {cfg.name!r}"
    )
    return kind.build(cfg, build)
