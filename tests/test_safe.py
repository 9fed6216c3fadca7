"""Log-derived text shown on a terminal or in HTML cannot carry control or escape sequences."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditlab._safe import html_text, terminal_text

HOSTILE = [
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b]0;owned\x07",  # retitle the terminal window
    "\x9b31m",  # one-byte CSI (C1)
    "root\rnobody",  # overwrite the start of the line
    "line\nforged line",
    "\u202egnp.exe",  # right-to-left override
    "\x00\x08\x7f",
    "\ud800",  # a lone surrogate cannot even be encoded for output
]


@pytest.mark.parametrize("text", HOSTILE)
def test_no_control_character_survives(text: str) -> None:
    out = terminal_text(text)
    assert all(ch.isprintable() for ch in out), out
    out.encode("utf-8")  # a lone surrogate would raise here


def test_escapes_are_visible_and_name_the_character() -> None:
    assert terminal_text("a\x1b[31mb\rc") == "a\\x1b[31mb\\rc"
    assert terminal_text("\u202e") == "\\u202e"
    assert terminal_text("tab\tnew\nline") == "tab\\tnew\\nline"


def test_ordinary_text_is_unchanged() -> None:
    text = "Zoë runs /usr/bin/ls -la 日本語 C:\\Windows\\System32"
    assert terminal_text(text) == text
    assert terminal_text(42) == "42"
    assert terminal_text(None) == ""


def test_html_escapes_markup_and_controls() -> None:
    out = html_text('<script>alert("x")</script>\x1b[1m')
    assert "<" not in out
    assert ">" not in out
    assert '"' not in out
    assert "\x1b" not in out
    assert out == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\\x1b[1m"


@given(st.text())
def test_any_text_becomes_printable(text: str) -> None:
    out = terminal_text(text)
    assert out.isprintable()
    assert "\x1b" not in html_text(text)
    assert "<" not in html_text(text)
