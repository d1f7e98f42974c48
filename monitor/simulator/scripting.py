"""What a test does with a running `Simulator`: script faults, prices, odd bill lines and directory
changes, read the request log, and ask what the APIs report now (the expectations: `ground_truth`,
`billed`, the Claude Code records). A mixin of `Simulator`, which builds the parts it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from monitor.simulator import claude_code
from monitor.simulator.directory import SimDirectory
from monitor.simulator.prices import SHORT_CONTEXT, SLOT_OF, PriceBook, PriceKey
from monitor.simulator.server import Gateway, RequestRecord
from monitor.simulator.truth import Billed, GroundTruth, billed, ground_truth
from monitor.simulator.usage import SimulatedUsage

PROVIDERS = ("openai", "anthropic")


class Scripting:
    """Faults, prices, bill lines, directories and expectations of the simulated OpenAI and Anthropic
    organisations (the channels script their own books: `sim.newapi`, `sim.openrouter`, `sim.azure`)."""

    clock: Callable[[], float]
    directories: dict[str, SimDirectory]
    _gateway: Gateway
    _book: PriceBook
    _usage: SimulatedUsage

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
