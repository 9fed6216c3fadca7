"""The ``evtx`` parser in a child process, so that a file that makes it loop forever can be stopped.

A single changed byte in a chunk can make ``PyEvtxParser`` (0.14) loop without end, with the chunk's checksums
recomputed too; Rust code cannot be interrupted from Python, so :mod:`auditlab.load.evtx` runs the parser here, in a
worker process it reuses from file to file, and stops it when it makes no progress. This module imports nothing
but the standard library and ``evtx`` (no polars): it starts in milliseconds, and runs as a script::

    python -I _evtx_worker.py [parent pid]

**Protocol.** Requests come on standard input, one JSON line each: ``{"path": ..., "header": hex, "slots":
[[offset, length, restore], ...], "validate": bool, "threads": int}``: the parser reads a virtual file made of
``header`` (4096 bytes) and the 64 KiB chunk slots (``length`` bytes of ``path`` at ``offset``, zero-padded;
``restore`` writes the chunk signature over a damaged one). Answers are frames on standard output, a header
(:data:`FRAME`: kind, record id, payload size) then the payload: ``R`` a record (its JSON, as the parser wrote it:
damaged input can make it write control characters, so frames are sized, not lines), ``E`` an error of the parser
(it goes on after one), ``Z`` the end of the answer.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
from typing import IO, Any

HEADER_SIZE = 4096
CHUNK_SIZE = 65536
CHUNK_MAGIC = b"ElfChnk\x00"
MAX_RECORDS_PER_CHUNK = CHUNK_SIZE // 24
"""The most records a chunk can hold (a record takes at least 24 bytes): a bound on the parser's errors."""
FLUSH_BYTES = 256 * 1024
FRAME = struct.Struct("<cQI")
"""A frame's header: kind (``R`` record, ``E`` error, ``Z`` end), record id, payload size."""


class View(io.RawIOBase):
    """A virtual EVTX file: a file header, then chunk slots of 64 KiB read from ``stream``.

    A slot ``(offset, length, restore)`` reads ``length`` bytes at ``offset`` (zero-padded to 64 KiB when the file
    ends inside the chunk) and, with ``restore``, the chunk signature over its first 8 bytes.
    """

    def __init__(self, stream: IO[bytes], header: bytes, slots: list[tuple[int, int, bool]]) -> None:
        super().__init__()
        self._stream = stream
        self._header = header.ljust(HEADER_SIZE, b"\x00")[:HEADER_SIZE]
        self._slots = slots
        self._size = HEADER_SIZE + CHUNK_SIZE * len(slots)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            data = self._slice(self._pos, len(view) - done)
            view[done : done + len(data)] = data
            done += len(data)
            self._pos += len(data)
        return done

    def _slice(self, pos: int, size: int) -> bytes:
        if pos < HEADER_SIZE:
            return self._header[pos : min(HEADER_SIZE, pos + size)]
        slot, within = divmod(pos - HEADER_SIZE, CHUNK_SIZE)
        offset, length, restore = self._slots[slot]
        size = min(size, CHUNK_SIZE - within)
        data = b""
        if within < length:
            self._stream.seek(offset + within)
            data = self._stream.read(min(size, length - within))
        data = data.ljust(size, b"\x00")
        if restore and within < 8:
            data = (CHUNK_MAGIC[within:] + data[8 - within :])[:size]
        return data


def _last_id(stream: IO[bytes], offset: int, length: int) -> int:
    """The last record id a chunk's header lists (0 when it cannot be read)."""
    if length < 40:
        return 0
    stream.seek(offset + 32)
    return int.from_bytes(stream.read(8), "little")


def answer(request: dict[str, Any], write: Any, flush: Any = lambda: None) -> None:
    """Parse what one request describes, writing a line per record or error (see the module's protocol)."""
    from evtx import PyEvtxParser

    slots = [(int(o), int(n), bool(r)) for o, n, r in request["slots"]]
    with open(request["path"], "rb") as stream:
        view = View(stream, bytes.fromhex(request["header"]), slots)
        try:
            records = PyEvtxParser(view, number_of_threads=int(request.get("threads", 0)),
                                   validate_checksums=bool(request.get("validate", True))).records_json()
        except Exception as exc:  # whatever the parser raises is the answer
            write(_frame(b"E", 0, f"the parser refused the file: {exc}".encode("utf-8", "replace")))
            return
        budget = MAX_RECORDS_PER_CHUNK * max(1, len(slots)) + 16
        last_ids = sorted(_last_id(stream, offset, length) for offset, length, _ in slots)
        boundary = 0  # flush whenever a record passes the last id of a chunk: what was read before a hang is out
        while budget > 0:
            try:
                item = next(records)
            except StopIteration:
                return
            except Exception as exc:  # RuntimeError per bad record or chunk: go on after it
                item = exc
            if isinstance(item, BaseException):  # older bindings yield errors as items
                budget -= 1
                write(_frame(b"E", 0, str(item).encode("utf-8", "replace")))
                continue
            record_id = item["event_record_id"]
            if boundary < len(last_ids) and record_id > last_ids[boundary]:
                flush()
                while boundary < len(last_ids) and record_id > last_ids[boundary]:
                    boundary += 1
            write(_frame(b"R", record_id, item["data"].encode("utf-8", "surrogatepass")))
        write(_frame(b"E", 0, b"the parser stopped making progress (too many errors)"))


def _frame(kind: bytes, record_id: int, payload: bytes) -> bytes:
    return FRAME.pack(kind, record_id & 0xFFFFFFFFFFFFFFFF, len(payload)) + payload


def _die_with_parent(parent: int) -> None:
    """On Linux, have the kernel kill this process when its parent dies: a parser looping in Rust never reads the
    end of standard input, and holds the interpreter, so nothing here could notice."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request above
        os._exit(1)


def main() -> None:
    """Serve requests from standard input until it closes."""
    if len(sys.argv) > 1 and sys.argv[1].isdigit():
        _die_with_parent(int(sys.argv[1]))
    out = sys.stdout.buffer
    pending: list[bytes] = []
    size = 0

    def write(line: bytes) -> None:
        nonlocal size
        pending.append(line)
        size += len(line)
        if size >= FLUSH_BYTES:
            flush()

    def flush() -> None:
        nonlocal size
        out.write(b"".join(pending))
        out.flush()
        pending.clear()
        size = 0

    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            answer(request, write, flush)
        except Exception as exc:  # a bad request or an unreadable file: say so, serve the next
            write(_frame(b"E", 0, f"the parser worker could not read the file: {exc!r}".encode("utf-8", "replace")))
        write(_frame(b"Z", 0, b""))
        flush()


if __name__ == "__main__":
    main()
