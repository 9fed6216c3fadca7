"""Damage for property tests of JSON loaders: mutations of real samples, and the record accounting they must keep.

The accounting, checked by :func:`check_json_lines` and :func:`check_array`:

- **JSON lines**: however the lines after the first are cut, duplicated, flipped or broken by blank and stray lines,
  there is exactly one row per non-blank line (blank: empty or ASCII whitespace only, as ``bytes.isspace``), in
  order, with the line's number, byte offset and text (less a final CR). A line the standard library cannot parse
  is a parse_error row; a row without parse_error is a line it parses into a record (``is_record``).
- **Arrays** (the first byte, ``[``, stays): every record that ends before the first changed byte loads unchanged
  (text, offset, id); at most one row reports the broken document, last, holding the rest of the file; nothing is
  dropped: every row's raw is the text at its offset (verbatim, or with ``\\xNN`` for invalid UTF-8), the rows
  follow each other without overlapping, and only whitespace, commas and brackets lie between them. A cut is
  exact: the records that end before the cut, plus one row for the rest unless the cut falls after the closing
  bracket. (A damaged array may hold more values than the original had records: a duplicated closing brace ends a
  record early, and what follows becomes values of its own.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

import auditlab as al

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl

Mutation = tuple[str, float, int]


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    """A mutation, drawn small (the mutated bytes would make huge reprs): kind, where (0..1 of the span), a byte."""
    kind = draw(st.sampled_from(["cut", "duplicate", "flip", "blank", "stray"]))
    return kind, draw(st.floats(min_value=0, max_value=1, exclude_max=True)), draw(st.integers(1, 255))


def mutate(data: bytes, start: int, mutation: Mutation) -> tuple[bytes, int]:
    """Change ``data`` at or after ``start``; returns the new bytes and the offset of the first change.

    cut: the file ends there; duplicate: the line there is written twice; flip: a byte changes; blank: a line of
    whitespace is inserted; stray: a line of three equal bytes (maybe not UTF-8) is inserted.
    """
    kind, where, byte = mutation
    at = start + int(where * (len(data) - start))
    begin = max(data.rfind(b"\n", 0, at) + 1, start)
    end = data.find(b"\n", at)
    end = len(data) if end < 0 else end + 1
    if kind == "cut":
        return data[:at], at
    if kind == "duplicate":
        return data[:end] + data[begin:end] + data[end:], end
    if kind == "flip":
        return data[:at] + bytes([(data[at] + byte) % 256]) + data[at + 1 :], at
    if kind == "blank":
        return data[:begin] + b" \t\r\n"[: 1 + byte % 4] + b"\n" + data[begin:], begin
    return data[:begin] + bytes([byte]) * 3 + b"\n" + data[begin:], begin


def check_damaged_lines(
    original: bytes, mutation: Mutation, folder: Path, fmt: str, is_record: Callable[[Any], bool]
) -> None:
    """Mutate JSON lines after the first line (so the layout stays), load them as ``fmt``, check the accounting."""
    data, _ = mutate(original, original.index(b"\n") + 1, mutation)
    path = folder / "damaged.jsonl"
    path.write_bytes(data)
    check_json_lines(al.load(path, format=fmt, progress=False), data, is_record)


def check_damaged_array(original: bytes, key: str, mutation: Mutation, folder: Path, fmt: str) -> None:
    """Mutate an ASCII JSON array after its ``[`` (so the layout stays), load it as ``fmt``, check the accounting.

    ``key`` names each record's id, compared with ``source_record_uid``.
    """
    data, changed = mutate(original, 1, mutation)
    path = folder / "damaged.json"
    path.write_bytes(data)
    frame = al.load(path, format=fmt, progress=False)
    check_array(frame, data, original, changed, mutation, array_spans(original.decode(), key))


def check_json_lines(frame: pl.DataFrame, data: bytes, is_record: Callable[[Any], bool]) -> None:
    """Assert the JSON-lines accounting of ``frame``, loaded from ``data``."""
    lines, offsets, at = data.split(b"\n"), [], 0
    for line in lines:
        offsets.append(at)
        at += len(line) + 1
    kept = [(i, line) for i, line in enumerate(lines) if line and not line.isspace()]
    assert frame.height == len(kept)
    assert frame["source_line"].to_list() == [i + 1 for i, _ in kept]
    assert frame["source_offset"].to_list() == [offsets[i] for i, _ in kept]
    for (_, line), (raw, error) in zip(kept, frame.select("raw", "parse_error").iter_rows(), strict=True):
        text = line.removesuffix(b"\r")
        try:
            value = json.loads(text)
        except ValueError:  # also invalid UTF-8
            assert error is not None
            continue
        if error is None:
            assert is_record(value), text
        if error is None or "UTF-8" not in error:
            assert raw == text.decode()


def array_spans(text: str, key: str) -> list[tuple[int, int, Any]]:
    """(start, end, record[key]) of each record of a JSON array, found with the standard library."""
    decoder, spans, pos = json.JSONDecoder(), [], text.index("[") + 1
    while True:
        while text[pos] in " \t\r\n,":
            pos += 1
        if text[pos] == "]":
            return spans
        value, end = decoder.raw_decode(text, pos)
        spans.append((pos, end, value[key]))
        pos = end


def row_spans(frame: pl.DataFrame, data: bytes) -> list[tuple[int, int]]:
    """The byte span of each row's raw in ``data``: verbatim, or decoded with ``\\xNN`` escapes (invalid UTF-8)."""
    rows = frame.select("raw", "source_offset").rows()
    spans = []
    for i, (raw, offset) in enumerate(rows):
        text = raw.encode()
        if data[offset : offset + len(text)] == text:
            spans.append((offset, offset + len(text)))
            continue
        limit = rows[i + 1][1] if i + 1 < len(rows) else len(data)  # the span ends before the next row starts
        end = next((e for e in range(limit, offset, -1)
                    if data[offset:e].decode("utf-8", "backslashreplace") == raw), None)
        assert end is not None, f"row {i}: raw is not the text at offset {offset}"
        spans.append((offset, end))
    return spans


def check_array(frame: pl.DataFrame, data: bytes, original: bytes, changed: int, mutation: Mutation,
                spans: list[tuple[int, int, Any]]) -> None:
    """Assert the array accounting of ``frame``, loaded from ``data`` (``original`` changed at ``changed``).

    ``spans`` are the original's records as byte spans (an ASCII original: characters are bytes) with their ids,
    compared with ``source_record_uid``. Nothing is dropped: the rows' raw texts lie in the file in order, without
    overlapping, and what lies between them is only whitespace, commas and brackets.
    """
    before = [s for s in spans if s[1] <= changed]
    rows = frame.head(len(before))
    assert rows["source_record_uid"].to_list() == [s[2] for s in before]
    assert rows["source_offset"].to_list() == [s[0] for s in before]
    assert rows["parse_error"].null_count() == len(before)
    broken = [i for i, e in enumerate(frame["parse_error"].to_list()) if e and e.startswith("JSON document broken")]
    assert broken in ([], [frame.height - 1])
    covered = row_spans(frame, data)
    if broken:  # the rest of the file
        assert covered[-1][1] == len(data)
    gaps, at = [], 0
    for start, end in covered:
        assert start >= at
        gaps.append(data[at:start])
        at = end
    gaps.append(data[at:])
    assert set(b"".join(gaps)) <= set(b" \t\r\n,[]"), gaps
    if mutation[0] == "cut":  # exact
        closing = original.rindex(b"]")
        assert frame.height == len(before) + (1 if len(data) <= closing else 0)
