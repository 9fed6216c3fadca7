"""Loading audit logs into the canonical events frame: :func:`load`, :func:`scan` and :func:`formats`.

One module per source format lives beside this file; ``_io`` reads files, folders, globs and compressed inputs,
``_formats`` sniffs formats, and ``_batch`` finishes each loader's batches into the canonical schema.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

from auditlab._errors import InvalidArgument, require
from auditlab.load import _formats
from auditlab.load._io import expand

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import polars as pl

    from auditlab.load._io import Source

__all__ = ["formats", "load", "scan"]

DEFAULT_BATCH_ROWS = 100_000


def formats() -> dict[str, str]:
    """The supported formats, by name, with a line about each.

    Examples:
        >>> import auditlab as al
        >>> "auditd" in al.formats()
        True
    """
    return {name: _formats.get(name).DESCRIPTION for name in _formats.names()}


def _plan(paths: Any, format: str | None, batch_rows: int) -> list[tuple[Source, Any]]:  # noqa: A002
    """Check the arguments, expand the paths and choose each source's loader (sniffing reads each file's start)."""
    if not isinstance(batch_rows, int) or batch_rows < 1:
        raise InvalidArgument(f"batch_rows: expected a positive integer, got {batch_rows!r}")
    if format is not None:
        _formats.get(format)  # an unknown format= fails before any file is read
    return [(source, _formats.resolve(source, format)) for source in expand(paths)]


def _options(year: int | None, tz: str | None) -> dict[str, Any]:
    """Check the loader options given to load()/scan()."""
    if year is not None and (not isinstance(year, int) or isinstance(year, bool) or not 1970 <= year <= 9999):
        raise InvalidArgument(f"year: expected a year such as 2024, got {year!r}")
    if tz is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidArgument(f"tz: expected an IANA time zone such as 'Europe/Paris', got {tz!r}") from None
    return {"year": year, "tz": tz}


def _frames(
    plan: list[tuple[Source, Any]], *, progress: bool | None, batch_rows: int, options: dict[str, Any]
) -> Iterator[pl.DataFrame]:
    """The canonical batches of every planned source, in order, advancing the progress bar.

    ``options`` (such as ``year`` and ``tz``) go to the loaders that name them in their ``OPTIONS``.
    """
    from auditlab.load._progress import progress_bar

    with progress_bar(plan, enabled=progress) as bar:
        for source, module in plan:
            wanted = getattr(module, "OPTIONS", ())
            kwargs = {k: v for k, v in options.items() if k in wanted and v is not None}
            for frame in module.parse(source, batch_rows=batch_rows, **kwargs):
                bar.advance(source, frame)
                yield frame
            bar.done(source)


def scan(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    format: str | None = None,  # noqa: A002 - the natural keyword for users
    progress: bool | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    year: int | None = None,
    tz: str | None = None,
) -> pl.LazyFrame:
    """Lazily read audit logs into the canonical schema, streaming in batches with bounded memory.

    Args:
        paths: a file, a folder (read recursively), a glob pattern, or a list of them. ``.gz``, ``.bz2`` and
            ``.zst`` inputs are decompressed, recognised by content.
        format: a name from :func:`formats`; by default each file's format is sniffed from its content.
        progress: show a progress bar; by default only in an interactive terminal or notebook, never in tests.
        batch_rows: the most rows a loader builds at once (a memory bound).
        year: the year of timestamps that carry none (RFC 3164 syslog); by default inferred from the file's
            modification time, and the assumption recorded in ``unmapped``.
        tz: the IANA time zone of timestamps that carry none (RFC 3164 syslog); UTC by default.

    Returns:
        A :class:`polars.LazyFrame` whose rows are the input records, one row each, in file order.

    Raises:
        SourceError: a path does not exist or a pattern matches nothing.
        FormatError: an unknown ``format=``, or a file whose format cannot be told.

    Examples:
        >>> import auditlab as al
        >>> lazy = al.scan("datasets/foundation")
        >>> lazy.select("source_type").unique().sort("source_type").collect()["source_type"].to_list()
        ['auditd', 'cloudtrail']
    """
    from polars.io.plugins import register_io_source

    from auditlab import schema

    plan = _plan(paths, format, batch_rows)
    options = _options(year, tz)

    def read(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        remaining = n_rows
        rows = min(batch_rows, batch_size) if batch_size else batch_rows
        for frame in _frames(plan, progress=progress, batch_rows=rows, options=options):
            out = frame
            if predicate is not None:
                out = out.filter(predicate)
            if with_columns is not None:
                out = out.select(with_columns)
            if remaining is not None:
                out = out.head(remaining)
                remaining -= out.height
            yield out
            if remaining is not None and remaining <= 0:
                return

    return register_io_source(read, schema=schema.polars_schema(), explain_name="auditlab")


def load(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    format: str | None = None,  # noqa: A002
    backend: Literal["polars", "pandas"] = "polars",
    progress: bool | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    year: int | None = None,
    tz: str | None = None,
) -> Any:
    """Read audit logs into one events frame in the canonical schema (:mod:`auditlab.schema`).

    Every input record becomes exactly one row; a record that cannot be parsed fully becomes a row with
    ``parse_error`` set and ``raw`` kept. Arguments are those of :func:`scan`, plus:

    Args:
        backend: ``"polars"`` (a :class:`polars.DataFrame`) or ``"pandas"`` (a pandas DataFrame with Arrow
            dtypes; needs ``pip install 'auditlab[pandas]'``).

    Examples:
        >>> import auditlab as al
        >>> events = al.load("datasets/foundation/linux/audit.log")
        >>> events.select("source_type", "event_code").row(0)
        ('auditd', 'DAEMON_START')
    """
    if backend not in ("polars", "pandas"):
        raise InvalidArgument(f"backend: expected 'polars' or 'pandas', got {backend!r}")
    if backend == "pandas":
        require("pandas", "pandas", "load(backend='pandas')")
    import polars as pl

    from auditlab import schema

    # The same rows as scan(...).collect(), joined without the copy a collect of the plugin scan makes.
    plan = _plan(paths, format, batch_rows)
    batches = list(_frames(plan, progress=progress, batch_rows=batch_rows, options=_options(year, tz)))
    frame = pl.concat(batches, how="vertical", rechunk=False) if batches else schema.empty()
    if backend == "pandas":
        return frame.to_pandas(use_pyarrow_extension_array=True)
    return frame
