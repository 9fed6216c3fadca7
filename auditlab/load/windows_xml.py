"""Windows events as Event XML into the canonical events frame: one row per ``<Event>``.

The field map is the one every Windows serialization shares, documented in :mod:`auditlab.load._windows`
(System fields, who is the actor of a logon, event classes); rows have ``source_type = "evtx"``, the Windows
event log. Each event is read
into the shape the ``evtx`` parser gives, so that an event loads the same from XML as from its ``.evtx`` file (up to
types: in XML every value is text, so ``unmapped`` holds ``"Version": "0"`` where the parser writes ``0``).

Layouts, told from content, gzipped or not:

- one event per line (``<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">...</Event>``, as
  collectors forward them);
- a file of events, pretty-printed or not, optionally wrapped in ``<Events>`` (``wevtutil qe /f:xml``, Event
  Viewer's *Save as XML*), several on a line or one over many lines;
- Event Viewer's copy of the XML view, with ``- `` before the tags that open a block (``- <Event ...>``,
  ``- <System>``); the markers are text between elements, which XML allows and the reader ignores.

Files in UTF-16 (a byte-order mark) are read whole and decoded; ``source_offset`` is then the offset in the
UTF-16 bytes.

**Provenance.** ``raw`` is the verbatim XML of the event, from ``<Event`` to ``</Event>``; ``source_line`` the line
it starts on, ``source_offset`` the byte offset of its ``<``. ``source_seq`` is ``EventRecordID``.

**Bad input.** Events are parsed with :mod:`defusedxml` with DTDs forbidden: a ``<!DOCTYPE`` (the carrier of entity
bombs and external entities) is never read, let alone expanded, and an entity it would have declared is an
undefined entity. Each of these becomes a row with ``parse_error`` set and ``raw`` kept:

- an event that is not well-formed XML (a flipped byte, an undefined entity, a DTD in the event's line), or whose
  root is not ``Event``, or that nests deeper than the reader follows;
- an event cut short: ``<Event`` without ``</Event>`` before the next ``<Event`` or the end of the file, or within
  :data:`MAX_EVENT_BYTES`;
- text outside any event that is not whitespace, an XML declaration, a comment or the ``<Events>`` wrapper: one row
  per run of such text (a DTD gets a row that says it was refused);
- invalid UTF-8: the event is parsed with U+FFFD in place of the bad bytes, ``raw`` has them as ``\\xNN``, and the
  row says where the first one was;
- corrupt compression: what decompressed before the fault is read, and one row names the fault.

Control characters that Windows writes raw into values (an attacker's user name in a failed logon can carry
``\x1b``), which XML 1.0 forbids even as references, do not make an event unreadable: when parsing fails and such
characters are present, they are swapped for private-use characters absent from the event, parsed, and put back,
so the values load exactly as written.

Examples:
    >>> import auditlab as al
    >>> events = al.load("../shared/samples/windows_json_xml/crowdsec_windows-bf_4625_xml_per_line.xml")
    >>> events.select("event_code", "actor_user_name", "src_ip", "status_id", "source_line").row(0)
    ('4625', 'asdfasdf', '192.168.9.212', 2, 1)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from auditlab.load import _windows
from auditlab.load._batch import decode_text
from auditlab.load._io import iter_chunks
from auditlab.load._json_records import gc_paused

if TYPE_CHECKING:
    from collections.abc import Iterator
    from xml.etree.ElementTree import Element

    import polars as pl

    from auditlab.load._io import Source

__all__ = ["DESCRIPTION", "MAX_EVENT_BYTES", "NAME", "parse", "sniff"]

NAME = "windows_xml"
DESCRIPTION = "Windows events as Event XML (one per line, or a file of <Event> elements): one row per event"

MAX_EVENT_BYTES = 16 * 1024 * 1024
"""An ``<Event`` whose ``</Event>`` does not come within this many bytes is cut there (a parse_error row)."""

_START = re.compile(rb"<Event[\s>/]")
_END = re.compile(rb"</Event\s*>")
_SELF_CLOSED = re.compile(rb"<Event(?:\s[^<>]*)?/>")
_HARMLESS = re.compile(
    rb"(?:\s+|-(?=[ \t]+<)|<\?xml[^<>]*\?>|<!--.*?-->|<Events(?:\s[^<>]*)?>|</Events\s*>|<Events\s*/>)", re.DOTALL
)
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[<>]*(?:\[.*?\])?\s*>", re.DOTALL | re.IGNORECASE)
_BOM8 = b"\xef\xbb\xbf"
_SNIFF = re.compile(
    r"\A\ufeff?\s*(?:<\?xml[^<>]*\?>\s*)?(?:<!--.*?-->\s*)*(?:<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)?"
    r"(?:<!--.*?-->\s*)*(?:<Events(?:\s[^<>]*)?>\s*)?(?:-\s*)?<Event[\s>]",
    re.DOTALL,
)
_WINDOWS = re.compile(r"schemas\.microsoft\.com/win/2004/08/events/event|<System>|<EventID[\s>]")


def sniff(head: bytes) -> bool:
    """Whether a file starts with a Windows ``<Event>`` (after an XML declaration, comments or ``<Events>``).

    Examples:
        >>> sniff(b'<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>')
        True
        >>> sniff(b'<?xml version="1.0"?><Events><Event><System><EventID>4624</EventID>')
        True
        >>> sniff(b'<Event><Name>party</Name></Event>'), sniff(b'{"EventID": 4624}')
        (False, False)
    """
    text = _text(head)
    return bool(_SNIFF.match(text) and _WINDOWS.search(text))


def _text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[: len(head) // 2 * 2].decode("utf-16", "replace")
    return head.decode("utf-8", "replace")


def parse(source: Source, *, batch_rows: int) -> Iterator[pl.DataFrame]:
    """Read one Event XML file into canonical frames of at most ``batch_rows`` rows, one row per event."""
    batches = _Reader(source, batch_rows).batches()
    while True:
        with gc_paused():
            rows = next(batches, None)
            if rows is None:
                return
            frame = rows.frame(source.name)
            del rows
        yield frame


class _Reader:
    """Finds events in a stream of byte chunks and reads each one; the text around them is checked too."""

    def __init__(self, source: Source, batch_rows: int) -> None:
        self.source = source
        self.batch_rows = batch_rows
        self.rows = _windows.Rows()
        self.width = 1  # bytes per code unit: 2 for UTF-16 (offsets are in the file's bytes)
        self.bias = 0  # bytes before the text: a UTF-16 byte-order mark
        self._text = b""
        self._mark = (0, 0)

    def batches(self) -> Iterator[_windows.Rows]:
        buffer = b""
        base = 0  # byte offset of buffer[0] in the (UTF-8) stream
        line = 1  # line number of buffer[0]
        for data, offset, first_line, error, last in self._chunks():
            if not buffer:
                base, line = offset, first_line
            buffer += data
            consumed, line = self._scan(buffer, base, line, final=last)
            buffer = buffer[consumed:]
            base += consumed
            while len(self.rows) >= self.batch_rows:
                yield self.rows.split(self.batch_rows)
            if error is not None:
                self.rows.add_error("", line, self._offset(base), error)
        if self.rows:
            yield self.rows.split(len(self.rows))

    def _chunks(self) -> Iterator[tuple[bytes, int, int, str | None, bool]]:
        """``(bytes, offset, line, read error, last)``: the stream in UTF-8, in newline-aligned pieces."""
        chunks = iter_chunks(self.source)
        first = next(chunks, None)
        if first is None:
            return
        if first.data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: read whole, as UTF-8 with mapped offsets
            yield from self._utf16(first, chunks)
            return
        pending = first
        for chunk in chunks:
            yield pending.data, pending.offset, pending.line, pending.error, False
            pending = chunk
        yield pending.data, pending.offset, pending.line, pending.error, True

    def _utf16(self, first: Any, chunks: Iterator[Any]) -> Iterator[tuple[bytes, int, int, str | None, bool]]:
        parts, error = [first.data], first.error
        for chunk in chunks:
            parts.append(chunk.data)
            error = chunk.error or error
        data = b"".join(parts)
        text = data[: len(data) // 2 * 2].decode("utf-16", "replace")  # the BOM tells the byte order
        self.width, self.bias = 2, 2
        self._text = text.encode("utf-8", "surrogatepass")
        self._mark = (0, self.bias)
        yield self._text, 0, 1, error, True

    def _offset(self, utf8_offset: int) -> int:
        """The byte offset in the file of a position in the UTF-8 stream (the same, but for UTF-16 files)."""
        if self.width == 1:
            return utf8_offset
        at, file_offset = self._mark if utf8_offset >= self._mark[0] else (0, self.bias)
        piece = self._text[at:utf8_offset].decode("utf-8", "surrogatepass")
        file_offset += len(piece.encode("utf-16-le", "surrogatepass"))
        self._mark = (utf8_offset, file_offset)
        return file_offset

    # --- finding events

    def _scan(self, buffer: bytes, base: int, line: int, *, final: bool) -> tuple[int, int]:
        """Read the events of ``buffer``; the bytes consumed (an event not yet ended is left) and the line after."""
        pos = len(_BOM8) if base == 0 and buffer.startswith(_BOM8) else 0
        counted, at_line = 0, line  # line numbers, counted incrementally

        def line_of(index: int) -> int:
            nonlocal counted, at_line
            at_line += buffer.count(b"\n", counted, index)
            counted = index
            return at_line

        while True:
            start = _START.search(buffer, pos)
            gap_end = start.start() if start else len(buffer)
            if not start and not final:
                # keep the last line back: it may be the start of an event's first line
                cut = buffer.rfind(b"\n", pos) + 1
                gap_end = max(cut, pos)
            begin = self._gap(buffer, pos, gap_end, base, line_of, attach=start is not None)
            if start is None:
                if final or gap_end == len(buffer):
                    return len(buffer), line_of(len(buffer))
                return gap_end, line_of(gap_end)
            begin = min(begin, start.start())
            closed = _SELF_CLOSED.match(buffer, start.start())
            end = _END.search(buffer, start.end())
            following = _START.search(buffer, start.end())
            if closed and (end is None or closed.end() <= end.start()):
                stop, error = closed.end(), None
            elif end is not None and (following is None or end.start() < following.start()):
                stop, error = end.end(), None
            elif following is not None:
                stop, error = following.start(), "the event is cut short: no </Event> before the next <Event>"
            elif final:
                stop, error = len(buffer), "the event is cut short: the file ends before </Event>"
            elif len(buffer) - begin > MAX_EVENT_BYTES:
                stop, error = begin + MAX_EVENT_BYTES, f"no </Event> within {MAX_EVENT_BYTES} bytes: cut there"
            else:
                return begin, line_of(begin)  # wait for more of the stream
            if error is not None:  # trailing whitespace is not part of a cut event
                while stop > begin and buffer[stop - 1 : stop].isspace():
                    stop -= 1
            self._event(buffer[begin:stop], line_of(begin), self._offset(base + begin), error)
            pos = stop

    def _gap(self, buffer: bytes, pos: int, end: int, base: int, line_of: Any, *, attach: bool) -> int:
        """Check the text between events, from ``pos`` to ``end``. Text on the line of the event that follows
        (``attach``) belongs to that event's record: its start is returned. Other text that is not whitespace, an
        XML declaration, a comment, the ``<Events>`` wrapper or a ``- `` marker becomes rows: a DTD one row, other
        text one row per line."""
        while pos < end:
            harmless = _HARMLESS.match(buffer, pos)  # not bounded by ``end``: "- " looks ahead to the "<"
            if harmless and harmless.end() > pos:
                pos = min(harmless.end(), end)
                continue
            if attach and buffer.find(b"\n", pos, end) < 0:
                return pos
            doctype = _DOCTYPE.match(buffer, pos, end)
            if doctype:
                stop = doctype.end()
            else:
                newline = buffer.find(b"\n", pos, end)
                stop = end if newline < 0 else newline
            self._junk(buffer[pos:stop].rstrip(), line_of(pos), self._offset(base + pos))
            pos = stop
        return end

    # --- reading events

    def _event(self, data: bytes, line: int, offset: int, error: str | None) -> None:
        raw, bad_utf8 = decode_text(data)
        if error is not None:
            self.rows.add_error(raw, line, offset, _join(error, bad_utf8))
            return
        text = data.decode("utf-8", "replace") if bad_utf8 else raw
        shield = None
        try:
            root = _parse(text)
        except _XmlRefused as exc:
            refused: _XmlRefused | None = exc
            shield = _shield(text)  # control characters Windows writes raw, which XML 1.0 does not allow
            if shield is not None:
                try:
                    root, refused = _parse(shield[0]), None
                except _XmlRefused as again:
                    refused = again
            if refused is not None:
                self.rows.add_error(raw, line, offset, _join(str(refused), bad_utf8))
                return
        try:
            event = _event_dict(root)
            if shield is not None:
                event = _unshield(event, shield[1])
        except RecursionError:
            self.rows.add_error(raw, line, offset, _join("the event nests too deep to read", bad_utf8))
            return
        self.rows.add(raw, line, offset, _windows.read_event(event), bad_utf8)

    def _junk(self, data: bytes, line: int, offset: int) -> None:
        raw, bad_utf8 = decode_text(data)
        if data.lstrip().upper().startswith(b"<!DOCTYPE"):
            reason = ("a DTD (<!DOCTYPE ...>) was refused: its entity declarations and external entities are never "
                      "read or expanded")
        else:
            reason = "text outside any <Event> element"
        self.rows.add_error(raw, line, offset, _join(reason, bad_utf8))


def _join(first: str, second: str | None) -> str:
    return first if second is None else f"{first}; {second}"


_NOT_XML = "".join(map(chr, (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF)))
"""Characters XML 1.0 does not allow even as references, which ``EvtRender`` writes raw in values (an account
name with ``\\x1e`` in it): the event is read with them stood in for by private-use characters, then restored."""
_NOT_XML_RE = re.compile(f"[{re.escape(_NOT_XML)}]")


def _shield(text: str) -> tuple[str, dict[int, int]] | None:
    """``text`` with its XML-forbidden characters stood in for by private-use characters it does not hold, and the
    table that puts them back; None if it has none."""
    if not _NOT_XML_RE.search(text):
        return None
    held = set(text)
    stand_ins = (c for c in map(chr, range(0xF0000, 0x10FFFE)) if c not in held)
    forward = {ord(c): next(stand_ins) for c in _NOT_XML}
    return text.translate(forward), {ord(v): k for k, v in forward.items()}


def _unshield(value: Any, back: dict[int, int]) -> Any:
    """An event read from shielded text, with the forbidden characters put back (keys and values)."""
    if type(value) is str:
        return value.translate(back)
    if type(value) is dict:
        return {_unshield(k, back): _unshield(v, back) for k, v in value.items()}
    if type(value) is list:
        return [_unshield(v, back) for v in value]
    return value


class _XmlRefused(Exception):
    """An event that is not (safe, well-formed) Windows Event XML; the message says why."""


def _parse(text: str) -> Element:
    """Parse one event with defusedxml: no DTD, so no entity expansion and no external entity, ever."""
    import defusedxml
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise _XmlRefused("XML with a DTD was refused: entity declarations and external entities are never "
                          "expanded") from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden) as exc:
        raise _XmlRefused(f"XML entities were refused, never expanded: {exc}") from None
    except ParseError as exc:
        raise _XmlRefused(f"not well-formed XML: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise _XmlRefused(f"the XML could not be read: {exc}") from None
    if _local(root.tag) != "Event":
        raise _XmlRefused(f"the element is <{_local(root.tag)}>, not <Event>")
    return root


def _local(tag: Any) -> str:
    tag = str(tag)
    return tag.rpartition("}")[2] if tag.startswith("{") else tag


def _event_dict(root: Element) -> dict[str, Any]:
    """An ``<Event>`` in the JSON shape of the ``evtx`` parser (see :func:`auditlab.load._windows.read_event`)."""
    event: dict[str, Any] = {}
    for child in root:
        tag = _local(child.tag)
        if tag == "EventData":
            value: Any = _event_data(child)
        elif tag == "UserData":
            value = {_local(c.tag): _element(c) for c in child} or None
        else:
            value = _element(child)
        _put(event, tag, value)
    return event


def _event_data(node: Element) -> dict[str, Any] | None:
    """``<Data Name="X">v</Data>`` as ``{"X": "v"}``; unnamed ``Data`` as a list under ``Data``; ``Binary`` as is."""
    out: dict[str, Any] = {}
    if node.attrib:
        out["#attributes"] = {_local(k): v for k, v in node.attrib.items()}
    for child in node:
        tag = _local(child.tag)
        name = child.attrib.get("Name") if tag == "Data" else None
        value = child.text if len(child) == 0 else _element(child)
        if name is not None:
            _put(out, name, value)
        elif tag == "Data":
            out.setdefault("Data", []).append(value)
        else:
            _put(out, tag, value)
    return out or None


def _element(node: Element) -> Any:
    """An element in the parser's JSON shape: text; ``{"#attributes": ..., "#text": ...}``; children by tag."""
    attributes = {_local(k): v for k, v in node.attrib.items()}
    if len(node) == 0:
        text = node.text
        if not attributes:
            return text
        out: dict[str, Any] = {"#attributes": attributes}
        if text:
            out["#text"] = text
        return out
    out = {"#attributes": attributes} if attributes else {}
    for child in node:
        _put(out, _local(child.tag), _element(child))
    return out


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    """Set a member; a repeated one becomes a list (as the parser renders repeated elements)."""
    if key in out:
        previous = out[key]
        if type(previous) is list and key != "Data":
            previous.append(value)
        else:
            out[key] = [previous, value]
    else:
        out[key] = value

