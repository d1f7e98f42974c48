"""What each of OpenAI's ten organization usage endpoints measures: the `group_by` values that
identify a price, and each result row read as tokens, model requests and units.

Completions rows come in two shapes (provider-apis.md §0.1, §1.5): the current one, recognised by
`input_uncached_tokens` / `input_cache_write_tokens`, splits input by modality and cache state; the
legacy one (before 2026-07-15) counts cached text inside `input_tokens`. Both map onto TOKEN_TYPES
without double counting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor.providers.payload import Fields
from monitor.records import tokens_of

CURRENT_ONLY_FIELDS = (
    "input_uncached_tokens",
    "input_cache_write_tokens",
    "input_text_tokens",
    "output_text_tokens",
    "input_cached_text_tokens",
    "input_cached_audio_tokens",
    "input_image_tokens",
    "input_cached_image_tokens",
    "output_image_tokens",
)
"""Completions fields added on 2026-07-15: any of them (non-null) marks a row as the current shape."""

_Measured = tuple[tuple[int, ...], int, tuple[tuple[str, int], ...]]
"""What a result row measured: (tokens in TOKEN_TYPES order, model requests, units)."""


def _completions(f: Fields, r: dict[str, Any], where: str) -> _Measured:
    """Token kinds of a completions row, from the current shape or the legacy one."""
    total_in = f.count(r, "input_tokens", where, required=True)
    total_out = f.count(r, "output_tokens", where, required=True)
    requests = f.count(r, "num_model_requests", where, required=True)
    if any(f.maybe_count(r, key, where) is not None for key in CURRENT_ONLY_FIELDS):
        return _current_tokens(f, r, where, total_in, total_out), requests, ()
    # Legacy: input_tokens is text incl. cached; input_audio_tokens includes cached audio (no split).
    cached = f.count(r, "input_cached_tokens", where)
    return (
        tokens_of(
            input=f.derived(total_in - cached, where, "input_tokens - input_cached_tokens"),
            cached_input=cached,
            input_audio=f.count(r, "input_audio_tokens", where),
            output=total_out,
            output_audio=f.count(r, "output_audio_tokens", where),
        ),
        requests,
        (),
    )


def _current_tokens(
    f: Fields, r: dict[str, Any], where: str, total_in: int, total_out: int
) -> tuple[int, ...]:
    """The 2026-07 shape: per-modality fields where given, else derived from the totals (never negative)."""

    def count(key: str) -> int:
        return f.count(r, key, where)

    def given_or(key: str, formula: str, derive: Callable[[], int]) -> int:
        value = f.maybe_count(r, key, where)
        return value if value is not None else f.derived(derive(), where, formula)

    audio_in, image_in = count("input_audio_tokens"), count("input_image_tokens")
    cached_audio, cached_image = count("input_cached_audio_tokens"), count("input_cached_image_tokens")
    audio_out, image_out = count("output_audio_tokens"), count("output_image_tokens")
    cache_write = count("input_cache_write_tokens")

    def uncached() -> int:
        formula = "input_tokens - input_cached_tokens - input_cache_write_tokens"
        return given_or(
            "input_uncached_tokens", formula, lambda: total_in - count("input_cached_tokens") - cache_write
        )

    return tokens_of(
        input=given_or(
            "input_text_tokens",
            "input_uncached_tokens - input_audio_tokens - input_image_tokens",
            lambda: uncached() - audio_in - image_in,
        ),
        cached_input=given_or(
            "input_cached_text_tokens",
            "input_cached_tokens - input_cached_audio_tokens - input_cached_image_tokens",
            lambda: count("input_cached_tokens") - cached_audio - cached_image,
        ),
        cache_write=cache_write,
        output=given_or(
            "output_text_tokens",
            "output_tokens - output_audio_tokens - output_image_tokens",
            lambda: total_out - audio_out - image_out,
        ),
        input_audio=audio_in,
        cached_input_audio=cached_audio,
        output_audio=audio_out,
        input_image=image_in,
        cached_input_image=cached_image,
        output_image=image_out,
    )


def _input_tokens(f: Fields, r: dict[str, Any], where: str) -> _Measured:
    """Embeddings and moderations: input tokens only."""
    tokens = tokens_of(input=f.count(r, "input_tokens", where, required=True))
    return tokens, f.count(r, "num_model_requests", where, required=True), ()


def _units(field: str, unit: str, model_requests: bool) -> Callable[[Fields, dict[str, Any], str], _Measured]:
    """A parser for endpoints that bill a non-token quantity: `field` becomes the unit `unit`;
    `model_requests` says whether the result also has a (required) `num_model_requests`."""

    def parse(f: Fields, r: dict[str, Any], where: str) -> _Measured:
        amount = f.count(r, field, where, required=True)
        requests = f.count(r, "num_model_requests", where, required=True) if model_requests else 0
        return tokens_of(), requests, ((unit, amount),) if amount else ()

    return parse


@dataclass(frozen=True)
class Endpoint:
    result: str  # the result object is "organization.usage.<result>.result"
    group_by: tuple[str, ...]
    parse: Callable[[Fields, dict[str, Any], str], _Measured]


_KEYS = ("project_id", "user_id", "api_key_id")
_MODEL_KEYS = ("model", *_KEYS)
ENDPOINTS: dict[str, Endpoint] = {
    "completions": Endpoint("completions", (*_MODEL_KEYS, "batch", "service_tier"), _completions),
    "embeddings": Endpoint("embeddings", _MODEL_KEYS, _input_tokens),
    "moderations": Endpoint("moderations", _MODEL_KEYS, _input_tokens),
    "images": Endpoint("images", (*_MODEL_KEYS, "size", "source"), _units("images", "images", True)),
    "audio_speeches": Endpoint("audio_speeches", _MODEL_KEYS, _units("characters", "characters", True)),
    "audio_transcriptions": Endpoint("audio_transcriptions", _MODEL_KEYS, _units("seconds", "seconds", True)),
    "vector_stores": Endpoint("vector_stores", ("project_id",), _units("usage_bytes", "bytes", False)),
    "code_interpreter_sessions": Endpoint(
        "code_interpreter_sessions", ("project_id",), _units("num_sessions", "sessions", False)
    ),
    "file_search_calls": Endpoint(
        "file_searches", _KEYS, _units("num_requests", "file_search_requests", False)
    ),
    "web_search_calls": Endpoint(
        "web_searches", (*_MODEL_KEYS, "context_level"), _units("num_requests", "web_search_requests", True)
    ),
}
"""Every usage endpoint with the `group_by` values that identify a price (see docs/providers.md)."""
