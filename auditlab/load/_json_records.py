"""JSON records with provenance: JSON lines, JSON arrays and wrapped documents such as ``{"Records": [...]}``.

Loaders of JSON sources (CloudTrail today) read their records through :func:`read`, which tells the layout of a
file from its content and yields batches of records, each with its verbatim text, hash, line or record index, byte
offset, error, and the loader's ``convert`` of the parsed value (orjson), called while the record is fresh in the
CPU cache. :class:`Fields` turns a declarative map of paths into a fast ``convert``.

Layouts:

- **JSON lines**: one value per line; blank lines are skipped. ``line`` is the line number, ``offset`` the byte
  offset of the line, ``raw`` the line (without its line break).
- **Documents**: a JSON array of records, or an object whose first member is a records array (``{"Records":
  [...]}``; the member names are the loader's ``wrappers``), or a stream of such documents or bare values
  written one after another, pretty-printed or not. ``line`` is the 1-based index of the record in the file,
  ``offset`` the byte offset of its first byte in the decompressed file, ``raw`` its verbatim text. The record
  boundaries come from :meth:`json.JSONDecoder.raw_decode`; each record's text is then parsed by orjson.

Damage never stops a load. A line that is not valid JSON becomes a record with ``error`` set. In a document, the
first place where the JSON breaks (a file cut short, a flipped byte) ends the document: the records before it load,
and exactly one error record holds the rest of the file as its ``raw``. Invalid UTF-8 is decoded with ``\\xNN``
escapes into ``raw``, parsed with U+FFFD in place of the bad bytes, and flagged in ``error``. A JSON line nested
deeper than orjson's limit (1024) is an error record; in a document, nesting beyond what the standard library's
scanner allows (the interpreter's recursion limit) is where the document breaks. A read error of the stream (corrupt
compression) adds one error record, after what was read, naming the file and the position.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson

from auditlab.load._batch import decode_text
from auditlab.load._io import CHUNK_BYTES, iter_chunks

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from auditlab.load._io import Chunk, Source

__all__ = ["Fields", "JsonRecords", "gc_paused", "read"]

_BOM = b"\xef\xbb\xbf"
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_LOOKAHEAD = 256  # characters of a document kept in view to recognise a wrapper such as {"Records": [


def _unchanged(value: Any) -> Any:
    return value


@dataclass
class JsonRecords:
    """A batch of records of one source, as parallel lists."""

    convert: Callable[[Any], Any] = _unchanged
    raw: list[bytes] = field(default_factory=list)
    """The verbatim text, as valid UTF-8 (invalid bytes written ``\\xNN``, as :func:`decode_text` does)."""
    raw_sha256: list[str] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    offset: list[int] = field(default_factory=list)
    value: list[Any] = field(default_factory=list)
    """``convert`` of the parsed JSON value (``convert`` owns it); None where the text is not JSON (see ``error``)."""
    error: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.raw)

    def add(self, raw: bytes | str, line: int, offset: int, error: str | None = None) -> None:
        """Add one record from its verbatim text (parsed here unless ``error`` is given)."""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
        text, bad_utf8 = decode_text(data)
        value = None
        if error is None:
            try:
                value = self.convert(orjson.loads(data if bad_utf8 is None else data.decode("utf-8", "replace")))
            except orjson.JSONDecodeError as exc:
                error = f"invalid JSON: {exc}"
            if bad_utf8 is not None:
                error = bad_utf8 if error is None else f"{bad_utf8}; {error}"
        elif bad_utf8 is not None:
            error = f"{error}; {bad_utf8}"
        clean = data if bad_utf8 is None else text.encode("utf-8")
        self.raw.append(clean)
        self.raw_sha256.append(hashlib.sha256(clean).hexdigest())
        self.line.append(line)
        self.offset.append(offset)
        self.value.append(value)
        self.error.append(error)


class Fields:
    """A declarative map of paths into JSON objects, compiled into a fast per-record ``row``.

    A path is a tuple of steps: a string is a member of an object, an integer an index into an array. A value
    that is missing, or under a step that does not fit (a member of a string, say), is None.

    Examples:
        >>> fields = Fields({"name": ("eventName",), "user": ("userIdentity", "userName"),
        ...                  "arn": ("resources", 0, "ARN")})
        >>> fields.row({"eventName": "CreateUser", "userIdentity": {"userName": "alice"}, "resources": [{"ARN": "x"}]})
        ('CreateUser', 'alice', 'x')
        >>> fields.row({"userIdentity": "not an object"})
        (None, None, None)
    """

    def __init__(self, paths: Mapping[str, tuple[str | int, ...]]) -> None:
        self.names = tuple(paths)
        slots: dict[tuple[str | int, ...], int] = {}
        children: dict[tuple[str | int, ...], list[str | int]] = {}
        for path in paths.values():
            for depth in range(1, len(path)):
                steps = children.setdefault(path[:depth], [])
                if path[depth] not in steps:
                    steps.append(path[depth])
        self._top = tuple(dict.fromkeys(str(path[0]) for path in paths.values()))
        slots.update({(key,): i for i, key in enumerate(self._top)})
        plan: list[tuple[int, tuple[str, ...] | int]] = []
        for parent in sorted(children, key=len):  # a parent's slot exists before its children are read
            steps = children[parent]
            if isinstance(steps[0], int):
                if len(steps) != 1:
                    raise ValueError(f"one index per array is supported, got {steps} under {parent}")
                plan.append((slots[parent], steps[0]))
            else:
                plan.append((slots[parent], tuple(str(s) for s in steps)))
            for step in steps:
                slots[(*parent, step)] = len(slots)
        self._plan = tuple((slot, keys, None if isinstance(keys, int) else (None,) * len(keys)) for slot, keys in plan)
        self._pick = itemgetter(*(slots[path] for path in paths.values()))

    def row(self, record: dict[str, Any]) -> tuple[Any, ...]:
        """The values of the fields in ``record``, in the order of the map."""
        values = list(map(record.get, self._top))
        extend = values.extend
        for slot, keys, nones in self._plan:
            node = values[slot]
            if nones is None:  # an index into an array
                values.append(node[keys] if type(node) is list and len(node) > keys else None)  # type: ignore[index]
            elif type(node) is dict:
                extend(map(node.get, keys))  # type: ignore[arg-type]
            else:
                extend(nones)
        picked = self._pick(values)
        return picked if type(picked) is tuple else (picked,)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is read and turned into a frame.

    Parsed records are many small acyclic containers that reference counting frees; letting the collector scan
    them again and again as they pile up costs more than parsing them (2.5x on 500,000 CloudTrail records). The
    caller pauses around reading a batch *and* dropping it, never across a ``yield`` to its own caller (and the
    readers here keep no reference to a batch they yielded, so that it is gone when the collector resumes)::

        with gc_paused():
            batch = next(batches, None)
            frame = build(batch)
            del batch
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read(
    source: Source,
    *,
    batch_rows: int,
    wrappers: Sequence[str] = ("Records",),
    convert: Callable[[Any], Any] = _unchanged,
) -> Iterator[JsonRecords]:
    """Read the JSON records of a source in batches of at most ``batch_rows``, in file order.

    Args:
        source: the input file.
        batch_rows: the most records a batch holds.
        wrappers: names of the member whose array holds the records when a document is an object.
        convert: applied to each parsed value (it must not raise); its result is the batch's ``value``.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from auditlab.load._io import Source
        >>> path = Path(tempfile.mkdtemp()) / "records.json"
        >>> _ = path.write_text('{"Records": [{"a": 1},\\n {"a": 2}]}')
        >>> [(b.line, b.offset, b.raw) for b in read(Source(path, None), batch_rows=10)]
        [([1, 2], [13, 24], [b'{"a": 1}', b'{"a": 2}'])]
    """
    chunks = iter_chunks(source, CHUNK_BYTES)
    first = next(chunks, None)
    if first is None:
        return
    chunks = chain([first], chunks)
    if _is_document(first.data, wrappers):
        yield from _documents(chunks, batch_rows, wrappers, convert)
    else:
        yield from _lines(chunks, batch_rows, convert)


def _is_document(head: bytes, wrappers: Sequence[str]) -> bool:
    """Whether a file holds JSON documents (arrays, wrapper objects, pretty-printed values) rather than JSON lines.

    JSON lines start with a line that is a whole JSON value; a pretty-printed object starts with a line that is
    just ``{``. Any other first line is taken for a damaged JSON line, so that one bad first line does not turn a
    JSON-lines file into one broken document.
    """
    text = head[: 1 << 16].removeprefix(_BOM).lstrip()
    if text.startswith(b"["):
        return True
    if _wrapper(wrappers).match(text[:_LOOKAHEAD].decode("utf-8", "replace")):
        return True
    return text.partition(b"\n")[0].strip() == b"{"


def _wrapper(wrappers: Sequence[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(w) for w in wrappers)
    return re.compile(rf'\{{[ \t\n\r]*"(?:{names})"[ \t\n\r]*:[ \t\n\r]*\[')


# ---------------------------------------------------------------------------------------------------- JSON lines


def _lines(chunks: Iterator[Chunk], batch_rows: int, convert: Callable[[Any], Any]) -> Iterator[JsonRecords]:
    for chunk in chunks:
        data = chunk.data
        skip = len(_BOM) if chunk.offset == 0 and data.startswith(_BOM) else 0
        lines = data[skip:].split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        offsets = [chunk.offset + skip]
        for line in lines:
            offsets.append(offsets[-1] + len(line) + 1)
        for start in range(0, len(lines), batch_rows):
            box = [_read_lines(lines, offsets, chunk.line, start, min(start + batch_rows, len(lines)), convert)]
            if box[0]:
                yield box.pop()  # handed over: this frame keeps no reference (see gc_paused)
        if chunk.error is not None:
            error = JsonRecords(convert)
            error.add(b"", chunk.line + data.count(b"\n"), chunk.offset + len(data), error=chunk.error)
            yield error


def _read_lines(
    lines: list[bytes], offsets: list[int], first_line: int, start: int, stop: int, convert: Callable[[Any], Any]
) -> JsonRecords:
    """Parse ``lines[start:stop]``; the fast path handles clean UTF-8 JSON, anything else goes through ``add``."""
    out = JsonRecords(convert)
    raw, sha, line_no, offset, value, error = out.raw, out.raw_sha256, out.line, out.offset, out.value, out.error
    loads, sha256, decode_error = orjson.loads, hashlib.sha256, orjson.JSONDecodeError
    for i in range(start, stop):
        line = lines[i]
        if not line or line.isspace():
            continue
        if line[-1] == 13:  # a CRLF line break: the CR is not part of the record
            line = line[:-1]
        try:
            parsed = loads(line)  # orjson also checks that the whole line is UTF-8
        except decode_error:
            out.add(line, first_line + i, offsets[i])
            continue
        raw.append(line)
        sha.append(sha256(line).hexdigest())
        line_no.append(first_line + i)
        offset.append(offsets[i])
        value.append(convert(parsed))
        error.append(None)
    return out


# ----------------------------------------------------------------------------------------------------- documents


class _Text:
    """The decoded text of a stream of chunks, consumed left to right, with byte offsets.

    Invalid UTF-8 bytes are kept as lone surrogates (``surrogateescape``), so that every character maps back to
    the exact bytes it came from.
    """

    def __init__(self, chunks: Iterator[Chunk]) -> None:
        self._chunks = chunks
        self.text = ""
        self.pos = 0
        self.read_error: str | None = None
        self._ascii = True
        self._mark = (0, 0)  # (character index, byte offset) of the last offset computed

    def more(self) -> bool:
        """Append the next chunk, dropping the consumed text; False at the end of the stream."""
        if self.read_error is not None:
            return False
        chunk = next(self._chunks, None)
        if chunk is None:
            return False
        base = self.offset(self.pos)
        rest = self.text[self.pos :]
        start = len(_BOM) if chunk.offset == 0 and chunk.data.startswith(_BOM) else 0
        self.text = rest + chunk.data[start:].decode("utf-8", "surrogateescape")
        self._ascii = self.text.isascii()
        self.pos = 0
        self._mark = (0, base + start)
        self.read_error = chunk.error
        return len(chunk.data) > start or chunk.error is None

    def offset(self, index: int) -> int:
        """The byte offset in the decompressed stream of ``self.text[index]``."""
        char, byte = self._mark
        if self._ascii:
            return byte + index - char
        if index < char:
            char, byte = 0, byte - _utf8_len(self.text[:char])
        byte += _utf8_len(self.text[char:index])
        self._mark = (index, byte)
        return byte

    def peek(self) -> str | None:
        """Skip whitespace and return the next character (not consumed); None at the end of the stream."""
        while True:
            self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return None

    def ahead(self, size: int) -> str:
        """At least ``size`` characters from the current position (fewer at the end of the stream)."""
        while len(self.text) - self.pos < size and self.more():
            pass
        return self.text[self.pos : self.pos + size]

    def value_end(self) -> int:
        """The end index of the JSON value at the current position, reading on as needed.

        Raises:
            ValueError: the text is not JSON (``json.JSONDecodeError``) even with the whole stream in view.
            RecursionError: the value nests deeper than the interpreter allows.
        """
        while True:
            try:
                return _DECODER.raw_decode(self.text, self.pos)[1]
            except (ValueError, RecursionError):  # noqa: PERF203 - the exception is the signal to read on
                if not self.more():
                    raise

    def rest(self) -> str:
        """Everything from the current position to the end of the stream (consumed)."""
        while self.more():
            pass
        out = self.text[self.pos :]
        self.pos = len(self.text)
        return out


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


class _Damaged(Exception):
    """The JSON of a document breaks at ``index`` (a character index of the current text)."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def _documents(
    chunks: Iterator[Chunk], batch_rows: int, wrappers: Sequence[str], convert: Callable[[Any], Any]
) -> Iterator[JsonRecords]:
    text = _Text(chunks)
    batch = JsonRecords(convert)
    count = 0
    for start, raw, error in _scan(text, _wrapper(wrappers)):
        count += 1
        batch.add(raw, count, start, error=error)
        if len(batch) >= batch_rows:
            box, batch = [batch], JsonRecords(convert)
            yield box.pop()  # handed over: this frame keeps no reference (see gc_paused)
    if text.read_error is not None:
        batch.add(b"", count + 1, text.offset(len(text.text)), error=text.read_error)
    if batch:
        yield batch


