"""The shipped deployment files are tested like code: dashboards, Prometheus rules, Alertmanager,
Dockerfile and compose file are valid and agree with each other and with the metric catalog.

promtool and amtool come from Debian's prometheus packages (`make system-deps`); without them these
tests fail rather than skip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from promql import (
    ALERT_RULES,
    DASHBOARDS_DIR,
    ROOT,
    dashboard_panels,
    extract_promql_expressions,
    metric_names,
    substitute_variables,
)

PROMETHEUS_DIR = ROOT / "prometheus"
GRAFANA_PROVISIONING = ROOT / "grafana" / "provisioning"

# The metric catalog of design.md plus the agreed extras: what the daemon exports.
CATALOG = frozenset(
    {
        "llm_tokens_total",
        "llm_requests_total",
        "llm_cost_usd_total",
        "llm_spend_usd",
        "llm_billed_cost_usd",
        "llm_cost_drift_ratio",
        "llm_unpriced_tokens_total",
        "llm_cache_savings_usd_total",
        "llm_price_usd_per_million_tokens",
        "llm_account_balance_usd",
        "llm_account_credit_limit_usd",
        "llm_budget_limit_usd",
        "llm_budget_spend_usd",
        "llm_budget_utilization_ratio",
        "llm_budget_forecast_usd",
        "llm_budget_period_end_timestamp_seconds",
        "llm_budget_alert_state",
        "llm_budget_runout_timestamp_seconds",
        "spend_monitor_poll_last_success_timestamp_seconds",
        "spend_monitor_poll_errors_total",
        "spend_monitor_poll_duration_seconds",
        "spend_monitor_poll_requests_total",
        "spend_monitor_data_lag_seconds",
        "spend_monitor_account_healthy",
        "spend_monitor_alerts_sent_total",
        "spend_monitor_alert_outbox_pending",
        "spend_monitor_scheduler_job_errors_total",
        "spend_monitor_scheduler_job_missed_total",
        "spend_monitor_snapshot_series",
        "spend_monitor_snapshot_timestamp_seconds",
        "spend_monitor_series_dropped_total",
        "spend_monitor_ledger_rows",
        "spend_monitor_build_info",
        "llm_project_info",
        "llm_claude_code_cost_usd",
        "llm_api_key_info",
        "llm_user_info",
    }
)
HISTOGRAMS = frozenset({"spend_monitor_poll_duration_seconds"})
PROMETHEUS_SERIES = frozenset({"up"})  # written by Prometheus itself for every target
EXPECTED_DASHBOARDS = {
    "llm-spend-overview.json": "llm-spend-overview",
    "llm-spend-budgets.json": "llm-spend-budgets",
    "llm-spend-monitor-health.json": "llm-spend-monitor-health",
}
SCOPE_VARIABLES = ("provider", "account", "project")


def queryable_names() -> set[str]:
    """Series names a query may select: catalog metrics, histogram series and Prometheus's own."""
    names = set(CATALOG - HISTOGRAMS) | PROMETHEUS_SERIES
    for histogram in HISTOGRAMS:
        names |= {f"{histogram}_bucket", f"{histogram}_sum", f"{histogram}_count"}
    return names


def run_tool(name: str, *args: str, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess[str]:
    if shutil.which(name) is None:
        pytest.fail(f"{name} is not installed: run `make system-deps` (Debian's prometheus packages)")
    return subprocess.run([name, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def load_dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))}


def variables(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in board["templating"]["list"]}


def yaml_file(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in yaml_file(ALERT_RULES)["groups"] for rule in group["rules"] if "alert" in rule]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def compose() -> dict[str, Any]:
    document = yaml_file(ROOT / "docker-compose.yml")
    assert isinstance(document, dict)
    return document


# ---------------------------------------------------------------- dashboards


def test_dashboards_are_the_three_with_stable_uids() -> None:
    uids = {name: board["uid"] for name, board in load_dashboards().items()}
    assert uids == EXPECTED_DASHBOARDS


def test_dashboards_are_editable_with_schema_version_39() -> None:
    for name, board in load_dashboards().items():
        assert board["editable"] is True, name
        assert board["schemaVersion"] == 39, name
        assert board["title"], name


