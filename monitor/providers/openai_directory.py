"""OpenAI's organization directory: projects, their API keys and the organization's users.

`GET /organization/projects` (with archived ones, so their names stay known),
`GET /organization/projects/{id}/api_keys` per active project and `GET /organization/users`, each a
list paged with `after` (limit 1..100). An API key object carries `redacted_value`; it is never
read. Each kind is read on its own: a key that may not list users still names projects and keys.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import quote

from monitor.directory import API_KEY, PROJECT, USER, DirectoryEntry, DirectoryPart
from monitor.providers.http import ApiClient
from monitor.providers.listing import object_id, read_part, unix_or_none
from monitor.providers.payload import Fields

PROJECTS_PATH = "/organization/projects"
USERS_PATH = "/organization/users"
LIMIT = "100"
CURSOR = "after"


def read_directory(client: ApiClient, provider: str, account: str) -> list[DirectoryPart]:
    """Projects, API keys and users of one organization, one part per kind."""
    read = partial(read_part, client, cursor_param=CURSOR)
    projects = read(
        PROJECT,
        ("projects", PROJECTS_PATH, [("limit", LIMIT), ("include_archived", "true")]),
        entry=partial(_project, provider, account),
    )
    keys = [
        read(
            API_KEY,
            ("API keys", f"{PROJECTS_PATH}/{quote(p.id, safe='')}/api_keys", [("limit", LIMIT)]),
            entry=partial(_api_key, (provider, account, p.id)),
        )
        for p in projects.entries
        if p.status != "archived"
    ]
    failed = next((k for k in keys if k.error), None)
    api_keys = DirectoryPart(
        API_KEY,
        tuple(e for k in keys for e in k.entries),
        complete=projects.complete and failed is None,
        error=failed.error if failed else "",
        reason=failed.reason if failed else "",
    )
    users = read(USER, ("users", USERS_PATH, [("limit", LIMIT)]), entry=partial(_user, provider, account))
    return [projects, api_keys, users]


def _project(provider: str, account: str, f: Fields, where: str, p: dict[str, Any]) -> DirectoryEntry:
    archived = unix_or_none(f, p, "archived_at", where)
    return DirectoryEntry(
        provider,
        account,
        PROJECT,
        object_id(f, p, where),
        name=f.text(p, "name", where),
        status=f.text(p, "status", where) or ("archived" if archived else "active"),
        created_at=unix_or_none(f, p, "created_at", where),
        ended_at=archived,
    )


def _api_key(owner: tuple[str, str, str], f: Fields, where: str, k: dict[str, Any]) -> DirectoryEntry:
    """A project's key; `owner` is (provider, account, project)."""
    provider, account, project = owner
    return DirectoryEntry(
        provider,
        account,
        API_KEY,
        object_id(f, k, where),
        name=f.text(k, "name", where),
        owner=_owner(f, k, where),
        project=project,
        created_at=unix_or_none(f, k, "created_at", where),
    )


def _owner(f: Fields, key: dict[str, Any], where: str) -> str:
    """The owner's user id, or "NAME (service account)"."""
    owner = key.get("owner")
    if owner is None:
        return ""
    o = f.obj(owner, f"{where}.owner")
    if f.text(o, "type", f"{where}.owner") == "service_account" and o.get("service_account") is not None:
        account = f.obj(o["service_account"], f"{where}.owner.service_account")
        name = f.text(account, "name", f"{where}.owner.service_account")
        return (
            f"{name} (service account)" if name else f.text(account, "id", f"{where}.owner.service_account")
        )
    if o.get("user") is not None:
        return f.text(f.obj(o["user"], f"{where}.owner.user"), "id", f"{where}.owner.user")
    return ""


def _user(provider: str, account: str, f: Fields, where: str, u: dict[str, Any]) -> DirectoryEntry:
    return DirectoryEntry(
        provider,
        account,
        USER,
        object_id(f, u, where),
        name=f.text(u, "name", where),
        email=f.text(u, "email", where),
        created_at=unix_or_none(f, u, "added_at", where),
    )
