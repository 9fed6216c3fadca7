"""Windows event log files (``.evtx``) into the canonical events frame, through the Rust ``evtx`` parser.

The field map is the one every Windows serialization shares, documented in :mod:`auditlab.load._windows` (System
fields, who is the actor of a logon, event classes). Rows have ``source_type = "evtx"``: the Windows event log,
whichever file it came in (``windows_xml`` and ``windows_json`` rows too).

**Provenance.** EVTX is binary: ``raw`` is the parser's JSON rendering of the record (``PyEvtxParser.records_json``,
the same text ``evtx_dump -o jsonl`` writes), and ``raw_sha256`` its hash. ``source_line`` is the record's index in
the file (1-based, counting every row of the file), ``source_offset`` is null for records (the parser does not say
where a record starts) and the byte offset of the damage for error rows. ``source_seq`` is ``EventRecordID``.
Compressed files (``.evtx.gz``, ``.bz2``, ``.zst``) are decompressed to a temporary file first (the parser needs to
seek); offsets are then offsets in the decompressed file.

**Order.** Records come in ``EventRecordID`` order: a file whose chunks wrapped around (a full log overwriting its
oldest chunk) is read chunk by chunk in the order of the chunks' first record id, not in file order.

**Damage.** Records are read with the chunk checksums checked (``validate_checksums``). Nothing stops a load and
nothing is lost silently; every problem becomes a row with ``parse_error`` set:

- a record the parser cannot render: one row, ``raw`` empty, ``source_offset`` where the record starts;
- a chunk whose checksum does not match: its records are read again without the check, each row saying that the
  chunk's bytes changed after Windows wrote them (a flipped bit, or an edit);
- a chunk with a damaged signature: when the rest of its header is intact (its checksum matches once the signature
  is restored) its records are read the same way; otherwise one row says the chunk is unreadable, with the range
  of record ids its header lists;
- a file cut short: the complete records of the last, partial chunk are read (it is padded with zeros), and flagged;
- records a chunk header lists but the parser neither rendered nor reported: one row per chunk with the count;
- a damaged file header: the chunks are read without it, and one row says so; a chunk slot that the file header
  counts as used but that holds no chunk: one row;
- corrupt compression: what decompressed before the fault is read, and one row names the fault;
- a chunk on which the parser loops (one changed byte can do it, checksums recomputed or not): the parser runs in a
  worker process (:mod:`auditlab.load._evtx_worker`, reused from file to file) that is stopped after
  :data:`STALL_SECONDS` without progress; one row names the chunk, and a new worker reads the chunks after it.

So on a clean file the rows are exactly the records ``PyEvtxParser(path).records_json()`` yields, in its order; on a
damaged one they are those records (where it yields them), the records recovered around the damage, and one error
row per unreadable record or range.

Examples:
    >>> import auditlab as al
    >>> events = al.load("../shared/samples/windows_evtx/E2M__ID104-1102-Event_log_cleared.evtx")
    >>> events.filter(events["event_code"] == "1102").select("actor_user_name", "class_uid", "activity_id").row(0)
    ('admmig', 1008, 1)
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import os
import queue
import re
import select
import struct
import subprocess
import sys
import tempfile
import threading
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from auditlab._errors import SourceError
from auditlab.load import _evtx_worker, _windows
from auditlab.load._evtx_worker import CHUNK_MAGIC, CHUNK_SIZE, FRAME, HEADER_SIZE
from auditlab.load._io import DECOMPRESSION_ERRORS
from auditlab.load._json_records import gc_paused

if TYPE_CHECKING:
    from collections.abc import Iterator

    import polars as pl

    from auditlab.load._io import Source

__all__ = ["DESCRIPTION", "NAME", "parse", "sniff"]

NAME = "evtx"
DESCRIPTION = "Windows event log files (.evtx, binary; also compressed): one row per event record"

FILE_MAGIC = b"ElfFile\x00"
_CHUNK_HEADER = struct.Struct("<8sQQQQIIII")  # magic, first/last record number, first/last record id, sizes, CRC
_RECORD_HEADER = struct.Struct("<4sIQ")  # magic "**\0\0", size, record id
_CHUNK_ERROR = re.compile(r"chunk number (\d+)")
_RECORD_ERROR = re.compile(r"record number (\d+)")


def sniff(head: bytes) -> bool:
    """Whether a file is an EVTX log: the file signature ``ElfFile``, or a chunk's ``ElfChnk`` (a carved chunk).

    Examples:
        >>> sniff(b"ElfFile\\x00" + bytes(120)), sniff(b"<Event xmlns=...")
        (True, False)
    """
    return head[:8] in (FILE_MAGIC, CHUNK_MAGIC)


def parse(source: Source, *, batch_rows: int, threads: int = 0) -> Iterator[pl.DataFrame]:
    """Read one EVTX file into canonical frames of at most ``batch_rows`` rows, one row per record.

    Args:
        source: the file to read.
        batch_rows: the most rows per frame.
        threads: the parser's worker threads (``number_of_threads``; 0 lets it choose).
    """
    with _on_disk(source) as (path, read_error):
        try:
            reader = _Reader(path, source.name, batch_rows, threads, read_error)
        except OSError as exc:
            raise SourceError(f"cannot read {source.name}: {exc.strerror or exc}") from exc
        batches = reader.batches()
        while True:
            with gc_paused():
                rows = next(batches, None)
                if rows is None:
                    return
                frame = rows.frame(source.name)
                del rows
            yield frame


@contextmanager
def _on_disk(source: Source) -> Iterator[tuple[str, str | None]]:
    """A path the parser can read: the file itself, or its decompressed bytes in a temporary file.

    Decompression goes in blocks of 64 KiB, so that a fault loses at most the block it broke.
    """
    if source.compression is None:
        yield str(source.path), None
        return
    handle, path = tempfile.mkstemp(prefix="auditlab-evtx-", suffix=".evtx")
    try:
        error = None
        with os.fdopen(handle, "wb") as out, source.open() as stream:
            while True:
                try:
                    block = stream.read(CHUNK_SIZE)
                except DECOMPRESSION_ERRORS as exc:
                    error = f"{source.compression} error in {source.name} after {out.tell()} decompressed bytes: {exc}"
                    break
                if not block:
                    break
                out.write(block)
        yield path, error
    finally:
        os.unlink(path)


# ------------------------------------------------------------------------------------------------------ layout


@dataclass
class _Chunk:
    """One 64 KiB chunk slot of the file, from its header."""

    index: int
    offset: int
    length: int
    magic: bytes
    first_id: int = 0
    last_id: int = 0
    header_ok: bool = False
    """Whether the header's checksum matches (with the signature restored if it was damaged)."""
    read: int = 0
    """Records rendered or reported from this chunk."""
    failed: bool = False
    """Whether the parser reported the chunk itself as unreadable."""
    recovered: bool = False
    """Whether the chunk was read again, unchecked."""

    @property
    def empty(self) -> bool:
        return self.magic == bytes(8)

    @property
    def expected(self) -> int | None:
        """Records the header lists (None when the header cannot be trusted)."""
        if not self.header_ok or self.last_id < self.first_id:
            return None
        return self.last_id - self.first_id + 1

    def where(self) -> str:
        return f"chunk {self.index} (byte {self.offset})"


