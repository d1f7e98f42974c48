"""Loading valid configs: defaults, exact money, durations, references, names and the Secret type."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.config import AlertChannelConfig, Config, Secret, load_config, parse_duration, parse_listen
from monitor.errors import ConfigError
from monitor.pricing import PriceTable

ENV = {"OPENAI_ADMIN_KEY": "sk-admin-test"}
PROVIDER = """\
providers:
  - name: openai-prod
    type: openai
    api_key: ${OPENAI_ADMIN_KEY}
"""


def _load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ=ENV if environ is None else environ)


def _problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text, environ)
    return [line.split(": ", 1)[1] for line in caught.value.problems]


def test_minimal_config_takes_the_documented_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, PROVIDER)
    provider = config.providers[0]
    assert (config.listen, config.timezone, config.log_level) == ("127.0.0.1:9877", "UTC", "INFO")
    assert config.storage.path == Path("./data/spend.db")
    assert provider.base_url == "https://api.openai.com/v1"
    assert (provider.poll_interval, provider.revision_window) == (300.0, 48 * 3600.0)
    assert provider.endpoints is None
    assert config.budgets == () and config.alerts == ()


def test_anthropic_default_base_url_has_no_v1(tmp_path: Path) -> None:
    config = _load(
        tmp_path, PROVIDER.replace("openai-prod", "claude").replace("type: openai", "type: anthropic")
    )
    assert config.providers[0].base_url == "https://api.anthropic.com"


def test_config_records_its_path(tmp_path: Path) -> None:
    assert _load(tmp_path, PROVIDER).path == tmp_path / "config.yaml"


def test_amount_is_exact_decimal_not_float(tmp_path: Path) -> None:
    config = _load(tmp_path, PROVIDER + "budgets:\n  - {name: b, amount_usd: 500.10, period: month}\n")
    assert str(config.budgets[0].amount_usd) == "500.10"
    assert config.budgets[0].amount_usd == Decimal("500.10")


def test_thresholds_and_discount_are_exact_decimals(tmp_path: Path) -> None:
    text = (
        PROVIDER
        + "    discount_percent: 12.5\nbudgets:\n  - {name: b, amount_usd: 1, period: day, thresholds: [33.3, 66.6]}\n"
    )
    config = _load(tmp_path, text)
    assert config.providers[0].discount_percent == Decimal("12.5")
    assert config.budgets[0].thresholds == (Decimal("33.3"), Decimal("66.6"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("2d", 172800),
        ("1h30m", 5400),
        ("1w", 604800),
        ("300", 300),
        ("2.5", 2.5),
    ],
)
def test_duration_forms(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "1m1h", "-5s", "1.5h", "h"])
def test_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_plain_number_poll_interval_is_seconds(tmp_path: Path) -> None:
    assert _load(tmp_path, PROVIDER + "    poll_interval: 90\n").providers[0].poll_interval == 90.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9877", ("127.0.0.1", 9877)),
        ("[::1]:9100", ("::1", 9100)),
        ("metrics.local:80", ("metrics.local", 80)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),  # any free port: the metrics server parses with this too
    ],
)
def test_listen_forms(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


def test_timezone_is_exposed_as_zoneinfo(tmp_path: Path) -> None:
    assert _load(tmp_path, "timezone: Europe/Berlin\n" + PROVIDER).tz == ZoneInfo("Europe/Berlin")


def test_base_url_loses_trailing_slash(tmp_path: Path) -> None:
    config = _load(tmp_path, PROVIDER + "    base_url: http://127.0.0.1:8080/v1/\n")
    assert config.providers[0].base_url == "http://127.0.0.1:8080/v1"


def test_env_reference_resolves_into_secret(tmp_path: Path) -> None:
    assert _load(tmp_path, PROVIDER).providers[0].api_key.reveal() == "sk-admin-test"


def test_file_reference_resolves_without_trailing_newline(tmp_path: Path) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text("sk-from-file\n", encoding="utf-8")
    config = _load(tmp_path, PROVIDER.replace("${OPENAI_ADMIN_KEY}", f"${{file:{secret_file}}}"))
    assert config.providers[0].api_key.reveal() == "sk-from-file"


def test_reference_inside_a_longer_string(tmp_path: Path) -> None:
    text = PROVIDER + "alerts:\n  - type: apprise\n    url: slack://${SLACK_TOKEN}/B/C\n"
    config = _load(tmp_path, text, {**ENV, "SLACK_TOKEN": "tok"})
    assert config.alerts[0].url.reveal() == "slack://tok/B/C"


def test_double_dollar_writes_a_literal_reference(tmp_path: Path) -> None:
    config = _load(tmp_path, PROVIDER + "pricing:\n  aliases:\n    a: $${NOT_A_VAR}\n")
    assert config.pricing.aliases["a"] == "${NOT_A_VAR}"


def test_reference_in_a_number_field_resolves(tmp_path: Path) -> None:
    config = _load(tmp_path, PROVIDER + "    poll_interval: ${POLL}\n", {**ENV, "POLL": "2m"})
    assert config.providers[0].poll_interval == 120.0


def test_unterminated_reference_is_a_problem(tmp_path: Path) -> None:
    assert _problems(tmp_path, PROVIDER.replace("${OPENAI_ADMIN_KEY}", "${OPENAI_ADMIN_KEY")) == [
        "providers[0].api_key: unterminated reference '${' (no closing '}') "
        "(write ${ENV_VAR} or ${file:/path/to/secret}; $${ gives a literal ${)"
    ]


def test_secret_hides_its_value() -> None:
    secret = Secret("sk-very-secret")
    assert str(secret) == repr(secret) == "<secret>"
    assert f"{secret}" == "<secret>"
    assert secret.reveal() == "sk-very-secret"


def test_secrets_compare_by_value() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert len({Secret("a"), Secret("a")}) == 1


def test_secret_values_never_appear_in_errors_or_reprs(tmp_path: Path) -> None:
    marker = "TOPSECRET-4242"
    environ = {
        "OPENAI_ADMIN_KEY": f"sk-{marker}",
        "HOOK_URL": f"not-a-url-{marker}",
        "HOOK_SECRET": marker,
        "POLL": f"every-{marker}",
    }
    text = (
        PROVIDER
        + "    poll_interval: ${POLL}\n"
        + "alerts:\n  - type: webhook\n    url: ${HOOK_URL}\n    secret: ${HOOK_SECRET}\n"
        + f'    headers: {{Authorization: "Bearer {marker}\\n"}}\n'
        + f"web:\n  basic_auth_users: {{admin: {marker}}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text, environ)
    assert len(caught.value.problems) == 4
    assert marker not in str(caught.value)
    valid = (
        PROVIDER + "alerts:\n  - type: webhook\n    url: https://h.example/x\n    secret: ${HOOK_SECRET}\n"
    )
    valid += f'    headers: {{Authorization: "Bearer {marker}"}}\n'
    config = _load(tmp_path, valid, environ)
    assert marker not in repr(config) and marker not in str(config)


def test_literal_secret_logs_a_warning_without_the_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="monitor.config"):
        _load(tmp_path, PROVIDER.replace("${OPENAI_ADMIN_KEY}", "sk-literal-key"))
    assert [r.getMessage() for r in caplog.records] == [
        "providers[0].api_key is written in the config file itself; prefer ${ENV_VAR} or ${file:/path}"
    ]


def test_alert_channels_are_named_by_type_and_numbered_when_repeated(tmp_path: Path) -> None:
    text = PROVIDER + (
        "alerts:\n"
        "  - {type: webhook, url: 'https://a.example/x', secret: s}\n"
        "  - {type: webhook, url: 'https://b.example/x', secret: s}\n"
        "  - {type: alertmanager, url: 'http://127.0.0.1:9093'}\n"
        "  - {type: apprise, url: 'tgram://123456789:AABBCCDDEEFFGGHHIIJJKKLLMMNNOOPPQQ/12345', name: phones}\n"
    )
    assert [a.name for a in _load(tmp_path, text).alerts] == [
        "webhook-1",
        "webhook-2",
        "alertmanager",
        "phones",
    ]


def test_channel_name_defaults_to_type_when_built_in_code() -> None:
    assert AlertChannelConfig(type="alertmanager", url=Secret("http://127.0.0.1:9093")).name == "alertmanager"


def test_generated_channel_name_clashing_with_explicit_name_is_a_problem(tmp_path: Path) -> None:
    text = PROVIDER + (
        "alerts:\n"
        "  - {type: alertmanager, url: 'http://127.0.0.1:9093'}\n"
        "  - {type: webhook, url: 'https://b.example/x', secret: s, name: alertmanager}\n"
    )
    assert _problems(tmp_path, text) == [
        "alerts[1]: duplicate name 'alertmanager' (also used at line 6; names must be unique)"
    ]


def test_scope_accepts_a_string_or_a_list(tmp_path: Path) -> None:
    text = PROVIDER + "budgets:\n  - name: b\n    amount_usd: 5\n    period: week\n"
    text += "    scope: {provider: openai, model: ['gpt-4.1*', o3], account: 'openai-*'}\n"
    scope = _load(tmp_path, text).budgets[0].scope
    assert (scope.provider, scope.model, scope.account, scope.project) == (
        ("openai",),
        ("gpt-4.1*", "o3"),
        ("openai-*",),
        (),
    )


def test_scope_glob_matching_no_account_is_a_problem(tmp_path: Path) -> None:
    text = (
        PROVIDER + "budgets:\n  - {name: b, amount_usd: 5, period: week, scope: {account: 'anthropic-*'}}\n"
    )
    assert _problems(tmp_path, text) == [
        "budgets[0].scope.account: no provider account is named 'anthropic-*' (expected one of: openai-prod)"
    ]


def test_case_of_enumerated_words_does_not_matter(tmp_path: Path) -> None:
    config = _load(
        tmp_path, "log_level: debug\nweek_start: Sunday\n" + PROVIDER.replace("type: openai", "type: OpenAI")
    )
    assert (config.log_level, config.week_start, config.providers[0].type) == ("DEBUG", "sunday", "openai")


def test_anchors_and_aliases_are_followed(tmp_path: Path) -> None:
    text = "providers:\n  - {name: a, type: openai, api_key: &key '${OPENAI_ADMIN_KEY}'}\n  - {name: b, type: openai, api_key: *key}\n"
    config = _load(tmp_path, text)
    assert config.providers[1].api_key.reveal() == "sk-admin-test"


def test_web_tls_and_basic_auth_load(tmp_path: Path) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_text("cert", encoding="utf-8")
    key.write_text("key", encoding="utf-8")
    hashed = "$2b$12$" + "a" * 53
    text = (
        PROVIDER
        + f"web:\n  tls_cert_file: {cert}\n  tls_key_file: {key}\n  basic_auth_users: {{prom: '{hashed}'}}\n"
    )
    web = _load(tmp_path, text).web
    assert (web.tls_cert_file, web.tls_key_file, dict(web.basic_auth_users)) == (cert, key, {"prom": hashed})


def test_price_files_must_exist(tmp_path: Path) -> None:
    assert _problems(tmp_path, PROVIDER + "pricing:\n  files: [./no-such-prices.yaml]\n") == [
        "pricing.files[0]: file './no-such-prices.yaml' does not exist "
        "(check the path; relative paths start at the working directory)"
    ]


def test_price_overrides_and_aliases_reach_the_price_table_exactly(tmp_path: Path) -> None:
    text = PROVIDER + (
        "pricing:\n"
        "  aliases: {house-model: acme-large}\n"
        "  overrides:\n"
        "    - provider: openai\n"
        "      model: acme-large\n"
        "      prices:\n"
        "        - {effective_from: 2026-01-01, source: contract, standard: {input: 1.10, output: 4.40}}\n"
    )
    pricing = _load(tmp_path, text).pricing
    table = PriceTable.load(pricing.files, pricing.overrides, pricing.aliases)
    at = int(datetime(2026, 2, 1, tzinfo=UTC).timestamp())
    entry = table.price_for("openai", "house-model", "standard", "", at)
    assert entry is not None
    assert (entry.usd_per_million("input"), entry.usd_per_million("output")) == (
        Decimal("1.1"),
        Decimal("4.4"),
    )


def test_endpoints_subset_is_kept_in_order(tmp_path: Path) -> None:
    config = _load(tmp_path, PROVIDER + "    endpoints: [embeddings, completions]\n")
    assert config.providers[0].endpoints == ("embeddings", "completions")


def test_anthropic_version_on_openai_is_a_problem(tmp_path: Path) -> None:
    assert _problems(tmp_path, PROVIDER + "    anthropic_version: '2023-06-01'\n") == [
        "providers[0].anthropic_version: only applies to anthropic providers (remove it)"
    ]


def test_empty_value_is_reported_as_missing_value(tmp_path: Path) -> None:
    assert _problems(tmp_path, "timezone:\n" + PROVIDER) == [
        "timezone: no value given (set a timezone name, or remove the key to use the default)"
    ]


def test_config_objects_are_frozen(tmp_path: Path) -> None:
    config = _load(tmp_path, PROVIDER)
    with pytest.raises(AttributeError):
        config.listen = "0.0.0.0:1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.pricing.aliases["x"] = "y"  # type: ignore[index]
