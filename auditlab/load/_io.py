"""Shared input handling: paths, folders and globs; transparent decompression; newline-aligned chunks.

Loaders never open files themselves: they receive a :class:`Source` and read its decompressed bytes through
:func:`Source.open` or :func:`iter_chunks`, so compression, provenance and errors are handled once, here.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from auditlab._errors import InvalidArgument, SourceError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = ["Chunk", "Source", "expand", "iter_chunks"]

_GZIP = b"\x1f\x8b"
_BZ2 = b"BZh"
_ZSTD = b"\x28\xb5\x2f\xfd"

READ_BYTES = 1024 * 1024
"""Bytes asked of the (decompressing) stream per read."""

CHUNK_BYTES = 32 * 1024 * 1024
"""Bytes read per chunk by :func:`iter_chunks` (a chunk grows past it only to finish a line)."""

DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error, ValueError)
"""What a decompressing stream raises on corrupt or truncated input (zstd raises ZstdError, a ValueError...)."""


@dataclass(frozen=True)
class Source:
    """One input file and how to read it."""

    path: Path
    compression: str | None  # "gzip", "bz2", "zstd" or None

    @property
    def name(self) -> str:
        """The path as given, for ``source_file``."""
        return str(self.path)

    @property
    def size(self) -> int:
        """The size on disk in bytes (compressed size for compressed files)."""
        return self.path.stat().st_size

    def open(self) -> BinaryIO:
        """Open the decompressed byte stream."""
        try:
            if self.compression == "gzip":
                return gzip.open(self.path, "rb")  # type: ignore[return-value]
            if self.compression == "bz2":
                return bz2.open(self.path, "rb")  # type: ignore[return-value]
            if self.compression == "zstd":
                import zstandard

                return zstandard.open(self.path, "rb")  # type: ignore[return-value]
            return open(self.path, "rb")
        except OSError as exc:
            raise SourceError(f"cannot read {self.name}: {exc.strerror or exc}") from exc

    def head(self, size: int = 64 * 1024) -> bytes:
        """The first ``size`` decompressed bytes, for sniffing ("" for an empty or unreadable stream start)."""
        with self.open() as stream:
            try:
                return stream.read(size)
            except DECOMPRESSION_ERRORS as exc:
                raise SourceError(f"cannot decompress {self.name} ({self.compression}): {exc}") from exc


def _compression(path: Path) -> str | None:
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic.startswith(_GZIP):
        return "gzip"
    if magic.startswith(_BZ2):
        return "bz2"
    if magic.startswith(_ZSTD):
        return "zstd"
    return None


def expand(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Source]:
    """Turn files, folders (recursively, hidden entries skipped) and glob patterns into sources, in sorted order.

    Raises:
        SourceError: a path that does not exist, or a pattern or folder that matches no file.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[Source] = []
    seen: set[Path] = set()
    for given in paths:
        if not isinstance(given, (str, os.PathLike)):
            raise InvalidArgument(f"paths: expected a path or a list of paths, got {given!r}")
        text = os.fspath(given)
        path = Path(text).expanduser()
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise SourceError(f"the folder {text} holds no files")
        elif path.is_file():
            found = [path]
        elif glob.has_magic(text):
            found = sorted(Path(p) for p in glob.glob(os.path.expanduser(text), recursive=True) if Path(p).is_file())
            if not found:
                raise SourceError(f"the pattern {text!r} matches no file")
        else:
            raise SourceError(f"no such file or folder: {text}")
        for p in found:
            if p not in seen:
                seen.add(p)
                out.append(Source(p, _compression(p)))
    if not out:
        raise SourceError("no input paths given")
    return out


@dataclass(frozen=True)
class Chunk:
    """A run of whole lines of a source's decompressed bytes.

    ``data`` ends with a newline unless it is the end of the stream; ``offset`` is the byte offset of its first
    byte and ``line`` the 1-based number of its first line. ``error`` is set on the last chunk when the stream
    could not be read to its end (corrupt compression): the bytes before the fault are in ``data``.
    """

    data: bytes
    offset: int
    line: int
    error: str | None = None


def iter_chunks(source: Source, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """Read a source's decompressed bytes in newline-aligned chunks of about ``chunk_bytes``.

    Reads go in blocks of at most :data:`READ_BYTES`, so a decompression fault loses no more than the block it
    broke: everything decompressed before it is returned, and the last chunk carries the error.
    """
    offset = 0
    line = 1
    pending: list[bytes] = []
    pending_size = 0
    block_size = min(chunk_bytes, READ_BYTES)
    with source.open() as stream:
        while True:
            try:
                block = stream.read(block_size)
            except DECOMPRESSION_ERRORS as exc:
                data = b"".join(pending)
                where = offset + len(data)
                msg = f"{source.compression or 'read'} error in {source.name} after {where} decompressed bytes: {exc}"
                yield Chunk(data, offset, line, error=msg)
                return
            if block:
                pending.append(block)
                pending_size += len(block)
                if pending_size < chunk_bytes:
                    continue
            data = b"".join(pending)
            if not block:  # end of stream
                if data:
                    yield Chunk(data, offset, line)
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no newline yet: a long line, keep reading
                pending, pending_size = [data], len(data)
                continue
            chunk, rest = data[:cut], data[cut:]
            pending, pending_size = ([rest], len(rest)) if rest else ([], 0)
            yield Chunk(chunk, offset, line)
            offset += len(chunk)
            line += chunk.count(b"\n")
