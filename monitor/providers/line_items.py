"""Which model, token kind and tier a provider's billed cost line is for.

Anthropic's cost report (grouped by description) carries `model`, `token_type`, `service_tier` and
`context_window` as fields; OpenAI's costs carry only a free-form `line_item` such as
"gpt-4.1-mini-2025-04-14, input" or "gpt-4.1-2025-04-14, cached input (batch)" (provider-apis.md §2:
the wording is not enumerated anywhere). Parsing is tolerant: a line whose model or kind cannot be
read is "unattributed" (model "") or of kind "other", never an error. The OpenAI adapter stores what
it reads in the line's fields; lines stored before it did are read here again (`attribute`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.records import TOKEN_TYPES, BilledCost

OTHER = "other"
"""The kind of a billed line (or computed cost) that is not one token type: web search, tools, units."""

KINDS: tuple[str, ...] = (*TOKEN_TYPES, OTHER)

_OPENAI_KIND_WORDS: dict[str, str] = {
    "input": "input",
    "input tokens": "input",
    "input_tokens": "input",
    "text input": "input",
    "uncached input": "input",
    "cached input": "cached_input",
    "cached input tokens": "cached_input",
    "cached_input_tokens": "cached_input",
    "cache read input": "cached_input",
    "cache write input": "cache_write",
    "cache write": "cache_write",
    "output": "output",
    "output tokens": "output",
    "output_tokens": "output",
    "text output": "output",
    "audio input": "input_audio",
    "cached audio input": "cached_input_audio",
    "audio output": "output_audio",
    "image input": "input_image",
    "cached image input": "cached_input_image",
    "image output": "output_image",
}

OPENAI_TIER_WORDS = frozenset({"batch", "priority", "fast", "ultrafast", "flex", "scale", "default"})
"""Qualifiers in parentheses that name the tier a line was billed at ("(batch)", "(fast)")."""
OPENAI_LONG_WORDS = frozenset({"long context", "long-context"})
"""Qualifiers that mark a prompt above the model's long-context threshold (billed apart)."""

_LINE_ITEM = re.compile(r"^(?P<model>[^,\s][^,]*?)\s*,\s*(?P<rest>[^,]*)$")
_QUALIFIER = re.compile(r"\(([^()]*)\)")
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


@dataclass(frozen=True, slots=True)
class Attribution:
    """The model ("" when unknown) and kind (a TOKEN_TYPES name or "other") a billed line is for."""

    model: str
    kind: str


@dataclass(frozen=True, slots=True)
class LineItem:
    """What an OpenAI `line_item` says: model ("" unreadable), kind (TOKEN_TYPES name or "other"), the
    tier word in parentheses ("" for the default tier; an unknown qualifier is kept as written, so it
    matches no tier), and whether it bills long prompts."""

    model: str
    kind: str
    tier: str = ""
    long_context: bool = False


def read_openai_line_item(line_item: str) -> LineItem:
    """ "gpt-6.1-sol, cached input (fast) (long context)" -> (gpt-6.1-sol, cached_input, fast, True).

    Unknown wording -> ("", other); a readable model with unknown kind words keeps the model with
    kind "other"; parentheses that are not balanced make the kind "other".
    """
    match = _LINE_ITEM.match(line_item.strip())
    if match is None:
        return LineItem("", OTHER)
    model = match["model"].strip()
    if not _MODEL_NAME.match(model):
        return LineItem("", OTHER)
    rest = match["rest"]
    words = _QUALIFIER.sub(" ", rest)
    if "(" in words or ")" in words:
        return LineItem(model, OTHER)
    kind = _OPENAI_KIND_WORDS.get(" ".join(words.lower().split()), OTHER)
    tiers: list[str] = []
    long_context = False
    for qualifier in _QUALIFIER.findall(rest):
        word = " ".join(qualifier.lower().split())
        if word in OPENAI_LONG_WORDS:
            long_context = True
        else:
            tiers.append(word)
    return LineItem(model, kind, "+".join(tiers), long_context)


def parse_openai_line_item(line_item: str) -> Attribution:
    """ "gpt-4.1-mini-2025-04-14, input" -> (gpt-4.1-mini-2025-04-14, input); unknown wording -> ("", other).

    Tier and long-context qualifiers in parentheses are left out (the model's drift covers them).
    """
    read = read_openai_line_item(line_item)
    return Attribution(read.model, read.kind)


def attribute(line: BilledCost) -> Attribution:
    """The model and kind of one billed line, from its fields (Anthropic, and OpenAI lines stored with
    what the adapter read) or its line item (OpenAI lines stored before)."""
    if line.model:
        kind = line.token_type if line.token_type in TOKEN_TYPES else OTHER
        return Attribution(line.model, kind)
    if line.provider == "openai":
        return parse_openai_line_item(line.line_item)
    return Attribution("", OTHER)
