"""The ``auditlab`` command: list formats, summarize audit logs, convert them, list their gaps and sessions.

Every string that comes from a log (or a file name) is passed through :func:`auditlab._safe.terminal_text`
before it is printed, so escape sequences in a log cannot drive the terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from auditlab import __version__
from auditlab._errors import AuditlabError
from auditlab._safe import terminal_text

if TYPE_CHECKING:
    import polars as pl

__all__ = ["main"]

CONVERT_TARGETS = ("parquet", "csv", "jsonl", "ocsf", "ecs")

F = TypeVar("F", bound=Callable[..., Any])


def _clean_errors(command: F) -> F:
    """Turn auditlab's own errors into a one-line message and exit status 1, instead of a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AuditlabError as exc:
            raise click.ClickException(terminal_text(str(exc))) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditlab")
def main() -> None:
    """auditlab: read audit logs into one normalized table, summarize them, convert them."""


@main.command()
def formats() -> None:
    """List the supported input formats."""
    import auditlab as al

    found = al.formats()
    width = max(len(name) for name in found)
    for name, description in found.items():
        click.echo(f"{name:<{width}}  {terminal_text(description)}")


_paths = click.argument("paths", nargs=-1, required=True, type=click.Path())
_format = click.option("--format", "format_", metavar="FORMAT", default=None,
                       help="Input format (see `auditlab formats`); sniffed from each file's content by default.")
_progress = click.option("--progress/--no-progress", default=None,
                         help="Show a progress bar (default: only when standard error is a terminal).")


@main.command()
@_paths
@_format
@_progress
@click.option("--top", default=5, show_default=True, type=click.IntRange(min=0), help="How many top actors and "
              "operations to list per source.")
@_clean_errors
def summary(paths: Sequence[str], format_: str | None, progress: bool | None, top: int) -> None:
    """Summarize audit logs: per source type, the files, records, parse errors, time span, actors and operations.

    PATHS are files, folders (read recursively) or glob patterns; compressed files are read as they are.
    """
    import auditlab as al
    from auditlab import _summary

    summaries = _summary.summarize(al.scan(list(paths), format=format_, progress=progress), top=top)
    click.echo(_summary.render(summaries) if summaries else "no records")


@main.command()
@_paths
@click.option("--to", "target", required=True, type=click.Choice(CONVERT_TARGETS), help="Output format.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Output file.")
@_format
@_progress
@_clean_errors
def convert(paths: Sequence[str], target: str, output: Path, format_: str | None, progress: bool | None) -> None:
    """Convert audit logs to one file of the canonical events table, streaming, with bounded memory.

    parquet, csv and jsonl hold the flat canonical columns (csv with spreadsheet formulas neutralised); ocsf and
    ecs are JSON lines in those standards.
    """
    import auditlab as al

    lazy = al.scan(list(paths), format=format_, progress=progress)
    count = _WRITERS[target](lazy, output)
    click.echo(f"wrote {count} records as {target} to {terminal_text(output)}", err=True)


GAP_SHOWN = ("kind", "severity", "source_stream", "host_name", "start", "end", "missing", "detail")
SESSION_SHOWN = ("start", "end", "actor", "attribution", "host_name", "src_ip", "event_count", "failure_count",
                 "session_id")
_CELL_MAX = 100  # characters of a cell shown in a table


@main.command()
@_paths
@_format
@_progress
@click.option("--kind", "kinds", multiple=True, type=click.Choice(
    ("sequence", "silence", "tamper", "clock", "unattributed", "source_silent", "untimed")),
    help="Only these kinds of gap (repeat the option for several); all by default.")
@_clean_errors
def gaps(paths: Sequence[str], format_: str | None, progress: bool | None, kinds: Sequence[str]) -> None:
    """List what is missing from audit logs: sequence gaps, silences, tampering, clock trouble, unattributed
    events, sources that fall silent (see docs/analysis.md)."""
    import auditlab as al

    events = al.load(list(paths), format=format_, progress=progress)
    _show(al.gaps(events, kinds=list(kinds) or None), GAP_SHOWN, empty="no gaps")


@main.command()
@_paths
@_format
@_progress
@_clean_errors
def sessions(paths: Sequence[str], format_: str | None, progress: bool | None) -> None:
    """List the sessions in audit logs: who, when, from where, how many events and failures."""
    import auditlab as al

    events = al.load(list(paths), format=format_, progress=progress)
    _show(al.sessions(events), SESSION_SHOWN, empty="no sessions")


def _mock_epilog() -> str:
    from auditlab.mock import FAULTS, FORMATS, SCENARIOS

    return (f"Scenarios: {', '.join(SCENARIOS)}. Formats: {', '.join(FORMATS)}. Faults: {', '.join(FAULTS)}.")


