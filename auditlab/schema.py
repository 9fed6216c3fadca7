"""The canonical events schema: one row per normalized audit event.

Every loader emits these columns, in this order, with these dtypes, and every analysis reads them. Each column
carries its OCSF path and ECS field so that exporters (:mod:`auditlab.export`) can write either standard. Where a
standard has no field for a column, the path goes under OCSF ``unmapped``; the original (accountable) actor follows
Auditbeat's ``user.audit.*`` in ECS, and columns ECS has no field for go under ``auditlab.*``.

Examples:
    >>> from auditlab import schema
    >>> schema.COLUMNS["actor_user_uid"].ocsf
    'actor.user.uid'
    >>> schema.empty().height
    0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from auditlab._errors import SchemaError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "COLUMNS",
    "Column",
    "conform",
    "empty",
    "polars_schema",
    "validate",
]


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, polars dtype, OCSF path, ECS field and meaning."""

    name: str
    dtype: pl.DataType
    ocsf: str | None
    ecs: str | None
    meaning: str


_UTC = pl.Datetime("us", "UTC")
S = pl.String()

_COLUMNS: tuple[Column, ...] = (
    Column("time", _UTC, "time", "@timestamp", "event time, UTC"),
    Column("time_us", pl.Int64(), None, None, "event time as epoch microseconds, for portable arithmetic"),
    Column("time_original", S, "unmapped.time_original", "auditlab.time_original", "the timestamp text as found"),
    Column("class_uid", pl.Int32(), "class_uid", None, "OCSF class: 3002 Authentication, 3001 Account Change, "
           "3005 User Access Management, 3006 Group Management, 6003 API Activity, 1007 Process Activity, "
           "1001 File System Activity, 4001 Network Activity, 1008 Event Log Activity, 0 other"),
    Column("activity_id", pl.Int16(), "activity_id", None, "OCSF activity within the class"),
    Column("event_code", S, "metadata.event_code", "event.code", "native type: USER_LOGIN, AwsApiCall, 4624, ..."),
    Column("api_operation", S, "api.operation", "event.action", "what was done: syscall, eventName, verb, command"),
    Column("api_service", S, "api.service.name", "event.provider", "which service: eventSource, provider, apiGroup"),
    Column("status_id", pl.Int16(), "status_id", None, "1 success, 2 failure, 0 unknown, 99 other"),
    Column("status_code", S, "status_code", "error.code", "native result code"),
    Column("status_detail", S, "status_detail", "error.message", "native result message"),
    Column("actor_user_uid", S, "actor.user.uid", "user.id", "the effective actor's id"),
    Column("actor_user_name", S, "actor.user.name", "user.name", "the effective actor's name"),
    Column("actor_user_type", S, "actor.user.type", "user.roles", "the effective actor's type (IAMUser, ...)"),
    Column("actor_user_domain", S, "actor.user.domain", "user.domain", "the effective actor's domain or account"),
    Column("actor_orig_uid", S, "unmapped.actor_orig.uid", "user.audit.id",
           "the original, accountable actor's id: auid, sudo invoker, impersonator, role session's human"),
    Column("actor_orig_name", S, "unmapped.actor_orig.name", "user.audit.name",
           "the original, accountable actor's name"),
    Column("actor_credential_uid", S, "actor.session.credential_uid", "user.credential.id",
           "access key or credential id"),
    Column("actor_session_uid", S, "actor.session.uid", "session.id",
           "session: auditd ses, Windows LogonId, role session"),
    Column("actor_session_issuer", S, "actor.session.issuer", "session.issuer", "who issued the session"),
    Column("actor_process_pid", pl.Int64(), "actor.process.pid", "process.pid", "acting process id"),
    Column("actor_process_name", S, "actor.process.name", "process.name", "acting process name or executable"),
    Column("target_user_uid", S, "user.uid", "user.target.id", "the account acted upon, id"),
    Column("target_user_name", S, "user.name", "user.target.name", "the account acted upon, name"),
    Column("target_session_uid", S, "session.uid", "auditlab.target_session.uid", "the session acted upon or opened"),
    Column("process_cmdline", S, "process.cmd_line", "process.command_line", "command line of the object process"),
    Column("file_path", S, "file.path", "file.path", "file acted upon"),
    Column("resource_uid", S, "resources.uid", "auditlab.resource.uid", "resource acted upon (ARN, object name)"),
    Column("resource_type", S, "resources.type", "auditlab.resource.type", "type of the resource acted upon"),
    Column("src_ip", S, "src_endpoint.ip", "source.ip", "where the request came from: IP address"),
    Column("src_port", pl.Int32(), "src_endpoint.port", "source.port", "where the request came from: port"),
    Column("src_hostname", S, "src_endpoint.hostname", "source.domain", "where the request came from: name"),
    Column("host_name", S, "device.hostname", "host.name", "where it happened: host"),
    Column("cloud_account_uid", S, "cloud.account.uid", "cloud.account.id", "where it happened: cloud account"),
    Column("cloud_region", S, "cloud.region", "cloud.region", "where it happened: cloud region"),
    Column("source_type", S, "metadata.log_name", "event.module", "auditd, cloudtrail, evtx, k8s_audit, ..."),
    Column("source_stream", S, "metadata.log_provider", "event.dataset",
           "the stream a sequence number belongs to: host+boot, Computer+Channel, account+region"),
    Column("source_seq", pl.Int64(), "metadata.sequence", "event.sequence", "native sequence number, if any"),
    Column("source_record_uid", S, "metadata.uid", "event.id", "native unique id of the record"),
    Column("source_file", S, "metadata.loggers.name", "log.file.path", "provenance: file"),
    Column("source_line", pl.Int64(), "unmapped.source_line", "auditlab.source_line",
           "provenance: 1-based line (text) or record index (binary, arrays)"),
    Column("source_offset", pl.Int64(), "unmapped.source_offset", "log.offset", "provenance: byte offset"),
    Column("raw", S, "raw_data", "event.original", "the verbatim record"),
    Column("raw_sha256", S, "raw_data_hash.value", "event.hash", "SHA-256 of raw (UTF-8), hex"),
    Column("unmapped", S, "unmapped", "labels.unmapped", "JSON of native fields the columns do not hold"),
    Column("parse_error", S, "unmapped.parse_error", "auditlab.parse_error", "null, or why the record was not parsed"),
    Column("is_synthetic", pl.Boolean(), "unmapped.is_synthetic", "auditlab.is_synthetic", "set by the mock generator"),
    Column("synthetic_label", S, "unmapped.synthetic_label", "auditlab.synthetic_label", "mock generator ground truth"),
)

