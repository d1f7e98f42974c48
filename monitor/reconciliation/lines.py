"""Which model and token kind a billed cost line is for, so drift can be attributed to a model.

Anthropic's cost report (grouped by description) carries `model` and `token_type` as fields; OpenAI's
costs carry only a free-form `line_item` such as "gpt-4.1-mini-2025-04-14, input" or
"gpt-4.1-2025-04-14, cached input (priority)". Its wording is not documented, so parsing is
tolerant: a line whose model or kind cannot be read is "unattributed" (model "") or of kind
"other", never an error.
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

_LINE_ITEM = re.compile(r"^(?P<model>[^,\s][^,]*?)\s*,\s*(?P<kind>[^()]*?)\s*(?:\((?P<tier>[^()]*)\))?\s*$")
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


@dataclass(frozen=True, slots=True)
class Attribution:
    """The model ("" when unknown) and kind (a TOKEN_TYPES name or "other") a billed line is for."""

    model: str
    kind: str


def parse_openai_line_item(line_item: str) -> Attribution:
    """ "gpt-4.1-mini-2025-04-14, input" -> (gpt-4.1-mini-2025-04-14, input); unknown wording -> ("", other).

    A trailing "(batch)"/"(priority)" tier is ignored (the model's drift covers its tiers). A line
    with a readable model but unknown kind words keeps the model with kind "other".
    """
    match = _LINE_ITEM.match(line_item.strip())
    if match is None:
        return Attribution("", OTHER)
    model = match["model"].strip()
    if not _MODEL_NAME.match(model):
        return Attribution("", OTHER)
    kind = _OPENAI_KIND_WORDS.get(" ".join(match["kind"].lower().split()), OTHER)
    return Attribution(model, kind)


def attribute(line: BilledCost) -> Attribution:
    """The model and kind of one billed line, from its fields (Anthropic) or its line item (OpenAI)."""
    if line.model:
        kind = line.token_type if line.token_type in TOKEN_TYPES else OTHER
        return Attribution(line.model, kind)
    if line.provider == "openai":
        return parse_openai_line_item(line.line_item)
    return Attribution("", OTHER)
