"""`spend-monitor check-config` against configs that are wrong in every plausible way.

Each case is a whole config file; `check-config` must exit 2 and print exactly one stderr line per
problem, `<file>:<line>: <key path>: <what is wrong> (<how to fix>)`, and never a traceback. The
cases here complement tests/test_config_errors.py (which pins the full text of a fixture per kind
of problem): they sweep every key of config.example.yaml with wrong types, empty values, bad
ranges, typos, references that cannot resolve and files that are not YAML at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main

KEY_ENV = "SPEND_MONITOR_BAD_INPUT_KEY"
PROVIDER = f"providers:\n  - name: openai-prod\n    type: openai\n    api_key: ${{{KEY_ENV}}}\n"
"""Four lines; anything appended starts at line 5."""


def provider(*lines: str) -> str:
    """The openai-prod provider with extra keys (line 5 on)."""
    return PROVIDER + "".join(f"    {line}\n" for line in lines)


def after(text: str) -> str:
    """The provider, then top-level YAML starting at line 5."""
    return PROVIDER + text.rstrip("\n") + "\n"


def with_key(api_key: str) -> str:
    """A provider whose api_key (line 4) is `api_key`, written as is."""
    return f"providers:\n  - name: openai-prod\n    type: openai\n    api_key: {api_key}\n"


Expected = list[tuple[str, str]]
"""(what follows the file name on the line, a fragment the line must contain)."""

# fmt: off
CASES: list[Any] = [
    # -- top level scalars ---------------------------------------------------------------------
    pytest.param(after("listen: 9877"), [(":5: listen: ", "'9877' is not HOST:PORT")], id="listen-number"),
    pytest.param(after('listen: "127.0.0.1:65536"'), [(":5: listen: ", "'127.0.0.1:65536' has an invalid port")], id="listen-port-too-big"),
    pytest.param(after('listen: ""'), [(":5: listen: ", "'' is not HOST:PORT")], id="listen-empty"),
    pytest.param(after('listen: "local host:80"'), [(":5: listen: ", "has no valid host")], id="listen-host-with-space"),
    pytest.param(after("timezone: 5"), [(":5: timezone: ", "unknown timezone '5'")], id="timezone-number"),
    pytest.param(after('timezone: "../../etc/passwd"'), [(":5: timezone: ", "unknown timezone '../../etc/passwd'")], id="timezone-path-traversal"),
    pytest.param(after('timezone: ""'), [(":5: timezone: ", "unknown timezone ''")], id="timezone-empty"),
    pytest.param(after("timezone:"), [(":5: timezone: ", "no value given")], id="timezone-null"),
    pytest.param(after("month_start_day: 0"), [(":5: month_start_day: ", "'0' is out of range (expected a whole number from 1 to 28)")], id="month-start-day-0"),
    pytest.param(after("month_start_day: 29"), [(":5: month_start_day: ", "'29' is out of range")], id="month-start-day-29"),
    pytest.param(after("month_start_day: first"), [(":5: month_start_day: ", "'first' is not a whole number")], id="month-start-day-word"),
    pytest.param(after("month_start_day: 1.5"), [(":5: month_start_day: ", "'1.5' is not a whole number")], id="month-start-day-fraction"),
    pytest.param(after("week_start: [monday]"), [(":5: week_start: ", "is a list (expected a weekday)")], id="week-start-list"),
    pytest.param(after("log_level: verbose"), [(":5: log_level: ", "unknown log level 'verbose'")], id="log-level-unknown"),
    pytest.param(after("colour: blue\nlisten: x"), [(":5: colour: ", "unknown key"), (":6: listen: ", "'x' is not HOST:PORT")], id="unknown-top-key-and-bad-value"),
    # -- storage -------------------------------------------------------------------------------
    pytest.param(after("storage: ./spend.db"), [(":5: storage: ", "is a single value (expected a mapping with keys: path)")], id="storage-scalar"),
    pytest.param(after('storage: {path: ""}'), [(":5: storage.path: ", "'' is an empty path")], id="storage-path-empty"),
    pytest.param(after("storage: {path: null}"), [(":5: storage.path: ", "no value given")], id="storage-path-null"),
    pytest.param(after("storage: {pth: x.db}"), [(":5: storage.pth: ", "unknown key (did you mean 'path'?)")], id="storage-key-typo"),
    # -- providers -----------------------------------------------------------------------------
    pytest.param("providers: {name: openai-prod}\n", [(":1: providers: ", "is a mapping (expected a list of providers)")], id="providers-mapping"),
    pytest.param("providers:\n  - openai-prod\n", [(":2: providers[0]: ", "is a single value (expected a mapping with name, type and that type's keys, such as api_key)")], id="provider-scalar"),
    pytest.param("providers: [null]\n", [(":1: providers[0]: ", "no value given")], id="provider-null"),
    pytest.param(PROVIDER.replace("openai-prod", '""'), [(":2: providers[0].name: ", "'' is not a valid name")], id="provider-name-empty"),
    pytest.param(PROVIDER.replace("openai-prod", "openai-💸"), [(":2: providers[0].name: ", "'openai-💸' is not a valid name (use only letters, digits")], id="provider-name-emoji"),
    pytest.param(PROVIDER.replace("type: openai", "type: [openai]"), [(":3: providers[0].type: ", "is a list (expected a provider type)")], id="provider-type-list"),
    pytest.param(provider('poll_interval: "-1s"'), [(":5: providers[0].poll_interval: ", "'-1s' is not a duration")], id="poll-interval-negative"),
    pytest.param(provider("poll_interval: 0s"), [(":5: providers[0].poll_interval: ", "'0s' is too short (must be at least 10 seconds)")], id="poll-interval-zero"),
    pytest.param(provider("revision_window: 5 minutes"), [(":5: providers[0].revision_window: ", "'5 minutes' is not a duration")], id="revision-window-words"),
    pytest.param(provider('revision_window: "-2h"'), [(":5: providers[0].revision_window: ", "'-2h' is not a duration")], id="revision-window-negative"),
    pytest.param(provider("bucket_width: 2h"), [(":5: providers[0].bucket_width: ", "unknown bucket width '2h' (expected one of: 1m, 1h, 1d)")], id="bucket-width-2h"),
    pytest.param(provider("initial_lookback: 0s"), [(":5: providers[0].initial_lookback: ", "'0s' is not a positive duration")], id="initial-lookback-zero"),
    pytest.param(provider("initial_lookback: year"), [(":5: providers[0].initial_lookback: ", "'year' is not a duration")], id="initial-lookback-year"),
    pytest.param(provider("timeout: 0"), [(":5: providers[0].timeout: ", "'0' is too short (must be more than 0 seconds)")], id="timeout-zero"),
    pytest.param(provider("max_attempts: 0"), [(":5: providers[0].max_attempts: ", "'0' is out of range (expected a whole number 1 or more)")], id="max-attempts-zero"),
    pytest.param(provider("max_attempts: 2.5"), [(":5: providers[0].max_attempts: ", "'2.5' is not a whole number")], id="max-attempts-fraction"),
    pytest.param(provider("discount_percent: -1"), [(":5: providers[0].discount_percent: ", "'-1' is out of range (expected a number >= 0 and < 100)")], id="discount-negative"),
    pytest.param(provider('discount_percent: "12.5%"'), [(":5: providers[0].discount_percent: ", "'12.5%' is not a number")], id="discount-percent-sign"),
    pytest.param(provider("fetch_costs: maybe"), [(":5: providers[0].fetch_costs: ", "'maybe' is not a boolean (expected true or false)")], id="fetch-costs-maybe"),
    pytest.param(provider("endpoints: completions"), [(":5: providers[0].endpoints: ", "is a single value (expected a list of endpoint names)")], id="endpoints-scalar"),
    pytest.param(provider("endpoints: []"), [(":5: providers[0].endpoints: ", "the list is empty (remove the key to poll every endpoint)")], id="endpoints-empty"),
    pytest.param(provider("endpoints: [completions, completions]"), [(":5: providers[0].endpoints[1]: ", "endpoint 'completions' is listed twice")], id="endpoints-repeated"),
    pytest.param(provider("endpoints: [messages]"), [(":5: providers[0].endpoints[0]: ", "unknown openai endpoint 'messages'")], id="endpoints-of-the-other-provider"),
    pytest.param(provider("base_url: ftp://api.openai.com/v1"), [(":5: providers[0].base_url: ", "'ftp://api.openai.com/v1' is not an http(s) URL")], id="base-url-ftp"),
    pytest.param(provider("base_url: file:///etc/passwd"), [(":5: providers[0].base_url: ", "is not an http(s) URL")], id="base-url-file"),
    pytest.param(provider('base_url: "javascript:alert(1)"'), [(":5: providers[0].base_url: ", "is not an http(s) URL")], id="base-url-javascript"),
    pytest.param(provider('base_url: "http://"'), [(":5: providers[0].base_url: ", "'http://' is not an http(s) URL (expected an http:// or https:// URL with a host")], id="base-url-no-host"),
    pytest.param(provider("base_url: http://api.example.com:99999/v1"), [(":5: providers[0].base_url: ", "is not a valid URL")], id="base-url-port-out-of-range"),
    pytest.param(provider('base_url: "https://api.openai.com/v1 extra"'), [(":5: providers[0].base_url: ", "is not an http(s) URL")], id="base-url-with-space"),
    pytest.param(provider("endpionts: [completions]"), [(":5: providers[0].endpionts: ", "unknown key (did you mean 'endpoints'?)")], id="provider-key-typo"),
    pytest.param(
        PROVIDER.replace("openai", "anthropic") + "    anthropic_version: june 2023\n",
        [(":5: providers[0].anthropic_version: ", "'june 2023' is not a version date (expected YYYY-MM-DD")],
        id="anthropic-version-not-a-date",
    ),
    pytest.param(
        PROVIDER.replace("api_key:", "api_kye:"),
        [(":2: providers[0].api_key: ", "required key is missing"), (":4: providers[0].api_kye: ", "did you mean 'api_key'?")],
        id="api-key-typo",
    ),
    # -- secrets and references ----------------------------------------------------------------
    pytest.param(with_key('""'), [(":4: providers[0].api_key: ", "the value is empty")], id="api-key-empty-string"),
    pytest.param(with_key("[a, b]"), [(":4: providers[0].api_key: ", "is a list (expected a string)")], id="api-key-list"),
    pytest.param(with_key("${SPEND_MONITOR_BAD_INPUT_EMPTY}"), [(":4: providers[0].api_key: ", "the value is empty")], id="api-key-env-set-but-empty"),
    pytest.param(with_key("${file:{tmp}}"), [(":4: providers[0].api_key: ", "cannot read secret file '{tmp}': Is a directory")], id="api-key-file-is-a-directory"),
    pytest.param(with_key("${file:{tmp}/empty-secret}"), [(":4: providers[0].api_key: ", "the value is empty")], id="api-key-file-empty"),
    pytest.param(with_key("${file:{tmp}/binary-secret}"), [(":4: providers[0].api_key: ", "secret file '{tmp}/binary-secret' is not UTF-8 text")], id="api-key-file-binary"),
    pytest.param(with_key("${file:}"), [(":4: providers[0].api_key: ", "reference '${file:}' names no file")], id="api-key-file-no-path"),
    pytest.param(with_key("${1BAD}"), [(":4: providers[0].api_key: ", "invalid reference '${1BAD}'")], id="api-key-bad-env-name"),
    pytest.param(with_key("${}"), [(":4: providers[0].api_key: ", "invalid reference '${}'")], id="api-key-empty-reference"),
    pytest.param(with_key("sk-${SPEND_MONITOR_BAD_INPUT_UNSET}-x"), [(":4: providers[0].api_key: ", "environment variable SPEND_MONITOR_BAD_INPUT_UNSET is not set")], id="api-key-unset-env-inside-a-string"),
    # -- budgets -------------------------------------------------------------------------------
    pytest.param(after("budgets: {name: b}"), [(":5: budgets: ", "is a mapping (expected a list of budgets)")], id="budgets-mapping"),
    pytest.param(after("budgets: [null]"), [(":5: budgets[0]: ", "no value given")], id="budget-null"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 0, period: month}"), [(":6: budgets[0].amount_usd: ", "'0' is out of range (expected a number > 0)")], id="budget-amount-zero"),
    pytest.param(after('budgets:\n  - {name: b, amount_usd: "", period: month}'), [(":6: budgets[0].amount_usd: ", "'' is not a number")], id="budget-amount-empty"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: .inf, period: month}"), [(":6: budgets[0].amount_usd: ", "'.inf' is not a number")], id="budget-amount-infinite"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: five hundred, period: month}"), [(":6: budgets[0].amount_usd: ", "'five hundred' is not a number")], id="budget-amount-words"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: [month]}"), [(":6: budgets[0].period: ", "is a list (expected a period)")], id="budget-period-list"),
    pytest.param(after('budgets:\n  - {name: "my budget", amount_usd: 10, period: month}'), [(":6: budgets[0].name: ", "'my budget' is not a valid name")], id="budget-name-with-space"),
    pytest.param(
        after("budgets:\n  - {name: b, amount: 10, period: month}"),
        [(":6: budgets[0].amount: ", "did you mean 'amount_usd'?"), (":6: budgets[0].amount_usd: ", "required key is missing")],
        id="budget-key-typo",
    ),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: month, scope: [openai]}"), [(":6: budgets[0].scope: ", "is a list (expected a mapping like {provider: openai})")], id="scope-list"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: month, scope: {projetc: [a]}}"), [(":6: budgets[0].scope.projetc: ", "unknown key (did you mean 'project'?)")], id="scope-key-typo"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: month, scope: {provider: azure}}"), [(":6: budgets[0].scope.provider: ", "unknown provider type 'azure'")], id="scope-provider-unknown"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: month, scope: {model: {a: b}}}"), [(":6: budgets[0].scope.model: ", "is a mapping (expected a list)")], id="scope-model-mapping"),
    pytest.param(after('budgets:\n  - {name: b, amount_usd: 10, period: month, scope: {account: "*prd*"}}'), [(":6: budgets[0].scope.account: ", "no provider account is named '*prd*'")], id="scope-account-glob-matches-nothing"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: month, thresholds: 80}"), [(":6: budgets[0].thresholds: ", "is a single value (expected a list of percents like [50, 80, 100])")], id="thresholds-scalar"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: month, thresholds: [0, 50]}"), [(":6: budgets[0].thresholds[0]: ", "'0' is out of range (expected a number > 0)")], id="thresholds-zero"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: month, thresholds: [-10]}"), [(":6: budgets[0].thresholds[0]: ", "'-10' is out of range")], id="thresholds-negative"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: month, thresholds: [fifty]}"), [(":6: budgets[0].thresholds[0]: ", "'fifty' is not a number")], id="thresholds-words"),
    pytest.param(after("budgets:\n  - {name: b, amount_usd: 10, period: month, forecast_thresholds: [100, 90]}"), [(":6: budgets[0].forecast_thresholds[1]: ", "90 comes after 100")], id="forecast-thresholds-descending"),
    # -- alerts --------------------------------------------------------------------------------
    pytest.param(after("alerts: {type: alertmanager}"), [(":5: alerts: ", "is a mapping (expected a list of alerts)")], id="alerts-mapping"),
    pytest.param(after("alerts:\n  - {type: alertmanager}"), [(":6: alerts[0].url: ", "required key is missing (add url: where notifications go)")], id="alertmanager-without-url"),
    pytest.param(after(f"alerts:\n  - {{type: webhook, secret: '${{{KEY_ENV}}}'}}"), [(":6: alerts[0].url: ", "required key is missing")], id="webhook-without-url"),
    pytest.param(after('alerts:\n  - {type: apprise, url: "not a url"}'), [(":6: alerts[0].url: ", "the value is not an apprise URL")], id="apprise-url-without-scheme"),
    pytest.param(after("alerts:\n  - {type: alertmanager, url: 'ftp://am.example'}"), [(":6: alerts[0].url: ", "the value is not an http(s) URL")], id="alertmanager-url-ftp"),
    pytest.param(after("alerts:\n  - {type: slack, url: 'https://hooks.example'}"), [(":6: alerts[0].type: ", "unknown alert channel type 'slack'")], id="alert-type-unknown"),
    pytest.param(after("alerts:\n  - {type: [webhook], url: 'https://hooks.example'}"), [(":6: alerts[0].type: ", "is a list (expected a channel type)")], id="alert-type-list"),
    pytest.param(after("alerts:\n  - {type: webhook, url: 'https://hooks.example', secret: ''}"), [(":6: alerts[0].secret: ", "the value is empty")], id="webhook-secret-empty"),
    pytest.param(
        after(f"alerts:\n  - {{type: alertmanager, name: am, url: 'http://127.0.0.1:9093'}}\n  - {{type: webhook, name: am, url: 'https://h.example', secret: '${{{KEY_ENV}}}'}}"),
        [(":7: alerts[1]: ", "duplicate name 'am' (also used at line 6")],
        id="alert-names-duplicate",
    ),
    pytest.param(after("alerts:\n  - {type: alertmanager, url: 'http://127.0.0.1:9093', headers: [a]}"), [(":6: alerts[0].headers: ", "is a list (expected a mapping of names to values)")], id="alert-headers-list"),
    pytest.param(after("alerts:\n  - {type: alertmanager, url: 'http://127.0.0.1:9093', headers: {'bad header': x}}"), [(":6: alerts[0].headers: ", "'bad header' is not a valid header name")], id="alert-header-name-with-space"),
    pytest.param(after("alerts:\n  - {type: alertmanager, url: 'http://127.0.0.1:9093', headers: {X-A: [1]}}"), [(":6: alerts[0].headers.X-A: ", "is a list (expected a string)")], id="alert-header-value-list"),
    pytest.param(after("alerts:\n  - {type: apprise, url: 'slack://a/b/c', headers: {X-A: b}}"), [(":6: alerts[0].headers: ", "apprise channels take no headers")], id="apprise-with-headers"),
    pytest.param(after("alerts:\n  - {type: alertmanager, url: 'http://127.0.0.1:9093', timeout: -1s}"), [(":6: alerts[0].timeout: ", "'-1s' is not a duration")], id="alert-timeout-negative"),
    pytest.param(after("alerts:\n  - {type: alertmanager, url: 'http://127.0.0.1:9093', tiemout: 5s}"), [(":6: alerts[0].tiemout: ", "unknown key (did you mean 'timeout'?)")], id="alert-key-typo"),
    # -- web: TLS and basic auth ---------------------------------------------------------------
    pytest.param(after("web:\n  tls_key_file: {tmp}/key.pem"), [(":6: web.tls_key_file: ", "TLS needs both tls_cert_file and tls_key_file")], id="tls-key-without-cert"),
    pytest.param(after("web:\n  tls_cert_file: {tmp}\n  tls_key_file: {tmp}/key.pem"), [(":6: web.tls_cert_file: ", "file '{tmp}' does not exist")], id="tls-cert-is-a-directory"),
    pytest.param(after("web:\n  basic_auth_users: {prom: hunter2}"), [(":6: web.basic_auth_users.prom: ", "the value is not a bcrypt hash")], id="basic-auth-plaintext-password"),
    pytest.param(after("web:\n  basic_auth_users: {prom: '$2b$12$short'}"), [(":6: web.basic_auth_users.prom: ", "the value is not a bcrypt hash")], id="basic-auth-truncated-hash"),
    pytest.param(after("web:\n  basic_auth_users: {prom: '$apr1$abcdefgh$0123456789abcdefghijkl'}"), [(":6: web.basic_auth_users.prom: ", "the value is not a bcrypt hash")], id="basic-auth-md5-htpasswd-hash"),
    pytest.param(after("web:\n  basic_auth_users: {prom: '$2b$32$" + "a" * 53 + "'}"), [(":6: web.basic_auth_users.prom: ", "the value is not a bcrypt hash")], id="basic-auth-cost-out-of-range"),
    pytest.param(after("web:\n  basic_auth_users: [prom]"), [(":6: web.basic_auth_users: ", "is a list (expected a mapping of names to values)")], id="basic-auth-list"),
    pytest.param(after("web:\n  basic_auth_users: {prom: }"), [(":6: web.basic_auth_users.prom: ", "no value given")], id="basic-auth-user-without-hash"),
    pytest.param(after("web:\n  basic_auth_user: {}"), [(":6: web.basic_auth_user: ", "unknown key (did you mean 'basic_auth_users'?)")], id="web-key-typo"),
    # -- metrics, anomalies, reconciliation ----------------------------------------------------
    pytest.param(after("metrics: true"), [(":5: metrics: ", "is a single value (expected a mapping with keys: include_api_key, include_user, series_limit)")], id="metrics-scalar"),
    pytest.param(after("metrics:\n  include_api_key: maybe\n  series_limit: 0"), [(":6: metrics.include_api_key: ", "'maybe' is not a boolean"), (":7: metrics.series_limit: ", "'0' is out of range (expected a whole number 1 or more)")], id="metrics-values"),
    pytest.param(after("metrics:\n  series_limit: -5"), [(":6: metrics.series_limit: ", "'-5' is out of range")], id="metrics-series-limit-negative"),
    pytest.param(after("anomalies:\n  spike_factor: 1"), [(":6: anomalies.spike_factor: ", "'1' is out of range (expected a number > 1)")], id="anomalies-spike-factor-1"),
    pytest.param(after("anomalies:\n  spike_min_usd: -1"), [(":6: anomalies.spike_min_usd: ", "'-1' is out of range (expected a number >= 0)")], id="anomalies-min-usd-negative"),
    pytest.param(after("anomalies:\n  spike_baseline_days: 400"), [(":6: anomalies.spike_baseline_days: ", "'400' is out of range (expected a whole number from 1 to 366)")], id="anomalies-baseline-days-400"),
    pytest.param(after("anomalies:\n  new_model: sometimes"), [(":6: anomalies.new_model: ", "'sometimes' is not a boolean")], id="anomalies-new-model-word"),
    pytest.param(after("reconciliation:\n  drift_threshold_percent: -2"), [(":6: reconciliation.drift_threshold_percent: ", "'-2' is out of range (expected a number >= 0)")], id="reconciliation-negative"),
    pytest.param(after("reconciliation:\n  drift_treshold_percent: 2"), [(":6: reconciliation.drift_treshold_percent: ", "did you mean 'drift_threshold_percent'?")], id="reconciliation-key-typo"),
    # -- pricing (the shape; price content is in tests/test_bad_input_prices.py) ---------------
    pytest.param(after("pricing:\n  aliases: [a, b]"), [(":6: pricing.aliases: ", "is a list (expected a mapping of names to values)")], id="pricing-aliases-list"),
    pytest.param(after("pricing:\n  aliases: {a: [b]}"), [(":6: pricing.aliases.a: ", "is a list (expected a string)")], id="pricing-alias-value-list"),
    pytest.param(after("pricing:\n  files: ./prices.yaml"), [(":6: pricing.files: ", "is a single value (expected a list of price file paths)")], id="pricing-files-scalar"),
    pytest.param(after("pricing:\n  files: ['{tmp}']"), [(":6: pricing.files[0]: ", "file '{tmp}' does not exist")], id="pricing-file-is-a-directory"),
    pytest.param(after("pricing:\n  overrides: {provider: openai}"), [(":6: pricing.overrides: ", "is a mapping (expected a list of price entries)")], id="pricing-overrides-mapping"),
    pytest.param(after("pricing:\n  fils: []"), [(":6: pricing.fils: ", "unknown key (did you mean 'files'?)")], id="pricing-key-typo"),
    # -- files that are not a config at all ----------------------------------------------------
    pytest.param(PROVIDER.replace("    api_key", "\tapi_key"), [(":4:1: invalid YAML: ", "found character '\\t' that cannot start any token")], id="yaml-tab-indent"),
    pytest.param(with_key('"${X}'), [(":5:1: invalid YAML: ", "found unexpected end of stream (while scanning a quoted scalar at line 4)")], id="yaml-unclosed-quote"),
    pytest.param(PROVIDER + "  - *undefined\n", [(":5:5: invalid YAML: ", "found undefined alias 'undefined'")], id="yaml-undefined-alias"),
    pytest.param(PROVIDER + "---\nlisten: x\n", [(":5:1: invalid YAML: ", "but found another document")], id="yaml-two-documents"),
    pytest.param(PROVIDER + "listen: [\n", [(":6:1: invalid YAML: ", "expected the node content")], id="yaml-unclosed-flow-list"),
    pytest.param('"just a string"\n', [(":1: top level: ", "is a single value (expected a mapping of keys like listen, providers, budgets)")], id="top-level-scalar"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", [(": ", "the config file is not UTF-8 text (save it as UTF-8)")], id="binary-file"),
    pytest.param(PROVIDER.encode("utf-16"), [(": ", "the config file is not UTF-8 text")], id="utf-16-file"),
    pytest.param(PROVIDER.encode("latin-1").replace(b"openai-prod", b"caf\xe9"), [(": ", "the config file is not UTF-8 text")], id="latin-1-file"),
]
# fmt: on


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-admin-bad-input-test")
    monkeypatch.setenv("SPEND_MONITOR_BAD_INPUT_EMPTY", "")
    monkeypatch.delenv("SPEND_MONITOR_BAD_INPUT_UNSET", raising=False)
    monkeypatch.delenv("SPEND_MONITOR_CONFIG", raising=False)


def check_config(
    tmp_path: Path, content: str | bytes, capsys: pytest.CaptureFixture[str]
) -> tuple[int, Path, str]:
    """Write the config (with {tmp} standing for tmp_path), run check-config, return (code, path, stderr)."""
    (tmp_path / "empty-secret").write_text("", encoding="utf-8")
    (tmp_path / "binary-secret").write_bytes(b"\xff\xfe\x00sk")
    (tmp_path / "key.pem").write_text("not really a key\n", encoding="utf-8")
    path = tmp_path / "config.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content.replace("{tmp}", str(tmp_path)), encoding="utf-8")
    code = main(["check-config", "--config", str(path)])
    out, err = capsys.readouterr()
    assert out == ""
    return code, path, err


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(("content", "expected"), CASES)
def test_bad_config_gives_one_line_per_problem_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, expected: Expected
) -> None:
    code, path, err = check_config(tmp_path, content, capsys)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == len(expected), err
    for where, fragment in expected:
        prefix = f"spend-monitor: error: {path}{where}"
        wanted = fragment.replace("{tmp}", str(tmp_path))
        assert [line for line in lines if line.startswith(prefix) and wanted in line], (prefix, wanted, err)


@pytest.mark.usefixtures("env")
def test_a_directory_given_as_the_config_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--config", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"spend-monitor: error: {tmp_path}: cannot read config file: Is a directory (check the --config path)"
    ]


@pytest.mark.usefixtures("env")
def test_every_problem_of_a_config_broken_everywhere_is_reported_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = after(
        "listen: nowhere\n"  # 5
        "storage: {path: ''}\n"  # 6
        "budgets:\n  - {name: b, amount_usd: -1, period: fortnight}\n"  # 8
        "alerts:\n  - {type: webhook, url: 'https://h.example'}\n"  # 10
        "web:\n  basic_auth_users: {prom: hunter2}\n"  # 12
        "metrics: {series_limit: 0}\n"  # 13
    )
    code, path, err = check_config(tmp_path, broken, capsys)
    assert code == 2
    assert [line.split(": ")[2] for line in err.splitlines()] == [
        f"{path}:5",
        f"{path}:6",
        f"{path}:8",
        f"{path}:8",
        f"{path}:10",
        f"{path}:12",
        f"{path}:13",
    ]


# -- known bugs: each test is what should happen ---------------------------------------------


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("content", "where", "expected"),
    [
        pytest.param(
            after("listen: [a, b]"), ":5: listen: ", "is a list (expected HOST:PORT like", id="listen-list"
        ),
        pytest.param(
            provider("revision_window: [1h]"),
            ":5: providers[0].revision_window: ",
            "is a list (expected a duration like",
            id="revision-window-list",
        ),
        pytest.param(
            provider("timeout: {s: 1}"),
            ":5: providers[0].timeout: ",
            "is a mapping (expected a duration like",
            id="timeout-mapping",
        ),
    ],
)
def test_a_value_of_the_wrong_kind_says_expected_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, where: str, expected: str
) -> None:
    code, path, err = check_config(tmp_path, content, capsys)
    assert code == 2
    assert err.splitlines()[0].startswith(f"spend-monitor: error: {path}{where}")
    assert expected in err


@pytest.mark.usefixtures("env")
def test_a_control_character_is_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, path, err = check_config(tmp_path, PROVIDER.replace("openai-prod", "openai\x00prod"), capsys)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"spend-monitor: error: {path}")
    assert "<unicode string>" not in err


@pytest.mark.usefixtures("env")
def test_deeply_nested_yaml_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, path, err = check_config(tmp_path, after("pricing:\n  aliases: " + "[" * 1000 + "]" * 1000), capsys)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"spend-monitor: error: {path}")


@pytest.mark.usefixtures("env")
def test_a_missing_duration_says_expected_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, path, err = check_config(tmp_path, provider("timeout:"), capsys)
    assert code == 2
    assert err.splitlines() == [
        f"spend-monitor: error: {path}:5: providers[0].timeout: no value given (set a duration like "
        "30s, 5m, 1h30m, 2d or a number of seconds, or remove the key to use the default)"
    ]


@pytest.mark.usefixtures("env")
def test_a_control_character_names_its_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, path, err = check_config(tmp_path, PROVIDER.replace("openai-prod", "openai\x07prod"), capsys)
    assert code == 2
    assert err.startswith(f"spend-monitor: error: {path}:2:17: invalid YAML: unacceptable character #x0007")
