"""Azure OpenAI: hourly token counts per deployment from Azure Monitor metrics, and the bill per day from
Cost Management. Facts and sources: docs/providers.md, "Azure OpenAI".

Azure's metrics do not split cached prompt tokens, so tokens x list price is only an upper bound of
what Azure charges; the channel's spend is the bill (billed cost), and drift says how far apart the
two are. Deployments map to models through the deployments list. Every request goes through
`azure_arm.ArmRequests` (the bearer token, link paging kept on the management host).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from monitor.providers.azure_arm import ArmRequests
from monitor.providers.azure_auth import TokenSource
from monitor.providers.azure_costs import VERSION as COSTS_VERSION
from monitor.providers.azure_costs import cost_lines, cost_query, iso
from monitor.providers.azure_metrics import METRICS, metric_counts
from monitor.providers.azure_metrics import VERSION as METRICS_VERSION
from monitor.providers.base import (
    DAY,
    ProviderDefaults,
    aligned_window,
    build_page,
    check_endpoint,
    select_endpoints,
    windows,
)
from monitor.providers.http import ApiClient, ApiStats
from monitor.providers.http_options import DEFAULT_HTTP, HttpOptions
from monitor.providers.schema import Build, Option, ProviderType, http_options
from monitor.records import BilledCost, UsagePage, UsageRow, tokens_of

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig

log = logging.getLogger(__name__)

LOGIN_URL = "https://login.microsoftonline.com"
MANAGEMENT_URL = "https://management.azure.com"
ENDPOINT = "metrics"
HOUR = 3600
DEPLOYMENTS_VERSION = "2023-05-01"
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
        tokens = TokenSource(
            login,
            account=account,
            tenant=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            scope=f"{management_url}/.default",
        )
        self._requests = ArmRequests(self._arm, tokens, management_url)
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
        for page in self._requests.paged(
            "GET", path, [("api-version", DEPLOYMENTS_VERSION)], "deployments", now
        ):
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
            ("timespan", f"{iso(a)}/{iso(b)}"),
            ("interval", "PT1H"),
            ("metricnames", ",".join(METRICS)),
            ("aggregation", "Total"),
            ("$filter", "ModelDeploymentName eq '*'"),
            ("top", str(max(100, 2 * len(models)))),  # the series limit (default 10) must not cut any off
            ("metricnamespace", "Microsoft.CognitiveServices/accounts"),
        ]
        path = f"{self._resource}/providers/Microsoft.Insights/metrics"
        body = self._requests.get_json(path, params, endpoint=ENDPOINT, now=now)
        counts = metric_counts(f, body, a, b)
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
        path = f"{self._group}/providers/Microsoft.CostManagement/query"
        f = self._arm.fields("costs")
        body = cost_query(first, last)
        pages = self._requests.paged(
            "POST", path, [("api-version", COSTS_VERSION)], "costs", now, body=body, key="properties"
        )
        for number, (page,) in enumerate(pages, start=1):
            lines = cost_lines(
                f, page, number, resource=self._resource, provider=self.provider, account=self.account
            )
            yield [line for line in lines if first <= line.day_start < last]


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
