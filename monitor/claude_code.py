"""Claude Code usage per developer and day: the value type the Anthropic adapter reads and the store keeps.

Anthropic's Claude Code usage report (`/v1/organizations/usage_report/claude_code`) gives, per UTC
day and actor (a user's email, or an API key's name), each model's tokens and an *estimated* cost in
cents. It is kept beside the usage ledger, not in it: for API organizations the same tokens are in the
messages usage report already (counting them again would count them twice), and for subscription
seats they are not billed per token at all. So it answers "which developer's coding agent spends
what" (reports, budgets scoped to `user`, `llm_claude_code_cost_usd`) without changing an account's
spend.
"""

from __future__ import annotations

from dataclasses import dataclass

USER_ACTOR = "user"
API_KEY_ACTOR = "api_key"

CLAUDE_CODE_ENDPOINT = "claude_code"
"""The endpoint name in poll results, poll metrics and the status page."""


@dataclass(frozen=True, slots=True)
class ClaudeCodeUsage:
    """One (UTC day, actor, model) of the Claude Code report; amounts are exact picodollars.

    `actor` is the user's email (`actor_type` "user") or the API key's name ("api_key");
    `customer_type` is "api" or "subscription". Tokens: uncached input, cache reads, cache writes,
    output.
    """

    provider: str
    account: str
    day_start: int
    actor: str
    model: str
    actor_type: str = USER_ACTOR
    customer_type: str = ""
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    estimated_cost_pico: int = 0
