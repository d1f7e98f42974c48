"""The bundled price table against its cross-check sources (tests/data/price-sources.yaml: the figures
genai-prices 0.2.3 and LiteLLM 1.110.2 give for the table's models), and the sources' 2026 models it leaves
out.

Every source figure must equal the table's price for the same model, date, tier, context and token type at
1M tokens, unless the pair is a listed departure: there the provider's own page said otherwise (or the
sources are stale), and the reason is written here and in the block's note. Every departure must be used.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.pricing import PriceTable
from monitor.records import TOKEN_INDEX, pico_to_usd

SOURCES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parent / "data" / "price-sources.yaml").read_text(encoding="utf-8")
)
TABLE = PriceTable.bundled()
LITELLM_AS_OF = SOURCES["sources"]["litellm"]["as_of"]
MILLION = 1_000_000


def at(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Departure:
    """A source figure the table knowingly does not follow.

    `model` globs 'provider/model' ('|' between several); `where` is "SOURCE TIER CONTEXT TOKEN", each a glob,
    CONTEXT "base" for the short-context price; `since`/`until` (exclusive) bound the figure's day.
    """

    model: str
    where: str
    reason: str
    since: date = date.min
    until: date = date.max

    def covers(self, f: Figure) -> bool:
        source, tier, context, token = self.where.split()
        return (
            matches(f.model, self.model)
            and fnmatch.fnmatchcase(f.source, source)
            and fnmatch.fnmatchcase(f.tier, tier)
            and fnmatch.fnmatchcase(f.context or "base", context)
            and fnmatch.fnmatchcase(f.token, token)
            and self.since <= f.day < self.until
        )


def matches(name: str, globs: str) -> bool:
    return any(fnmatch.fnmatchcase(name, glob) for glob in globs.split("|"))


OLD_OPENAI = (
    "openai/gpt-4.1*|openai/gpt-4o|openai/gpt-4o-mini|openai/o1|openai/o3|openai/o3-mini|openai/o4-mini"
)
DEPARTURES = [
    Departure("openai/*", "genai-prices units base web_search_requests",
              "OpenAI bills web search per call by tool version and search context; its web_search_calls "
              "usage rows carry neither, so they stay unpriced units (docs/pricing.md)"),
    Departure("google/*", "genai-prices units base web_search_requests",
              "Google bills grounding per query after a free allowance; not a list price per call"),
    Departure(OLD_OPENAI, "genai-prices batch base cached_input",
              "OpenAI's Batch table publishes no cached-input price for this model; genai-prices charges the "
              "standard cached price, the table leaves it out"),
    Departure("openai/ft:gpt-4o", "litellm batch base *",
              "LiteLLM's Batch 2.225/0.90/12.50 for gpt-4o fine-tunes is not OpenAI's documented 50% and "
              "genai-prices declines it as unconfirmed; the table publishes no Batch price for them"),
    Departure("openai/gpt-4o", "genai-prices standard base *",
              "gpt-4o launched at 5/15 (the 2024-05-13 snapshot); genai-prices prices every date at the "
              "2024-08-06 snapshot's 2.50/10", until=date(2024, 8, 6)),
    Departure("openai/o3", "genai-prices standard base cached_input",
              "no primary source for a cached price at o3's launch price; genai-prices lists 0.50",
              until=date(2025, 6, 10)),
    Departure("openai/o4-mini", "* flex base cached_input",
              "0.1375 is exactly half of the 0.275 standard price (LiteLLM 1.80.0); 0.138 is rounded"),
    Departure("openai/gpt-5.[45]", "* fast >272k *",
              "Fast mode excludes long context on GPT-5.4 and GPT-5.5 (openai.com/api-fast-mode); the sources"
              " charge their flat Fast price above 272K"),
    Departure("openai/gpt-5.5-pro", "genai-prices batch >272k *",
              "genai-prices charges its flat Batch price above 272K; the table follows LiteLLM's 30/135 (50% "
              "of the long-context Standard price)"),
    Departure("openai/gpt-5.5-pro", "* flex >272k *",
              "OpenAI's Flex table publishes only base prices; no source gives a long-context Flex price"),
    Departure("openai/gpt-5.6-cyber", "litellm standard >272k *",
              "OpenAI publishes no long-context price for gpt-5.6-cyber, whose input limit is 272K tokens"),
    Departure("openai/gpt-5.6-sol", "genai-prices * * *",
              "OpenAI's promotional price ended 2026-11-30 (docs.laozhang.ai); genai-prices 0.2.3 still has "
              "it",
              since=date(2026, 12, 1)),
    Departure("anthropic/claude-opus-4-8", "genai-prices fast base *",
              "Anthropic removed fast mode from Opus 4.8 on 2026-11-30", since=date(2026, 11, 30)),
    Departure("anthropic/claude-sonnet-5-5", "genai-prices standard base cached_input",
              "cache reads cost $0.20 until Anthropic's cut of 2026-10-07; genai-prices has $0.10 for all "
              "dates",
              until=date(2026, 10, 7)),
    Departure("google/gemini-2.5-pro", "litellm flex >200k *",
              "no Flex price above 200K in the reference sheet or genai-prices; unpriced as in the seeds"),
    Departure("google/gemini-3.5-flash-lite", "litellm batch base cached_input",
              "Google's Batch context caching is $0.02, not half of $0.03 (genai-prices quoting the page)"),
    Departure("google/gemini-3.6-flash", "genai-prices standard base *",
              "3.6 Flash launched 2026-07-21 at 1.50/7.50; the introductory half price began 2026-09-02, "
              "genai-prices applies it from launch", until=date(2026, 9, 2)),
    Departure("google/gemini-3.7-flash", "genai-prices standard base *",
              "3.7 Flash was retired 2026-10-08 (requests go to 3.8 Flash): the table has no 2027 price for "
              "it",
              since=date(2027, 1, 1)),
]  # fmt: skip
NO_CROSS_CHECK = {
    "openai/gpt-6.2-sol": "released 2026-11-17, after both sources' data",
    "openai/gpt-6.2-astra": "released 2026-11-17, after both sources' data",
    "openai/code-interpreter": "a per-session unit price; neither source has a token price for it",
    "google/gemini-4-neon": "released 2026-11-18, after both sources' data",
    "google/gemini-4-carbon": "released 2026-11-10; in neither source",
}


@dataclass(frozen=True)
class Figure:
    model: str
    source: str
    day: date
    tier: str
    context: str
    token: str
    usd: Decimal

    def table_price(self) -> Decimal | None:
        """What the table charges on the figure's day for 1M tokens (USD per 1M), or for one unit."""
        provider, model = self.model.split("/", 1)
        tier = "standard" if self.tier == "units" else self.tier
        entry = TABLE.price_for(provider, model, tier, self.context, at(self.day))
        if entry is None:
            return None
        if self.tier == "units":
            return entry.usd_per_unit(self.token)
        rate = entry.rates[TOKEN_INDEX[self.token]]
        return None if rate is None else pico_to_usd(MILLION * rate)


