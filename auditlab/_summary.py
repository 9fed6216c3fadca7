"""What ``auditlab summary`` computes and prints: one streaming pass, one small table per source type.

The accountable actor of a row is ``coalesce(actor_orig_uid, actor_user_uid)`` (DESIGN.md section 2), shown by
its name where the log gives one; the operation is ``api_operation``, or ``event_code`` where there is none.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from auditlab._safe import terminal_text

if TYPE_CHECKING:
    import polars as pl

__all__ = ["SourceSummary", "render", "summarize", "text_table"]


@dataclass(frozen=True)
class SourceSummary:
    """The summary of one source type."""

    source_type: str
    files: int
    records: int
    parse_errors: int
    first: datetime | None
    last: datetime | None
    actors: int
    unattributed: int
    top_actors: list[tuple[str, int]]
    top_operations: list[tuple[str, int]]


def summarize(events: pl.LazyFrame | pl.DataFrame, *, top: int = 5) -> list[SourceSummary]:
    """Summarize an events frame per ``source_type``, reading it once (streaming for a LazyFrame).

    Examples:
        >>> import polars as pl
        >>> from auditlab import schema
        >>> events = schema.conform(pl.DataFrame({"source_type": ["auditd"] * 3, "source_file": ["a"] * 3,
        ...     "actor_orig_uid": ["1000", "1000", None], "actor_orig_name": ["alice", None, None],
        ...     "event_code": ["SYSCALL", "USER_CMD", "DAEMON_START"], "api_operation": ["execve", None, None]}))
        >>> [s] = summarize(events, top=2)
        >>> s.records, s.actors, s.unattributed, s.top_actors
        (3, 1, 1, [('alice', 2)])
    """
    import polars as pl

    key = pl.coalesce("actor_orig_uid", "actor_user_uid", "actor_orig_name", "actor_user_name")
    name = pl.when(pl.col("actor_orig_uid").is_not_null()).then("actor_orig_name").otherwise("actor_user_name")
    grouped = (
        events.lazy()
        .group_by(
            "source_type",
            "source_file",
            key.alias("actor"),
            name.alias("actor_name"),
            pl.coalesce("api_operation", "event_code").alias("operation"),
        )
        .agg(
            records=pl.len(),
            parse_errors=pl.col("parse_error").is_not_null().sum(),
            first=pl.col("time").min(),
            last=pl.col("time").max(),
        )
        .collect(engine="streaming")
    )
    out = []
    for (source_type,), part in sorted(grouped.group_by("source_type"), key=lambda g: str(g[0][0])):
        actors = part.filter(pl.col("actor").is_not_null())
        out.append(SourceSummary(
            source_type=str(source_type),
            files=part["source_file"].n_unique(),
            records=int(part["records"].sum()),
            parse_errors=int(part["parse_errors"].sum()),
            first=part["first"].min(),  # type: ignore[arg-type]
            last=part["last"].max(),  # type: ignore[arg-type]
            actors=actors["actor"].n_unique(),
            unattributed=int(part.filter(pl.col("actor").is_null())["records"].sum()),
            top_actors=_top_actors(actors, top),
            top_operations=_top(part.filter(pl.col("operation").is_not_null()), "operation", top),
        ))
    return out


def _top(frame: pl.DataFrame, column: str, n: int) -> list[tuple[str, int]]:
    import polars as pl

    counts = frame.group_by(column).agg(pl.col("records").sum()).sort(["records", column], descending=[True, False])
    return [(str(value), int(count)) for value, count in counts.head(n).iter_rows()]


def _top_actors(frame: pl.DataFrame, n: int) -> list[tuple[str, int]]:
    """The busiest actors, each shown by its most frequent name (or by its id where no row names it)."""
    import polars as pl

    names = (
        frame.filter(pl.col("actor_name").is_not_null())
        .group_by("actor", "actor_name").agg(pl.col("records").sum())
        .sort(["records", "actor_name"], descending=[True, False])
        .unique("actor", keep="first", maintain_order=True)
    )
    counts = (
        frame.group_by("actor").agg(pl.col("records").sum())
        .join(names.select("actor", "actor_name"), on="actor", how="left")
        .with_columns(label=pl.coalesce("actor_name", "actor"))
    )
    return _top(counts.select("label", "records"), "label", n)


def _time(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _listing(pairs: list[tuple[str, int]]) -> str:
    return ", ".join(f"{terminal_text(label)} ({count})" for label, count in pairs) or "-"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Collection[int] = ()) -> list[str]:
    """The lines of a plain-text table: a header, a rule, the rows; each column as wide as its widest cell, two
    spaces apart, the columns numbered in ``right`` right-aligned. Cells must be escaped already."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        aligned = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(aligned).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def render(summaries: list[SourceSummary]) -> str:
    """The summaries as a plain-text table, then each source's top actors and operations; log text escaped."""
    header = ("source", "files", "records", "parse errors", "first", "last", "actors")
    rows = [
        (terminal_text(s.source_type), str(s.files), str(s.records), str(s.parse_errors), _time(s.first),
         _time(s.last), str(s.actors))
        for s in summaries
    ]
    out = [*text_table(header, rows, right={1, 2, 3, 6}), ""]
    for s in summaries:
        out.append(f"{terminal_text(s.source_type)}:")
        out.append(f"  top actors:      {_listing(s.top_actors)}")
        out.append(f"  unattributed:    {s.unattributed} records")
        out.append(f"  top operations:  {_listing(s.top_operations)}")
    return "\n".join(out).rstrip()
