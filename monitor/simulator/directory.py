"""The simulated organizations' directories: projects (workspaces), API keys and users, with names.

Built from the usage layout, so every id the usage endpoints report has an entry: OpenAI projects,
their keys and the keys' owners; Anthropic workspaces (not the default one, which has no id), keys
and the users who created them. Names are deterministic; tests rename, archive and revoke through
`Simulator` and read the lists over HTTP (`directory_api.py`). Key objects carry a redacted value,
as the real ones do, which a client must never keep.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from monitor.simulator.layout import Layout, ident

_PROJECT_NAMES = (
    "search-backend",
    "support-bot",
    "data-pipeline",
    "internal-tools",
    "mobile-app",
    "analytics",
    "ml-research",
    "billing-service",
)
_FIRST_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
_KEY_PURPOSES = ("prod", "ci", "laptop", "staging", "batch-jobs")
DOMAIN = "acme.example"


@dataclass(frozen=True, slots=True)
class SimProject:
    id: str
    name: str
    created_at: int
    archived_at: int | None = None


@dataclass(frozen=True, slots=True)
class SimKey:
    id: str
    name: str
    project: str | None
    owner: str
    created_at: int
    status: str = "active"
    hint: str = ""
    """The redacted secret the real APIs show (redacted_value, partial_key_hint)."""


@dataclass(frozen=True, slots=True)
class SimUser:
    id: str
    name: str
    email: str
    added_at: int


def _numbered(names: tuple[str, ...], i: int) -> str:
    base = names[i % len(names)]
    return base if i < len(names) else f"{base}-{i // len(names) + 1}"


class SimDirectory:
    """One provider's directory; thread-safe, mutated only by the test's scripting calls."""

    def __init__(self, layout: Layout, seed: int, created_at: int) -> None:
        self.provider = layout.provider
        self._lock = threading.Lock()
        owners = sorted(set(layout.user_of.values()))
        self.users: dict[str, SimUser] = {}
        for i, user in enumerate(owners):
            first = _numbered(_FIRST_NAMES, i)
            self.users[user] = SimUser(user, first.capitalize(), f"{first}@{DOMAIN}", created_at)
        self.projects: dict[str, SimProject] = {}
        self.keys: dict[str, SimKey] = {}
        for p, (project, keys) in enumerate(zip(layout.projects, layout.keys, strict=True)):
            if project is not None:
                self.projects[project] = SimProject(project, _numbered(_PROJECT_NAMES, p), created_at)
            for k, key in enumerate(keys):
                owner = layout.user_of[key]
                first = self.users[owner].email.split("@", 1)[0]
                hint = f"sk-...{ident(seed, layout.provider, 'hint', key, length=4)}"
                name = f"{first}-{_numbered(_KEY_PURPOSES, k)}"
                self.keys[key] = SimKey(key, name, project, owner, created_at, hint=hint)

    # ---- scripting ---------------------------------------------------------------------------------

    def rename(self, kind: str, ident_: str, name: str) -> None:
        with self._lock:
            if kind == "project":
                self.projects[ident_] = replace(self.projects[ident_], name=name)
            elif kind == "api_key":
                self.keys[ident_] = replace(self.keys[ident_], name=name)
            else:
                self.users[ident_] = replace(self.users[ident_], name=name)

    def archive_project(self, project: str, at: int) -> None:
        with self._lock:
            self.projects[project] = replace(self.projects[project], archived_at=at)

    def revoke_key(self, key: str) -> None:
        """OpenAI deletes a revoked key (it leaves the list); Anthropic archives it (status archived)."""
        with self._lock:
            if self.provider == "openai":
                del self.keys[key]
            else:
                self.keys[key] = replace(self.keys[key], status="archived")

    # ---- reading -----------------------------------------------------------------------------------

    def listing(self, kind: str, *, project: str | None = None, archived: bool = False) -> list[Any]:
        """The objects of a kind in id order (keys of one project with `project`)."""
        with self._lock:
            if kind == "project":
                items: list[Any] = [p for p in self.projects.values() if archived or p.archived_at is None]
            elif kind == "api_key":
                items = [k for k in self.keys.values() if project is None or k.project == project]
            else:
                items = list(self.users.values())
        return sorted(items, key=lambda item: item.id)


def page_after(items: list[Any], after: str | None, limit: int) -> tuple[list[Any], bool]:
    """The items after the one with id `after` (all when None), at most `limit`, and whether more follow."""
    start = 0
    if after:
        ids = [item.id for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    chosen = items[start : start + limit]
    return chosen, start + limit < len(items)
