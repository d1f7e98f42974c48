"""`check-config` on the channels' own keys: each missing or wrong key is one line naming its key path,
exit 2, and a valid entry loads with its defaults."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.config import load_config

ENV = {"RELAY_TOKEN": "relayAccessTokenSECRET0123456789"}


def entry(kind: str, *lines: str) -> str:
    return "providers:\n  - name: chan\n" + f"    type: {kind}\n" + "".join(f"    {line}\n" for line in lines)


RELAY = ("base_url: https://relay.test", "access_token: ${RELAY_TOKEN}", "user_id: 7")
AZURE = (
    "tenant_id: contoso.onmicrosoft.com",
    "client_id: 0B1F2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
    "client_secret: ${RELAY_TOKEN}",
    "subscription_id: 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
    "resource_group: rg-llm",
    "account: contoso-openai",
)

# fmt: off
CASES: list[Any] = [
    pytest.param(entry("newapi"), [
        ":2: providers[0].base_url: required key is missing (add base_url: the relay console's base URL",
        ":2: providers[0].access_token: required key is missing (add access_token: ${ENV_VAR} or ${file:/path} holding the system access token)",
        ":2: providers[0].user_id: required key is missing (add user_id: the relay user's numeric id, sent as New-Api-User)",
    ], id="newapi-missing-everything"),
    pytest.param(entry("newapi", "base_url: https://relay.test/v1", *RELAY[1:]), [
        ":4: providers[0].base_url: ends with /v1, the relay's OpenAI-compatible API (use the console's base: leave out /v1)",
    ], id="newapi-base-url-with-v1"),
    pytest.param(entry("newapi", *RELAY[:2], "user_id: admin"), [
        ":6: providers[0].user_id: 'admin' is not a whole number",
    ], id="newapi-user-id-word"),
    pytest.param(entry("newapi", *RELAY, "api_key: ${RELAY_TOKEN}"), [
        ":7: providers[0].api_key: only applies to anthropic, openai and openrouter providers (remove it)",
    ], id="newapi-with-api-key"),
    pytest.param(entry("openai", "api_key: ${RELAY_TOKEN}", "user_id: 7"), [
        ":5: providers[0].user_id: only applies to newapi providers (remove it)",
    ], id="openai-with-user-id"),
    pytest.param(entry("newapi", *RELAY, "endpoints: [completions]"), [
        ":7: providers[0].endpoints[0]: unknown newapi endpoint 'completions' (expected one of: log)",
    ], id="newapi-unknown-endpoint"),
    pytest.param(entry("openrouter"), [
        ":2: providers[0].api_key: required key is missing (add api_key: ${ENV_VAR} or ${file:/path} holding a management key)",
    ], id="openrouter-without-key"),
    pytest.param(entry("openrouter", "api_key: ${RELAY_TOKEN}", "bucket_width: 1h"), [
        ":5: providers[0].bucket_width: openrouter reports 1d buckets only (set 1d)",
    ], id="openrouter-hourly"),
    pytest.param(entry("azure_openai", "client_secret: ${RELAY_TOKEN}"), [
        ":2: providers[0].tenant_id: required key is missing (add tenant_id: the Microsoft Entra tenant (directory) id or domain)",
        ":2: providers[0].client_id: required key is missing (add client_id: the service principal's application (client) id)",
        ":2: providers[0].subscription_id: required key is missing (add subscription_id: the subscription of the Azure OpenAI resource)",
        ":2: providers[0].resource_group: required key is missing (add resource_group: the resource group of the Azure OpenAI resource)",
        ":2: providers[0].account: required key is missing (add account: the Azure OpenAI resource's name)",
    ], id="azure-missing-fields"),
    pytest.param(entry("azure_openai", *AZURE[:1], "client_id: my-app", *AZURE[2:]), [
        ":5: providers[0].client_id: 'my-app' is not a GUID (expected a GUID like 00000000-0000-0000-0000-000000000000)",
    ], id="azure-client-id-not-a-guid"),
    pytest.param(entry("azure_openai", *AZURE[:4], "resource_group: ../../other", *AZURE[5:]), [
        ":8: providers[0].resource_group: '../../other' is not a resource name",
    ], id="azure-resource-group-with-a-path"),
    pytest.param(entry("azure_openai", *AZURE[:2], "client_secret: ${UNSET_AZURE_SECRET}", *AZURE[3:]), [
        ":6: providers[0].client_secret: environment variable UNSET_AZURE_SECRET is not set",
    ], id="azure-secret-unset"),
    pytest.param(entry("newapi", *RELAY) + "balances:\n  - {account: chan}\n", [
        ":8: balances[0]: says when to alert nowhere (add below_usd: an amount, or runway_days: a number of days)",
    ], id="balance-without-threshold"),
    pytest.param(entry("newapi", *RELAY) + "balances:\n  - {account: chann, below_usd: 50}\n", [
        ":8: balances[0].account: no provider account is named 'chann' (did you mean 'chan'? expected one of: chan)",
    ], id="balance-unknown-account"),
    pytest.param(entry("openai", "api_key: ${RELAY_TOKEN}") + "balances:\n  - {account: chan, below_usd: 50}\n", [
        ":6: balances[0].account: 'chan' is an openai account, which has no prepaid balance (only newapi and openrouter accounts report one)",
    ], id="balance-of-an-openai-account"),
    pytest.param(entry("newapi", *RELAY) + "balances:\n  - {account: chan, below_usd: -5, runway_days: 0}\n", [
        ":8: balances[0].below_usd: '-5' is out of range",
        ":8: balances[0].runway_days: '0' is out of range (expected a whole number from 1 to 366)",
    ], id="balance-bad-numbers"),
    pytest.param(entry("newapi", *RELAY) + "balances:\n  - {account: chan, below_usd: 5}\n  - {account: chan, runway_days: 3}\n", [
        ":9: balances[1]: account 'chan' already has a balances entry at line 8 (merge them)",
    ], id="balance-twice"),
    pytest.param(entry("relay", *RELAY), [
        ":3: providers[0].type: unknown provider 'relay'",
    ], id="unknown-type"),
]
# fmt: on


@pytest.mark.parametrize(("content", "expected"), CASES)
def test_a_bad_channel_entry_is_one_line_per_problem_with_its_key_path(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content: str,
    expected: list[str],
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "config.yaml"
    path.write_text(content, encoding="utf-8")
    assert main(["check-config", "--config", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(expected), lines
    for line, fragment in zip(lines, expected, strict=True):
        assert line.startswith(f"spend-monitor: error: {path}{fragment}"), (line, fragment)
    assert not any(value in line for line in lines for value in ENV.values())


def test_a_relay_entry_loads_with_its_options(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(entry("newapi", *RELAY), encoding="utf-8")
    (cfg,) = load_config(path, environ=ENV).providers
    assert (cfg.type, cfg.base_url, cfg.api_key, cfg.options["user_id"]) == (
        "newapi",
        "https://relay.test",
        None,
        7,
    )
    assert cfg.options["access_token"].reveal() == ENV["RELAY_TOKEN"]
    assert "relayAccessToken" not in repr(cfg)


def test_an_openrouter_entry_defaults_to_daily_buckets_and_the_public_api(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(entry("openrouter", "api_key: ${RELAY_TOKEN}"), encoding="utf-8")
    (cfg,) = load_config(path, environ=ENV).providers
    assert (cfg.bucket_width, cfg.base_url) == ("1d", "https://openrouter.ai/api/v1")


def test_an_azure_entry_defaults_to_the_public_cloud_and_hourly_buckets(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(entry("azure_openai", *AZURE), encoding="utf-8")
    (cfg,) = load_config(path, environ=ENV).providers
    assert cfg.bucket_width == "1h"
    assert (cfg.options["login_url"], cfg.options["management_url"]) == (
        "https://login.microsoftonline.com",
        "https://management.azure.com",
    )
    assert cfg.options["client_id"] == "0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def test_a_balances_entry_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    text = entry("newapi", *RELAY) + "balances:\n  - {account: chan, below_usd: 50.5, runway_days: 7}\n"
    path.write_text(text, encoding="utf-8")
    (balance,) = load_config(path, environ=ENV).balances
    assert (balance.account, balance.below_usd, balance.runway_days) == ("chan", Decimal("50.5"), 7)
