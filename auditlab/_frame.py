"""The frames analyses take and return: any narwhals-supported backend in, the same backend out.

Every analysis starts with :func:`lazy`: it checks the columns the analysis needs (an error names the missing ones
and lists what is present), adds the optional ones it lacks as typed nulls, and returns a narwhals LazyFrame plus a
function that turns a result back into the caller's type. Results computed locally (small summaries such as gap
rows) go back through :func:`from_polars`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import narwhals as nw

from auditlab._errors import InvalidArgument, SchemaError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ORDER", "Frame", "cache", "from_polars", "lazy", "ordered", "record_id"]

Frame = Any
"""A polars DataFrame or LazyFrame, a pandas DataFrame, a DuckDB relation or a PySpark DataFrame."""

ORDER = "_al_order"
"""The column :func:`ordered` adds: a row number in (time, sequence, provenance) order, unique per row."""

_NW_DTYPES = {  # the canonical polars dtypes (by name) as narwhals dtypes
    "String": nw.String(),
    "Int64": nw.Int64(),
    "Int32": nw.Int32(),
    "Int16": nw.Int16(),
    "Boolean": nw.Boolean(),
    "Datetime": nw.Datetime("us", "UTC"),
}


def lazy(
    events: Frame, *, analysis: str, required: Iterable[str], optional: Iterable[str] = ()
) -> tuple[nw.LazyFrame, Callable[[nw.LazyFrame], Frame]]:
    """``events`` as a narwhals LazyFrame holding ``required`` and ``optional`` columns, and a way back.

    ``time_us`` may be derived from ``time`` when only the latter is present. Optional columns that are absent
    are added as nulls of their canonical dtype, so an analysis runs on whatever part of the schema a frame has.
    """
    from auditlab.schema import COLUMNS

    try:
        frame = nw.from_native(events)
    except TypeError:
        raise InvalidArgument(
            f"{analysis}: expected a polars, pandas, DuckDB or PySpark frame, got {type(events).__name__}"
        ) from None
    if not isinstance(frame, (nw.DataFrame, nw.LazyFrame)):
        raise InvalidArgument(f"{analysis}: expected a frame, got a {type(events).__name__}")
    eager = isinstance(frame, nw.DataFrame)
    names = frame.collect_schema().names()
    present = set(names)
    required = list(required)
    if "time_us" in required and "time_us" not in present and "time" in present:
        frame = frame.with_columns(nw.col("time").dt.timestamp("us").alias("time_us"))
        present.add("time_us")
    missing = [name for name in required if name not in present]
    if missing:
        raise SchemaError(missing, f"{analysis}() needs these columns, which the frame lacks", present=names)
    absent = [name for name in dict.fromkeys(optional) if name not in present]
    if absent and frame.implementation.is_pandas_like():
        frame = _add_pandas_nulls(frame, absent)
        absent = []
    result = frame.lazy() if eager else frame
    if absent:
        dtypes = dict(_NW_DTYPES)
        if frame.implementation.is_duckdb():  # DuckDB keeps the zone in the connection, not the type
            dtypes["Datetime"] = nw.Datetime("us")
        result = result.with_columns(
            *(nw.lit(None, dtypes[type(COLUMNS[name].dtype).__name__]).alias(name) for name in absent)
        )

    def restore(out: nw.LazyFrame) -> Frame:
        return out.collect().to_native() if eager else out.to_native()

    return result, restore


def _add_pandas_nulls(frame: nw.DataFrame, names: list[str]) -> nw.DataFrame:
    """Null columns of canonical dtypes on a pandas frame (narwhals' typed null literals fail there)."""
    import pandas as pd
    import polars as pl

    from auditlab.schema import COLUMNS

    native = frame.to_native().copy(deep=False)
    for name in names:
        arrow_type = pl.Series([], dtype=COLUMNS[name].dtype).to_arrow().type
        native[name] = pd.array([None] * len(native), dtype=pd.ArrowDtype(arrow_type))
    return nw.from_native(native)


def ordered(frame: nw.LazyFrame) -> nw.LazyFrame:
    """Add :data:`ORDER`: rows numbered by time, then sequence, file, line, offset and record id (nulls last).

    Order-dependent steps use this one column so every backend breaks ties the same way.
    """
    big = 2**62
    keys = {
        "_al_k_time": nw.col("time_us").fill_null(big),
        "_al_k_seq": nw.col("source_seq").fill_null(big),
        "_al_k_file": nw.col("source_file").fill_null(""),
        "_al_k_line": nw.col("source_line").fill_null(big),
        "_al_k_offset": nw.col("source_offset").fill_null(big),
        "_al_k_uid": nw.col("source_record_uid").fill_null(""),
    }
    return (
        frame.with_columns(**keys)
        .with_row_index(ORDER, order_by=list(keys))
        .with_columns(nw.col(ORDER).cast(nw.Int64()))
        .drop(list(keys))
    )


def cache(frame: nw.LazyFrame) -> nw.LazyFrame:
    """Compute a polars plan once when later steps read it several times.

    polars does not share a subplan between separate collects, nor reliably between the branches of one plan
    (joins of aggregates of the same frame), so a stitched frame read by five branches was computed five times.
    Other backends plan their own reuse (and pandas is eager already).
    """
    if frame.implementation.is_polars():
        return frame.collect().lazy()
    return frame


def record_id() -> nw.Expr:
    """How evidence names a record: its native id, else ``file:line``, else ``file@offset``."""
    file = nw.col("source_file").fill_null("?")
    return nw.coalesce(
        nw.col("source_record_uid"),
        nw.concat_str(file, nw.lit(":"), nw.col("source_line").cast(nw.String())),
        nw.concat_str(file, nw.lit("@"), nw.col("source_offset").cast(nw.String())),
    )


def from_polars(result: pl.DataFrame, like: Frame) -> Frame:
    """A locally computed polars result in the type of ``like`` (the caller's frame)."""
    import polars as pl

    if isinstance(like, pl.DataFrame):
        return result
    if isinstance(like, pl.LazyFrame):
        return result.lazy()
    implementation = nw.from_native(like).implementation
    if implementation.is_pandas():
        return result.to_pandas(use_pyarrow_extension_array=True)
    if implementation.is_duckdb():
        import duckdb

        return duckdb.from_arrow(result.to_arrow())
    if implementation.is_pyspark() or implementation.is_pyspark_connect():
        return like.sparkSession.createDataFrame(result.to_arrow())
    raise InvalidArgument(f"results cannot be returned as a {type(like).__name__}")  # pragma: no cover
