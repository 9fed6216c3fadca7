"""Making log-derived text safe to show: on a terminal, and in HTML.

Audit logs are written by attackers too. A user name, a command line or a file name can hold ANSI escape
sequences (which recolour, move the cursor, retitle the window or hide the lines above), a carriage return (which
lets a line overwrite itself), or bidirectional overrides (which reorder what is shown). Everything that shows a
log-derived string goes through :func:`terminal_text` or :func:`html_text`.
"""

from __future__ import annotations

import html

__all__ = ["html_text", "terminal_text"]

_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def terminal_text(value: object) -> str:
    r"""Text that is safe to print on a terminal: every character Python does not call printable is escaped.

    That is control characters (ESC, CR, LF, BEL, the one-byte CSI ``\x9b``...), format characters (bidirectional
    overrides, zero-width characters), separators other than the space, surrogates and unassigned code points;
    each becomes a visible escape such as ``\x1b``, ``\r`` or ``\u202e``.

    ``None`` becomes the empty string; other values are converted with :func:`str` first.

    Examples:
        >>> terminal_text("alice\x1b[2J\rroot")
        'alice\\x1b[2J\\rroot'
        >>> print(terminal_text("evil\u202eexe.txt"))
        evil\u202eexe.txt
        >>> terminal_text(None)
        ''
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def html_text(value: object) -> str:
    r"""Text that is safe in HTML (element content or a quoted attribute), with controls made visible as well.

    Examples:
        >>> html_text('<img src=x onerror="alert(1)">')
        '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
        >>> html_text("a\x1b[31mb")
        'a\\x1b[31mb'
    """
    return html.escape(terminal_text(value), quote=True)