def test_dashboards_have_a_prometheus_datasource_variable() -> None:
    for name, board in load_dashboards().items():
        datasource = variables(board).get("datasource")
        assert datasource is not None, f"{name}: no datasource variable"
        assert (datasource["type"], datasource["query"]) == ("datasource", "prometheus"), name


def test_dashboards_have_scope_variables_with_all_as_any_value() -> None:
    for name, board in load_dashboards().items():
        for variable_name in SCOPE_VARIABLES:
            variable = variables(board).get(variable_name)
            assert variable is not None, f"{name}: no ${variable_name} variable"
            assert variable["type"] == "query", (name, variable_name)
            assert variable["multi"] and variable["includeAll"], (name, variable_name)
            assert variable["allValue"] == ".*", (name, variable_name)
            assert "label_values(" in variable["definition"], (name, variable_name)


def test_every_panel_and_variable_queries_through_the_datasource_variable() -> None:
    for name, board in load_dashboards().items():
        queried = [variable for variable in board["templating"]["list"] if variable["type"] == "query"]
        for panel in dashboard_panels(board["panels"]):
            if panel["type"] != "row":
                queried.append(panel)
                queried.extend(panel["targets"])
        for item in queried:
            assert item["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, (
                f"{name}: {item.get('title') or item.get('name') or item.get('refId')}"
            )


def test_panel_ids_are_unique_within_each_dashboard() -> None:
    for name, board in load_dashboards().items():
        ids = [panel["id"] for panel in dashboard_panels(board["panels"])]
        assert len(ids) == len(set(ids)), name


def test_scope_filters_are_applied_on_the_overview() -> None:
    board = load_dashboards()["llm-spend-overview.json"]
    for panel in dashboard_panels(board["panels"]):
        for target in panel.get("targets", []):
            names = metric_names(target["expr"])
            if names & {"llm_spend_usd", "llm_cost_usd_total", "llm_tokens_total", "llm_requests_total"}:
                for variable_name in SCOPE_VARIABLES:
                    assert f'{variable_name}=~"${variable_name}"' in target["expr"], (
                        panel["title"],
                        variable_name,
                    )


# ---------------------------------------------------------------- PromQL helpers


def test_metric_names_leaves_out_functions_labels_keywords_and_durations() -> None:
    expr = (
        'sum by (provider) (increase(llm_cost_usd_total{project=~"a|b"}[5m] offset 1h))'
        " / on (provider) group_left (model) max without (job) (llm_spend_usd)"
        ' or on() vector(0) and time() - x_seconds > 1e3 unless topk(3, y{z="or w"})'
    )
    assert metric_names(expr) == {"llm_cost_usd_total", "llm_spend_usd", "x_seconds", "y"}


def test_substitute_variables_replaces_every_grafana_form() -> None:
    expr = 'increase(m{a=~"$provider", b=~"${account}", c=~"[[project]]", d=~"${budget:regex}"}[$__rate_interval])'
    assert substitute_variables(expr) == 'increase(m{a=~".*", b=~".*", c=~".*", d=~".*"}[1m])'


def test_substitute_variables_rejects_an_unknown_variable() -> None:
    with pytest.raises(ValueError, match=r"\$model"):
        substitute_variables('m{model=~"$model"}')


def test_extract_promql_reads_rows_variables_and_alert_rules(tmp_path: Path) -> None:
    board = {
        "templating": {
            "list": [{"name": "provider", "type": "query", "query": {"query": "label_values(m_a, provider)"}}]
        },
        "panels": [
            {"type": "timeseries", "title": "top", "targets": [{"refId": "A", "expr": "m_b[$__interval]"}]},
            {
                "type": "row",
                "title": "collapsed",
                "panels": [
                    {
                        "type": "stat",
                        "title": "nested",
                        "targets": [{"refId": "B", "expr": 'm_c{p=~"$project"}'}],
                    }
                ],
            },
        ],
    }
    (tmp_path / "board.json").write_text(json.dumps(board))
    rules = tmp_path / "alerts.yml"
    rules.write_text(
        yaml.safe_dump({"groups": [{"name": "g", "rules": [{"alert": "A1", "expr": "m_d > 0"}]}]})
    )

    expressions = dict((expr, where) for where, expr in extract_promql_expressions(tmp_path, rules))

    assert set(expressions) == {"m_a", "m_b[1m]", 'm_c{p=~".*"}', "m_d > 0"}
    assert "nested" in expressions['m_c{p=~".*"}']
    assert "A1" in expressions["m_d > 0"]