@dataclass
class _Layout:
    """The file header and chunk slots, read before parsing: for order, recovery and the record count."""

    size: int
    header: bytes
    chunks: list[_Chunk]
    header_ok: bool
    chunk_count: int | None
    order: list[int] = field(default_factory=list)
    """Chunk indexes in reading order (by first record id when the file wrapped around)."""

    @classmethod
    def read(cls, stream: IO[bytes]) -> _Layout:
        """The layout of a file, from its header and chunk headers."""
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        header = stream.read(HEADER_SIZE)
        header_ok = len(header) == HEADER_SIZE and header.startswith(FILE_MAGIC)
        chunk_count = struct.unpack_from("<H", header, 42)[0] if header_ok else None
        if not header_ok and header.startswith(CHUNK_MAGIC):  # a carved chunk without its file header
            start = 0
        else:
            start = HEADER_SIZE
        chunks = []
        for offset in range(start, size, CHUNK_SIZE):
            stream.seek(offset)
            head = stream.read(512)
            length = min(CHUNK_SIZE, size - offset)
            chunk = _Chunk(len(chunks), offset, length, head[:8].ljust(8, b"\x00"))
            if len(head) == 512:
                fixed = CHUNK_MAGIC + head[8:]
                _, _, _, chunk.first_id, chunk.last_id, _, _, _, _ = _CHUNK_HEADER.unpack_from(fixed)
                crc = struct.unpack_from("<I", fixed, 124)[0]
                chunk.header_ok = zlib.crc32(fixed[128:512], zlib.crc32(fixed[:120])) == crc
            chunks.append(chunk)
        layout = cls(size, header if header_ok else b"", chunks, header_ok, chunk_count)
        valid = [c for c in chunks if c.magic == CHUNK_MAGIC]
        ids = [c.first_id for c in valid]
        if ids == sorted(ids):
            layout.order = [c.index for c in chunks]
        else:  # wrapped around: oldest records first; damaged and empty slots keep their place after them
            layout.order = [c.index for c in sorted(valid, key=lambda c: c.first_id)]
            layout.order += [c.index for c in chunks if c.magic != CHUNK_MAGIC]
        return layout

    def chunk_of_record(self, record_id: int) -> _Chunk | None:
        for chunk in self.chunks:
            if chunk.header_ok and chunk.first_id <= record_id <= chunk.last_id:
                return chunk
        return None


