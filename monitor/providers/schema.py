"""How a provider type describes itself to the registry: its config keys, endpoints and bucket widths,
and how an adapter is built from a config entry.

Plain data, so the config loader can check each type's keys (with their key paths) without knowing
any adapter, and a new type brings its keys along instead of editing the loader.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import httpx

from monitor.providers.http_options import HttpOptions

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig
    from monitor.providers.base import Provider

OPTION_KINDS: tuple[str, ...] = ("secret", "url", "text", "name", "guid", "whole", "version_date", "bool")
"""How an option's value is read (the config loader has a parser for each):

- `secret`: a `${ENV}`/`${file:}` reference (a `Secret`, never shown);
- `url`: an http(s) URL without credentials, trailing `/` dropped;
- `text`: one line of text without spaces;
- `name`: letters, digits and `_ . ( ) -` only (it goes into a URL path);
- `guid`: a GUID like 00000000-0000-0000-0000-000000000000;
- `whole`: a whole number >= 1;
- `version_date`: YYYY-MM-DD;
- `bool`: true or false.
"""


@dataclass(frozen=True)
class Option:
    """One config key of a provider type beyond the keys every type has.

    `fix` says what to write, for the message when a required key is missing ("a management key, as
    ${OPENROUTER_MANAGEMENT_KEY}"). `default` is the value (as written in YAML) when the key is left out.
    `check` may look at the parsed value and return a problem ("... (how to fix)"), else None.
    """

    kind: str
    fix: str
    required: bool = False
    default: str | None = None
    check: Callable[[Any], str | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in OPTION_KINDS:
            raise ValueError(f"option kind {self.kind!r} is not one of {OPTION_KINDS}")


@dataclass(frozen=True)
class Build:
    """What the daemon hands every adapter besides the config entry: the retry sleep (which raises when
    the daemon stops), the backoff jitter, a test transport, and how to name the entry in messages."""

    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None
    transport: httpx.BaseTransport | None = None
    where: str = ""

    def hint(self, key: str) -> str:
        """Where a key is configured, e.g. "the access_token of the providers entry named 'relay'"."""
        return f"the {key} of {self.where}"


def _no_options() -> Mapping[str, Option]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ProviderType:
    """A config `type`: its adapter factory, its own keys, usage endpoints and allowed bucket widths.

    `options` lists every key beyond the common ones (name, type, poll_interval, bucket_width, ...);
    `api_key` and `base_url` are options too, stored in the ProviderConfig fields of those names,
    every other option in `ProviderConfig.options`.
    """

    name: str
    summary: str
    build: Callable[[ProviderConfig, Build], Provider]
    endpoints: tuple[str, ...]
    options: Mapping[str, Option] = field(default_factory=_no_options)
    bucket_widths: tuple[str, ...] = ("1m", "1h", "1d")
    balances: bool = False
    """Whether the type reports a prepaid balance (config `balances` may name its entries)."""

    def secret(self, cfg: ProviderConfig, key: str) -> str:
        """The revealed value of secret option `key`; ValueError when the entry has none."""
        value = self.option(cfg, key)
        if value is None:
            raise ValueError(f"providers entry {cfg.name!r} ({self.name}) has no {key}")
        return str(value.reveal())

    def option(self, cfg: ProviderConfig, key: str) -> Any:
        """The value of option `key` of an entry (its default when the entry leaves it out)."""
        if key in ("api_key", "base_url"):
            return getattr(cfg, key)
        if key in cfg.options:
            return cfg.options[key]
        default = self.options[key].default
        if self.options[key].kind == "bool" and default is not None:
            return default == "true"  # the loader parses defaults; an entry built in code has none
        return default


def common_settings(cfg: ProviderConfig, build: Build) -> dict[str, Any]:
    """The adapter keyword arguments every type takes alike: account, HTTP limits, sleep, jitter, transport."""
    return {
        "account": cfg.name,
        "timeout": cfg.timeout,
        "max_attempts": cfg.max_attempts,
        "sleep": build.sleep,
        "rng": build.rng,
        "transport": build.transport,
    }


def http_options(cfg: ProviderConfig, build: Build) -> HttpOptions:
    """The HTTP settings of an entry's adapter: its timeout and attempts, the daemon's sleep and jitter."""
    return HttpOptions(
        timeout=cfg.timeout,
        max_attempts=cfg.max_attempts,
        sleep=build.sleep,
        rng=build.rng,
        transport=build.transport,
    )