def test_shipped_expressions_have_no_grafana_variables_left() -> None:
    expressions = extract_promql_expressions()
    assert len(expressions) > 50
    assert [where for where, expr in expressions if "$" in expr] == []


# ---------------------------------------------------------------- metric catalog


def test_every_metric_in_dashboards_and_rules_is_one_the_daemon_exports() -> None:
    allowed = queryable_names()
    unknown = {
        (where, name) for where, expr in extract_promql_expressions() for name in metric_names(expr) - allowed
    }
    assert unknown == set()


def test_every_exported_metric_appears_on_a_dashboard() -> None:
    used = {
        name
        for where, expr in extract_promql_expressions()
        if where.startswith("grafana/")
        for name in metric_names(expr)
    }
    used |= {
        name.removesuffix(suffix)
        for name in used
        for suffix in ("_bucket", "_sum", "_count")
        if name.endswith(suffix)
    }
    assert set(CATALOG) - used == set()


def test_every_promql_expression_parses(tmp_path: Path) -> None:
    expressions = extract_promql_expressions()
    rules = [{"record": f"shipped:expression_{i}", "expr": expr} for i, (_, expr) in enumerate(expressions)]
    path = tmp_path / "all_expressions.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "shipped", "rules": rules}]}))

    result = run_tool("promtool", "check", "rules", str(path))

    output = result.stdout + result.stderr
    failing = [where for i, (where, _) in enumerate(expressions) if f'"shipped:expression_{i}"' in output]
    assert result.returncode == 0, f"{failing}\n{output}"


# ---------------------------------------------------------------- Prometheus and Alertmanager


def test_promtool_accepts_the_prometheus_config() -> None:
    result = run_tool("promtool", "check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_alert_rules() -> None:
    result = run_tool("promtool", "check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rule_unit_tests_pass() -> None:
    result = run_tool("promtool", "test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_rule_has_a_firing_and_a_quiet_unit_test() -> None:
    cases = [
        case
        for test in yaml_file(PROMETHEUS_DIR / "alerts_test.yml")["tests"]
        for case in test["alert_rule_test"]
    ]
    for rule in alert_rules():
        outcomes = {bool(case["exp_alerts"]) for case in cases if case["alertname"] == rule["alert"]}
        assert outcomes == {True, False}, rule["alert"]


def test_alert_rules_have_a_severity_a_summary_and_a_description() -> None:
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


def test_prometheus_scrapes_the_compose_monitor_on_its_exposed_port() -> None:
    config = yaml_file(PROMETHEUS_DIR / "prometheus.yml")
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "llm-spend-monitor"]
    exposed = dict(dockerfile_instructions())["EXPOSE"]
    assert job["static_configs"][0]["targets"] == [f"monitor:{exposed}"]
    assert "monitor" in compose()["services"]


def test_prometheus_sends_alerts_to_the_compose_alertmanager() -> None:
    config = yaml_file(PROMETHEUS_DIR / "prometheus.yml")
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert targets == ["alertmanager:9093"]
    assert "alertmanager" in compose()["services"]


def test_amtool_accepts_the_alertmanager_config() -> None:
    result = run_tool("amtool", "check-config", "alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=LLMBudgetExhausted", "budget=team-a", "severity=critical"], "budget-webhook"),
        (["alertname=LLMSpendBudget", "budget=team-a", "threshold=80", "kind=actual"], "budget-webhook"),
        (["alertname=SpendMonitorDown", "severity=critical"], "ops-webhook"),
    ],
)
def test_alertmanager_routes_budget_and_monitor_alerts_apart(labels: list[str], receiver: str) -> None:
    result = run_tool("amtool", "config", "routes", "test", "--config.file=alertmanager.yml", *labels)
    assert (result.returncode, result.stdout.strip()) == (0, receiver), result.stderr


