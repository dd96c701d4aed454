""".env files: what shells accept is read the same way; a malformed line is never echoed."""

from __future__ import annotations

import pytest

from fotorobot.envfile import EnvFileError, parse_env

TOKEN = "123456789:AAHsecretPartOfTheToken-xyz_987"


def test_env_parser() -> None:
    content = """
# a comment
   # an indented comment

export TELEGRAM_BOT_TOKEN=123:abc
PLAIN = value with spaces   # trailing comment
HASH_IN_VALUE=a#b
DOUBLE="quoted # not a comment"
ESCAPES="line\\nnext \\"q\\" back\\\\slash"
EMPTY=
EQUALS=a=b=c
QUOTED_THEN_COMMENT="x"  # fine
"""
    assert parse_env(content) == {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "PLAIN": "value with spaces",
        "HASH_IN_VALUE": "a#b",
        "DOUBLE": "quoted # not a comment",
        "ESCAPES": 'line\nnext "q" back\\slash',
        "EMPTY": "",
        "EQUALS": "a=b=c",
        "QUOTED_THEN_COMMENT": "x",
    }


def test_env_parser_single_quotes_are_literal() -> None:
    assert parse_env("A='raw \\n $HOME'") == {"A": "raw \\n $HOME"}


def test_env_parser_escaped_backslash_before_the_quote() -> None:
    assert parse_env('A="x\\\\"  # c') == {"A": "x\\"}
    assert parse_env('A="say \\"hi\\""') == {"A": 'say "hi"'}


def test_env_parser_crlf_and_last_value_wins() -> None:
    assert parse_env("A=1\r\nA=2\r\n") == {"A": "2"}


@pytest.mark.parametrize(
    "line",
    ["no equals sign", "1BAD=x", "BAD KEY=x", "=x", 'A="unclosed', "A='x' trailing"],
)
def test_env_parser_refuses_malformed_lines(line: str) -> None:
    with pytest.raises(EnvFileError, match="line 2"):
        parse_env("OK=1\n" + line)


def test_env_parser_never_echoes_the_line() -> None:
    with pytest.raises(EnvFileError) as info:
        parse_env(f"TELEGRAM_BOT_TOKEN {TOKEN}")
    assert TOKEN not in str(info.value)
