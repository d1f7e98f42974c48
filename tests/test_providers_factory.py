"""make_provider: a ProviderConfig becomes the right adapter with its settings, and the shared
bucket helpers (alignment, row merging) behave as the Provider protocol promises."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from monitor.config import ProviderConfig, Secret
from monitor.errors import ProviderAuthError
from monitor.providers import align_down, align_up, make_provider, merge_rows
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.openai import OpenAIProvider
from monitor.records import UsageRow, tokens_of

KEY = "sk-admin-factorySECRET0123456789"


def config(**overrides: Any) -> ProviderConfig:
    values: dict[str, Any] = {
        "name": "openai-prod",
        "type": "openai",
        "api_key": Secret(KEY),
        "base_url": "https://api.openai.test/v1",
    }
    values.update(overrides)
    return ProviderConfig(**values)


def test_an_openai_entry_builds_the_openai_adapter_with_its_settings() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "page", "data": [], "has_more": False, "next_page": None})

    cfg = config(bucket_width="1d", endpoints=("embeddings",))
    p = make_provider(cfg, transport=httpx.MockTransport(handler))
    assert isinstance(p, OpenAIProvider)
    assert (p.provider, p.account, p.endpoints, p.bucket_width) == (
        "openai",
        "openai-prod",
        ("embeddings",),
        86400,
    )
    list(p.fetch_usage("embeddings", 0, 86400, observed_at=0, now=86400))
    assert str(seen[0].url).startswith("https://api.openai.test/v1/organization/usage/embeddings?")
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"


def test_an_anthropic_entry_builds_the_anthropic_adapter_with_its_version() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [], "has_more": False, "next_page": None})

    cfg = config(
        name="claude",
        type="anthropic",
        base_url="https://api.anthropic.test",
        options={"anthropic_version": "2024-01-01"},
    )
    p = make_provider(cfg, transport=httpx.MockTransport(handler))
    assert isinstance(p, AnthropicProvider)
    assert (p.provider, p.account, p.endpoints, p.bucket_width) == (
        "anthropic",
        "claude",
        ("messages",),
        3600,
    )
    list(p.fetch_usage("messages", 0, 3600, observed_at=0, now=3600))
    assert seen[0].headers["anthropic-version"] == "2024-01-01"
    assert seen[0].headers["x-api-key"] == KEY


def test_max_attempts_and_sleep_come_from_the_config_and_the_caller() -> None:
    waits: list[float] = []
    p = make_provider(
        config(max_attempts=3),
        sleep=waits.append,
        transport=httpx.MockTransport(lambda _r: httpx.Response(503)),
    )
    with pytest.raises(Exception, match="gave up after 3"):
        list(p.fetch_usage("completions", 0, 3600, observed_at=0, now=3600))
    assert len(waits) == 2
    assert p.stats.requests == 3


def test_the_auth_message_names_the_entry_by_default() -> None:
    p = make_provider(config(), transport=httpx.MockTransport(lambda _r: httpx.Response(401)))
    with pytest.raises(ProviderAuthError, match="providers entry named 'openai-prod'"):
        list(p.fetch_usage("completions", 0, 3600, observed_at=0, now=3600))


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown type 'gemini'"):
        make_provider(config(type="gemini"))


def test_alignment_rounds_to_bucket_boundaries() -> None:
    assert (align_down(7199, 3600), align_up(7199, 3600), align_up(7200, 3600)) == (3600, 7200, 7200)


def test_merge_rows_sums_rows_with_one_natural_key_and_keeps_others_apart() -> None:
    def row(model: str, n: int, units: tuple[tuple[str, int], ...]) -> UsageRow:
        return UsageRow(
            "openai", "a", "images", 0, 86400, model=model, tokens=tokens_of(input=n), requests=1, units=units
        )

    merged = merge_rows(
        [
            row("dall-e-3", 1, (("images", 2),)),
            row("dall-e-2", 5, ()),
            row("dall-e-3", 3, (("characters", 1), ("images", 4))),
        ]
    )
    summed = UsageRow(
        "openai",
        "a",
        "images",
        0,
        86400,
        model="dall-e-3",
        tokens=tokens_of(input=4),
        requests=2,
        units=(("characters", 1), ("images", 6)),
    )
    assert merged == (summed, row("dall-e-2", 5, ()))
