"""OpenAI's organization directory: projects, their API keys and the organization's users.

`GET /organization/projects` (with archived ones, so their names stay known),
`GET /organization/projects/{id}/api_keys` per active project and `GET /organization/users`, each a
list paged with `after` (limit 1..100). An API key object carries `redacted_value`; it is never
read. Each kind is read on its own: a key that may not list users still names projects and keys.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from monitor.directory import API_KEY, PROJECT, USER, DirectoryEntry, DirectoryPart
from monitor.errors import ProviderError
from monitor.providers.http import ApiClient
from monitor.providers.listing import failed_part, objects, unix_or_none
from monitor.providers.payload import Fields

PROJECTS_PATH = "/organization/projects"
USERS_PATH = "/organization/users"
LIMIT = "100"
CURSOR = "after"


def read_directory(client: ApiClient, provider: str, account: str) -> list[DirectoryPart]:
    """Projects, API keys and users of one organization, one part per kind."""
    projects = _projects(client, provider, account)
    active = [e.id for e in projects.entries if e.status != "archived"]
    return [
        projects,
        _api_keys(client, provider, account, active, projects.complete),
        _users(client, provider, account),
    ]


def _projects(client: ApiClient, provider: str, account: str) -> DirectoryPart:
    params = [("limit", LIMIT), ("include_archived", "true")]
    entries = []
    try:
        for f, where, p in objects(client, PROJECTS_PATH, params, endpoint="projects", cursor_param=CURSOR):
            archived = unix_or_none(f, p, "archived_at", where)
            entries.append(
                DirectoryEntry(
                    provider,
                    account,
                    PROJECT,
                    _id(f, p, where),
                    name=f.text(p, "name", where),
                    status=f.text(p, "status", where) or ("archived" if archived else "active"),
                    created_at=unix_or_none(f, p, "created_at", where),
                    ended_at=archived,
                )
            )
    except ProviderError as exc:
        return failed_part(PROJECT, "projects", PROJECTS_PATH, exc)
    return DirectoryPart(PROJECT, tuple(entries))


def _api_keys(
    client: ApiClient, provider: str, account: str, projects: list[str], all_projects: bool
) -> DirectoryPart:
    entries: list[DirectoryEntry] = []
    failure: DirectoryPart | None = None
    for project in projects:
        path = f"{PROJECTS_PATH}/{quote(project, safe='')}/api_keys"
        try:
            for f, where, k in objects(
                client, path, [("limit", LIMIT)], endpoint="api_keys", cursor_param=CURSOR
            ):
                entries.append(
                    DirectoryEntry(
                        provider,
                        account,
                        API_KEY,
                        _id(f, k, where),
                        name=f.text(k, "name", where),
                        owner=_owner(f, k, where),
                        project=project,
                        created_at=unix_or_none(f, k, "created_at", where),
                    )
                )
        except ProviderError as exc:
            failure = failure or failed_part(API_KEY, "API keys", f"{PROJECTS_PATH}/{{id}}/api_keys", exc)
    if failure is not None:
        return DirectoryPart(API_KEY, tuple(entries), False, failure.error, failure.reason)
    return DirectoryPart(API_KEY, tuple(entries), complete=all_projects)


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


def _users(client: ApiClient, provider: str, account: str) -> DirectoryPart:
    entries = []
    try:
        for f, where, u in objects(
            client, USERS_PATH, [("limit", LIMIT)], endpoint="users", cursor_param=CURSOR
        ):
            entries.append(
                DirectoryEntry(
                    provider,
                    account,
                    USER,
                    _id(f, u, where),
                    name=f.text(u, "name", where),
                    email=f.text(u, "email", where),
                    created_at=unix_or_none(f, u, "added_at", where),
                )
            )
    except ProviderError as exc:
        return failed_part(USER, "users", USERS_PATH, exc)
    return DirectoryPart(USER, tuple(entries))


def _id(f: Fields, obj: dict[str, Any], where: str) -> str:
    ident = f.text(obj, "id", where)
    if not ident:
        raise f.error(f"{where}.id", "the object has no id")
    return ident
