"""The simulated directory endpoints of both providers (the list shapes of their Admin APIs).

OpenAI (relative to /openai/v1): `GET /organization/projects[?include_archived=true]`,
`GET /organization/projects/{id}/api_keys`, `GET /organization/users`: `{"object": "list", "data",
"first_id", "last_id", "has_more"}`, paged with `after` and `limit` 1..100 (default 20), unix times.
Anthropic (relative to /anthropic): `GET /v1/organizations/workspaces[?include_archived=true]`,
`/v1/organizations/api_keys`, `/v1/organizations/users`: `{"data", "first_id", "last_id",
"has_more"}`, paged with `after_id` and `limit` 1..1000 (default 20), RFC 3339 times.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from monitor.simulator.directory import SimDirectory, SimKey, SimProject, SimUser, page_after
from monitor.simulator.wire import ApiRequest, BadRequest, first, limit_of, rfc3339

OPENAI_KEYS = re.compile(r"^/organization/projects/(?P<project>[^/]+)/api_keys$")
ANTHROPIC_PATHS = {
    "/v1/organizations/workspaces": "project",
    "/v1/organizations/api_keys": "api_key",
    "/v1/organizations/users": "user",
}


def openai(directory: SimDirectory, request: ApiRequest) -> dict[str, Any] | None:
    """The list for an OpenAI directory path, or None when the path is not one."""
    path, query = request.path, request.query
    render: Callable[[Any], dict[str, Any]]
    if path == "/organization/projects":
        items = directory.listing("project", archived=first(query, "include_archived") == "true")
        render = _openai_project
    elif path == "/organization/users":
        items, render = directory.listing("user"), _openai_user
    elif (match := OPENAI_KEYS.match(path)) is not None:
        project = match["project"]
        if project not in directory.projects:
            raise BadRequest(f"No such project: {project}", "project_id")
        items = directory.listing("api_key", project=project)
        render = _openai_key
    else:
        return None
    chosen, more = page_after(items, first(query, "after"), limit_of(query, 20, 100))
    return {"object": "list", **_page(chosen, more, render)}


def _page(chosen: list[Any], more: bool, render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """A list page as both providers shape it: data, first_id, last_id, has_more."""
    return {
        "data": [render(item) for item in chosen],
        "first_id": chosen[0].id if chosen else None,
        "last_id": chosen[-1].id if chosen else None,
        "has_more": more,
    }


def _openai_project(p: SimProject) -> dict[str, Any]:
    return {
        "id": p.id,
        "object": "organization.project",
        "name": p.name,
        "created_at": p.created_at,
        "archived_at": p.archived_at,
        "status": "archived" if p.archived_at is not None else "active",
    }


def _openai_user(u: SimUser) -> dict[str, Any]:
    return {
        "object": "organization.user",
        "id": u.id,
        "name": u.name,
        "email": u.email,
        "role": "owner",
        "added_at": u.added_at,
    }


def _openai_key(k: SimKey) -> dict[str, Any]:
    return {
        "object": "organization.project.api_key",
        "redacted_value": k.hint,
        "name": k.name,
        "created_at": k.created_at,
        "last_used_at": k.created_at,
        "id": k.id,
        "owner": {
            "type": "user",
            "user": {"object": "organization.project.user", "id": k.owner, "role": "owner"},
        },
    }


def anthropic(directory: SimDirectory, request: ApiRequest) -> dict[str, Any] | None:
    """The list for an Anthropic directory path, or None when the path is not one."""
    kind = ANTHROPIC_PATHS.get(request.path)
    if kind is None:
        return None
    query = request.query
    archived = first(query, "include_archived") == "true"
    items = directory.listing(kind, archived=archived)
    status = first(query, "status")
    if kind == "api_key" and status:
        items = [k for k in items if k.status == status]
    chosen, more = page_after(items, first(query, "after_id"), limit_of(query, 20, 1000))
    renders: dict[str, Callable[[Any], dict[str, Any]]] = {
        "project": _anthropic_workspace,
        "api_key": _anthropic_key,
        "user": _anthropic_user,
    }
    return _page(chosen, more, renders[kind])


def _anthropic_workspace(p: SimProject) -> dict[str, Any]:
    return {
        "id": p.id,
        "type": "workspace",
        "name": p.name,
        "created_at": rfc3339(p.created_at),
        "archived_at": rfc3339(p.archived_at) if p.archived_at is not None else None,
        "display_color": "#6C5BB9",
    }


def _anthropic_key(k: SimKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "type": "api_key",
        "name": k.name,
        "workspace_id": k.project,
        "created_at": rfc3339(k.created_at),
        "created_by": {"id": k.owner, "type": "user"},
        "partial_key_hint": k.hint,
        "status": k.status,
    }


def _anthropic_user(u: SimUser) -> dict[str, Any]:
    return {
        "id": u.id,
        "type": "user",
        "email": u.email,
        "name": u.name,
        "role": "developer",
        "added_at": rfc3339(u.added_at),
    }
