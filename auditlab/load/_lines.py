"""Text chunks to a frame of lines, for the line-oriented loaders (auditd, syslog)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from auditlab.load._batch import decode_text

if TYPE_CHECKING:
    from auditlab.load._io import Chunk

__all__ = ["LINE_SCHEMA", "lines_frame"]

LINE_SCHEMA = {"line": pl.Int64, "offset": pl.Int64, "text": pl.String, "error": pl.String}
_BOM = b"\xef\xbb\xbf"


def lines_frame(chunk: Chunk, *, text_file: bool = False) -> pl.DataFrame:
    """``line``, ``offset``, ``text`` and ``error`` (invalid UTF-8) of the chunk's non-blank lines.

    With ``text_file``, a line is read as a text editor would: the CR of a CRLF line break is not part of the line,
    nor is a byte-order mark at the start of the file. Without it, every byte but the LF stays in ``text``.
    """
    data, start = chunk.data, chunk.offset
    if text_file and start == 0 and data.startswith(_BOM):
        data, start = data[len(_BOM):], len(_BOM)
    if not data:
        return pl.DataFrame(schema=LINE_SCHEMA)
    expected = data.count(b"\n") + (not data.endswith(b"\n"))
    text: pl.Series | None = None
    error: pl.Series | None = None
    if b"\x00" not in data and b"\r" not in data:  # the CSV reader drops CR and stops at NUL: avoid both
        try:
            text = pl.read_csv(data, has_header=False, separator="\x00", quote_char=None, new_columns=["text"],
                               infer_schema=False, raise_if_empty=False).to_series()
        except pl.exceptions.ComputeError:  # invalid UTF-8
            text = None
        if text is not None and text.len() != expected:
            text = None
    if text is None:
        parts = data.split(b"\n")
        if data.endswith(b"\n"):
            parts.pop()
        sizes = pl.Series([len(p) for p in parts], dtype=pl.Int64)
        if text_file:
            parts = [p[:-1] if p.endswith(b"\r") else p for p in parts]
        decoded = [decode_text(p) for p in parts]
        text = pl.Series("text", [t for t, _ in decoded], dtype=pl.String)
        error = pl.Series("error", [e for _, e in decoded], dtype=pl.String)
    else:
        text = text.fill_null("")
        sizes = text.str.len_bytes().cast(pl.Int64)
    ends = (sizes + 1).cum_sum()
    frame = pl.DataFrame({
        "line": pl.int_range(chunk.line, chunk.line + len(text), dtype=pl.Int64, eager=True),
        "offset": ends - (sizes + 1) + start,
        "text": text,
        "error": error if error is not None else pl.Series("error", [None] * len(text), dtype=pl.String),
    })
    return frame.filter(pl.col("text").str.strip_chars(" \t\r\x0b\x0c") != "")
