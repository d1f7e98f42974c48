"""Azure OpenAI: hourly token counts per deployment from Azure Monitor metrics, and the bill per day from
Cost Management. Facts and sources: docs/providers.md, "Azure OpenAI".

Azure's metrics do not split cached prompt tokens, so tokens x list price is only an upper bound of
what Azure charges; the channel's spend is the bill (billed cost), and drift says how far apart the
two are. Deployments map to models through the deployments list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from monitor.providers.azure_auth import TokenSource
from monitor.providers.base import (
    DAY,
    DEFAULT_HTTP,
    HttpOptions,
    ProviderDefaults,
    aligned_window,
    build_page,
    check_endpoint,
    link_pages,
    read_instant,
    select_endpoints,
    windows,
)
from monitor.providers.http import ApiClient, ApiStats
from monitor.providers.payload import Fields
from monitor.providers.schema import Build, Option, ProviderType, http_options
from monitor.records import BilledCost, UsagePage, UsageRow, tokens_of

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig

log = logging.getLogger(__name__)

LOGIN_URL = "https://login.microsoftonline.com"
MANAGEMENT_URL = "https://management.azure.com"
ENDPOINT = "metrics"
HOUR = 3600
METRICS_VERSION = "2023-10-01"
DEPLOYMENTS_VERSION = "2023-05-01"
COSTS_VERSION = "2023-11-01"
METRICS: dict[str, str] = {
    "ProcessedPromptTokens": "input",
    "GeneratedTokens": "output",
    "AzureOpenAIRequests": "",
}
"""REST metric name -> token type ("" = requests). `ProcessedInferenceTokens` is only a display name."""
THROTTLE_HEADERS = (
    "retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after",
)
"""Where ARM and Cost Management say how long to wait after a 429 (the x-ms names are unconfirmed)."""


class AzureOpenAIProvider(ProviderDefaults):
    """One Azure OpenAI resource, read with a service principal (client credentials)."""

    provider = "azure_openai"

    def __init__(
        self,
        *,
        account: str,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        subscription_id: str,
        resource_group: str,
        resource: str,
        login_url: str = LOGIN_URL,
        management_url: str = MANAGEMENT_URL,
        endpoints: Iterable[str] | None = None,
        http: HttpOptions = DEFAULT_HTTP,
        key_hint: str = "the tenant_id, client_id and client_secret of this provider",
    ) -> None:
        self.account = account
        self.bucket_width = HOUR
        self.endpoints = select_endpoints(endpoints, (ENDPOINT,), account)

        def client(base_url: str, hint: str, credential: str) -> ApiClient:
            return http.client(
                account=account,
                base_url=base_url,
                headers={},
                secrets=(client_secret,),
                key_hint=hint,
                credential=credential,
                retry_after_headers=THROTTLE_HEADERS,
            )

        login = client(login_url, key_hint, "client secret")
        self._arm = client(
            management_url, f"the service principal's role assignments ({key_hint})", "access token"
        )
        self._clients = (login, self._arm)
        self.stats: ApiStats = self._arm.stats
        login.stats = self._arm.stats  # one set of counters for the account
        self._origin = _origin(management_url)
        self._tokens = TokenSource(
            login,
            account=account,
            tenant=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            scope=f"{management_url}/.default",
        )
        self._group = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        self._resource = f"{self._group}/providers/Microsoft.CognitiveServices/accounts/{resource}"

    def close(self) -> None:
        for client in self._clients:
            client.close()

    # ---- usage: metrics --------------------------------------------------------------------------

    def fetch_usage(
        self, endpoint: str, start: int, end: int, *, observed_at: int, now: int
    ) -> Iterator[UsagePage]:
        """Hourly token counts per deployment, one page per UTC day (every hour of it up to now)."""
        check_endpoint(endpoint, self.endpoints, self.account)
        models = self._deployments(now)
        start, end = aligned_window(start, end, HOUR)
        for a, b in windows(start, end, DAY):
            seen_until = min(b, -(-now // HOUR) * HOUR)
            if seen_until <= a:
                break
            rows = self._metrics(a, seen_until, models, now)
            yield build_page(
                provider=self.provider,
                account=self.account,
                endpoint=endpoint,
                bucket_width=HOUR,
                spans=[(s, s + HOUR) for s in range(a, seen_until, HOUR)],
                rows=rows,
                observed_at=observed_at,
                now=now,
                start=a,
            )

    def _deployments(self, now: int) -> dict[str, str]:
        """Deployment name (lower-case) -> the model it serves."""
        f = self._arm.fields("deployments")
        models: dict[str, str] = {}
        path = f"{self._resource}/deployments"
        for page in self._paged("GET", path, [("api-version", DEPLOYMENTS_VERSION)], "deployments", now):
            for i, raw in enumerate(page):
                where = f"value[{i}]"
                item = f.obj(raw, where)
                model = f.obj(
                    f.obj(item.get("properties") or {}, f"{where}.properties").get("model") or {}, where
                )
                models[f.text(item, "name", where).lower()] = f.text(
                    model, "name", f"{where}.properties.model"
                )
        return models

    def _metrics(self, a: int, b: int, models: dict[str, str], now: int) -> list[UsageRow]:
        f = self._arm.fields(ENDPOINT)
        params = [
            ("api-version", METRICS_VERSION),
            ("timespan", f"{_iso(a)}/{_iso(b)}"),
            ("interval", "PT1H"),
            ("metricnames", ",".join(METRICS)),
            ("aggregation", "Total"),
            ("$filter", "ModelDeploymentName eq '*'"),
            ("top", str(max(100, 2 * len(models)))),  # the series limit (default 10) must not cut any off
            ("metricnamespace", "Microsoft.CognitiveServices/accounts"),
        ]
        path = f"{self._resource}/providers/Microsoft.Insights/metrics"
        body = self._tokens.call(
            now, lambda t: self._arm.request_json("GET", path, params, endpoint=ENDPOINT, headers=_bearer(t))
        )
        counts: dict[tuple[int, str], dict[str, int]] = {}
        for i, raw in enumerate(f.items(body, "value", "")):
            where = f"value[{i}]"
            metric = f.obj(raw, where)
            name = f.text(f.obj(metric.get("name"), f"{where}.name"), "value", f"{where}.name")
            if metric.get("errorCode", "Success") != "Success":
                problem = f.text(metric, "errorMessage", where) or f.text(metric, "errorCode", where)
                raise f.error(where, f"Azure Monitor could not read {name}: {problem}")
            kind = METRICS.get(name)
            if kind is None:
                continue
            for j, raw_series in enumerate(f.items(metric, "timeseries", where)):
                series = f.obj(raw_series, f"{where}.timeseries[{j}]")
                deployment = _dimension(f, series, "modeldeploymentname", f"{where}.timeseries[{j}]")
                for k, raw_point in enumerate(f.items(series, "data", f"{where}.timeseries[{j}]")):
                    spot = f"{where}.timeseries[{j}].data[{k}]"
                    point = f.obj(raw_point, spot)
                    at = read_instant(f, point, "timeStamp", spot)
                    if not a <= at < b:
                        continue  # a point outside the span asked for belongs to another page
                    if at % HOUR:
                        raise f.error(f"{spot}.timeStamp", f"{at} is not on an hour")
                    total = _whole(f, point.get("total"), f"{spot}.total")
                    slot = counts.setdefault((at, deployment), {"input": 0, "output": 0, "": 0})
                    slot[kind] += total
        return [
            UsageRow(
                provider=self.provider,
                account=self.account,
                endpoint=ENDPOINT,
                bucket_start=at,
                bucket_width=HOUR,
                project=deployment,
                model=models.get(deployment.lower(), deployment),
                tokens=tokens_of(input=c["input"], output=c["output"]),
                requests=c[""],
            )
            for (at, deployment), c in sorted(counts.items())
            if any(c.values())
        ]

    # ---- the bill: Cost Management ---------------------------------------------------------------

    def fetch_costs(self, start: int, end: int, *, now: int) -> Iterator[list[BilledCost]]:
        """The resource's actual cost per UTC day and meter, one list per page of the query."""
        first = start - start % DAY
        last = max(min(end, now), first + 1)
        last = last - last % DAY + DAY
        body = {
            "type": "ActualCost",
            "timeframe": "Custom",
            "timePeriod": {"from": _iso(first), "to": _iso(last - 1)},
            "dataset": {
                "granularity": "Daily",
                "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
                "grouping": [
                    {"type": "Dimension", "name": "ResourceId"},
                    {"type": "Dimension", "name": "Meter"},
                ],
            },
        }
        path = f"{self._group}/providers/Microsoft.CostManagement/query"
        f = self._arm.fields("costs")
        pages = self._paged(
            "POST", path, [("api-version", COSTS_VERSION)], "costs", now, body=body, key="properties"
        )
        for number, (page,) in enumerate(pages, start=1):
            yield [line for line in self._cost_lines(f, page, number) if first <= line.day_start < last]

    def _cost_lines(self, f: Fields, page: dict[str, Any], number: int) -> Iterator[BilledCost]:
        where = f"page {number}.properties"
        columns = [
            f.text(f.obj(c, f"{where}.columns[{i}]"), "name", where).lower()
            for i, c in enumerate(f.items(page, "columns", where))
        ]
        index = {name: i for i, name in enumerate(columns)}
        cost_column = "cost" if "cost" in index else "pretaxcost"
        missing = [c for c in (cost_column, "usagedate", "resourceid", "meter", "currency") if c not in index]
        if missing:
            raise f.error(f"{where}.columns", f"no {', '.join(missing)} column (got {', '.join(columns)})")
        for i, raw in enumerate(f.items(page, "rows", where)):
            spot = f"{where}.rows[{i}]"
            if not isinstance(raw, list) or len(raw) != len(columns):
                raise f.error(spot, f"expected a list of {len(columns)} values")
            row = dict(zip(columns, raw, strict=True))
            if str(row["resourceid"]).lower() != self._resource.lower():
                continue  # another resource of the resource group
            currency = str(row["currency"])
            if currency.upper() != "USD":
                raise f.error(
                    f"{spot}.Currency", f"the bill is in {currency:.10}; only USD bills are supported"
                )
            yield BilledCost(
                provider=self.provider,
                account=self.account,
                day_start=_usage_date(f, row["usagedate"], f"{spot}.UsageDate"),
                project="",
                line_item=str(row["meter"]),
                amount_pico=f.pico(_money(f, row[cost_column], f"{spot}.Cost"), f"{spot}.Cost"),
            )

    # ---- ARM requests ----------------------------------------------------------------------------

    def _paged(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        endpoint: str,
        now: int,
        *,
        body: Any = None,
        key: str = "",
    ) -> Iterator[list[Any]]:
        """ARM's link paging: follow `nextLink` (POST the same body again for Cost Management), only to the
        management host (the token must never go elsewhere). Yields each page's `value` list, or with
        `key` a list holding the page's `key` object (Cost Management's `properties`)."""
        f = self._arm.fields(endpoint)

        def fetch(link: str | None) -> tuple[list[Any], str | None]:
            target, query = (path, params) if link is None else (self._same_origin(f, link), [])
            answer = self._tokens.call(
                now,
                lambda t: self._arm.request_json(
                    method, target, query, endpoint=endpoint, json_body=body, headers=_bearer(t)
                ),
            )
            holder = f.obj(answer.get(key), key) if key else answer
            following = holder.get("nextLink") if key else answer.get("nextLink")
            if following is not None and not isinstance(following, str):
                raise f.error("nextLink", f"expected a URL or null, got {following!r:.40}")
            return ([holder] if key else f.items(answer, "value", "")), following or None

        def error(problem: str) -> Exception:
            return f.error("nextLink", problem)

        yield from link_pages(fetch, max_pages=self._arm.max_pages, error=error)

    def _same_origin(self, f: Fields, link: str) -> str:
        if _origin(link) != self._origin:
            raise f.error("nextLink", "points to another host than management_url; not followed")
        return link


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dimension(f: Fields, series: dict[str, Any], name: str, where: str) -> str:
    """A timeseries' dimension value; Azure lower-cases dimension names, so compare without case."""
    for i, raw in enumerate(f.items(series, "metadatavalues", where)):
        meta = f.obj(raw, f"{where}.metadatavalues[{i}]")
        label = f.obj(meta.get("name"), f"{where}.metadatavalues[{i}].name")
        if f.text(label, "value", where).lower() == name:
            return f.text(meta, "value", f"{where}.metadatavalues[{i}]")
    raise f.error(where, f"the series has no {name} dimension")