def _lenient(data: bytes, exc: Exception) -> tuple[tuple[Any, ...], str]:
    """A record whose JSON orjson refuses: the parser writes damaged strings with raw control characters, which
    the standard library reads when not strict. Its values, and the note for ``parse_error``."""
    import json

    try:
        value = json.loads(data.decode("utf-8", "replace"), strict=False)
    except (ValueError, RecursionError):
        return _windows.ROW_OF_ERROR, f"the parser's JSON does not parse: {exc}"
    row = _windows.read_event(value["Event"] if type(value) is dict and "Event" in value else value)
    return row, "the parser's JSON holds raw control characters (damaged strings): read leniently"


def _synthetic_header(chunks: int) -> bytes:
    """A file header for chunks without one (damaged or carved): what the parser needs to read them."""
    head = FILE_MAGIC + struct.pack("<QQQIHHHH", 0, max(chunks - 1, 0), 0, 128, 1, 3, HEADER_SIZE, chunks)
    head = head.ljust(120, b"\x00")
    head += struct.pack("<II", 0, zlib.crc32(head))
    return head.ljust(HEADER_SIZE, b"\x00")


# ------------------------------------------------------------------------------------------------------ reading


class _Reader:
    """Reads one file: the records the parser renders, the records recovered around damage, and error rows."""

    def __init__(self, path: str, name: str, batch_rows: int, threads: int, read_error: str | None):
        self.path = path
        self.name = name
        self.batch_rows = batch_rows
        self.threads = threads
        self.read_error = read_error
        with open(path, "rb") as stream:
            self.layout = _Layout.read(stream)
        self.rows = _windows.Rows()
        self.index = 0

    def _error(self, message: str, offset: int | None) -> None:
        self.index += 1
        self.rows.add_error(b"", self.index, offset, message)

    def _full_batches(self) -> Iterator[_windows.Rows]:
        while len(self.rows) >= self.batch_rows:
            yield self.rows.split(self.batch_rows)

    def batches(self) -> Iterator[_windows.Rows]:
        """The file's rows in batches of at most ``batch_rows``."""
        layout = self.layout
        chunks = [layout.chunks[i] for i in layout.order]
        if not chunks:
            self._error(f"not an EVTX file: {layout.size} bytes, no chunk", 0 if layout.size else None)
        else:
            if not layout.header_ok:
                self._error("the EVTX file header is missing or damaged (no ElfFile signature): the chunks were "
                            "read without it", 0)
            header = layout.header or _synthetic_header(len(chunks))
            yield from self._parse(header, chunks)
            for chunk in chunks:  # the checked pass can skip a damaged chunk without a word: read it unchecked
                if chunk.magic == CHUNK_MAGIC and chunk.read == 0 and not chunk.failed and not chunk.recovered:
                    checksum = "" if chunk.header_ok else "; its header checksum does not match"
                    yield from self._recover(chunk, f"the checked pass read nothing from it{checksum}")
            self._accounting()
        if self.read_error is not None:
            self._error(self.read_error, layout.size)
        yield from self._full_batches()
        if self.rows:
            yield self.rows.split(len(self.rows))

    def _parse(self, header: bytes, chunks: list[_Chunk]) -> Iterator[_windows.Rows]:
        """Read ``chunks`` with checksums checked; a chunk the parser rejects is read again by :meth:`_recover`.

        The parser runs in a worker process (:mod:`auditlab.load._evtx_worker`) and this loop maps its records as
        they come. If it makes no progress for :data:`STALL_SECONDS`, it is stopped, the chunk it was in is reported,
        and a new worker reads the chunks after it.
        """
        start = 0
        while start < len(chunks):
            part = chunks[start:]
            slots = [(c.offset, c.length, False) for c in part]
            problem = yield from self._stream(header, part, slots, validate=True)
            if problem is None:
                return
            at = next((i for i, c in enumerate(part) if c.expected is None or c.read < c.expected), len(part) - 1)
            self._stopped(part[at], problem)
            start += at + 1

    def _stream(self, header: bytes, chunks: list[_Chunk], slots: list[tuple[int, int, bool]], *,
                validate: bool, flag: str | None = None) -> Iterator[_windows.Rows]:
        """Map the worker's answer to one request; None when it finished, else what stopped it."""
        request = {"path": self.path, "header": header.hex(), "slots": slots, "validate": validate,
                   "threads": self.threads}
        worker = _WORKERS.take()
        finished = False
        try:
            worker.send(request)
            current = 0  # the slot of the chunk being read: records come in slot order
            last, batch_rows = len(chunks) - 1, self.batch_rows
            rows = self.rows  # its lists stay the same objects when full batches are split off
            raw, sha, line_numbers, offset, values, errors = (rows.raw, rows.sha256, rows.line, rows.offset,
                                                              rows.values, rows.error)
            loads, read_event, sha256 = orjson.loads, _windows.read_event, hashlib.sha256
            buffer, pos = b"", 0
            frame_header, header_size = FRAME, FRAME.size
            while True:
                block = worker.read(STALL_SECONDS)
                if block is None:
                    return f"the parser made no progress for {STALL_SECONDS} s and was stopped"
                if not block:
                    return f"the parser's process ended in it (exit status {worker.stop()})"
                buffer = buffer[pos:] + block
                pos, size = 0, len(buffer)
                while pos + header_size <= size:
                    kind, rid, length = frame_header.unpack_from(buffer, pos)
                    end = pos + header_size + length
                    if end > size:
                        break
                    data = buffer[pos + header_size : end]
                    pos = end
                    if kind == b"R":
                        chunk = chunks[current]
                        if not (chunk.header_ok and chunk.first_id <= rid <= chunk.last_id):  # a later chunk's?
                            for slot in range(current + 1, min(current + 9, last + 1)):
                                if chunks[slot].first_id <= rid <= chunks[slot].last_id:
                                    current, chunk = slot, chunks[slot]
                                    break
                        chunk.read += 1
                        self.index = number = self.index + 1
                        try:
                            value = loads(data)
                            row = read_event(value["Event"] if type(value) is dict and "Event" in value else value)
                        except orjson.JSONDecodeError as exc:  # damaged input can make the parser write bad JSON
                            row, error = _lenient(data, exc)
                            rows.add(data, number, None, row, error if flag is None else f"{flag}; {error}")
                        else:
                            raw.append(data)
                            sha.append(sha256(data).hexdigest())
                            line_numbers.append(number)
                            offset.append(None)
                            values.append(row)
                            errors.append(flag)
                        if len(raw) >= batch_rows:
                            yield from self._full_batches()
                    elif kind == b"E":
                        current = yield from self._failure(data.decode("utf-8", "replace"), chunks, current,
                                                           recover=validate)
                    else:
                        finished = True
                        return None
        finally:
            if finished:
                _WORKERS.give(worker)
            else:  # stalled, or the caller stopped reading: the worker is mid-answer
                worker.stop()

    def _failure(self, message: str, chunks: list[_Chunk], current: int, *, recover: bool) -> Iterator[Any]:
        """One error from the parser: recover the chunk it names, or add an error row; the current slot after it."""
        match = _CHUNK_ERROR.search(message)
        if match and int(match.group(1)) < len(chunks):
            slot = int(match.group(1))
            chunk = chunks[slot]
            if recover and (chunk.magic == CHUNK_MAGIC or chunk.header_ok):
                yield from self._recover(chunk, message)
            else:
                self._unreadable(chunk, message)
            return max(current, slot)
        self._unreadable_record(message)
        yield from self._full_batches()
        return current

    def _recover(self, chunk: _Chunk, message: str) -> Iterator[_windows.Rows]:
        """Read a chunk the checked pass rejected, alone and unchecked, flagging its records."""
        if chunk.length < CHUNK_SIZE:
            how = f"the file ends {chunk.length} bytes into it (the rest was read as zeros)"
        elif "crc" in message.lower() or "checksum" in message.lower():
            how = "its checksum does not match: its bytes changed after they were written"
            if "read nothing" in message:
                how = f"{message}: its bytes changed after they were written"
        elif chunk.magic != CHUNK_MAGIC:
            how = f"its signature is damaged ({chunk.magic!r}; restored to read it)"
        else:
            how = f"the parser rejected it ({message})"
        chunk.recovered = True
        slots = [(chunk.offset, chunk.length, chunk.magic != CHUNK_MAGIC)]
        flag = f"read from a damaged {chunk.where()}: {how}"
        problem = yield from self._stream(_synthetic_header(1), [chunk], slots, validate=False, flag=flag)
        if problem is not None:
            self._stopped(chunk, problem)

    def _stopped(self, chunk: _Chunk, problem: str) -> None:
        """The row for a chunk the parser did not finish (it looped, or its process died)."""
        listed = chunk.expected
        missing = ""
        if listed is not None and chunk.read < listed:
            missing = f" ({listed - chunk.read} of the {listed} records its header lists are missing)"
            chunk.read = listed  # reported here, not again as missing
        chunk.failed = True
        self._error(f"{chunk.where()}: {problem}{missing}", chunk.offset)

    def _unreadable(self, chunk: _Chunk, message: str) -> None:
        listed = chunk.expected
        span = f"; its header lists records {chunk.first_id}-{chunk.last_id} ({listed})" if listed else ""
        chunk.read += listed or 0  # reported here, not again as missing
        chunk.failed = True
        self._error(f"unreadable {chunk.where()}: {message}{span}", chunk.offset)

    def _unreadable_record(self, message: str) -> None:
        offset = None
        match = _RECORD_ERROR.search(message)
        if match:
            rid = int(match.group(1))
            chunk = next((c for c in self.layout.chunks if c.header_ok and c.first_id <= rid <= c.last_id), None)
            if chunk is not None:
                chunk.read += 1
                offset = self._record_offset(chunk, rid)
        self._error(f"unreadable record: {message}", offset)

    def _record_offset(self, chunk: _Chunk, record_id: int) -> int | None:
        """Where a record starts in the file, found by walking the chunk's record headers."""
        with open(self.path, "rb") as stream:
            stream.seek(chunk.offset)
            data = stream.read(chunk.length)
        pos = 512
        while pos + _RECORD_HEADER.size <= len(data):
            magic, size, rid = _RECORD_HEADER.unpack_from(data, pos)
            if magic != b"**\x00\x00" or size < _RECORD_HEADER.size:
                return None
            if rid == record_id:
                return chunk.offset + pos
            pos += size
        return None

    def _accounting(self) -> None:
        """Rows for records chunk headers list but nothing read, and for used slots that hold no chunk."""
        count = self.layout.chunk_count
        for chunk in self.layout.chunks:
            expected = chunk.expected
            if chunk.magic == CHUNK_MAGIC and expected is not None and chunk.read < expected:
                missing = expected - chunk.read
                self._error(f"{chunk.where()}: its header lists records {chunk.first_id}-{chunk.last_id} ({expected})"
                            f" but {chunk.read} were read or reported; {missing} missing", chunk.offset)
            elif chunk.empty and not chunk.failed and count is not None and chunk.index < count:
                self._error(f"{chunk.where()} holds no chunk, but the file header counts {count} chunks in use",
                            chunk.offset)


