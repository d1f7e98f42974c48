"""`Simulator`: OpenAI's and Anthropic's organization usage and cost APIs on loopback HTTP.

A stand-in for the real providers in `spend-monitor demo`, integration tests, benchmarks and chaos
tests: deterministic usage from a seed, scripted faults, and exact expectations (`ground_truth`,
`billed`) to check a client against. See docs/simulator.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType

from monitor.simulator.azure_api import AzureSim
from monitor.simulator.directory import SimDirectory
from monitor.simulator.generate import DAY, HOUR
from monitor.simulator.layout import Layout, make_layout, profile
from monitor.simulator.newapi_api import NewApiSim
from monitor.simulator.openrouter_api import OpenRouterSim
from monitor.simulator.prices import PriceBook, base_model
from monitor.simulator.scripting import Scripting
from monitor.simulator.server import Gateway, SimulatorServer
from monitor.simulator.sheet import dated_changes, geo_factors, published_sheet, released
from monitor.simulator.traffic_models import DEFAULT_ANTHROPIC_MODELS, DEFAULT_OPENAI_MODELS, EMBEDDING_MODEL
from monitor.simulator.usage import SimulatedUsage

logger = logging.getLogger(__name__)

NEWAPI_ACCESS_TOKEN = "simRelayAccessToken0123456789abc"  # noqa: S105 - made up, the simulator's own
"""The relay user's system access token (32 characters, like new-api's)."""
NEWAPI_USER_ID = 42
OPENROUTER_MANAGEMENT_KEY = "sk-or-v1-mgmt-sim0123456789abcdef0123456789abcdef"
"""OpenRouter management key the simulated account accepts (an inference key gets 403)."""
OPENROUTER_INFERENCE_KEY = "sk-or-v1-sim-inference0123456789abcdef0123456789"
AZURE_CLIENT_SECRET = "simAzure~ClientSecret.0123456789abcdefGHIJ"  # noqa: S105 - made up, the simulator's own
"""The service principal's client secret (tenant, client, subscription: monitor.simulator.azure_api)."""
HISTORY_DAYS = 30
_PRICED_BY_INPUT = "input"  # a (tier, context window) exists for a model when it has an input price


class Simulator(Scripting):
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
