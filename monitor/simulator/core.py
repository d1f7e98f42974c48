"""`Simulator`: OpenAI's and Anthropic's organization usage and cost APIs on loopback HTTP.

A stand-in for the real providers in `spend-monitor demo`, integration tests, benchmarks and chaos
tests: deterministic usage from a seed, scripted faults, and exact expectations (`ground_truth`,
`billed`) to check a client against. See docs/simulator.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType, TracebackType
from typing import Any

from monitor.simulator import claude_code
from monitor.simulator.azure_api import AzureSim
from monitor.simulator.directory import SimDirectory
from monitor.simulator.generate import DAY, HOUR
from monitor.simulator.layout import Layout, make_layout, profile
from monitor.simulator.newapi_api import NewApiSim
from monitor.simulator.openrouter_api import OpenRouterSim
from monitor.simulator.prices import SHORT_CONTEXT, SLOT_OF, PriceBook, PriceKey, base_model
from monitor.simulator.server import Gateway, RequestRecord, SimulatorServer
from monitor.simulator.sheet import dated_changes, geo_factors, published_sheet, released
from monitor.simulator.truth import Billed, GroundTruth, billed, ground_truth
from monitor.simulator.usage import SimulatedUsage

logger = logging.getLogger(__name__)

DEFAULT_OPENAI_MODELS = (
    "gpt-6.1-sol",
    "gpt-6-luna",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "ft:gpt-4.1-mini-2025-04-14:acme::sim123",
)
"""Today's traffic (December 2026): GPT-6.1 Sol and GPT-6 Luna with cache writes on the default, fast and
batch tiers, and some GPT-4.1 (with a fine-tune) as in the seeds' examples."""
DEFAULT_ANTHROPIC_MODELS = (
    "claude-sonnet-5-5",
    "claude-opus-5-5",
    "claude-haiku-4-5-20251001",
)
"""Claude Sonnet and Opus 5.5 (5-minute and 1-hour cache writes, Opus in fast mode, some US inference)
and Claude Haiku 4.5."""
PREVIEW_OPENAI_MODEL = "gpt-7-preview"
PREVIEW_ANTHROPIC_MODEL = "claude-sonnet-6-preview"
"""Models no price source lists (previews made up for the simulator): the bill alone prices them. Add
them to the traffic with `openai_models=(*DEFAULT_OPENAI_MODELS, PREVIEW_OPENAI_MODEL)` and alike."""
SEEDS_OPENAI_MODELS = (
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14",
    "ft:gpt-4.1-mini-2025-04-14:acme::sim123",
)
SEEDS_ANTHROPIC_MODELS = (
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-1-20250805",
)
"""The default traffic before December 2026, for tests and benchmarks that compare with older figures."""
BENCHMARK_OPENAI_MODELS = (
    *SEEDS_OPENAI_MODELS[:3],
    "gpt-4o-2024-08-06",
    "gpt-4o-mini-2024-07-18",
    "o3-2025-04-16",
    "o4-mini-2025-04-16",
    "gpt-5-2025-08-07",
    "gpt-5-mini-2025-08-07",
    "gpt-5-nano-2025-08-07",
)
"""Ten priced OpenAI model names, for `openai_models=` in benchmarks."""
EMBEDDING_MODEL = "text-embedding-3-small"
NEWAPI_ACCESS_TOKEN = "simRelayAccessToken0123456789abc"  # noqa: S105 - made up, the simulator's own
"""The relay user's system access token (32 characters, like new-api's)."""
NEWAPI_USER_ID = 42
OPENROUTER_MANAGEMENT_KEY = "sk-or-v1-mgmt-sim0123456789abcdef0123456789abcdef"
"""OpenRouter management key the simulated account accepts (an inference key gets 403)."""
OPENROUTER_INFERENCE_KEY = "sk-or-v1-sim-inference0123456789abcdef0123456789"
AZURE_CLIENT_SECRET = "simAzure~ClientSecret.0123456789abcdefGHIJ"  # noqa: S105 - made up, the simulator's own
"""The service principal's client secret (tenant, client, subscription: monitor.simulator.azure_api)."""
HISTORY_DAYS = 30
PROVIDERS = ("openai", "anthropic")
_PRICED_BY_INPUT = "input"  # a (tier, context window) exists for a model when it has an input price