# ------------------------------------------------------------------------------------------------------ workers

STALL_SECONDS = 10.0
"""How long the parser may go without answering before it is stopped (a chunk normally takes milliseconds)."""


class _Worker:
    """One parser process (:mod:`auditlab.load._evtx_worker`) and its output.

    Its output is read with ``select`` where pipes support it (POSIX), else by a thread into a bounded queue.
    """

    def __init__(self) -> None:
        script = str(Path(_evtx_worker.__file__))
        self.process = subprocess.Popen(  # our own script, by a fixed argument list
            [sys.executable, "-I", script, str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        self.fd = self.process.stdout.fileno()
        self.blocks: queue.Queue[bytes] | None = None
        self.thread: threading.Thread | None = None
        if os.name != "posix":
            self.blocks = queue.Queue(maxsize=16)
            self.thread = threading.Thread(target=self._pump, name="auditlab-evtx-reader", daemon=True)
            self.thread.start()

    def _pump(self) -> None:
        assert self.blocks is not None
        while True:
            try:
                block = os.read(self.fd, 1 << 20)
            except OSError:
                block = b""
            self.blocks.put(block)
            if not block:
                return

    def send(self, request: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(orjson.dumps(request) + b"\n")
        stdin.flush()

    def read(self, timeout: float) -> bytes | None:
        """The next block of output; ``b""`` when the process has ended; None after ``timeout`` s of silence."""
        if self.blocks is not None:
            try:
                return self.blocks.get(timeout=timeout)
            except queue.Empty:
                return None
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return None
        try:
            return os.read(self.fd, 1 << 20)
        except OSError:
            return b""

    def idle(self) -> bool:
        """Whether the process runs and has nothing left unread (it can take a new request)."""
        if self.process.poll() is not None:
            return False
        if self.blocks is not None:
            return self.blocks.empty()
        return not select.select([self.fd], [], [], 0)[0]

    def stop(self) -> int | None:
        """End the process (killed if it still runs) and its reader; its exit status."""
        if self.process.poll() is None:
            self.process.kill()
        status = self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        while self.thread is not None and self.thread.is_alive():  # let the reader see the end of the pipe
            with contextlib.suppress(queue.Empty):
                self.blocks.get(timeout=0.1)  # type: ignore[union-attr]
        return status


class _Pool:
    """Idle workers, reused from file to file (starting one takes milliseconds, but files can be many)."""

    def __init__(self, keep: int = 4) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._keep = keep

    def take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.process.poll() is None:
                    return worker
                worker.stop()
        return _Worker()

    def give(self, worker: _Worker) -> None:
        with self._lock:
            if len(self._idle) < self._keep and worker.idle():
                self._idle.append(worker)
                return
        worker.stop()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


_WORKERS = _Pool()
atexit.register(_WORKERS.close)
