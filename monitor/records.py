"""The plain record types every layer shares: what providers fetch, pricing prices and the store keeps.

Value types only: no I/O here. Money is integer picodollars (10**-12 USD) so every list price
(quoted per 1M tokens with up to six decimals) times a token count is an exact integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

TOKEN_TYPES: tuple[str, ...] = (
    "input",
    "cached_input",
    "cache_write",
    "cache_write_1h",
    "output",
    "input_audio",
    "cached_input_audio",
    "output_audio",
    "input_image",
    "cached_input_image",
    "output_image",
)
"""Billable token kinds, in the order of every `tokens` and `costs` tuple. Also the metric label values."""

TOKEN_INDEX: dict[str, int] = {name: i for i, name in enumerate(TOKEN_TYPES)}
ZERO_TOKENS: tuple[int, ...] = (0,) * len(TOKEN_TYPES)

PICO_PER_USD = 10**12
"""Costs are stored and summed as integer picodollars."""

SERVICE_TIERS: tuple[str, ...] = ("standard", "batch", "flex", "priority", "fast", "ultrafast")
"""The pricing tiers. Providers' own words ("default", "auto", "scale") are normalised by pricing.

`fast` is OpenAI's Fast processing (called Priority until 2026-07-30) and Anthropic's fast mode
(`speed: fast`); `ultrafast` is OpenAI's Ultrafast; `priority` is Anthropic's Priority Tier and
Google's priority inference (see monitor/pricing/tiers.py)."""


def usd_to_pico(amount: Decimal | int | str) -> int:
    """Exact conversion of a dollar amount to picodollars; raises ValueError if it is not exact."""
    value = Decimal(amount) * PICO_PER_USD
    if value != value.to_integral_value():
        raise ValueError(f"{amount} USD is not a whole number of picodollars")
    return int(value)


def pico_to_usd(pico: int) -> Decimal:
    """Exact conversion of picodollars to a Decimal dollar amount."""
    return Decimal(pico).scaleb(-12)


def usd_exact(pico: int) -> str:
    """Exact dollars as a plain decimal string ("412.5", "0.000123"): for payload fields and tools."""
    return format(pico_to_usd(pico).normalize(), "f")


def usd_text(pico: int) -> str:
    """Dollars for people: rounded half-even to cents, with thousands separators ("$1,234.56", "-$0.50")."""
    cents = pico_to_usd(abs(pico)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{'-' if pico < 0 and cents else ''}${cents:,}"


def tokens_text(count: int) -> str:
    """A token count for people, to three significant figures or so: 950, "12.4K", "12.4M", "3B"."""
    for scale, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(count) >= scale:
            shown = (Decimal(count) / scale).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
            return f"{shown.normalize():f}{suffix}" if shown % 1 else f"{shown:.0f}{suffix}"
    return str(count)


def tokens_of(**counts: int) -> tuple[int, ...]:
    """Build a `tokens` tuple from keyword counts: tokens_of(input=100, output=20)."""
    values = [0] * len(TOKEN_TYPES)
    for name, count in counts.items():
        values[TOKEN_INDEX[name]] = count
    return tuple(values)


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One provider result row, normalised: a natural key and what was used in the bucket.

    The natural key is (account, endpoint, bucket_start, bucket_width, project, api_key, user,
    model, service_tier, batch, context_window, inference_geo). Unknown dimensions are "" (never None).
    `inference_geo` is where the provider ran the request (Anthropic: "global", "us", "not_available"),
    which some prices depend on. `units` carries non-token billable quantities, e.g.
    (("web_search_requests", 10),) or (("images", 4),), sorted by name.
    """

    provider: str
    account: str
    endpoint: str
    bucket_start: int
    bucket_width: int
    project: str = ""
    api_key: str = ""
    user: str = ""
    model: str = ""
    service_tier: str = ""
    batch: bool = False
    context_window: str = ""
    tokens: tuple[int, ...] = ZERO_TOKENS
    requests: int = 0
    units: tuple[tuple[str, int], ...] = ()
    inference_geo: str = ""

    @property
    def key(self) -> tuple[str, str, int, int, str, str, str, str, str, bool, str, str]:
        return (
            self.account,
            self.endpoint,
            self.bucket_start,
            self.bucket_width,
            self.project,
            self.api_key,
            self.user,
            self.model,
            self.service_tier,
            self.batch,
            self.context_window,
            self.inference_geo,
        )


@dataclass(frozen=True, slots=True)
class PricedRow:
    """A UsageRow with its exact cost.

    `costs` is picodollars per TOKEN_TYPES (discount applied); `unit_cost` the picodollars of the
    non-token `units`. `price_id` names the price entry used and `price_source` the source it came
    from ("bundled", "files", "genai-prices"; see pricing/sources.py); None / "" means no entry matched
    (unknown model, or no price for its tier on that date) and its cost is unknown, never zero. A row
    whose entry lacks a price for some token kind keeps its `price_id`, is priced for the rest, and
    `unpriced_tokens` counts what was left unpriced; `unpriced_units` lists the `units` that had no
    price (name, count), e.g. (("web_search_requests", 10),).
    """

    usage: UsageRow
    costs: tuple[int, ...]
    unit_cost: int
    price_id: str | None
    unpriced_tokens: int = 0
    unpriced_units: tuple[tuple[str, int], ...] = ()
    price_source: str = ""

    @property
    def total(self) -> int:
        return sum(self.costs) + self.unit_cost


@dataclass(frozen=True, slots=True)
class UsagePage:
    """One fetched page of buckets for one (account, endpoint).

    `buckets` lists every bucket start the page covers, including empty ones, so the store can
    replace a bucket's rows wholesale. `observed_at` (unix ms) orders observations: a newer
    observation of a bucket replaces an older one, an older one never overwrites a newer one.
    `closed_until` (unix s) is the end of the newest bucket that had closed when it was fetched:
    the cursor candidate written with the page.
    """

    provider: str
    account: str
    endpoint: str
    bucket_width: int
    buckets: tuple[int, ...]
    rows: tuple[UsageRow, ...]
    observed_at: int
    closed_until: int


@dataclass(frozen=True, slots=True)
class BilledCost:
    """A provider-reported cost line for one day (OpenAI costs, Anthropic cost report).

    `model`, `token_type` (a TOKEN_TYPES name where it is one), `service_tier` and `context_window`
    say what the line is for where the provider tells. `quantity` is what the line counts in
    `quantity_unit` (OpenAI's line items since 2026-08-21: "tokens", "1000_tokens", ...; None when
    not given). `amount_pico` is in 10**-12 of `currency`: "USD" for every line the ledger sums; a
    line in another currency is kept apart and reported, never added to dollars.
    """

    provider: str
    account: str
    day_start: int
    project: str
    line_item: str
    amount_pico: int
    model: str = ""
    token_type: str = ""
    service_tier: str = ""
    context_window: str = ""
    api_key: str = ""
    """The API key id the line is for, where the provider splits bills by key (OpenAI); "" otherwise."""
    quantity: Decimal | None = None
    quantity_unit: str = ""
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class Balance:
    """A prepaid balance a channel reports (relay quota, OpenRouter credits or a key's spending limit).

    `key` is "" for the account's own balance, else the name of a key with a limit of its own.
    `balance_pico` is what is left; `limit_pico` the credit granted in all (None when the channel
    states none). `observed_at` is unix seconds.
    """

    provider: str
    account: str
    key: str
    balance_pico: int
    limit_pico: int | None
    observed_at: int