class Simulator:
    """Both providers' APIs on one loopback HTTP server, started with `start()` or `with Simulator() as sim`.

    `clock` is the provider's "now" (unix seconds): hours that have closed by then are complete, the
    current hour is partial. `start` is the first hour with usage (default: 30 days before the clock's
    UTC day). `extra_token_types` also generates OpenAI image tokens, and cache writes for models
    without a published cache-write price (the sheet bills them at the input/cached-input rate).
    `openai_long_prompts` adds prompts above 272K tokens, billed at the long-context price but reported
    like any other (OpenAI's usage rows carry no context window): ledger and bill then disagree.
    """

    timeout_hold: float = 5.0
    """Seconds a "timeout" fault holds the connection open before closing it without a response."""

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        start: int | None = None,
        openai_key: str = "sk-admin-sim-openai",
        anthropic_key: str = "sk-ant-admin-sim-anthropic",
        projects: int = 4,
        api_keys_per_project: int = 2,
        scale: float = 1.0,
        openai_models: Sequence[str] | None = None,
        anthropic_models: Sequence[str] | None = None,
        late_buckets: bool = False,
        revisions: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_token_types: bool = False,
        openai_long_prompts: bool = False,
    ) -> None:
        if projects < 1 or api_keys_per_project < 1 or not scale > 0:
            raise ValueError("projects and api_keys_per_project must be >= 1 and scale > 0")
        if not openai_key or not anthropic_key:
            raise ValueError("openai_key and anthropic_key must not be empty")
        openai = list(openai_models if openai_models is not None else DEFAULT_OPENAI_MODELS)
        anthropic = list(anthropic_models if anthropic_models is not None else DEFAULT_ANTHROPIC_MODELS)
        self._book = PriceBook(published_sheet(openai, [EMBEDDING_MODEL], anthropic), geo_factors(anthropic))
        for key, price, effective_from in dated_changes([*openai, *anthropic]):
            self._book.set(key, price, effective_from)
        layouts = {
            "openai": self._layout(seed, "openai", projects, api_keys_per_project, openai),
            "anthropic": self._layout(seed, "anthropic", projects, api_keys_per_project, anthropic),
        }
        self.clock = clock
        if start is None:
            today = int(clock()) // DAY * DAY
            start = today - HISTORY_DAYS * DAY
        self.history_start = start - start % HOUR
        self._usage = SimulatedUsage(
            seed=seed,
            history_start=self.history_start,
            scale=scale,
            layouts=layouts,
            embedding_model=EMBEDDING_MODEL,
            book=self._book,
            late_buckets=late_buckets,
            revisions=revisions,
            extra_token_types=extra_token_types,
            openai_long_prompts=openai_long_prompts,
        )
        self.directories = {
            p: SimDirectory(layout, seed, self.history_start) for p, layout in layouts.items()
        }
        self._usage.directories = dict(self.directories)
        self.openai_key, self.anthropic_key = openai_key, anthropic_key
        keys = {"openai": openai_key, "anthropic": anthropic_key}
        self._gateway = Gateway(self._usage, clock, keys, lambda: self.timeout_hold)
        self.newapi = NewApiSim(
            seed=seed,
            history_start=self.history_start,
            access_token=NEWAPI_ACCESS_TOKEN,
            user_id=NEWAPI_USER_ID,
            scale=scale,
        )
        """The new-api relay user's books (ground truth: `newapi.truth(start, end, now)`)."""
        self._gateway.mount(self.newapi)
        self.openrouter = OpenRouterSim(
            seed=seed,
            history_start=self.history_start,
            management_key=OPENROUTER_MANAGEMENT_KEY,
            inference_key=OPENROUTER_INFERENCE_KEY,
            scale=scale,
        )
        """The OpenRouter account's books (ground truth: `openrouter.truth(start, end, now)`)."""
        self._gateway.mount(self.openrouter)
        self.azure = AzureSim(
            seed=seed, history_start=self.history_start, client_secret=AZURE_CLIENT_SECRET, scale=scale
        )
        """The Azure OpenAI resource's metrics and bill (ground truth: `azure.truth(start, end, now)`)."""
        self._gateway.mount(self.azure)
        self._address = (host, port)
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None

    def _layout(self, seed: int, provider: str, projects: int, keys: int, models: list[str]) -> Layout:
        entries = []
        for model in models:
            tiers = frozenset(
                (key.service_tier, key.context_window)
                for key in self._book.sheet
                if key.model == model and key.token_type == _PRICED_BY_INPUT
            )
            geos = frozenset(self._book.geo_factors.get(model, {}))
            entries.append((model, profile(*base_model(model)), tiers, released(model), geos))
        return make_layout(seed, provider, projects, keys, entries)

    # ---- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the loopback port and serve in a background thread."""
        if self._server is not None:
            return
        self._server = SimulatorServer(self._address, self._gateway)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="provider-simulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("provider simulator listening on %s", self.url)

    def stop(self) -> None:
        """Stop serving; connections held by "timeout" faults are released at once."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """http://HOST:PORT of the running server."""
        if self._server is None:
            raise RuntimeError("the simulator is not started: call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/openai/v1"

    @property
    def anthropic_base_url(self) -> str:
        return f"{self.url}/anthropic"

    @property
    def openrouter_base_url(self) -> str:
        """Config `base_url` for type openrouter (like https://openrouter.ai/api/v1)."""
        return f"{self.url}{self.openrouter.prefix}"

    @property
    def azure_login_url(self) -> str:
        """Config `login_url` for type azure_openai (like https://login.microsoftonline.com)."""
        return f"{self.url}{self.azure.prefix}/login"

    @property
    def azure_management_url(self) -> str:
        """Config `management_url` for type azure_openai (like https://management.azure.com)."""
        return f"{self.url}{self.azure.prefix}/arm"

    @property
    def newapi_base_url(self) -> str:
        """The relay console's base (config `base_url` for type newapi: no /v1)."""
        return f"{self.url}{self.newapi.prefix}"

    # ---- scripting ----------------------------------------------------------------------------------

    def inject(self, fault: str, *, path: str = "*", count: int = 1, retry_after: int | None = None) -> None:
        """Apply `fault` to the next `count` requests whose path matches `path` (fnmatch, e.g.
        "*/usage/completions"). Faults: see server.FAULTS and docs/simulator.md."""
        self._gateway.inject(fault, path, count, retry_after)

    def clear_faults(self) -> None:
        self._gateway.clear_faults()

    @property
    def requests_log(self) -> list[RequestRecord]:
        """A copy of every request served so far, credentials redacted."""
        return self._gateway.log()

    def reset_log(self) -> None:
        self._gateway.reset_log()

    @property
    def prices(self) -> Mapping[PriceKey, Decimal]:
        """The simulator's price sheet, USD per 1M tokens (per 1M requests for web search)."""
        return MappingProxyType(self._book.sheet)

    def price_at(
        self,
        model: str,
        token_type: str,
        at: int,
        *,
        service_tier: str = "standard",
        context_window: str | None = None,
        inference_geo: str = "",
    ) -> Decimal | None:
        """The price (USD per 1M) the bill applies at unix second `at`: dated changes and the inference
        geo's multiplier included; None where the sheet has no price."""
        rates = self._book.rates(model, service_tier, _window(model, context_window), at, inference_geo)
        rate = rates[SLOT_OF[token_type]]
        return None if rate is None else Decimal(rate).scaleb(-6)

    def set_price(
        self,
        model: str,
        token_type: str,
        usd_per_1m: Decimal,
        *,
        service_tier: str = "standard",
        context_window: str | None = None,
        effective_from: int | None = None,
    ) -> None:
        """Change a price of the sheet: for all usage, or for buckets starting at/after `effective_from`.

        Bills (and ground-truth costs) follow; the monitor's own table does not, which is how drift is
        produced. `context_window` defaults to "" for OpenAI models and "0-200k" for Anthropic ones.
        """
        key = PriceKey(model, service_tier, _window(model, context_window), token_type)
        self._book.set(key, Decimal(usd_per_1m), effective_from)

    def add_bill_line(self, provider: str, day_start: int, result: Mapping[str, Any]) -> None:
        """Serve `result` (a cost result object as the API writes it, odd ones included) in the bill of
        the UTC day `day_start`, after the day's own lines. It is in no expectation (`billed`): tests
        check what the monitor makes of it."""
        self._usage.extra_lines.setdefault((_checked(provider), day_start), []).append(dict(result))

    # ---- the directories ----------------------------------------------------------------------------

    def rename(self, provider: str, kind: str, ident: str, name: str) -> None:
        """Rename a project (workspace), API key or user: the next directory read shows the new name."""
        self.directories[_checked(provider)].rename(kind, ident, name)

    def archive_project(self, provider: str, project: str) -> None:
        """Archive a project (workspace) now: listed with `include_archived` only."""
        self.directories[_checked(provider)].archive_project(project, int(self.clock()))

    def revoke_key(self, provider: str, key: str) -> None:
        """Revoke an API key: OpenAI drops it from the list, Anthropic lists it as archived."""
        self.directories[_checked(provider)].revoke_key(key)

    # ---- expectations -------------------------------------------------------------------------------

    def project_ids(self, provider: str) -> list[str | None]:
        """The organisation's project ids (OpenAI) or workspace ids (Anthropic; None = default workspace)."""
        return list(self._usage.layouts[_checked(provider)].projects)

    def ground_truth(
        self, provider: str, start: int, end: int, *, endpoint: str | None = None
    ) -> GroundTruth:
        """Exact usage totals of buckets starting in [start, end) as the API reports them now.

        OpenAI covers completions and embeddings (pick one with endpoint="completions"/"embeddings").
        """
        return ground_truth(
            self._usage, _checked(provider), start, end, now=int(self.clock()), endpoint=endpoint
        )

    def claude_code(self, day_start: int) -> list[dict[str, Any]]:
        """The Claude Code report's records of one UTC day, as the API answers them now."""
        return claude_code.day_records(
            self._usage.seed,
            self.directories["anthropic"],
            self._usage.layouts["anthropic"].models,
            day_start,
            int(self.clock()),
        )

    def billed(self, provider: str, start: int, end: int) -> Billed:
        """What the cost endpoint reports for the days starting in [start, end), in picodollars."""
        return billed(self._usage, _checked(provider), start, end, now=int(self.clock()))


def _window(model: str, context_window: str | None) -> str:
    """The sheet's context window of a price: as given, else "0-200k" for Claude and "" for OpenAI."""
    if context_window is not None:
        return context_window
    return SHORT_CONTEXT if model.startswith("claude") else ""


def _checked(provider: str) -> str:
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}, got {provider!r}")
    return provider
