"""Deterministic usage: the full truth of each hour, for the organisation of layout.py.

Every hour's cells come from a `random.Random` seeded with (seed, endpoint, hour start) only, so the
same hour is the same on every run, in any order of requests, on any machine. A cell is one row at the
finest grain the API can report: (dims, counts), counts being the TOKEN_TYPES counts, then model
requests, then web search requests (see prices.SLOTS).
"""

from __future__ import annotations

import random
from typing import Any

from monitor.records import TOKEN_INDEX
from monitor.simulator.layout import Layout, Profile, unit
from monitor.simulator.prices import (
    LONG_CONTEXT,
    OPENAI_LONG,
    REQUESTS_SLOT,
    SHORT_CONTEXT,
    SLOTS,
    WEB_SEARCH_SLOT,
)

Counts = tuple[int, ...]
Cell = tuple[tuple[Any, ...], Counts]
"""OpenAI dims: (project_id, user_id, api_key_id, model, batch, service_tier, window), `window` being ""
or ">272k" for prompts above 272K tokens (billed apart, never reported: usage rows have no such field);
Anthropic dims: (workspace_id | None, api_key_id | None, model, service_tier, context_window,
inference_geo, speed)."""

ENDPOINTS: dict[str, tuple[str, ...]] = {
    "openai": ("openai:completions", "openai:embeddings"),
    "anthropic": ("anthropic:messages",),
}
"""The endpoints whose cells are generated, per provider (the others report no usage)."""

HOUR = 3600
DAY = 86400
BASE_REQUESTS = 240.0
"""Model requests in a peak hour of a (project, model) pair of weight 1, at scale 1."""

# Share of the daily peak per UTC hour: quiet nights, busy working hours.
_DAY_CURVE = (
    0.05, 0.04, 0.03, 0.03, 0.04, 0.07, 0.14, 0.3, 0.55, 0.8, 0.92, 1.0,
    0.95, 0.97, 1.0, 0.98, 0.9, 0.75, 0.55, 0.38, 0.25, 0.16, 0.1, 0.07,
)  # fmt: skip
_WEEKEND = 0.3


