"""`.env` files: KEY=VALUE lines, `#` comments, quotes and `export `, as shells read them.

A malformed line is refused by its line number only: the line itself may hold a secret.
"""

from __future__ import annotations

import re
from pathlib import Path

_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class EnvFileError(ValueError):
    """A .env file cannot be read or has a malformed line (the message never quotes it)."""


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a .env file; a missing file is empty ({})."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvFileError(f"cannot read {path}: {exc.__class__.__name__}") from None
    return parse_env(content, source=str(path))


def parse_env(content: str, source: str = ".env") -> dict[str, str]:
    """The KEY=VALUE pairs of .env text; the last assignment of a key wins."""
    out: dict[str, str] = {}
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY_RE.fullmatch(key):
            raise EnvFileError(f"{source}, line {number}: expected KEY=VALUE")
        out[key] = _env_value(value.strip(), source, number)
    return out


def _env_value(value: str, source: str, number: int) -> str:
    if value[:1] in {'"', "'"}:
        quote = value[0]
        end, i = -1, 1
        while i < len(value):
            if quote == '"' and value[i] == "\\":
                i += 2  # an escaped character never closes the string
                continue
            if value[i] == quote:
                end = i
                break
            i += 1
        if end < 0:
            raise EnvFileError(f"{source}, line {number}: unclosed {quote} quote")
        rest = value[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise EnvFileError(f"{source}, line {number}: text after the closing quote")
        inner = value[1:end]
        if quote == '"':
            inner = re.sub(r'\\([\\"nt])', lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), inner)
        return inner
    hash_at = value.find(" #")
    return (value[:hash_at] if hash_at >= 0 else value).strip()