@main.command(epilog=_mock_epilog())
@click.argument("scenarios", nargs=-1)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the logs (logs/<format>/...) and the truth (truth/*.csv) into.")
@click.option("--format", "formats_", multiple=True, help="Native format to write (repeatable; default: every "
              "format of the sources the story has). See docs/mock.md.")
@click.option("--days", default=3.0, show_default=True, type=float, help="Days of benign activity.")
@click.option("--start", default=None, help="Start (ISO 8601, UTC); default 2026-11-02T00:00:00Z.")
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same bytes.")
@click.option("--fault", "faults", multiple=True, metavar="NAME[:K=V,...]",
              help="A fault to inject in every format, e.g. drop_records:n=5 (repeatable; see docs/mock.md).")
@_clean_errors
def mock(scenarios: Sequence[str], output: Path, formats_: Sequence[str], days: float, start: str | None, seed: int,
         faults: Sequence[str]) -> None:
    """Write synthetic audit logs with attacks woven in, and their truth: benign activity for --days, with the
    SCENARIOS named (default: every scenario; `auditlab mock none` for none)."""
    from auditlab import mock as m

    names = list(m.SCENARIOS) if not scenarios else [] if list(scenarios) == ["none"] else list(scenarios)
    story = m.incident(start=start or m.DEFAULT_START, days=days, scenarios=names, seed=seed)
    chosen = list(formats_) or story.formats
    parsed = [_fault(text) for text in faults]
    records, fault_rows = [], []
    for fmt in chosen:
        log = story.render(fmt)
        for name, params in parsed:
            log = log.inject(name, **{"seed": seed, **params})
        log.write(output / "logs" / fmt)
        records.append(log.truth.select("rid", "file", "line", "event", "synthetic_label").with_columns(
            format=_lit(fmt)))
        fault_rows.append(log.fault_truth.with_columns(format=_lit(fmt)))
        click.echo(f"{fmt}: {len(log.records)} records in {len(log.files)} files")
    import polars as pl

    (output / "truth").mkdir(parents=True, exist_ok=True)
    story.truth.drop("time").write_csv(output / "truth" / "events.csv")
    pl.concat(records).write_csv(output / "truth" / "records.csv")
    pl.concat(fault_rows).write_csv(output / "truth" / "faults.csv")


def _lit(value: str) -> Any:
    import polars as pl

    return pl.lit(value)


def _fault(text: str) -> tuple[str, dict[str, Any]]:
    """``drop_records:n=5,seed=2`` -> ``("drop_records", {"n": 5, "seed": 2})``; values read as JSON, else text."""
    import json

    from auditlab._errors import InvalidArgument

    name, _, rest = text.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgument(f"--fault: expected NAME[:KEY=VALUE,...], got {text!r}")
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return name.strip(), params


def _show(frame: pl.DataFrame, columns: Sequence[str], *, empty: str) -> None:
    """A result as a plain-text table of ``columns``, every cell escaped and cut to ``_CELL_MAX`` characters.

    For every column, or CSV, use the Python functions (``al.gaps``, ``al.sessions``, ``auditlab.export``).
    """
    if frame.is_empty():
        click.echo(empty)
        return

    def cell(value: object) -> str:
        text = "" if value is None else terminal_text(value)
        return text if len(text) <= _CELL_MAX else text[: _CELL_MAX - 1] + "…"

    from auditlab._summary import text_table

    rows = [[cell(v) for v in row] for row in frame.select(columns).iter_rows()]
    for line in text_table(columns, rows):
        click.echo(line)


def _to_parquet(lazy: pl.LazyFrame, output: Path) -> int:
    import polars as pl

    lazy.sink_parquet(output)
    return pl.scan_parquet(output).select(pl.len()).collect().item()


def _to_jsonl(lazy: pl.LazyFrame, output: Path) -> int:
    lazy.sink_ndjson(output)
    count = 0
    with open(output, "rb") as f:  # JSON escapes newlines inside strings: one line is one record
        for block in iter(lambda: f.read(1 << 20), b""):
            count += block.count(b"\n")
    return count


def _to_csv(lazy: pl.LazyFrame, output: Path) -> int:
    import polars as pl

    from auditlab import export

    export.to_csv(lazy, output)
    return pl.scan_csv(output, infer_schema=False).select(pl.len()).collect().item()


def _to_ocsf(lazy: pl.LazyFrame, output: Path) -> int:
    from auditlab import export

    return export.to_ocsf(lazy, output)


def _to_ecs(lazy: pl.LazyFrame, output: Path) -> int:
    from auditlab import export

    return export.to_ecs(lazy, output)


_WRITERS: dict[str, Callable[[pl.LazyFrame, Path], int]] = {
    "parquet": _to_parquet,
    "csv": _to_csv,
    "jsonl": _to_jsonl,
    "ocsf": _to_ocsf,
    "ecs": _to_ecs,
}

if __name__ == "__main__":  # pragma: no cover
    main()
