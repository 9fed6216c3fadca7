"""Render synthetic events into native log files, and the :class:`Log` that holds the files with their truth.

A format's renderer (one module per source family) turns :class:`~auditlab.mock._model.Event` objects into
:class:`~auditlab.mock._model.Record` objects, each with the canonical values :func:`auditlab.load` must give for it.
The records of a line format are written one after the other; a renderer of another layout (CloudTrail's gzipped
delivery files) packs a file's records itself. :class:`Log` keeps the events, the records and the faults applied, so
that its ``truth`` says, for every record written, which event and label it carries and what it must load as.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditlab._errors import InvalidArgument

if TYPE_CHECKING:
    import polars as pl

    from auditlab.mock._model import Event, Record


@dataclass(frozen=True, slots=True)
class Format:
    """A native format the generator writes: its renderer module, the source it renders, the loader that reads it."""

    name: str
    module: str
    source: str
    loader: str
    lines: bool
    description: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("auditd", "auditd", "linux", "auditd", True,
               "Linux audit.log, raw: multi-record events, one serial each"),
        Format("syslog", "syslog", "linux", "syslog", True, "auth.log as rsyslog writes it (RFC 3164): sshd, sudo, su"),
        Format("syslog-5424", "syslog", "linux", "syslog", True, "auth syslog in RFC 5424 with ISO timestamps"),
        Format("cloudtrail", "cloudtrail", "aws", "cloudtrail", False,
               "CloudTrail S3 delivery files: AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz"),
        Format("cloudtrail-jsonl", "cloudtrail", "aws", "cloudtrail", True, "CloudTrail records as JSON lines"),
        Format("windows-xml", "windows", "windows", "windows_xml", True, "Windows Event XML, one <Event> per line"),
        Format("windows-json", "windows", "windows", "windows_json", True, "Windows events as OTRF-style JSON lines"),
        Format("k8s-audit", "k8s_audit", "k8s", "k8s_audit", True, "Kubernetes audit.k8s.io/v1 Events, JSON lines"),
        Format("gcp-audit", "gcp_audit", "gcp", "gcp_audit", True, "GCP Cloud Audit Logs entries, JSON lines"),
    )
}


def get_format(name: str) -> Format:
    """The :class:`Format` called ``name``; an unknown name is an error listing the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise InvalidArgument(f"format: unknown format {name!r}; available: {', '.join(FORMATS)}") from None


def formats_for(source: str) -> list[str]:
    """The formats that render events of ``source``."""
    return [f.name for f in FORMATS.values() if f.source == source]


def _renderer(fmt: Format) -> Any:
    return importlib.import_module(f"auditlab.mock.{fmt.module}")


def render_records(events: Sequence[Event], format: str) -> list[Record]:  # noqa: A002
    """The records ``format`` writes for the events of its source, in file order (events of other sources skipped)."""
    fmt = get_format(format)
    chosen = sorted(((i, e) for i, e in enumerate(events) if e.source == fmt.source),
                    key=lambda p: (p[1].time_us, p[0]))
    if fmt.name == "auditd":
        silent = silenced_by_audit(chosen)
        chosen = [pair for pair in chosen if pair[0] not in silent]
    # a skewed clock changes what the record says, not where it is written: order by true time, write the skewed one
    chosen = [(i, e.but(time_us=e.time_us + e.skew_us)) if e.skew_us else (i, e) for i, e in chosen]
    from auditlab.load._json_records import gc_paused  # the loaders' pause, for batches of acyclic objects

    with gc_paused():
        records = _renderer(fmt).render(chosen, fmt.name)
    written = dict(chosen)
    for rid, record in enumerate(records):
        record.rid = rid
        record.time_us = written[record.event].time_us
    return records