def _scan(text: _Text, wrapper: re.Pattern[str]) -> Iterator[tuple[int, str, str | None]]:
    """Yield ``(byte offset, verbatim text, error)`` for each record of the documents in ``text``."""
    try:
        while (char := text.peek()) is not None:
            if char == "[":
                text.pos += 1
                yield from _array(text)
            elif match := wrapper.match(text.ahead(_LOOKAHEAD)):
                text.pos += match.end()
                yield from _array(text)
                _members(text)
            else:  # a bare value: records written one after another
                yield _record(text)
    except _Damaged as damage:
        where = text.offset(damage.index)
        start = text.offset(text.pos)
        rest = text.rest()
        yield start, rest, f"JSON document broken at byte {where}: {damage.reason}; the rest of the file is in raw"


def _record(text: _Text) -> tuple[int, str, None]:
    """The next JSON value (after whitespace), consumed."""
    if text.peek() is None:
        raise _Damaged(text.pos, "the document ends early")
    try:
        end = text.value_end()
    except RecursionError:
        raise _Damaged(text.pos, "nesting too deep") from None
    except ValueError as exc:  # json.JSONDecodeError, with the position where the JSON breaks
        raise _Damaged(getattr(exc, "pos", text.pos), getattr(exc, "msg", str(exc))) from None
    start = text.pos
    text.pos = end
    return text.offset(start), text.text[start:end], None


def _array(text: _Text) -> Iterator[tuple[int, str, None]]:
    """The records of an array whose ``[`` was consumed, up to and including its ``]``."""
    if text.peek() == "]":
        text.pos += 1
        return
    while True:
        yield _record(text)
        char = text.peek()
        if char is None:
            raise _Damaged(text.pos, "the document ends inside an array")
        text.pos += 1
        if char == "]":
            return
        if char != ",":
            text.pos -= 1
            raise _Damaged(text.pos, f"expected ',' or ']', found {char!r}")


def _members(text: _Text) -> None:
    """Skip the members after a wrapper's records array (such as a NextToken), up to and including the ``}``."""
    while (char := text.peek()) == ",":
        text.pos += 1
        for expected in ('"', ":"):
            if text.peek() != expected:
                raise _Damaged(text.pos, f"expected {expected!r} in the document's object")
            if expected == '"':
                _record(text)
            else:
                text.pos += 1
        _record(text)
    if char != "}":
        raise _Damaged(text.pos, "the document's object is not closed")
    text.pos += 1
