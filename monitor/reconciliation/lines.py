"""Which model and token kind a billed cost line is for, so drift can be attributed to a model.

The reading itself lives with the providers (`monitor.providers.line_items`), since the OpenAI adapter
stores what it reads in each line's fields; this module keeps the names reconciliation uses.
"""

from __future__ import annotations

from monitor.providers.line_items import KINDS, OTHER, Attribution, attribute, parse_openai_line_item

__all__ = ["KINDS", "OTHER", "Attribution", "attribute", "parse_openai_line_item"]
