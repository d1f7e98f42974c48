"""The shipped config.example.yaml loads, and it and docs/configuration.md document every key."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from monitor.config import (
    AlertChannelConfig,
    AnomalyConfig,
    BudgetConfig,
    BudgetScope,
    Config,
    MetricsConfig,
    PricingConfig,
    ProviderConfig,
    ReconciliationConfig,
    StorageConfig,
    WebConfig,
    load_config,
)
from monitor.providers import TYPES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.yaml"
DOCS = ROOT / "docs" / "configuration.md"
SECTIONS = {
    "storage": StorageConfig,
    "providers": ProviderConfig,
    "budgets": BudgetConfig,
    "scope": BudgetScope,
    "alerts": AlertChannelConfig,
    "pricing": PricingConfig,
    "metrics": MetricsConfig,
    "web": WebConfig,
    "anomalies": AnomalyConfig,
    "reconciliation": ReconciliationConfig,
}
KEYS = sorted(
    ({f.name for f in fields(Config)} | {f.name for cls in SECTIONS.values() for f in fields(cls)})
    - {"path", "options"}  # the file's path; `options` holds each provider type's own keys:
    | {key for kind in TYPES.values() for key in kind.options}
)


def test_example_loads_with_only_the_quick_starts_two_keys_set() -> None:
    environ = {"OPENAI_ADMIN_KEY": "sk-admin-dummy", "ANTHROPIC_ADMIN_KEY": "sk-ant-admin-dummy"}
    config = load_config(EXAMPLE, environ=environ)
    assert [p.name for p in config.providers] == ["openai-prod", "anthropic"]
    assert config.providers[1].api_key.reveal() == "sk-ant-admin-dummy"
    assert [a.type for a in config.alerts] == ["alertmanager"]


def test_example_optional_channels_load_once_uncommented(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("  # - type: webhook")
    end = text.index("\n\n", start)
    uncommented = text[:start] + re.sub(r"^  # ", "  ", text[start:end], flags=re.MULTILINE) + text[end:]
    path = tmp_path / "config.yaml"
    path.write_text(uncommented, encoding="utf-8")
    environ = {
        "OPENAI_ADMIN_KEY": "sk-admin-dummy",
        "ANTHROPIC_ADMIN_KEY": "sk-ant-admin-dummy",
        "WEBHOOK_SECRET": "whsec",
        "APPRISE_URL": "slack://a/b/c",
    }
    config = load_config(path, environ=environ)
    assert [a.type for a in config.alerts] == ["alertmanager", "webhook", "apprise"]


def test_example_secrets_are_references() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    text = EXAMPLE.read_text(encoding="utf-8")
    secrets = [p["api_key"] for p in data["providers"]] + re.findall(
        r"^\s*#?\s*secret: (\S+)", text, re.MULTILINE
    )
    assert len(secrets) == 3 and all(re.fullmatch(r"\$\{[^}]+\}", value) for value in secrets), secrets


@pytest.mark.parametrize("key", KEYS)
def test_example_mentions_every_key(key: str) -> None:
    assert re.search(rf"^\s*#?\s*-?\s*{key}:", EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE), key


@pytest.mark.parametrize("key", KEYS)
def test_docs_describe_every_key(key: str) -> None:
    assert f"`{key}`" in DOCS.read_text(encoding="utf-8"), key