def intensity(hour: int) -> float:
    """Traffic level of an hour: the daily curve (UTC), lower at weekends. 1970-01-01 was a Thursday."""
    weekend = (hour // DAY + 3) % 7 >= 5
    return _DAY_CURVE[hour // HOUR % 24] * (_WEEKEND if weekend else 1.0)


def _activity(level: float, weight: float) -> float:
    """Chance that a (project, model) pair sends anything in an hour: higher by day and for big projects."""
    return min(0.98, 0.35 + 0.6 * level + 0.25 * min(weight, 1.0))


def idle(seed: int, provider: str, hour: int) -> bool:
    """Some quiet night hours in which the whole organisation sends nothing (about 2-3 a day)."""
    return intensity(hour) < 0.06 and unit(seed, provider, "idle", hour) < 0.35


def _u(bits: int, shift: int) -> float:
    return ((bits >> shift) & 0xFFFF) / 65536.0


def _vector(**named: int) -> Counts:
    values = [0] * SLOTS
    for name, count in named.items():
        values[TOKEN_INDEX[name]] = count
    return tuple(values)


_I_IN, _I_CACHED, _I_CW, _I_OUT = (TOKEN_INDEX[n] for n in ("input", "cached_input", "cache_write", "output"))
_I_IMG, _I_CIMG = TOKEN_INDEX["input_image"], TOKEN_INDEX["cached_input_image"]


def _chat(prof: Profile, expected: float, bits: int, tier: str, extra: bool, *, long: bool = False) -> Counts:
    """One OpenAI completions cell. Batch rows carry no cached or cache-write tokens, except for models
    whose traffic writes to the cache. A `long` cell holds prompts of 300K-600K tokens."""
    requests = max(1, int(expected * (0.5 + _u(bits, 0))))
    prompt = 300_000 + 300_000 * _u(bits, 16) if long else prof.prompt * (0.6 + 0.8 * _u(bits, 16))
    total_in = int(requests * prompt)
    out = int(requests * prof.completion * (0.6 + 0.8 * _u(bits, 32)))
    values = [0] * SLOTS
    values[REQUESTS_SLOT] = requests
    values[_I_OUT] = out
    if tier == "batch" and not prof.cache_writes:
        values[_I_IN] = total_in
        return tuple(values)
    cached = int(total_in * 0.6 * _u(bits, 48))
    write = total_in * 3 // 100 if extra or prof.cache_writes else 0
    uncached = total_in - cached - write
    image, cached_image = (uncached * 8 // 100, cached * 3 // 100) if extra and prof.vision else (0, 0)
    values[_I_IN], values[_I_IMG] = uncached - image, image
    values[_I_CACHED], values[_I_CIMG] = cached - cached_image, cached_image
    values[_I_CW] = write
    return tuple(values)


def openai_completions(
    layout: Layout, seed: int, hour: int, scale: float, extra: bool, *, long_prompts: bool = False
) -> list[Cell]:
    """One hour of completions: a default-tier row per active (project, model), sometimes a batch row
    and a fast row as well (each from one of the project's keys). With `long_prompts`, models priced
    above 272K prompt tokens sometimes also have a cell of long prompts, which usage rows cannot tell
    apart (it has the same reported dims as a default-tier cell) but the bill prices apart."""
    rng = random.Random(f"{seed}|openai:completions|{hour}")
    level = intensity(hour)
    cells: list[Cell] = []
    if idle(seed, "openai", hour):
        return cells
    fast_word = "fast" if hour >= FAST_RENAMED else "priority"  # OpenAI's Priority is Fast since 2026-07-30
    for p, project in enumerate(layout.projects):
        keys = layout.keys[p]
        for m, model in enumerate(layout.models):
            weight = layout.weights[p][m]
            if not weight or hour < layout.released[m]:
                continue
            bits = rng.getrandbits(64)
            if _u(bits, 0) >= _activity(level, weight):
                continue
            expected = BASE_REQUESTS * scale * weight * level
            prof, tiers = layout.profiles[m], layout.tiers[m]
            more = rng.getrandbits(64)
            for tier, chance, shift in (("standard", 1.0, 0), ("batch", 0.12, 16), ("fast", 0.08, 32)):
                if (tier, "") not in tiers or _u(more, shift) >= chance:
                    continue
                key = keys[rng.randrange(len(keys))]
                word = fast_word if tier == "fast" else "default"
                dims = (project, layout.user_of[key], key, model, tier == "batch", word, "")
                share = 1.0 if tier == "standard" else 0.3
                cells.append((dims, _chat(prof, expected * share, rng.getrandbits(64), tier, extra)))
            if long_prompts and ("standard", OPENAI_LONG) in tiers and _u(more, 48) < 0.1:
                key = keys[rng.randrange(len(keys))]
                dims = (project, layout.user_of[key], key, model, False, "default", OPENAI_LONG)
                cells.append((dims, _chat(prof, 2.0, rng.getrandbits(64), "standard", extra, long=True)))
    return cells


FAST_RENAMED = 1_785_369_600  # 2026-07-30T00:00:00Z
"""OpenAI renamed Priority processing to Fast on 2026-07-30: rows before say service_tier "priority"."""


def openai_embeddings(layout: Layout, seed: int, hour: int, scale: float, model: str) -> list[Cell]:
    """One hour of embeddings: one row per active project, from one of its keys."""
    rng = random.Random(f"{seed}|openai:embeddings|{hour}")
    level = intensity(hour)
    cells: list[Cell] = []
    if idle(seed, "openai", hour):
        return cells
    for p, project in enumerate(layout.projects):
        bits = rng.getrandbits(64)
        weight = layout.project_weights[p]
        if _u(bits, 0) >= _activity(level, weight) - 0.1:
            continue
        requests = max(1, int(BASE_REQUESTS * 0.5 * scale * weight * level * (0.5 + _u(bits, 16))))
        key = layout.keys[p][(bits >> 48) % len(layout.keys[p])]
        counts = _vector(input=int(requests * 350 * (0.6 + 0.8 * _u(bits, 32))))
        counts = (*counts[:REQUESTS_SLOT], requests, 0)
        cells.append(((project, layout.user_of[key], key, model, False, "default", ""), counts))
    return cells


def _claude(prof: Profile, requests: int, rng: random.Random, tier: str, window: str) -> Counts:
    """One Anthropic messages cell (the legacy report has no request count, so none is kept)."""
    if window == LONG_CONTEXT:
        prompt = requests * (210_000 + 390_000 * rng.random())
    else:
        prompt = requests * prof.prompt * (0.6 + 0.8 * rng.random())
    read_share = 0.3 + 0.5 * rng.random()
    uncached = int(prompt * (1 - read_share))
    named = {
        "input": uncached,
        "cached_input": int(prompt * read_share),
        "output": int(requests * prof.completion * (0.6 + 0.8 * rng.random())),
    }
    if tier in ("standard", "fast"):
        named["cache_write"] = int(uncached * (0.1 + 0.2 * rng.random()))
        if rng.random() < 0.3:
            named["cache_write_1h"] = uncached * 5 // 100
    values = list(_vector(**named))
    if tier in ("standard", "fast") and prof.web_search and rng.random() < 0.3:
        values[WEB_SEARCH_SLOT] = max(1, requests * 4 // 100)
    return tuple(values)


_CLAUDE_VARIANTS = (  # (tier, context window, inference geo, chance, bits shift)
    ("standard", SHORT_CONTEXT, "global", 1.0, 0),
    ("batch", SHORT_CONTEXT, "global", 0.12, 16),
    ("standard", LONG_CONTEXT, "global", 0.15, 32),
    ("fast", SHORT_CONTEXT, "global", 0.1, 48),
    ("standard", SHORT_CONTEXT, "us", 0.15, 0),
)
"""The rows a (workspace, model) may have in an hour; the geo one draws from a second random number."""


def anthropic_messages(layout: Layout, seed: int, hour: int, scale: float) -> list[Cell]:
    """One hour of messages: a standard row per active (workspace, model), sometimes a batch row, for
    models priced above 200k tokens sometimes a 200k-1M row, for models with fast mode sometimes a fast
    row (speed "fast"), and for models priced per inference geo sometimes a row run in the US. One in
    ten rows is Workbench (key null)."""
    rng = random.Random(f"{seed}|anthropic:messages|{hour}")
    level = intensity(hour)
    cells: list[Cell] = []
    if idle(seed, "anthropic", hour):
        return cells
    for p, workspace in enumerate(layout.projects):
        keys = layout.keys[p]
        for m, model in enumerate(layout.models):
            weight = layout.weights[p][m]
            if not weight or hour < layout.released[m]:
                continue
            bits = rng.getrandbits(64)
            if _u(bits, 0) >= _activity(level, weight):
                continue
            expected = BASE_REQUESTS * 0.6 * scale * weight * level
            prof, tiers, geos = layout.profiles[m], layout.tiers[m], layout.geos[m]
            more = rng.getrandbits(64)
            extra = rng.getrandbits(64) if geos else 0
            for tier, window, geo, chance, shift in _CLAUDE_VARIANTS:
                draw = _u(extra if geo != "global" else more, shift)
                if (tier, window) not in tiers or (geo != "global" and geo not in geos) or draw >= chance:
                    continue
                pick = rng.getrandbits(64)
                # One row in ten is Workbench / Console usage, which has no API key.
                key = None if _u(pick, 0) < 0.1 else keys[(pick >> 48) % len(keys)]
                if window == LONG_CONTEXT:
                    requests = 1 + (pick >> 16) % 6
                else:
                    share = 1.0 if tier == "standard" else 0.3
                    requests = max(1, int(expected * share * (0.5 + _u(pick, 32))))
                counts = _claude(prof, requests, rng, tier, window)
                reported, speed = ("standard", "fast") if tier == "fast" else (tier, "standard")
                cells.append(((workspace, key, model, reported, window, geo, speed), counts))
    return cells