COLUMNS: dict[str, Column] = {c.name: c for c in _COLUMNS}
"""The canonical columns, by name, in canonical order."""


def polars_schema() -> pl.Schema:
    """The canonical schema as a :class:`polars.Schema`, in canonical order."""
    return pl.Schema({c.name: c.dtype for c in _COLUMNS})


def empty() -> pl.DataFrame:
    """An events frame with no rows and every canonical column."""
    return pl.DataFrame(schema=polars_schema())


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Bring a frame of canonical columns to the canonical order and dtypes, adding missing columns as nulls.

    Raises:
        SchemaError: the frame holds columns that are not canonical.
    """
    extra = [c for c in frame.columns if c not in COLUMNS]
    if extra:
        raise SchemaError(extra, "not canonical columns", present=frame.columns)
    return frame.select(
        (pl.col(c.name).cast(c.dtype) if c.name in frame.columns else pl.lit(None, c.dtype)).alias(c.name)
        for c in _COLUMNS
    )


def validate(frame: Any, *, required: Iterable[str] | None = None, strict: bool = True) -> None:
    """Check a frame against the canonical schema.

    Args:
        frame: a polars, pandas, or other narwhals-supported frame (eager or lazy).
        required: columns that must be present; all canonical columns by default.
        strict: also check the dtypes of the canonical columns present (polars frames only).

    Raises:
        SchemaError: naming every missing column and every column with a wrong dtype.

    Examples:
        >>> from auditlab import schema
        >>> schema.validate(schema.empty())
        >>> schema.validate(schema.empty().drop("time"))
        Traceback (most recent call last):
        ...
        auditlab._errors.SchemaError: missing columns: ['time'] ...
    """
    import narwhals as nw

    nw_frame = nw.from_native(frame, allow_series=False)
    names = list(nw_frame.collect_schema().names())
    wanted = list(COLUMNS) if required is None else list(required)
    unknown = [c for c in wanted if c not in COLUMNS]
    if unknown:
        raise SchemaError(unknown, "asked for but not canonical columns", present=list(COLUMNS))
    missing = [c for c in wanted if c not in names]
    if missing:
        raise SchemaError(missing, "missing columns", present=names)
    if strict and isinstance(frame, (pl.DataFrame, pl.LazyFrame)):
        actual = frame.collect_schema()
        wrong = [c for c in wanted if actual[c] != COLUMNS[c].dtype]
        if wrong:
            detail = ", ".join(f"{c}: {actual[c]} (expected {COLUMNS[c].dtype})" for c in wrong)
            raise SchemaError(wrong, f"wrong dtypes: {detail}", present=names)
