"""What the simulated Azure Resource Manager answers for the resource's metrics and its resource group's
cost query, rendered from the books of `AzureSim` (the shapes are in azure_api.py's docstring)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from monitor.simulator.channel import ChannelRequest, day_of
from monitor.simulator.generate import DAY, HOUR
from monitor.simulator.wire import Raw, Reply, decimal_text, first, integer

if TYPE_CHECKING:
    from monitor.simulator.azure_api import AzureSim

METRICS = ("ProcessedPromptTokens", "GeneratedTokens", "AzureOpenAIRequests")
COLUMNS = (
    ("Cost", "Number"),
    ("UsageDate", "Number"),
    ("ResourceId", "String"),
    ("Meter", "String"),
    ("Currency", "String"),
)
OTHER_RESOURCE = "/providers/microsoft.storage/storageaccounts/llmlogs"
"""A storage account in the same resource group: its cost rows are not the Azure OpenAI resource's."""


def _stamp(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bad(message: str) -> Reply:
    return Reply(400, {"code": "BadRequest", "message": message})


def metrics_reply(sim: AzureSim, request: ChannelRequest) -> Reply:
    """`GET .../providers/Microsoft.Insights/metrics`: one series per deployment, hourly points."""
    q = request.query
    span = (first(q, "timespan") or "").split("/")
    try:
        start, end = (int(datetime.fromisoformat(t).timestamp()) for t in span)
    except ValueError:
        return _bad("Invalid timespan")
    if first(q, "interval") != "PT1H" or first(q, "aggregation") != "Total":
        return _bad("expected interval PT1H and aggregation Total")
    value = []
    for metric in (first(q, "metricnames") or "").split(","):
        if metric not in METRICS:
            return _bad(
                f"Failed to find metric configuration for provider: Microsoft.CognitiveServices, metric: {metric}"
            )
        series = [
            _series(sim, metric, name, (start, end), request.now)
            for name in list(sim.deployments)[: integer(q, "top") or 10]
        ]
        value.append(
            {
                "id": f"{sim.resource_id}/providers/Microsoft.Insights/metrics/{metric}",
                "type": "Microsoft.Insights/metrics",
                "name": {"value": metric, "localizedValue": metric},
                "unit": "Count",
                "timeseries": series,
                "errorCode": "Success",
            }
        )
    body = {
        "cost": 0,
        "timespan": "/".join(span),
        "interval": "PT1H",
        "resourceregion": "eastus",
        "value": value,
    }
    return Reply(200, body)


def _series(sim: AzureSim, metric: str, name: str, span: tuple[int, int], now: int) -> dict[str, Any]:
    data = []
    start, end = span
    for hour in range(start - start % HOUR, end, HOUR):
        h = sim.visible(hour, now).get(name)
        n = (
            0
            if h is None
            else h.prompt
            if metric == METRICS[0]
            else h.completion
            if metric == METRICS[1]
            else h.requests
        )
        point: dict[str, Any] = {"timeStamp": _stamp(hour)}
        if n or hour % (2 * HOUR):  # no data: sometimes no total at all, sometimes 0.0
            point["total"] = Raw(f"{n}.0")
        data.append(point)
    label = {"value": "modeldeploymentname", "localizedValue": "modeldeploymentname"}
    return {"metadatavalues": [{"name": label, "value": name}], "data": data}


def costs_reply(sim: AzureSim, request: ChannelRequest) -> Reply:
    """`POST .../providers/Microsoft.CostManagement/query`: daily rows per resource and meter, paged."""
    try:
        period = json.loads(request.body)["timePeriod"]
        start, end = (int(datetime.fromisoformat(period[k]).timestamp()) for k in ("from", "to"))
    except (ValueError, KeyError, TypeError):
        return Reply(400, {"error": {"code": "BadRequest", "message": "Invalid query definition"}})
    rows: list[list[Any]] = []
    other = sim.group_id.lower() + OTHER_RESOURCE
    for day in range(day_of(start), min(end, request.now) + 1, DAY):
        costs: dict[str, Decimal] = {}
        for hour in range(day, day + DAY, HOUR):
            for meter, amount in sim.meter_costs(hour, request.now).items():
                costs[meter] = costs.get(meter, Decimal(0)) + amount
        stamp = int(datetime.fromtimestamp(day, UTC).strftime("%Y%m%d"))
        rows.extend(
            [Raw(decimal_text(v)), stamp, sim.resource_id.lower(), m, "USD"] for m, v in sorted(costs.items())
        )
        if costs:
            rows.append([Raw("0.0125"), stamp, other, "LRS Data Stored", "USD"])
    skip = integer(request.query, "$skiptoken") or 0
    following = skip + sim.cost_page_rows
    link = None
    if following < len(rows):
        host = request.headers.get("host", "127.0.0.1")
        link = f"http://{host}{sim.prefix}{request.path}?api-version=2023-11-01&$skiptoken={following}"
    columns = [{"name": n, "type": t} for n, t in COLUMNS]
    props = {"nextLink": link, "columns": columns, "rows": rows[skip:following]}
    return Reply(200, {"type": "microsoft.costmanagement/Query", "properties": props})
