"""Anthropic's organization directory: workspaces, API keys and users (Admin API).

`GET /v1/organizations/workspaces` (with archived ones), `GET /v1/organizations/api_keys` (every
status: active, inactive, archived, expired) and `GET /v1/organizations/users`, each a list paged
with `after_id` (limit 1..1000). Times are RFC 3339. An API key object carries `partial_key_hint`;
it is never read. The default workspace has no id (usage reports it as null) and no entry here.
"""

from __future__ import annotations

from typing import Any

from monitor.directory import API_KEY, PROJECT, USER, DirectoryEntry, DirectoryPart
from monitor.errors import ProviderError
from monitor.providers.http import ApiClient
from monitor.providers.listing import failed_part, objects, rfc3339_or_none
from monitor.providers.payload import Fields

WORKSPACES_PATH = "/v1/organizations/workspaces"
API_KEYS_PATH = "/v1/organizations/api_keys"
USERS_PATH = "/v1/organizations/users"
LIMIT = "1000"
CURSOR = "after_id"


def read_directory(client: ApiClient, provider: str, account: str) -> list[DirectoryPart]:
    """Workspaces, API keys and users of one organization, one part per kind."""
    lists: tuple[tuple[str, str, str, list[tuple[str, str]]], ...] = (
        (PROJECT, "workspaces", WORKSPACES_PATH, [("include_archived", "true")]),
        (API_KEY, "API keys", API_KEYS_PATH, []),
        (USER, "users", USERS_PATH, []),
    )
    return [
        _read(client, (provider, account), kind, (what, path, params)) for kind, what, path, params in lists
    ]


def _read(
    client: ApiClient, owner: tuple[str, str], kind: str, source: tuple[str, str, list[tuple[str, str]]]
) -> DirectoryPart:
    """One list: `source` is (what it lists, in words; its path; extra query parameters)."""
    what, path, params = source
    entries = []
    endpoint = path.rsplit("/", 1)[1]
    try:
        for f, where, obj in objects(
            client, path, [("limit", LIMIT), *params], endpoint=endpoint, cursor_param=CURSOR
        ):
            entries.append(_entry(f, obj, where, owner, kind))
    except ProviderError as exc:
        return failed_part(kind, what, path, exc)
    return DirectoryPart(kind, tuple(entries))


def _entry(f: Fields, o: dict[str, Any], where: str, owner_: tuple[str, str], kind: str) -> DirectoryEntry:
    provider, account = owner_
    ident = f.text(o, "id", where)
    if not ident:
        raise f.error(f"{where}.id", "the object has no id")
    created = rfc3339_or_none(f, o, "created_at" if kind != USER else "added_at", where)
    if kind == PROJECT:
        archived = rfc3339_or_none(f, o, "archived_at", where)
        return DirectoryEntry(
            provider,
            account,
            kind,
            ident,
            name=f.text(o, "name", where),
            status="archived" if archived else "active",
            created_at=created,
            ended_at=archived,
        )
    if kind == API_KEY:
        status = f.text(o, "status", where) or "active"
        creator = o.get("created_by")
        owner = (
            ""
            if creator is None
            else f.text(f.obj(creator, f"{where}.created_by"), "id", f"{where}.created_by")
        )
        return DirectoryEntry(
            provider,
            account,
            kind,
            ident,
            name=f.text(o, "name", where),
            owner=owner,
            project=f.text(o, "workspace_id", where),
            status=status,
            created_at=created,
        )
    return DirectoryEntry(
        provider,
        account,
        kind,
        ident,
        name=f.text(o, "name", where),
        email=f.text(o, "email", where),
        created_at=created,
    )
