"""Writing events frames out: OCSF and ECS JSON lines, and spreadsheet-safe CSV.

The JSON exporters are driven by the registry (:data:`auditlab.schema.COLUMNS`): each column is written at its
OCSF path or ECS field, dotted paths become nested objects, and null values are left out. They take a polars
DataFrame or LazyFrame (streamed in batches, so memory stays bounded) or any frame narwhals supports (pandas,
PyArrow, DuckDB, ...).

Examples:
    >>> import io, orjson, polars as pl
    >>> from auditlab import export, schema
    >>> events = schema.conform(pl.DataFrame({"time_us": [1_795_996_800_000_000], "class_uid": [3002],
    ...     "activity_id": [1], "status_id": [2], "actor_user_name": ["alice"], "source_type": ["auditd"]}))
    >>> out = io.BytesIO()
    >>> export.to_ecs(events.with_columns(time=pl.from_epoch("time_us", time_unit="us")), out)
    1
    >>> record = orjson.loads(out.getvalue())
    >>> record["@timestamp"], record["user"], record["event"]["outcome"]
    ('2026-11-30T00:00:00.000000Z', {'name': 'alice'}, 'failure')
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from itertools import repeat
from typing import IO, Any

import orjson
import polars as pl

from auditlab import schema

__all__ = ["ECS_VERSION", "OCSF_VERSION", "to_csv", "to_ecs", "to_ocsf"]

OCSF_VERSION = "1.4.0"
"""The OCSF schema version written in ``metadata.version``."""

ECS_VERSION = "8.17.0"
"""The ECS version written in ``ecs.version``."""

BATCH_ROWS = 10_000
"""Rows turned into JSON at a time: bounds the memory the exporter itself holds, on top of the frame's batches."""

# The product that reported the events, for OCSF metadata.product, by source_type.
_PRODUCTS: dict[str, dict[str, str]] = {
    "auditd": {"name": "auditd", "vendor_name": "Linux Audit"},
    "cloudtrail": {"name": "CloudTrail", "vendor_name": "AWS"},
    "evtx": {"name": "Windows Event Log", "vendor_name": "Microsoft"},
    "k8s_audit": {"name": "Kubernetes Audit", "vendor_name": "Kubernetes"},
    "gcp_audit": {"name": "Cloud Audit Logs", "vendor_name": "Google Cloud"},
}
# OCSF attributes that are arrays of objects: the mapped fields go into one object, wrapped in a list.
_OCSF_ARRAYS = (("resources",), ("metadata", "loggers"))
# Values that a spreadsheet would read as a formula (or as a cell break) when they start a cell.
_FORMULA_START = r"^[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20]"

Path = tuple[str, ...]


def to_ocsf(events: Any, path_or_file: str | os.PathLike[str] | IO[Any]) -> int:
    """Write events as OCSF JSON lines, one object per row.

    Each canonical column goes to its OCSF path; ``time`` is epoch milliseconds; the ``unmapped`` JSON text is
    parsed back into the ``unmapped`` object; ``category_uid`` (``class_uid // 1000``), ``type_uid``
    (``class_uid * 100 + activity_id``), ``severity_id`` 0 (unknown), ``metadata.version`` and
    ``metadata.product`` (the reporting product, from ``source_type``) are added. Columns that are not canonical
    are written under ``unmapped``.

    Args:
        events: an events frame (polars eager or lazy, pandas, or any frame narwhals supports).
        path_or_file: a path, or a file object open for writing (binary or text).

    Returns:
        The number of records written.

    Examples:
        >>> import io, orjson, polars as pl
        >>> from auditlab import export, schema
        >>> events = schema.conform(pl.DataFrame({"class_uid": [3002], "activity_id": [1],
        ...     "actor_user_name": ["alice"], "unmapped": ['{"terminal": "ssh"}'], "source_type": ["auditd"]}))
        >>> out = io.BytesIO()
        >>> export.to_ocsf(events, out)
        1
        >>> record = orjson.loads(out.getvalue())
        >>> record["type_uid"], record["category_uid"], record["actor"], record["unmapped"]
        (300201, 3, {'user': {'name': 'alice'}}, {'terminal': 'ssh'})
        >>> record["metadata"]["product"]["name"]
        'auditd'
    """
    return _write_json(events, path_or_file, _ocsf_record, "ocsf")


