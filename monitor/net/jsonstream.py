"""Streaming a page envelope: the elements of one array member of a top-level JSON object, one by one,
as the body arrives, without holding the whole document or its parsed tree.

Provider pages are `{"object": "page", "data": [bucket, ...], "has_more": ..., "next_page": ...}`;
a 48-hour revision window of a large organisation is one page of tens of MB. Only the top level is
walked here, character by character; each element and each other member is parsed by the C
scanner of `json` (`raw_decode`) as soon as its text is complete, so parsing stays as fast as
`json.loads` while memory holds one element at a time.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
KEEP_READ_TEXT = 1 << 16
"""Characters of text already parsed kept in the buffer at most (dropping them copies what follows,
which is at most what one read brought in beyond the element)."""


class JSONStreamError(ValueError):
    """The body is not the expected JSON object (syntax, a duplicate array member, trailing text)."""


class ElementTooLarge(Exception):
    """One element (or member) of the page is larger than its bound."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"one element of the page is larger than {limit / 2**20:g} MiB")


class PageStream:
    """Reads `{..., "<key>": [elements], ...}` from byte chunks.

    Iterate `elements()` to the end; `members` then holds the other top-level members and
    `has_array` says whether `key` held an array (if it held anything else, it is in `members`).
    Raises JSONStreamError on malformed JSON, ElementTooLarge past `max_element` characters.
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        *,
        key: str,
        max_element: int,
        parse_float: Callable[[str], Any] = float,
        parse_constant: Callable[[str], Any] | None = None,
    ) -> None:
        self._chunks = iter(chunks)
        self._text = codecs.getincrementaldecoder("utf-8")()
        self._key = key
        self._max = max_element
        kwargs: dict[str, Any] = {"parse_float": parse_float}
        if parse_constant is not None:
            kwargs["parse_constant"] = parse_constant
        self._decoder = json.JSONDecoder(**kwargs)
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._hint = 0
        self.members: dict[str, Any] = {}
        self.has_array = False

    # -- the top level -----------------------------------------------------------------------

    def elements(self) -> Iterator[Any]:
        """Each element of the array member, in order; then the rest of the object is read."""
        first = self._peek()
        if first != "{":
            kind = type(self._value()).__name__  # raises if it is not JSON at all
            raise JSONStreamError(f"the body is a JSON {kind}, not an object")
        self._pos += 1
        if self._peek() == "}":
            self._pos += 1
        else:
            while True:
                name = self._value()
                if not isinstance(name, str):
                    raise JSONStreamError("an object key is not a string")
                self._expect(":")
                if name == self._key and self._peek() == "[":
                    if self.has_array:
                        raise JSONStreamError(f"the member {name!r} appears twice")
                    self.has_array = True
                    yield from self._array()
                elif name in self.members or (name == self._key and self.has_array):
                    raise JSONStreamError(f"the member {name[:40]!r} appears twice")
                else:
                    self.members[name] = self._value()
                if self._next_of(",}") == "}":
                    break
        if self._peek() != "":
            raise JSONStreamError("there is text after the JSON object")

    def _array(self) -> Iterator[Any]:
        self._pos += 1  # the "["
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            yield self._value()
            if self._next_of(",]") == "]":
                return

    # -- tokens ------------------------------------------------------------------------------

    def _peek(self) -> str:
        """The next non-space character ("" at the end of the body), not consumed."""
        while True:
            self._pos = _SPACE.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf) or not self._more():
                return self._buf[self._pos : self._pos + 1]

    def _expect(self, char: str) -> None:
        got = self._peek()
        if got != char:
            raise JSONStreamError(f"expected {char!r} at character {self._pos}, got {got[:1]!r}")
        self._pos += 1

    def _next_of(self, chars: str) -> str:
        got = self._peek()
        if not got or got not in chars:
            raise JSONStreamError(f"expected one of {chars!r} at character {self._pos}, got {got!r}")
        self._pos += 1
        return got

    def _value(self) -> Any:
        """One complete JSON value at the current position, read as far as needed (doubling).

        The text of the previous value tells how much to have before the first try: elements of a
        page are alike in size, so most are parsed once instead of failing on a partial text first.
        """
        self._peek()
        if len(self._buf) - self._pos < self._hint:
            self._grow(self._hint)
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._eof:
                    raise JSONStreamError(f"{exc.msg} at character {exc.pos}") from None
            except ValueError as exc:  # NaN refused by parse_constant, a number too long to convert
                raise JSONStreamError(str(exc)[:80]) from None
            else:
                # A number that ends exactly at the end of what has arrived may go on.
                if end < len(self._buf) or self._eof:
                    self._hint = min(self._max, end - self._pos)
                    self._pos = end
                    if end > KEEP_READ_TEXT:  # a large element's text goes before it is handed on
                        self._buf, self._pos = self._buf[end:], 0
                    return value
            self._grow()

    def _grow(self, want: int = 0) -> None:
        """Read until the text from the current position is `want` long, by default double what it is
        (or the body ends); the pieces are joined once, so n characters cost O(n) copying."""
        pieces = [self._buf[self._pos :]]
        have = len(pieces[0])
        want = want or 2 * max(1, have)
        while have < want:
            text = self._read()
            if text is None:
                break
            pieces.append(text)
            have += len(text)
            if have > self._max:
                raise ElementTooLarge(self._max)
        self._buf, self._pos = "".join(pieces), 0

    def _more(self) -> bool:
        """Append the next chunk, dropping what was consumed; False at the end of the body."""
        text = self._read()
        if text is None:
            return False
        self._buf, self._pos = self._buf[self._pos :] + text, 0
        return True

    def _read(self) -> str | None:
        """The next decoded chunk of text, None at the end of the body."""
        if self._eof:
            return None
        try:
            chunk = next(self._chunks, None)
            text = self._text.decode(chunk or b"", final=chunk is None)
        except UnicodeDecodeError:
            raise JSONStreamError("the body is not UTF-8") from None
        if chunk is None:
            self._eof = True
            return text or None
        return text
