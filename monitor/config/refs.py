"""`${ENV_VAR}` and `${file:/path}` references, so secrets live in the environment or in files, not in YAML.

A reference may stand alone (`api_key: ${OPENAI_ADMIN_KEY}`) or inside a longer string
(`url: https://hooks.example.com/${HOOK_TOKEN}`); `$${` writes a literal `${`. Errors name the
variable or file, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from monitor.config.values import Invalid
from monitor.yamlfile import read_bounded

_REFERENCE = re.compile(r"\$\$\{|\$\{([^{}]*)\}|\$\{")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE_HINT = "write ${ENV_VAR} or ${file:/path/to/secret}; $${ gives a literal ${"
MAX_SECRET_BYTES = 64 * 1024
"""The most a `${file:...}` secret file may hold (a key, a token, a password file): never /dev/zero."""


def has_reference(text: str) -> bool:
    """Whether the text uses `${` at all (cheap pre-check before `resolve`)."""
    return "${" in text


def resolve(text: str, environ: Mapping[str, str]) -> str:
    """Replace every reference in `text`; raises Invalid naming the first bad one.

    Files are read as UTF-8 with surrounding whitespace stripped (a secret file usually ends in a
    newline). Relative file paths are relative to the working directory, like storage.path.
    """
    pieces: list[str] = []
    last = 0
    for match in _REFERENCE.finditer(text):
        pieces.append(text[last : match.start()])
        last = match.end()
        whole, body = match.group(0), match.group(1)
        if whole == "$${":
            pieces.append("${")
        elif body is None:
            raise Invalid("unterminated reference '${' (no closing '}')", _REFERENCE_HINT)
        else:
            pieces.append(_lookup(body, environ))
    pieces.append(text[last:])
    return "".join(pieces)


def _lookup(body: str, environ: Mapping[str, str]) -> str:
    if body.startswith("file:"):
        path = body[len("file:") :].strip()
        if not path:
            raise Invalid("reference '${file:}' names no file", _REFERENCE_HINT)
        try:
            return read_bounded(Path(path).expanduser(), MAX_SECRET_BYTES).decode("utf-8").strip()
        except UnicodeDecodeError:
            raise Invalid(
                f"secret file '{path}' is not UTF-8 text", "store the secret as plain text"
            ) from None
        except ValueError:
            raise Invalid(
                f"secret file '{path}' is larger than {MAX_SECRET_BYTES:,} bytes",
                "a secret file holds one secret; check the ${file:...} path",
            ) from None
        except OSError as exc:
            raise Invalid(
                f"cannot read secret file '{path}': {exc.strerror or type(exc).__name__}",
                "create the file, make it readable by the daemon, or correct the ${file:...} path",
            ) from None
    if not _ENV_NAME.fullmatch(body):
        raise Invalid(f"invalid reference '${{{body}}}'", _REFERENCE_HINT)
    if body not in environ:
        raise Invalid(
            f"environment variable {body} is not set",
            f"export {body} before starting, or use ${{file:/path}} to read the secret from a file",
        )
    return environ[body]
