"""Names for ids: what the providers' directories say a project, API key or user is called.

Value types only (no I/O), shared by the providers that read the directories, the store that keeps
them and everything that shows names to people. A key's secret part never gets here: the parsers
keep ids, names, owners and created/archived facts, never `redacted_value` or `partial_key_hint`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

PROJECT = "project"
API_KEY = "api_key"
USER = "user"
KINDS: tuple[str, ...] = (PROJECT, API_KEY, USER)
"""What a directory lists: projects (OpenAI) or workspaces (Anthropic), API keys, and users."""

GONE = "gone"
"""The status of an entry a complete listing no longer returns (a deleted key, a removed user)."""


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One id of one account's directory and what is known about it.

    `name` is the display name; `email` is set for users; `owner` (API keys) is the owner's user
    id, or the service account's name; `project` (API keys) is the key's project or workspace.
    `status` is the provider's word ("active", "archived", "inactive", "expired") or GONE;
    `created_at`/`ended_at` are unix seconds (ended: archived, revoked, expired), None if unknown.
    """

    provider: str
    account: str
    kind: str
    id: str
    name: str = ""
    email: str = ""
    owner: str = ""
    project: str = ""
    status: str = "active"
    created_at: int | None = None
    ended_at: int | None = None


@dataclass(frozen=True, slots=True)
class DirectoryPart:
    """The result of reading one kind of one account's directory.

    `complete` means every page was read, so ids missing from `entries` are gone; `error` (one
    line, redacted) says why the part could not be read, with `reason` as in the poll errors.
    """

    kind: str
    entries: tuple[DirectoryEntry, ...] = ()
    complete: bool = True
    error: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Names:
    """A read-only lookup of names by (account, kind, id); an unknown id reads as itself.

    Text for people uses `project`, `api_key` and `user`; `owner` resolves an API key's owner id to
    the user's email where the directory lists that user.
    """

    entries: Mapping[tuple[str, str, str], DirectoryEntry] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Iterable[DirectoryEntry]) -> Names:
        return cls(MappingProxyType({(e.account, e.kind, e.id): e for e in entries}))

    def entry(self, account: str, kind: str, ident: str) -> DirectoryEntry | None:
        return self.entries.get((account, kind, ident))

    def name(self, account: str, kind: str, ident: str) -> str:
        """The display name of an id ("" when the directory has none)."""
        found = self.entries.get((account, kind, ident))
        if found is None:
            return ""
        return (found.email or found.name) if kind == USER else found.name

    def label(self, kind: str, ident: str, account: str = "") -> str:
        """The name of an id of `account`, or (no account given) of whichever account lists it;
        the id itself when no directory names it. Ids are unique across a provider's accounts."""
        if account:
            return self.name(account, kind, ident) or ident
        for acct, k, i in self.entries:
            if k == kind and i == ident:
                return self.name(acct, kind, ident) or ident
        return ident

    def project(self, account: str, ident: str) -> str:
        """The project's (workspace's) name, else its id; "" stays "" (no project)."""
        return self.name(account, PROJECT, ident) or ident

    def api_key(self, account: str, ident: str) -> str:
        return self.name(account, API_KEY, ident) or ident

    def user(self, account: str, ident: str) -> str:
        """A user's email (else name, else the id)."""
        return self.name(account, USER, ident) or ident

    def owner(self, account: str, api_key: str) -> str:
        """Who owns an API key, as a person reads it: the owner's email, else the owner as listed."""
        found = self.entries.get((account, API_KEY, api_key))
        if found is None or not found.owner:
            return ""
        return self.name(account, USER, found.owner) or found.owner

    def of_kind(self, kind: str) -> list[DirectoryEntry]:
        """Every entry of a kind, ordered by account and id."""
        return sorted((e for e in self.entries.values() if e.kind == kind), key=lambda e: (e.account, e.id))

    def find(self, kind: str, text: str, accounts: Iterable[str] | None = None) -> set[str]:
        """The ids of `kind` whose id, name or email equals `text` (a scope may name either)."""
        wanted = set(accounts) if accounts is not None else None
        return {
            e.id
            for e in self.entries.values()
            if e.kind == kind and (wanted is None or e.account in wanted) and text in (e.id, e.name, e.email)
        }


def no_project(provider: str) -> str:
    """What an empty project id is called: the default workspace (Anthropic) or no project."""
    return "(default workspace)" if provider == "anthropic" else "(no project)"


NO_NAMES = Names()
"""The lookup before any directory was read: every id reads as itself."""