def to_ecs(events: Any, path_or_file: str | os.PathLike[str] | IO[Any]) -> int:
    """Write events as ECS JSON lines, one document per row.

    Each canonical column goes to its ECS field; ``time`` is the ISO ``@timestamp``; ``ecs.version`` is added and
    ``event.outcome`` (``success``, ``failure`` or ``unknown``) is derived from ``status_id``. ``labels.unmapped``
    stays JSON text, because ECS labels hold strings. Columns ECS has no field for, and columns that are not
    canonical, are written under ``auditlab``.

    Args:
        events: an events frame (polars eager or lazy, pandas, or any frame narwhals supports).
        path_or_file: a path, or a file object open for writing (binary or text).

    Returns:
        The number of records written.
    """
    return _write_json(events, path_or_file, _ecs_record, "ecs")


def to_csv(events: Any, path: str | os.PathLike[str]) -> None:
    """Write events as CSV, with every string cell that a spreadsheet would run as a formula neutralised.

    A cell starting with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed (or their full-width
    forms) gets a leading ``'``, so that spreadsheet programs show it as text. A polars LazyFrame is streamed.

    Examples:
        >>> import polars as pl, tempfile, pathlib
        >>> from auditlab import export, schema
        >>> events = schema.conform(pl.DataFrame({"process_cmdline": ["=HYPERLINK(\\"http://x\\")", "ls -l"]}))
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
        >>> export.to_csv(events, path)
        >>> pl.read_csv(path)["process_cmdline"].to_list()
        ['\\'=HYPERLINK("http://x")', 'ls -l']
    """
    frame = _polars(events)
    strings = [name for name, dtype in frame.collect_schema().items() if dtype == pl.String]
    safe = frame.with_columns(
        pl.when(pl.col(name).str.contains(_FORMULA_START))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in strings
    )
    if isinstance(safe, pl.LazyFrame):
        safe.sink_csv(path)
    else:
        safe.write_csv(path)


# --- frames in, batches out -------------------------------------------------------------------------------------


def _polars(events: Any) -> pl.DataFrame | pl.LazyFrame:
    """A polars frame for any supported input; polars frames pass through untouched."""
    if isinstance(events, (pl.DataFrame, pl.LazyFrame)):
        return events
    import narwhals as nw

    frame = nw.from_native(events, allow_series=False)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect(backend="polars")
    return frame.to_polars()


def _batches(events: Any) -> Iterator[pl.DataFrame]:
    frame = _polars(events)
    if isinstance(frame, pl.LazyFrame):
        yield from frame.collect_batches(chunk_size=BATCH_ROWS)
    else:
        yield from frame.iter_slices(BATCH_ROWS)


def _canonical(batch: pl.DataFrame) -> pl.DataFrame:
    """Canonical columns cast to canonical dtypes (frames from pandas may carry ns datetimes, wider ints...)."""
    return batch.with_columns(
        pl.col(name).cast(schema.COLUMNS[name].dtype) for name in batch.columns if name in schema.COLUMNS
    )


# --- records ----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _plan(standard: str) -> dict[str, Path]:
    """Canonical column -> destination path in ``standard`` ("ocsf" or "ecs"), for columns that have one."""
    out: dict[str, Path] = {}
    for column in schema.COLUMNS.values():
        dest = column.ocsf if standard == "ocsf" else column.ecs
        if dest is not None and column.name not in ("time", "unmapped"):
            out[column.name] = tuple(dest.split("."))
    return out


def _put(record: dict[str, Any], path: Path, value: Any) -> None:
    """Set ``value`` at a dotted path, making objects on the way; a second value at one path makes an array."""
    node = record
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    leaf = path[-1]
    if leaf not in node:
        node[leaf] = value
    elif isinstance(node[leaf], list):
        node[leaf].append(value)
    else:
        node[leaf] = [node[leaf], value]


