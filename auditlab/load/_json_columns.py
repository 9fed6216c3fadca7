"""Shared column building for JSON loaders: a batch of converted records into a polars frame, and small helpers.

A JSON loader (Kubernetes audit, GCP audit) converts each record, while it is fresh, into a tuple
``(values, unmapped, error, parsed)``: ``values`` are the field map's values (plus any it derives in Python),
``unmapped`` the JSON bytes of the native fields no column holds, ``error`` a reason the record is damaged, and
``parsed`` whether it was a JSON object. :func:`base_frame` turns a batch of such tuples into a frame holding those
values as String columns (empty strings as null; numbers and objects as their JSON text), with the provenance
columns of :class:`~auditlab.load._json_records.JsonRecords`; the loader then adds its rules as polars
expressions.
"""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from auditlab.load._json_records import JsonRecords

__all__ = [
    "TIME_FORMATS", "base_frame", "ip_or_hostname", "is_ip", "json_bytes", "prune", "strings", "time_us",
    "unmapped_json",
]

TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%S%.f%:z")
"""RFC 3339 timestamps, in UTC (``Z``) or with an offset; fractions of any length (beyond microseconds dropped)."""

Converted = tuple[tuple[Any, ...], bytes | None, str | None, bool]


def strings(values: Sequence[Any]) -> pl.Series:
    """A String series; a value that is not a string (number, object) becomes its JSON text.

    Examples:
        >>> strings(["a", None, 201, True, 1.5, {"b": 1}]).to_list()
        ['a', None, '201', 'true', '1.5', '{"b":1}']
    """
    if values.count(None) == len(values):  # common for the rarer fields, and cheap to tell
        return pl.repeat(None, len(values), dtype=pl.String, eager=True)
    try:
        return pl.Series(values, dtype=pl.String)
    except TypeError:
        texts = [v if v is None or type(v) is str else str(v) if type(v) is int else (json_bytes(v) or b"").decode()
                 for v in values]  # an int's JSON text is str(int); a bool's is not
        return pl.Series(texts, dtype=pl.String)


def json_bytes(value: Any) -> bytes | None:
    """Compact JSON of a parsed value, UTF-8; None if it nests too deep for the encoders."""
    try:
        return orjson.dumps(value)
    except TypeError:  # nesting beyond orjson's 254 levels
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        except (RecursionError, ValueError, TypeError):
            return None


def unmapped_json(record: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """(JSON of what is left of a record, error): None for an empty record; an error if it cannot be encoded."""
    if not record:
        return None, None
    text = json_bytes(record)
    if text is None:
        return None, "the fields for unmapped nest too deep to encode again (they are in raw)"
    return text, None


def prune(record: dict[str, Any], key: str, leaves: Iterable[str]) -> None:
    """Remove ``leaves`` from the object ``record[key]`` (if it is one), and the object itself once empty.

    Examples:
        >>> record = {"user": {"username": "alice", "groups": ["dev"]}, "objectRef": {"resource": "pods"}}
        >>> prune(record, "user", ("username", "uid"))
        >>> prune(record, "objectRef", ("resource",))
        >>> record
        {'user': {'groups': ['dev']}}
    """
    node = record.get(key)
    if type(node) is not dict:
        return
    for leaf in leaves:
        node.pop(leaf, None)
    if not node:
        del record[key]


def is_ip(text: str) -> bool:
    """Whether a text is an IPv4 or IPv6 address (``ipaddress``: leading zeros are refused)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def ip_or_hostname(frame: pl.DataFrame, column: str) -> list[pl.Expr]:
    """``src_ip`` where ``column`` is an IP address, else ``src_hostname``; each distinct value is checked once."""
    addresses = [v for v in frame.get_column(column).unique().drop_nulls().to_list() if is_ip(v)]
    address = pl.col(column).is_in(pl.Series(addresses, dtype=pl.String).implode())
    return [pl.when(address).then(pl.col(column)).alias("src_ip"),
            pl.when(~address).then(pl.col(column)).alias("src_hostname")]


def time_us(column: str = "time_original") -> pl.Expr:
    """Epoch microseconds of an RFC 3339 timestamp column (null where it does not parse)."""
    parsed = (pl.col(column).str.strptime(pl.Datetime("us", "UTC"), f, strict=False) for f in TIME_FORMATS)
    return pl.coalesce(*parsed).dt.epoch("us").alias("time_us")


def base_frame(batch: JsonRecords, names: Sequence[str]) -> pl.DataFrame:
    """The columns of a non-empty batch whose ``value`` items are :data:`Converted` tuples (or None: not JSON).

    Returns one String column per name (empty strings as null), and ``raw``, ``raw_sha256``, ``source_line``,
    ``source_offset``, ``unmapped``, ``read_error`` (the reader's error), ``record_error`` (the converter's) and
    ``parsed`` (Boolean: the record was a JSON object).
    """
    none = ((None,) * len(names), None, None, False)
    rows = [none if row is None else row for row in batch.value]
    values, unmapped, errors, objects = zip(*rows, strict=True)
    columns = dict(zip(names, map(strings, zip(*values, strict=True)), strict=True))
    frame = pl.DataFrame(columns, schema=dict.fromkeys(names, pl.String))
    frame = frame.with_columns(pl.when(pl.col(name) != "").then(pl.col(name)).name.keep() for name in names)
    return frame.with_columns(
        pl.Series("raw", batch.raw, pl.Binary).cast(pl.String),
        pl.Series("raw_sha256", batch.raw_sha256, pl.String),
        pl.Series("source_line", batch.line, pl.Int64),
        pl.Series("source_offset", batch.offset, pl.Int64),
        pl.Series("unmapped", unmapped, pl.Binary).cast(pl.String),
        pl.Series("read_error", batch.error, pl.String),
        pl.Series("record_error", errors, pl.String),
        pl.Series("parsed", objects, pl.Boolean),
    )
