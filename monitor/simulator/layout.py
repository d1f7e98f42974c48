"""Who uses what: how each model is used (its profile), and the organisation drawn from the seed: its
projects (workspaces), their API keys, the keys' owners and each (project, model) pair's share of the
traffic. `ident` and `unit` are the stable ids and numbers every part of the simulator derives from
the seed, so the same seed gives the same organisation on every run and machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Profile:
    """How a model is used: mean prompt and completion tokens per request, popularity, features."""

    prompt: int
    completion: int
    popularity: float
    vision: bool = False
    web_search: bool = False
    cache_writes: bool = False  # OpenAI: the traffic writes to the cache (a published cache-write price)


_PROFILES: dict[str, Profile] = {
    "gpt-4.1": Profile(2600, 420, 0.55, vision=True),
    "gpt-4.1-mini": Profile(1800, 300, 1.0, vision=True),
    "gpt-4.1-nano": Profile(700, 110, 0.7),
    "gpt-4o": Profile(2000, 380, 0.5, vision=True),
    "gpt-4o-mini": Profile(1200, 250, 0.8, vision=True),
    "o3": Profile(3200, 1600, 0.3),
    "o4-mini": Profile(2200, 1100, 0.5),
    "gpt-5": Profile(3000, 1300, 0.6, vision=True),
    "gpt-5-mini": Profile(1600, 700, 0.8),
    "gpt-5-nano": Profile(600, 220, 0.6),
    "text-embedding-3-small": Profile(350, 0, 1.0),
    "text-embedding-3-large": Profile(350, 0, 0.5),
    "claude-sonnet-4-5": Profile(3000, 620, 1.0, web_search=True),
    "claude-sonnet-4": Profile(2800, 600, 0.5, web_search=True),
    "claude-haiku-4-5": Profile(1500, 300, 0.8),
    "claude-opus-4-1": Profile(4000, 800, 0.2, web_search=True),
    "claude-opus-4": Profile(4000, 800, 0.15, web_search=True),
    # December 2026
    "gpt-6.1-sol": Profile(3400, 900, 1.2, vision=True, cache_writes=True),
    "gpt-6-luna": Profile(1600, 420, 1.0, cache_writes=True),
    "claude-sonnet-5-5": Profile(3600, 700, 1.2, web_search=True),
    "claude-opus-5-5": Profile(4200, 900, 0.45, web_search=True),
    "gpt-7-preview": Profile(3000, 800, 0.5, cache_writes=True),
    "claude-sonnet-6-preview": Profile(3200, 650, 0.6, web_search=True),
}
_FINE_TUNED = Profile(1200, 200, 0.35)


def profile(base: str, fine_tuned: bool) -> Profile:
    return _FINE_TUNED if fine_tuned else _PROFILES.get(base, Profile(1500, 300, 0.5))


def ident(seed: int, *parts: object, length: int = 16) -> str:
    """A stable random-looking id (letters and digits) derived from the seed and the parts."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def unit(seed: int, *parts: object) -> float:
    """A stable number in [0, 1) derived from the seed and the parts."""
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:6], "big") / float(1 << 48)


@dataclass(frozen=True, slots=True)
class Layout:
    """Who uses what: projects (workspaces), their API keys, key owners and (project, model) weights."""

    provider: str
    projects: tuple[str | None, ...]
    keys: tuple[tuple[str, ...], ...]
    user_of: Mapping[str, str]
    models: tuple[str, ...]
    profiles: tuple[Profile, ...]
    tiers: tuple[frozenset[tuple[str, str]], ...]
    """(tier, context window) pairs each model may be generated in: those the sheet prices."""
    released: tuple[int, ...]
    """Per model, the first unix second with usage (its release; 0: always)."""
    geos: tuple[frozenset[str], ...]
    """Per model, the inference geos other than global it may run in (those the sheet prices)."""
    weights: tuple[tuple[float, ...], ...]
    """[project][model] share of traffic; 0 means the project does not use the model."""
    project_weights: tuple[float, ...]


def make_layout(
    seed: int,
    provider: str,
    projects: int,
    keys_per_project: int,
    models: list[tuple[str, Profile, frozenset[tuple[str, str]], int, frozenset[str]]],
) -> Layout:
    """A deterministic organisation: project sizes differ (a few big, a long tail), not every project uses
    every model. Anthropic's first workspace is the default workspace (workspace_id null)."""
    anthropic = provider == "anthropic"
    ids: list[str | None] = []
    keys: list[tuple[str, ...]] = []
    user_of: dict[str, str] = {}
    users = [f"user-{ident(seed, provider, 'user', u, length=24)}" for u in range(max(2, projects // 2 + 1))]
    for p in range(projects):
        if anthropic:
            ids.append(None if p == 0 else f"wrkspc_01{ident(seed, provider, 'ws', p, length=22)}")
            prefix = "apikey_01"
        else:
            ids.append(f"proj_{ident(seed, provider, 'proj', p)}")
            prefix = "key_"
        project_keys = tuple(
            f"{prefix}{ident(seed, provider, 'key', p, k)}" for k in range(max(1, keys_per_project))
        )
        for k, key in enumerate(project_keys):
            user_of[key] = users[int(unit(seed, provider, "owner", p, k) * len(users))]
        keys.append(project_keys)
    project_weights = tuple(
        (0.6 + 0.8 * unit(seed, provider, "size", p)) / (p + 1) ** 0.8 for p in range(projects)
    )
    weights = []
    for p, pw in enumerate(project_weights):
        row = []
        for m, (name, prof, *_) in enumerate(models):
            used = m == 0 or unit(seed, provider, "uses", p, name) >= 0.15
            row.append(
                pw * prof.popularity * (0.6 + 0.8 * unit(seed, provider, "mix", p, name)) if used else 0.0
            )
        weights.append(tuple(row))
    return Layout(
        provider=provider,
        projects=tuple(ids),
        keys=tuple(keys),
        user_of=user_of,
        models=tuple(m[0] for m in models),
        profiles=tuple(m[1] for m in models),
        tiers=tuple(m[2] for m in models),
        released=tuple(m[3] for m in models),
        geos=tuple(m[4] for m in models),
        weights=tuple(weights),
        project_weights=project_weights,
    )