def _rows(batch: pl.DataFrame, standard: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Per row: the derived values (time and friends) and the record with every mapped, non-null column placed."""
    plan = _plan(standard)
    mapped = [name for name in batch.columns if name in plan]
    extra = [name for name in batch.columns if name not in schema.COLUMNS]
    extra_root = ("unmapped",) if standard == "ocsf" else ("auditlab",)
    paths = [plan[name] for name in mapped] + [(*extra_root, name) for name in extra]
    values = batch.select(mapped + extra)
    rows = values.iter_rows() if values.width else repeat((), batch.height)
    for extras, row in zip(_derived(batch, standard), rows, strict=True):
        record: dict[str, Any] = {}
        for path, value in zip(paths, row, strict=True):
            if value is not None:
                _put(record, path, value)
        yield extras, record


def _derived(batch: pl.DataFrame, standard: str) -> list[dict[str, Any]]:
    """The values computed from more than one column, or formatted for one standard."""
    has = set(batch.columns)
    time = pl.col("time") if "time" in has else None
    if time is None and "time_us" in has:
        time = pl.from_epoch("time_us", time_unit="us")
    exprs: list[pl.Expr] = []
    if time is not None:
        exprs.append(time.dt.epoch("ms").alias("time_ms") if standard == "ocsf"
                     else time.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").alias("timestamp"))
    exprs.extend(pl.col(name) for name in ("class_uid", "activity_id", "status_id", "source_type", "unmapped")
                 if name in has)
    return batch.select(exprs).to_dicts() if exprs else [{} for _ in range(batch.height)]


def _parse_unmapped(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"text": text}
    return value if isinstance(value, dict) else {"text": text}


def _ocsf_record(extras: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    class_uid, activity_id = extras.get("class_uid"), extras.get("activity_id")
    if class_uid is not None:
        out["class_uid"] = class_uid
        out["category_uid"] = class_uid // 1000
        out["type_uid"] = class_uid * 100 + (activity_id or 0)
    out["severity_id"] = 0
    if extras.get("time_ms") is not None:
        out["time"] = extras["time_ms"]
    if extras.get("unmapped") is not None:
        out["unmapped"] = _parse_unmapped(extras["unmapped"])
    for key, value in record.items():
        if key == "unmapped" and isinstance(out.get("unmapped"), dict):
            out["unmapped"].update(value)
        else:
            out[key] = value
    for path in _OCSF_ARRAYS:
        parent = out if len(path) == 1 else out.get(path[0])
        if isinstance(parent, dict) and isinstance(parent.get(path[-1]), dict):
            parent[path[-1]] = [parent[path[-1]]]
    if isinstance(out.get("raw_data_hash"), dict):
        out["raw_data_hash"] = {"algorithm_id": 3, "algorithm": "SHA-256", **out["raw_data_hash"]}
    metadata = out.setdefault("metadata", {})
    metadata["version"] = OCSF_VERSION
    source_type = extras.get("source_type")
    metadata["product"] = dict(_PRODUCTS.get(source_type or "", {"name": source_type or "unknown"}))
    return out


def _ecs_record(extras: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if extras.get("timestamp") is not None:
        out["@timestamp"] = extras["timestamp"]
    out["ecs"] = {"version": ECS_VERSION}
    out.update(record)
    status_id = extras.get("status_id")
    outcome = "success" if status_id == 1 else "failure" if status_id == 2 else "unknown"
    _put(out, ("event", "outcome"), outcome)
    if extras.get("unmapped") is not None:
        _put(out, ("labels", "unmapped"), extras["unmapped"])
    return out


# --- output -----------------------------------------------------------------------------------------------------


@contextmanager
def _sink(path_or_file: str | os.PathLike[str] | IO[Any]) -> Iterator[Callable[[bytes], Any]]:
    """A ``write(bytes)`` for a path (opened, and closed after) or an open binary or text file."""
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, "wb") as f:
            yield f.write
    elif isinstance(path_or_file, io.TextIOBase):
        yield lambda data: path_or_file.write(data.decode("utf-8"))
    elif hasattr(path_or_file, "write"):
        yield path_or_file.write
    else:
        from auditlab._errors import InvalidArgument

        raise InvalidArgument(f"path_or_file: expected a path or a writable file, got {path_or_file!r}")


def _write_json(
    events: Any,
    path_or_file: str | os.PathLike[str] | IO[Any],
    build: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
    standard: str,
) -> int:
    count = 0
    dumps = orjson.dumps
    with _sink(path_or_file) as write:
        for batch in _batches(events):
            lines = [dumps(build(extras, record)) for extras, record in _rows(_canonical(batch), standard)]
            if lines:
                write(b"\n".join(lines) + b"\n")
            count += len(lines)
    return count
