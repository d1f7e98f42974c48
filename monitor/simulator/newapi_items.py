"""What the simulated new-api relay charges and logs (shared/channel-apis.md §1.4-1.5, upstream new-api
@ef8ae4db): its model and group ratios, the quota of one request, and one consumption log item with
its tokens as a client should read them and its wire form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from monitor.records import tokens_of

# model: (model ratio, completion ratio, cache ratio, cache creation ratio, Claude-native)
RATIOS: dict[str, tuple[Decimal, Decimal, Decimal, Decimal, bool]] = {
    "gpt-4.1": (Decimal(1), Decimal(4), Decimal("0.25"), Decimal(0), False),
    "gpt-4.1-mini": (Decimal("0.2"), Decimal(4), Decimal("0.25"), Decimal(0), False),
    "claude-sonnet-4-5-20250929": (Decimal("1.5"), Decimal(5), Decimal("0.1"), Decimal("1.25"), True),
}
"""The relay's model ratios: ratio 1 = $2 per 1M input tokens, so these are the list prices."""
GROUPS: dict[str, Decimal] = {"default": Decimal("0.85"), "vip": Decimal("0.6")}
"""Group ratios: the reseller's 15% and 40% off."""


@dataclass(frozen=True, slots=True)
class LogItem:
    """One consumption log row as the relay stores it."""

    id: int
    created_at: int
    token_name: str
    group: str
    model: str
    prompt: int
    completion: int
    cache: int
    cache_creation: int
    quota: int

    @property
    def claude(self) -> bool:
        return RATIOS[self.model][4]

    def tokens(self) -> tuple[int, ...]:
        """The item's tokens in TOKEN_TYPES order, as a client should read them."""
        if self.claude:
            return tokens_of(
                input=self.prompt,
                cached_input=self.cache,
                cache_write=self.cache_creation,
                output=self.completion,
            )
        return tokens_of(input=self.prompt - self.cache, cached_input=self.cache, output=self.completion)

    def wire(self) -> dict[str, Any]:
        ratio, completion, cache, creation, claude = RATIOS[self.model]
        other: dict[str, Any] = {
            "model_ratio": float(ratio),
            "group_ratio": float(GROUPS[self.group]),
            "completion_ratio": float(completion),
            "cache_tokens": self.cache,
            "cache_ratio": float(cache),
            "model_price": -1,
            "frt": 420,
        }
        if claude:
            other |= {
                "claude": True,
                "cache_creation_tokens": self.cache_creation,
                "cache_creation_ratio": float(creation),
            }
        return {
            "id": self.id % 1024,
            "user_id": 1,
            "created_at": self.created_at,
            "type": 2,
            "content": ""
            if claude
            else f"模型倍率 {ratio:.2f}，补全倍率 {completion:.2f}，分组倍率 {GROUPS[self.group]:.2f}",
            "username": "sim-user",
            "token_name": self.token_name,
            "model_name": self.model,
            "quota": self.quota,
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "use_time": 3,
            "is_stream": True,
            "channel": 7,
            "channel_name": "",
            "token_id": 11,
            "group": self.group,
            "other": json.dumps(other, separators=(",", ":")),
        }


def charge(model: str, group: str, *, prompt: int, completion: int, cache: int, creation: int) -> int:
    """The relay's quota for one request (channel-apis.md 1.4)."""
    ratio, completion_ratio, cache_ratio, creation_ratio, claude = RATIOS[model]
    if claude:
        units = prompt + cache * cache_ratio + creation * creation_ratio + completion * completion_ratio
        return int((units * GROUPS[group] * ratio).to_integral_value(rounding=ROUND_DOWN))
    units = (prompt - cache) + cache * cache_ratio + completion * completion_ratio
    quota = int((units * ratio * GROUPS[group]).to_integral_value(rounding=ROUND_HALF_UP))
    return max(quota, 1) if prompt + completion else 0
