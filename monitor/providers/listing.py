"""Object lists of the providers' admin APIs (projects, API keys, users, workspaces), page by page.

Both providers page these lists by id, not by an opaque cursor: each page says `has_more` and its
`last_id`, which the next request passes as `after` (OpenAI) or `after_id` (Anthropic). The same
guards as the usage pages apply: a repeated cursor or an endless chain is a bad response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from monitor.directory import DirectoryEntry, DirectoryPart
from monitor.errors import ProviderAuthError, ProviderError
from monitor.providers.http import ApiClient
from monitor.providers.payload import Fields


def list_pages(
    client: ApiClient,
    path: str,
    params: Sequence[tuple[str, str]],
    *,
    endpoint: str,
    cursor_param: str,
) -> Iterator[tuple[Fields, int, list[Any]]]:
    """(fields, page number, data) of every page of one list, following `last_id` while `has_more`."""
    fields = client.fields(endpoint)
    seen: set[str] = set()
    cursor: str | None = None
    number = 1
    while True:
        query = [*params, (cursor_param, cursor)] if cursor else list(params)
        body = client.get_json(path, query, endpoint=endpoint)
        where = f"page {number}"
        data = fields.items(body, "data", where)
        yield fields, number, data
        has_more = body.get("has_more", False)
        if not isinstance(has_more, bool):
            raise fields.error(f"{where}.has_more", f"expected true or false, got {has_more!r:.40}")
        if not has_more or not data:
            return
        last = body.get("last_id")
        if not isinstance(last, str) or not last:
            last = fields.text(fields.obj(data[-1], f"{where}.data[-1]"), "id", f"{where}.data[-1]")
        if last in seen:
            raise fields.error(f"{where}.last_id", "the cursor repeats an earlier one; stopped a loop")
        if number >= client.max_pages:
            raise fields.error(f"{where}.has_more", f"still more pages after {number}; stopped")
        seen.add(last)
        cursor = last
        number += 1


def objects(
    client: ApiClient, path: str, params: Sequence[tuple[str, str]], *, endpoint: str, cursor_param: str
) -> Iterator[tuple[Fields, str, dict[str, Any]]]:
    """(fields, where, object) of every object of a list."""
    for fields, number, data in list_pages(
        client, path, params, endpoint=endpoint, cursor_param=cursor_param
    ):
        for i, raw in enumerate(data):
            where = f"page {number}.data[{i}]"
            yield fields, where, fields.obj(raw, where)


def unix_or_none(fields: Fields, obj: dict[str, Any], key: str, where: str) -> int | None:
    """A unix-seconds field that may be missing or null (OpenAI's created_at, archived_at)."""
    if obj.get(key) is None:
        return None
    return fields.timestamp(obj, key, where)


def rfc3339_or_none(fields: Fields, obj: dict[str, Any], key: str, where: str) -> int | None:
    """An RFC 3339 field that may be missing or null (Anthropic's created_at, archived_at)."""
    text = fields.text(obj, key, where)
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise fields.error(f"{where}.{key}", f"expected an RFC 3339 time with a zone, got {text!r:.40}")
    return int(when.timestamp())


def failed_part(kind: str, what: str, path: str, exc: ProviderError) -> DirectoryPart:
    """The part of a directory that could not be read, with one line that says why and what follows.

    A key without the scope to list `what` is refused with 401/403: that is said plainly, since the
    fix is a permission, not a new key; usage polling does not depend on it.
    """
    reason = exc.reason or ("auth" if isinstance(exc, ProviderAuthError) else "client_error")
    if reason == "auth":
        why = f"GET {path} was refused: the admin key may not list {what} (grant it that permission)"
    else:
        why = f"GET {path} failed ({reason}): {exc}"
    return DirectoryPart(kind, complete=False, error=f"names of {what} not read: {why}", reason=reason)


EntryOf = Callable[[Fields, str, dict[str, Any]], DirectoryEntry]
"""Builds one directory entry from a list object (fields, its place in the payload, the object)."""


def read_part(
    client: ApiClient,
    kind: str,
    source: tuple[str, str, Sequence[tuple[str, str]]],
    *,
    cursor_param: str,
    entry: EntryOf,
) -> DirectoryPart:
    """One kind of a directory from one list; `source` is (what it lists in words, path, query).

    A provider error becomes a failed part (one line saying why, see `failed_part`)."""
    what, path, params = source
    endpoint = path.rstrip("/").rsplit("/", 1)[1]
    try:
        entries = tuple(
            entry(f, where, obj)
            for f, where, obj in objects(client, path, params, endpoint=endpoint, cursor_param=cursor_param)
        )
    except ProviderError as exc:
        return failed_part(kind, what, path, exc)
    return DirectoryPart(kind, entries)


def object_id(f: Fields, obj: dict[str, Any], where: str) -> str:
    """A list object's `id`, which every directory entry needs."""
    ident = f.text(obj, "id", where)
    if not ident:
        raise f.error(f"{where}.id", "the object has no id")
    return ident
