"""Finishing a loader's batch: derived columns, hashes, canonical dtypes and order.

A loader fills whichever canonical columns its format carries (as a dict of equal-length lists, or as a polars
frame) and calls :func:`finish`; this module adds ``time`` from ``time_us``, ``raw_sha256`` from ``raw``,
``source_type`` and ``source_file``, and every missing column as nulls.
"""

from __future__ import annotations

import hashlib
from typing import Any

import polars as pl

from auditlab import schema

__all__ = ["decode_text", "finish", "sha256_hex"]


def sha256_hex(raw: list[str | None]) -> list[str | None]:
    """SHA-256 (hex) of each string's UTF-8 bytes; None stays None."""
    sha = hashlib.sha256
    return [None if r is None else sha(r.encode("utf-8", "surrogatepass")).hexdigest() for r in raw]


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode bytes as UTF-8; on invalid bytes, escape them (``\\xNN``) and say where the first one was."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", "backslashreplace"), f"invalid UTF-8 at byte {exc.start}"


def finish(columns: dict[str, Any] | pl.DataFrame, *, source_type: str, source_file: str) -> pl.DataFrame:
    """Turn a loader's columns into a canonical events frame.

    ``columns`` must hold ``raw``; it may hold ``time_us`` (``time`` is derived from it) and any other canonical
    column. ``raw_sha256`` is computed here unless given.
    """
    frame = columns if isinstance(columns, pl.DataFrame) else pl.DataFrame(columns, strict=False)
    if "raw_sha256" not in frame.columns:
        frame = frame.with_columns(
            pl.Series("raw_sha256", sha256_hex(frame.get_column("raw").to_list()), dtype=pl.String)
        )
    derived = []
    if "time_us" in frame.columns and "time" not in frame.columns:
        derived.append(pl.from_epoch(pl.col("time_us").cast(pl.Int64), time_unit="us").dt.replace_time_zone("UTC")
                       .alias("time"))
    if "source_type" not in frame.columns:
        derived.append(pl.lit(source_type, pl.String).alias("source_type"))
    if "source_file" not in frame.columns:
        derived.append(pl.lit(source_file, pl.String).alias("source_file"))
    if derived:
        frame = frame.with_columns(derived)
    return schema.conform(frame)
