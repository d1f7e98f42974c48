"""How providers page, each bounded by `max_pages` and refusing a loop: cursor paging (`next_page` while
`has_more`, OpenAI's and Anthropic's pages, read by `ApiClient.pages` and `ApiClient.parts`), offset
paging (new-api's log, OpenRouter's keys) and link paging (ARM's `nextLink`).

Cursor pages are handed on as they are parsed: whole (`whole_pages`) or in parts of whole elements
(`parts_of`), so the poller prices and writes a large page part by part; a page below PART_RESULTS
results stays one part, checked whole first.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

from monitor.providers.payload import Fields
from monitor.providers.request import Envelope

PART_RESULTS = 1000
"""Results per part handed to the poller; a larger page is priced and written in parts of whole buckets."""

Element = tuple[int, int, Any]
"""(page number, index in the page's data, the element); index -1 marks the end of a checked page."""

PageAt = Callable[[str | None], Generator[tuple[int, Any], None, Envelope]]
"""The page at a cursor (None: the first): yields (index, element) of its `data` as they arrive and
returns its other members."""


def cursor_elements(page_at: PageAt, fields: Fields, *, max_pages: int) -> Iterator[Element]:
    """Each element of each page as it arrives, and (n, -1, None) after page n's envelope checked out."""
    seen: set[str] = set()
    cursor: str | None = None
    number = 1
    while True:
        stream = page_at(cursor)
        while True:
            try:
                index, element = next(stream)
            except StopIteration as stop:
                envelope: Envelope = stop.value
                break
            yield number, index, element
        body, where = envelope.members, f"page {number}"
        if body.get("object", "page") != "page":
            raise fields.error(where, f"expected a page object, got object={body.get('object')!r:.40}")
        if not envelope.has_array:
            fields.items(body, "data", where)  # raises, naming the field and what it held
        has_more = body.get("has_more")
        if not isinstance(has_more, bool):
            raise fields.error(f"{where}.has_more", f"expected true or false, got {has_more!r:.40}")
        next_page = body.get("next_page")
        if next_page is not None and not isinstance(next_page, str):
            raise fields.error(f"{where}.next_page", f"expected a string or null, got {next_page!r:.40}")
        yield number, -1, None
        if not has_more:
            return
        if not next_page:
            raise fields.error(f"{where}.next_page", "has_more is true but next_page is empty")
        if next_page in seen:
            raise fields.error(f"{where}.next_page", "the cursor repeats an earlier one; stopped a loop")
        if number >= max_pages:
            raise fields.error(
                f"{where}.next_page",
                f"still more pages after {number}; stopped (at most {max_pages} per fetch)",
            )
        seen.add(next_page)
        cursor = next_page
        number += 1


def whole_pages(elements: Iterable[Element]) -> Iterator[list[Any]]:
    """Each page's `data` list, handed on once its envelope checked out (whole, never partial)."""
    page: list[Any] = []
    for _, index, element in elements:
        if index < 0:
            yield page
            page = []
        else:
            page.append(element)


def parts_of(elements: Iterable[Element], results: int) -> Iterator[list[tuple[str, Any]]]:
    """The elements as (`page N.data[i]`, element) pairs, in parts of whole elements: a page with fewer
    than `results` results in all is one part, a larger one parts of about `results` results."""
    part: list[tuple[str, Any]] = []
    size = 0
    for number, index, element in elements:
        if index >= 0:
            part.append((f"page {number}.data[{index}]", element))
            found = element.get("results") if isinstance(element, dict) else None
            size += len(found) if isinstance(found, list) else 1
        if part and (index < 0 or size >= results):
            yield part
            part, size = [], 0


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