def figures(model: str, source: str, day: date, prices: dict[str, Any]) -> list[Figure]:
    found = []
    for key, rates in prices.items():
        if key in ("dates", "key"):
            continue
        tier, _, context = key.partition(" ")
        for token, usd in rates.items():
            found.append(Figure(model, source, day, tier, context, token, Decimal(str(usd))))
    return found


@cache
def all_figures() -> tuple[Figure, ...]:
    found: list[Figure] = []
    for model, record in SOURCES["models"].items():
        for group in record.get("genai-prices", {}).get("at", []):
            for day in group["dates"]:
                found += figures(model, "genai-prices", day, group)
        if "litellm" in record:
            found += figures(model, "litellm", LITELLM_AS_OF, record["litellm"])
    return tuple(found)


def table_models() -> list[str]:
    return sorted({f"{e.provider}/{e.model}" for e in TABLE.entries_in_force(at(date(2027, 1, 1)))})


def mismatches(model: str) -> list[tuple[Figure, Decimal | None]]:
    return [(f, got) for f in all_figures() if f.model == model and (got := f.table_price()) != f.usd]


@pytest.mark.parametrize("model", sorted(SOURCES["models"]))
def test_table_matches_each_source_figure_or_a_listed_departure(model: str) -> None:
    unexplained = [
        f"{f.source} {f.day} {f.tier} {f.context or 'base'} {f.token}: source {f.usd}, table {got}"
        for f, got in mismatches(model)
        if not any(d.covers(f) for d in DEPARTURES)
    ]
    assert not unexplained, "\n".join([model, *unexplained])


@pytest.mark.parametrize("departure", DEPARTURES, ids=lambda d: f"{d.model}:{d.where.replace(' ', ':')}")
def test_every_listed_departure_is_used(departure: Departure) -> None:
    used = [f for model in SOURCES["models"] for f, _ in mismatches(model) if departure.covers(f)]
    assert used, f"no source figure differs from the table where this departure applies: {departure.reason}"