# ---------------------------------------------------------------- Grafana provisioning


def test_grafana_datasource_is_the_compose_prometheus_with_uid_prometheus() -> None:
    (datasource,) = yaml_file(GRAFANA_PROVISIONING / "datasources" / "prometheus.yaml")["datasources"]
    assert (datasource["type"], datasource["uid"], datasource["url"]) == (
        "prometheus",
        "prometheus",
        "http://prometheus:9090",
    )
    assert "127.0.0.1:9090:9090" in compose()["services"]["prometheus"]["ports"]


def test_grafana_loads_dashboards_from_where_compose_mounts_them() -> None:
    (provider,) = yaml_file(GRAFANA_PROVISIONING / "dashboards" / "llm-spend-monitor.yaml")["providers"]
    mounts = compose()["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


def test_compose_mounts_grafana_provisioning() -> None:
    assert (
        "./grafana/provisioning:/etc/grafana/provisioning:ro" in compose()["services"]["grafana"]["volumes"]
    )


# ---------------------------------------------------------------- Dockerfile and compose


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    instructions = dockerfile_instructions()
    arguments = dict(arg.split("=", 1) for kind, arg in instructions if kind == "ARG" and "=" in arg)
    bases = [arg.split()[0] for kind, arg in instructions if kind == "FROM"]
    final = re.sub(r"\$\{(\w+)\}", lambda match: arguments[match.group(1)], bases[-1])
    assert len(bases) >= 2
    assert final == "python:3.11-slim"
    assert any("--from=" in arg for kind, arg in instructions if kind == "COPY")


def test_dockerfile_runs_as_uid_10001() -> None:
    users = [arg for kind, arg in dockerfile_instructions() if kind == "USER"]
    assert users and users[-1].split(":")[0] == "10001"
    assert any("--uid 10001" in arg for kind, arg in dockerfile_instructions() if kind == "RUN")


def test_dockerfile_has_data_volume_port_and_healthcheck_on_that_port() -> None:
    instructions = dict(dockerfile_instructions())
    assert instructions["VOLUME"] == "/data"
    assert f"127.0.0.1:{instructions['EXPOSE']}/healthz" in instructions["HEALTHCHECK"]
    assert "curl" not in instructions["HEALTHCHECK"]


def test_dockerfile_entrypoint_is_the_console_script_in_demo_mode() -> None:
    instructions = dict(dockerfile_instructions())
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(instructions["ENTRYPOINT"]) == ["spend-monitor"]
    assert "spend-monitor" in scripts
    assert json.loads(instructions["CMD"]) == [
        "demo",
        "--listen",
        f"0.0.0.0:{instructions['EXPOSE']}",
        "--db",
        "/data/spend.db",
    ]


def test_dockerignore_lets_through_everything_the_dockerfile_copies() -> None:
    included = {
        line.removeprefix("!").rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copied = {
        source.rstrip("/")
        for kind, arg in dockerfile_instructions()
        if kind == "COPY" and "--from=" not in arg
        for source in arg.split()[:-1]
    }
    assert copied and copied <= included


def test_compose_monitor_has_a_read_only_root_with_tmpfs_and_a_data_volume() -> None:
    monitor = compose()["services"]["monitor"]
    assert monitor["read_only"] is True
    assert "/tmp" in monitor["tmpfs"]
    assert any(volume.endswith(":/data") for volume in monitor["volumes"])


def test_compose_publishes_ports_on_loopback_only() -> None:
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_compose_mounts_the_prometheus_config_and_alertmanager_config() -> None:
    services = compose()["services"]
    assert "./prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    assert (
        "./prometheus/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro"
        in services["alertmanager"]["volumes"]
    )


# ---------------------------------------------------------------- docs


def test_runbook_covers_every_alert_rule() -> None:
    runbook = (ROOT / "docs" / "dashboards.md").read_text()
    assert [rule["alert"] for rule in alert_rules() if f"`{rule['alert']}`" not in runbook] == []
