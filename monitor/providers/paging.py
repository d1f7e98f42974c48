"""How providers page, each bounded by `max_pages` and refusing a loop: offset paging (new-api's log,
OpenRouter's keys) and link paging (ARM's `nextLink`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def offset_pages(
    fetch: Callable[[int], tuple[list[Any], int | None]],
    *,
    first: int,
    page_size: int,
    max_pages: int,
    error: Callable[[str], Exception],
) -> Iterator[list[Any]]:
    """Offset paging: `fetch(page number)` -> (items, total or None), from page `first` on.

    Stops at an empty page, a short page (fewer than `page_size` items; 0 when the server's page size
    is unknown) or once `total` items were read. A `total` that changes between pages means the list moved under the offsets (rows added or
    removed inside the window): `error` is raised rather than risking a row read twice or missed,
    and the caller may start the window again. More than `max_pages` pages is also an error.
    """
    seen_total: int | None = None
    read = 0
    for number in range(first, first + max_pages):
        items, total = fetch(number)
        if total is not None:
            if seen_total is not None and total != seen_total:
                raise error(f"the result count changed from {seen_total} to {total} while paging")
            seen_total = total
        yield items
        read += len(items)
        if not items or len(items) < page_size or (seen_total is not None and read >= seen_total):
            return
    raise error(f"still more pages after {max_pages}; stopped")


def link_pages(
    fetch: Callable[[str | None], tuple[list[Any], str | None]],
    *,
    max_pages: int,
    error: Callable[[str], Exception],
) -> Iterator[list[Any]]:
    """Link paging: `fetch(link or None)` -> (items, next link or None), following links until none.

    A link that repeats an earlier one, or more than `max_pages` pages, is an error (never a loop).
    """
    seen: set[str] = set()
    link: str | None = None
    for _ in range(max_pages):
        items, following = fetch(link)
        yield items
        if not following:
            return
        if following in seen:
            raise error("the next link repeats an earlier one; stopped a loop")
        seen.add(following)
        link = following
    raise error(f"still more pages after {max_pages}; stopped")