def test_every_table_model_is_cross_checked_or_says_why_not() -> None:
    unchecked = {m for m in table_models() if m not in SOURCES["models"]}
    assert unchecked == set(NO_CROSS_CHECK)


def test_source_figures_cover_the_tiers_of_todays_models() -> None:
    """The check is not vacuous: today's flagships are compared tier by tier, long context included."""
    checked = {(f.model, f.tier, f.context) for f in all_figures() if f.table_price() == f.usd}
    for wanted in [
        ("openai/gpt-6.1-sol", "fast", ">272k"),
        ("openai/gpt-6.1-sol", "ultrafast", ""),
        ("openai/gpt-6-luna", "flex", ""),
        ("anthropic/claude-opus-5-5", "fast", ""),
        ("anthropic/claude-haiku-5-5", "batch", ">100k"),
        ("google/gemini-3.1-pro-preview", "priority", ">200k"),
    ]:
        assert wanted in checked


# Models a source dates in 2026 that the table leaves out, by glob over 'provider/name', with why.
LEFT_OUT = {
    "google/claude-*": "Claude on Vertex AI (genai-prices' google provider); priced under provider anthropic",
    "*/*image*": "image generation, priced per image or image token size; not a text model",
    "*/*-tts*": "text-to-speech, priced per audio output; not a text model",
    "google/gemini/gemini-*tts*": "text-to-speech, priced per audio output; not a text model",
    "google/*live*": "Live API (realtime audio), priced per audio token or minute; not a text model",
    "google/*native-audio*": "Live API native audio; not a text model",
    "google/gemini-nano-banana-*": "image generation (Nano Banana); not a text model",
    "google/gemini/gemini-omni-*": "video generation (video output tokens have no token type)",
    "google/gemini/veo-*": "video generation, priced per second; not a text model",
    "*/sora-*|openai/openai/sora-*": "video generation, priced per second; shut down 2026-09-24",
    "google/gemini/deep-research-*": "Deep Research agents, billed as the model usage they run",
    "google/gemini/gemini-2.5-computer-use-*": "computer-use preview, shut down 2026-07-28",
    "google/gemini/gemini-3.1-flash-lite-preview": "preview shut down 2026-05-25; its GA model is here",
    "openai/computer-use-preview*": "computer-use preview, shut down 2026-07-23",
    "openai/*search-preview*": "search preview models (per-call search fees), shut down 2026-07-23",
    "openai/*deep-research*": "deep-research models, shut down 2026-07-23",
    "openai/gpt-audio*": "audio model (audio tokens in and out); not a text model",
    "openai/gpt-3.5-*|openai/gpt-4|openai/gpt-4-*|openai/*babbage-002|openai/*davinci-002|openai/ft:gpt-3.5-*"
    "|openai/ft:gpt-4-0613": "legacy generation and its fine-tunes, shut down 2026-09-28/10-23",
    "openai/ft:o4-mini-*": "o4-mini fine-tunes, shut down 2026-10-23; no primary price read",
    "openai/gpt-4o-mini-2024-07-18.ft-": "Azure-style fine-tune name; ft:gpt-4o-mini is in the table",
    "openai/gpt-5.1-codex-mini": "Codex variant shut down 2026-07-23; Standard price only, none of its tiers",
    "openai/gpt-5.3-chat-latest": "chat variant shut down 2026-08-10; Standard price only",
    "anthropic/claude-mythos-preview": "research preview retired 2026-06-09",
}


def dated_2026() -> list[str]:
    return sorted({name for names in SOURCES["dated_2026"].values() for name in names})


def left_out_reason(name: str) -> str | None:
    return next((reason for globs, reason in LEFT_OUT.items() if matches(name, globs)), None)


@pytest.mark.parametrize("name", dated_2026())
def test_every_2026_model_of_the_sources_is_in_the_table_or_left_out_with_a_reason(name: str) -> None:
    provider, model = name.split("/", 1)
    assert TABLE.resolve(provider, model) is not None or left_out_reason(name) is not None, name


@pytest.mark.parametrize("globs", sorted(LEFT_OUT))
def test_every_left_out_entry_names_a_source_model_the_table_lacks(globs: str) -> None:
    assert any(matches(n, globs) and TABLE.resolve(*n.split("/", 1)) is None for n in dated_2026()), globs
