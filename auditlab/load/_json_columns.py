"""Shared scaffolding of the JSON loaders (CloudTrail, Kubernetes audit, GCP audit), and small helpers.

A JSON loader converts each record, while it is fresh, into a tuple ``(values, unmapped, error, parsed)``:
``values`` are the field map's values (plus any it derives in Python), ``unmapped`` the JSON bytes of the native
fields no column holds, ``error`` a reason the record is damaged, and ``parsed`` whether it was a JSON object.
:func:`frames` reads a source in batches of such tuples and hands each batch to the loader's ``build``, which
starts from :func:`base_frame` (those values as String columns, empty strings as null, numbers and objects as
their JSON text, with the provenance columns of :class:`~auditlab.load._json_records.JsonRecords`) and adds its
rules as polars expressions, ending with :func:`parse_error`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from auditlab import schema
from auditlab.load import _json_records
from auditlab.load._batch import finish

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from auditlab.load._io import Source
    from auditlab.load._json_records import JsonRecords

__all__ = [
    "JSON_START", "TIME_FORMATS", "base_frame", "frames", "ip_or_hostname", "is_ip", "json_bytes", "parse_error",
    "prune", "strings", "time_us", "unmapped_json",
]

JSON_START = re.compile(rb"\A(?:\xef\xbb\xbf)?[ \t\r\n]*[\[{]")
"""The start of a file of JSON values (after an optional byte order mark), for the sniffers."""

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


def parse_error(not_record: pl.Expr, not_record_reason: str, bad_time_prefix: str) -> pl.Expr:
    """``parse_error``: the reader's error, the converter's, ``not_record_reason`` where ``not_record`` holds, and
    ``bad_time_prefix`` + the text where ``time_original`` does not parse; joined with "; ", null for a clean row.

    The converter's error is left out of a record the reader could not parse (its error says why).
    """
    reasons = pl.concat_str(
        pl.col("read_error"),
        pl.when(pl.col("read_error").is_null() | pl.col("parsed")).then(pl.col("record_error")),
        pl.when(not_record).then(pl.lit(not_record_reason)),
        pl.when(pl.col("time_original").is_not_null() & pl.col("time_us").is_null())
        .then(pl.concat_str(pl.lit(bad_time_prefix), pl.col("time_original"))),
        separator="; ",
        ignore_nulls=True,
    )
    return pl.when(reasons != "").then(reasons).alias("parse_error")


def frames(
    source: Source,
    *,
    batch_rows: int,
    wrappers: Sequence[str],
    convert: Callable[[Any], Converted],
    build: Callable[[JsonRecords], pl.DataFrame],
    source_type: str,
) -> Iterator[pl.DataFrame]:
    """Read a source's JSON records (see :func:`~auditlab.load._json_records.read`) into canonical frames.

    ``convert`` turns each parsed value into a :data:`Converted` tuple, ``build`` a non-empty batch of them into
    a frame of canonical columns (others are dropped). The collector is paused while a batch is read and built
    (:func:`~auditlab.load._json_records.gc_paused`), never across the ``yield``.
    """
    batches = _json_records.read(source, batch_rows=batch_rows, wrappers=wrappers, convert=convert)
    while True:
        with _json_records.gc_paused():
            batch = next(batches, None)
            if batch is None:
                return
            frame = build(batch) if batch.value else schema.empty()
            frame = frame.select(c for c in schema.COLUMNS if c in frame.columns)
            del batch
        yield finish(frame, source_type=source_type, source_file=source.name)