def _whole(f: Fields, value: Any, where: str) -> int:
    """A metric total: a double that must be a whole count; missing (no data in the hour) is 0."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value < 0 or value != int(value):
        raise f.error(where, f"expected a whole count, got {value!r:.40}")
    return f.count({"n": int(value)}, "n", where)


def _money(f: Fields, value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise f.error(where, f"expected a number, got {value!r:.40}")
    return Decimal(value)


def _usage_date(f: Fields, value: Any, where: str) -> int:
    """Cost Management's `UsageDate`, a number YYYYMMDD, as the unix start of that UTC day."""
    text = str(value)
    try:
        day = datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        raise f.error(where, f"expected a date as YYYYMMDD, got {text!r:.20}") from None
    return int(day.timestamp())


def _build(cfg: ProviderConfig, build: Build) -> AzureOpenAIProvider:
    def option(key: str) -> str:
        return str(TYPE.option(cfg, key))

    return AzureOpenAIProvider(
        tenant_id=option("tenant_id"),
        client_id=option("client_id"),
        client_secret=TYPE.secret(cfg, "client_secret"),
        subscription_id=option("subscription_id"),
        resource_group=option("resource_group"),
        resource=option("account"),
        login_url=option("login_url"),
        management_url=option("management_url"),
        endpoints=cfg.endpoints,
        key_hint=f"the tenant_id, client_id and client_secret of {build.where}",
        account=cfg.name,
        http=http_options(cfg, build),
    )


TYPE = ProviderType(
    name="azure_openai",
    summary="an Azure OpenAI resource (a service principal's client secret)",
    build=_build,
    endpoints=(ENDPOINT,),
    bucket_widths=("1h",),
    options={
        "tenant_id": Option("name", "the Microsoft Entra tenant (directory) id or domain", required=True),
        "client_id": Option("guid", "the service principal's application (client) id", required=True),
        "client_secret": Option(
            "secret",
            "${ENV_VAR} or ${file:/path} holding the service principal's client secret",
            required=True,
        ),
        "subscription_id": Option("guid", "the subscription of the Azure OpenAI resource", required=True),
        "resource_group": Option("name", "the resource group of the Azure OpenAI resource", required=True),
        "account": Option("name", "the Azure OpenAI resource's name", required=True),
        "login_url": Option("url", "the Microsoft identity platform's URL", default=LOGIN_URL),
        "management_url": Option("url", "the Azure Resource Manager URL", default=MANAGEMENT_URL),
    },
)
"""The config `type: azure_openai` (see monitor.providers.registry)."""
