"""Each invalid config in tests/configs/ gives exactly the problem lines a user should read.

Lines are `<file>:<line>: <key path>: <what is wrong> (<how to fix>)`; `{f}` below is the fixture path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError

CONFIGS = Path(__file__).parent / "configs"
ENV = {"OPENAI_ADMIN_KEY": "sk-admin-test"}

EXPECTED: dict[str, list[str]] = {
    "unknown_key": ["{f}:5: providers[0].pol_interval: unknown key (did you mean 'poll_interval'?)"],
    "unknown_key_no_suggestion": [
        "{f}:5: colour: unknown key (expected one of: listen, timezone, month_start_day, week_start, log_level, "
        "storage, providers, budgets, balances, alerts, pricing, metrics, web, anomalies, reconciliation, "
        "attribution, digests)"
    ],
    "wrong_type": ["{f}:2: storage: is a list (expected a mapping with keys: path)"],
    "bad_duration": [
        "{f}:5: providers[0].poll_interval: '5 minutes' is not a duration "
        "(expected a duration like 30s, 5m, 1h30m, 2d or a number of seconds)"
    ],
    "short_poll_interval": [
        "{f}:5: providers[0].poll_interval: '5s' is too short (must be at least 10 seconds)"
    ],
    "bad_url": [
        "{f}:5: providers[0].base_url: 'api.openai.com/v1' is not an http(s) URL "
        "(expected an http:// or https:// URL with a host, like https://api.example.com/v1)"
    ],
    "unknown_provider_type": [
        "{f}:7: providers[1].type: unknown provider 'azure' (expected one of: anthropic, azure_openai, newapi, openai, openrouter)"
    ],
    "duplicate_names": [
        "{f}:5: providers[1].name: duplicate name 'openai-prod' (also used at line 2; names must be unique)",
        "{f}:10: budgets[1].name: duplicate name 'monthly' (also used at line 9; names must be unique)",
    ],
    "duplicate_key": ["{f}:5: providers[0].type: duplicate key (first set at line 3; keep one)"],
    "missing_env_var": [
        "{f}:4: providers[0].api_key: environment variable SPEND_MONITOR_TEST_UNSET_KEY is not set "
        "(export SPEND_MONITOR_TEST_UNSET_KEY before starting, or use ${file:/path} to read the secret from a file)"
    ],
    "unreadable_secret_file": [
        "{f}:4: providers[0].api_key: cannot read secret file '/nonexistent/spend-monitor-test/anthropic_admin_key': "
        "No such file or directory "
        "(create the file, make it readable by the daemon, or correct the ${file:...} path)"
    ],
    "bad_timezone": ["{f}:1: timezone: unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"],
    "bad_listen": [
        "{f}:1: listen: '127.0.0.1:99999' has an invalid port (the port must be a number from 0 to 65535, 0 for any free one)"
    ],
    "bad_listen_ipv6": [
        "{f}:1: listen: '::1:9877' is not HOST:PORT "
        "(expected HOST:PORT like 127.0.0.1:9877, 0.0.0.0:9877 or [::1]:9877)"
    ],
    "bad_threshold_ladder": [
        "{f}:9: budgets[0].thresholds[2]: 80 comes after 100 (list thresholds from lowest to highest)",
        "{f}:12: budgets[0].forecast_thresholds[1]: 90 is listed twice "
        "(list each threshold once, from lowest to highest)",
    ],
    "unknown_scope_account": [
        "{f}:10: budgets[0].scope.account[0]: no provider account is named 'openai-prd' "
        "(did you mean 'openai-prod'? expected one of: openai-prod)"
    ],
    "bad_enum": [
        "{f}:1: week_start: unknown weekday 'mondey' (did you mean 'monday'? expected one of: "
        "monday, tuesday, wednesday, thursday, friday, saturday, sunday)",
        "{f}:9: budgets[0].period: unknown period 'fortnight' (expected one of: day, week, month, quarter, year)",
    ],
    "bad_endpoint": [
        "{f}:5: providers[0].endpoints[0]: unknown anthropic endpoint 'message' "
        "(did you mean 'messages'? expected one of: messages)"
    ],
    "amount_too_precise": [
        "{f}:7: budgets[0].amount_usd: '0.0000000000001' has more than 12 decimal places "
        "(amounts are exact to 1e-12 USD)"
    ],
    "webhook_without_secret": [
        "{f}:6: alerts[0].secret: required key is missing (add secret: ${WEBHOOK_SECRET}, the HMAC signing key)"
    ],
    "tls_cert_without_key": [
        "{f}:6: web.tls_cert_file: file '/nonexistent/spend-monitor-test/tls.crt' does not exist "
        "(check the path; relative paths start at the working directory)",
        "{f}:6: web.tls_cert_file: TLS needs both tls_cert_file and tls_key_file "
        "(set both, or neither for plain HTTP)",
    ],
    "bad_bcrypt": [
        "{f}:7: web.basic_auth_users.prometheus: the value is not a bcrypt hash "
        "(expected a hash like $2b$12$...; docs/configuration.md shows how to make one)"
    ],
    "bad_price_override": ["{f}:12: pricing.overrides[0].prices[0].standard.input: '1.2.3' is not a number"],
    "missing_required": [
        "{f}:2: providers[0].api_key: required key is missing "
        "(add api_key: ${ENV_VAR} or ${file:/path} holding an admin API key)",
        "{f}:5: budgets[0].amount_usd: required key is missing (add amount_usd: the limit in USD, like 500)",
    ],
    "no_providers": [
        "{f}: providers: required key is missing (add a providers list with at least one account)"
    ],
    "empty_providers": ["{f}:1: providers: the list is empty (add at least one provider account)"],
    "top_level_list": [
        "{f}:1: top level: is a list (expected a mapping of keys like listen, providers, budgets)"
    ],
    "malformed": [
        "{f}:4:4: invalid YAML: expected <block end>, but found '<block mapping start>' "
        "(while parsing a block collection at line 2)"
    ],
    "empty": ["{f}: the file is empty (expected at least a 'providers' list; see config.example.yaml)"],
    "comments_only": [
        "{f}: the file is empty (expected at least a 'providers' list; see config.example.yaml)"
    ],
    "several_problems": [
        "{f}:1: listen: 'localhost' is not HOST:PORT "
        "(expected HOST:PORT like 127.0.0.1:9877, 0.0.0.0:9877 or [::1]:9877)",
        "{f}:2: timezone: unknown timezone 'Mars/Olympus_Mons' (expected an IANA name like UTC or Europe/Berlin)",
        "{f}:4: providers[0].name: 'openai prod' is not a valid name (use only letters, digits, '_', '.' and '-')",
        "{f}:7: providers[0].poll_interval: 'often' is not a duration "
        "(expected a duration like 30s, 5m, 1h30m, 2d or a number of seconds)",
        "{f}:8: providers[0].discount_percent: '100' is out of range (expected a number >= 0 and < 100)",
        "{f}:11: budgets[0].amount_usd: '-5' is out of range (expected a number > 0)",
        "{f}:15: alerts[0].url: the value is not an apprise URL (expected SCHEME://..., like slack://TokenA/TokenB/TokenC)",
        "{f}:16: alerts[0].secret: only webhook channels sign with a secret (remove it)",
    ],
}


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=ENV)
    return caught.value.problems


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_invalid_config_reports_exact_problem_lines(case: str) -> None:
    path = CONFIGS / f"{case}.yaml"
    assert _problems(path) == [line.replace("{f}", str(path)) for line in EXPECTED[case]]


def test_every_fixture_has_expected_lines() -> None:
    assert sorted(p.stem for p in CONFIGS.glob("*.yaml")) == sorted(EXPECTED)


def test_missing_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert _problems(path) == [
        f"{path}: cannot read config file: No such file or directory (check the --config path)"
    ]


def test_error_message_is_every_problem_one_per_line() -> None:
    path = CONFIGS / "several_problems.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=ENV)
    assert str(caught.value).splitlines() == caught.value.problems
    assert len(caught.value.problems) == len(EXPECTED["several_problems"])
