"""Anthropic's organization directory: workspaces, API keys and users (Admin API).

`GET /v1/organizations/workspaces` (with archived ones), `GET /v1/organizations/api_keys` (every
status: active, inactive, archived, expired) and `GET /v1/organizations/users`, each a list paged
with `after_id` (limit 1..1000). Times are RFC 3339. An API key object carries `partial_key_hint`;
it is never read. The default workspace has no id (usage reports it as null) and no entry here.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from monitor.directory import API_KEY, PROJECT, USER, DirectoryEntry, DirectoryPart
from monitor.providers.http import ApiClient
from monitor.providers.listing import object_id, read_part, rfc3339_or_none
from monitor.providers.payload import Fields

WORKSPACES_PATH = "/v1/organizations/workspaces"
API_KEYS_PATH = "/v1/organizations/api_keys"
USERS_PATH = "/v1/organizations/users"
LIMIT = "1000"
CURSOR = "after_id"


def read_directory(client: ApiClient, provider: str, account: str) -> list[DirectoryPart]:
    """Workspaces, API keys and users of one organization, one part per kind."""
    read = partial(read_part, client, cursor_param=CURSOR)
    limit = ("limit", LIMIT)
    return [
        read(
            PROJECT,
            ("workspaces", WORKSPACES_PATH, [limit, ("include_archived", "true")]),
            entry=partial(_workspace, provider, account),
        ),
        read(API_KEY, ("API keys", API_KEYS_PATH, [limit]), entry=partial(_api_key, provider, account)),
        read(USER, ("users", USERS_PATH, [limit]), entry=partial(_user, provider, account)),
    ]


def _workspace(provider: str, account: str, f: Fields, where: str, o: dict[str, Any]) -> DirectoryEntry:
    archived = rfc3339_or_none(f, o, "archived_at", where)
    return DirectoryEntry(
        provider,
        account,
        PROJECT,
        object_id(f, o, where),
        name=f.text(o, "name", where),
        status="archived" if archived else "active",
        created_at=rfc3339_or_none(f, o, "created_at", where),
        ended_at=archived,
    )


def _api_key(provider: str, account: str, f: Fields, where: str, o: dict[str, Any]) -> DirectoryEntry:
    creator = o.get("created_by")
    owner = (
        "" if creator is None else f.text(f.obj(creator, f"{where}.created_by"), "id", f"{where}.created_by")
    )
    return DirectoryEntry(
        provider,
        account,
        API_KEY,
        object_id(f, o, where),
        name=f.text(o, "name", where),
        owner=owner,
        project=f.text(o, "workspace_id", where),
        status=f.text(o, "status", where) or "active",
        created_at=rfc3339_or_none(f, o, "created_at", where),
    )


def _user(provider: str, account: str, f: Fields, where: str, o: dict[str, Any]) -> DirectoryEntry:
    return DirectoryEntry(
        provider,
        account,
        USER,
        object_id(f, o, where),
        name=f.text(o, "name", where),
        email=f.text(o, "email", where),
        created_at=rfc3339_or_none(f, o, "added_at", where),
    )