def silenced_by_audit(chosen: Sequence[tuple[int, Event]]) -> set[int]:
    """The events auditd never writes: those on a host after auditing was disabled there (``audit_disable``, or the
    daemon stopped), until the daemon starts again. The disabling event itself is written (its CONFIG_CHANGE or
    DAEMON_END record is the last one)."""
    off: set[str] = set()
    out: set[int] = set()
    for index, event in chosen:
        if event.host in off:
            fields = event.fields
            if event.kind == "service" and fields.get("unit") == "auditd" and fields.get("action") == "start":
                off.discard(event.host)
            else:
                out.add(index)
                continue
        if event.kind == "audit_disable" or (event.kind == "daemon_stop" and event.fields.get("service") == "auditd"):
            off.add(event.host)
    return out


def pack(records: Sequence[Record], format: str) -> dict[str, bytes]:  # noqa: A002
    """The files' bytes: the records grouped by file, in order, each file packed by the format's renderer."""
    from auditlab.load._json_records import gc_paused

    with gc_paused():
        return _pack(records, format)


def _pack(records: Sequence[Record], format: str) -> dict[str, bytes]:  # noqa: A002
    fmt = get_format(format)
    by_file: dict[str, list[Record]] = {}
    for record in records:
        by_file.setdefault(record.file, []).append(record)
    if fmt.lines:  # one record after the other, each ending in a newline (an auditd record's lines are its text)
        return {name: b"".join([r.text + b"\n" for r in group]) for name, group in sorted(by_file.items())}
    module = _renderer(fmt)
    return {name: module.pack(group, fmt.name) for name, group in sorted(by_file.items())}


class Log:
    """Native log files rendered from synthetic events, with their ground truth.

    Attributes:
        format: the format name (one of :data:`FORMATS`).
        events: the events rendered (all sources; only ``format``'s source is written).
        records: the records as written, after the faults, in file order.
        files: relative path -> bytes.
        faults: the faults applied, in order, as ``(name, params)`` pairs.
    """

    def __init__(
        self,
        events: Sequence[Event],
        format: str,  # noqa: A002
        *,
        records: list[Record] | None = None,
        fault_rows: list[dict[str, Any]] | None = None,
        faults: tuple[tuple[str, dict[str, Any]], ...] = (),
    ) -> None:
        self.format = get_format(format).name
        self.events = tuple(events)
        self.records = render_records(self.events, self.format) if records is None else records
        self.faults = faults
        self.base_events = self.events  # before any fault: what faults.apply starts from
        self._fault_rows = list(fault_rows or [])
        self._files: dict[str, bytes] | None = None

    def __repr__(self) -> str:
        return (f"Log(format={self.format!r}, files={len(self.files)}, records={len(self.records)}, "
                f"faults={[name for name, _ in self.faults]})")

    @property
    def files(self) -> dict[str, bytes]:
        """Relative path -> the file's bytes (gzipped where the format is)."""
        if self._files is None:
            self._files = pack(self.records, self.format)
        return self._files

    @property
    def truth(self) -> pl.DataFrame:
        """One row per record written: ``rid``, ``file``, ``line`` (its first line, from 1; in a CloudTrail delivery
        file, its place in ``Records``, from 1, as the loader's ``source_line``), ``event`` (null for a record of an
        event a fault added),
        the label columns (``is_synthetic``, ``synthetic_label``, ``scenario``, ``step``, ``technique``), ``checked``
        (the canonical columns the format carries for it) and those columns' expected values."""
        import polars as pl

        fmt = get_format(self.format)
        rows, line_of, story = [], _line_numbers(self.records, lines=fmt.lines), len(self.base_events)
        for record in self.records:
            event = self.events[record.event] if record.event >= 0 else None
            row = {
                "rid": record.rid, "file": record.file, "line": line_of[id(record)],
                "event": record.event if 0 <= record.event < story else None,  # a fault's own event is no story's
                "is_synthetic": True, "synthetic_label": event.label if event else "fault",
                "scenario": event.scenario if event else "", "step": event.step if event else 0,
                "technique": event.technique if event else "", "checked": sorted(record.expect),
            }
            rows.append({**row, **{f"expect_{k}": v for k, v in record.expect.items()}})
        return pl.from_dicts(rows, infer_schema_length=None) if rows else pl.DataFrame(
            schema={"rid": pl.Int64, "file": pl.String, "line": pl.Int64, "event": pl.Int64})

    @property
    def fault_truth(self) -> pl.DataFrame:
        """One row per record a fault removed, added or changed: ``fault``, ``rid``, the record's ``file`` and
        ``event`` (as in :attr:`truth`), ``effect`` and ``detail``."""
        import polars as pl

        schema = {"fault": pl.String, "rid": pl.Int64, "file": pl.String, "event": pl.Int64, "effect": pl.String,
                  "detail": pl.String}
        story = len(self.base_events)
        rows = [{**row, "event": row["event"] if 0 <= row["event"] < story else None} for row in self._fault_rows]
        return pl.DataFrame(rows, schema=schema)

    def inject(self, fault: str, *, seed: int = 0, **params: Any) -> Log:
        """This log with ``fault`` applied: see :func:`auditlab.mock.faults.inject`."""
        from auditlab.mock.faults import inject

        return inject(self, fault, seed=seed, **params)

    def write(self, folder: str | Path) -> list[Path]:
        """Write the files under ``folder`` (created); returns their paths, sorted."""
        root = Path(folder)
        paths = []
        for name, data in self.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            paths.append(path)
        return sorted(paths)

    def load(self, folder: str | Path | None = None, **options: Any) -> pl.DataFrame:
        """:func:`auditlab.load` of the written files (in a temporary folder unless ``folder`` is given), with
        ``source_file`` made relative to it and the label columns filled from :attr:`truth`."""
        import polars as pl

        from auditlab.load import load

        fmt = get_format(self.format)
        if fmt.module == "syslog":
            options.setdefault("tz", "UTC")
        if folder is None:
            with tempfile.TemporaryDirectory(prefix="auditlab-mock-") as tmp:
                return self.load(tmp, **options)
        root = Path(folder).resolve()
        paths = self.write(root)
        if not paths:
            from auditlab import schema

            return label(schema.empty(), self)
        if fmt.module == "syslog" and "year" not in options:
            # RFC 3164 has no year: each file is read with the year of its first record (the loader goes on from there)
            first: dict[str, int] = {}
            for record in self.records:
                first.setdefault(record.file, _year(record.time_us))
            groups: dict[int, list[Path]] = {}
            for name in self.files:
                groups.setdefault(first[name], []).append(root / name)
            events = pl.concat([load(sorted(group), format=fmt.loader, progress=False, year=year, **options)
                                for year, group in sorted(groups.items())])
        else:
            events = load(paths, format=fmt.loader, progress=False, **options)
        prefix = str(root.resolve()) + "/"
        events = events.with_columns(pl.col("source_file").str.strip_prefix(prefix))
        return label(events, self)


def _year(time_us: int) -> int:
    import datetime as dt

    return (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=time_us)).year


def _line_numbers(records: Sequence[Record], *, lines: bool) -> dict[int, int]:
    next_line: dict[str, int] = {}
    out = {}
    for record in records:
        line = next_line.get(record.file, 1)
        out[id(record)] = line
        next_line[record.file] = line + (record.text.count(b"\n") + 1 if lines else 1)
    return out


def label(events: pl.DataFrame, log: Log) -> pl.DataFrame:
    """``events`` (loaded from ``log``'s files, ``source_file`` relative) with ``rid`` and ``synthetic_label`` from
    the truth, matched on file and ``source_line`` (a record's first line; in a CloudTrail delivery file its place
    in ``Records``), in the order of ``events``. Every row is synthetic; rows no record starts (a fault's damage)
    have null ``rid`` and label."""
    import polars as pl

    truth = log.truth
    if truth.is_empty() or events.is_empty():
        return events.with_columns(pl.lit(None, pl.Int64).alias("rid"), pl.lit(True).alias("is_synthetic"))
    keyed = truth.select("rid", pl.col("synthetic_label").alias("_label"), pl.col("file").alias("source_file"),
                         pl.col("line").alias("source_line"))
    out = events.join(keyed, on=["source_file", "source_line"], how="left", maintain_order="left")
    return out.with_columns(pl.lit(True).alias("is_synthetic"), pl.col("_label").alias("synthetic_label")).drop(
        "_label")
