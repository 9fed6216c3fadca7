"""What is missing from an audit record: lost records, silent periods, tampering, bad clocks, missing actors.

:func:`gaps` reads any frame in the canonical schema (polars eager or lazy, pandas, DuckDB, PySpark) and returns one
frame of the same type with one row per finding, in the columns of :data:`GAP_COLUMNS`. The heavy work (filters,
windows per stream, hourly counts) runs lazily in the caller's backend through narwhals; only the small results
(each kind's rows and an hourly count table) are collected and finished locally in polars.

Kinds (:data:`KINDS`):

``sequence``
    Missing sequence numbers: per ``source_stream``, ordered by ``source_seq``, a step above one between
    consecutive records. Damaged records (``parse_error`` set) that carry a sequence number count as present.
``silence``
    A period with no events that the stream's own rhythm (hour of day, day of week) makes improbable.
``tamper``
    A record that says logging was lost or disabled: a log cleared, auditing disabled, a trail stopped, a logging
    daemon stopped, shell history wiped. The markers are the declarative table :data:`TAMPER_MARKERS`.
``clock``
    Time running backwards against the sequence, and records of the system time being changed
    (:data:`CLOCK_MARKERS`).
``unattributed``
    Runs of events of classes that should name an accountable actor (:data:`ATTRIBUTED_CLASSES`) but name none.
``source_silent``
    A stream, or a host across its streams, whose last event comes improbably early given its own rate while
    other streams of the frame go on.
``untimed``
    Records without a time: one row per stream with their count. They cannot be placed on any timeline, so they
    are reported rather than dropped silently.

Every kind but ``sequence`` skips damaged records (``parse_error`` set).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import narwhals as nw

from auditlab import _frame
from auditlab._errors import InvalidArgument
from auditlab._frame import ORDER

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "ATTRIBUTED_CLASSES",
    "CLOCK_MARKERS",
    "GAP_COLUMNS",
    "KINDS",
    "TAMPER_MARKERS",
    "Marker",
    "Regex",
    "gaps",
]

GAP_COLUMNS: dict[str, nw.dtypes.DType] = {
    "kind": nw.String(),
    "source_type": nw.String(),
    "source_stream": nw.String(),
    "host_name": nw.String(),
    "start": nw.Datetime("us", "UTC"),
    "end": nw.Datetime("us", "UTC"),
    "start_us": nw.Int64(),
    "end_us": nw.Int64(),
    "missing": nw.Int64(),
    "seq_from": nw.Int64(),
    "seq_to": nw.Int64(),
    "events": nw.Int64(),
    "score": nw.Float64(),
    "severity": nw.String(),
    "detail": nw.String(),
    "evidence": nw.String(),
}
"""The columns of a :func:`gaps` result, in order, with their (narwhals) dtypes, the same for every kind.

``kind`` is one of :data:`KINDS`; ``start``/``end`` (and ``start_us``/``end_us``, epoch microseconds) bound the
gap; ``missing``, ``seq_from`` and ``seq_to`` are set for sequence gaps only (how many records, first and last
missing number); ``events`` is how many records the finding is made of (a tamper or clock record: 1, an
unattributed run: its length, untimed records: their count; null for the other kinds); ``score`` is in [0, 1]
(``1 - p`` for silence and source_silent, 1.0 for certain findings); ``severity`` is ``"low"``, ``"medium"`` or
``"high"``; ``detail`` is one readable sentence and ``evidence`` names the records (``source_record_uid``, else
``file:line``) that bound or make the gap.
"""

KINDS: tuple[str, ...] = ("sequence", "silence", "tamper", "clock", "unattributed", "source_silent", "untimed")
"""Every kind of finding, in the order the docs present them."""

ATTRIBUTED_CLASSES: dict[int, str] = {
    3001: "Account Change",
    3002: "Authentication",
    3005: "User Access Management",
    3006: "Group Management",
    6003: "API Activity",
    1007: "Process Activity",
    1001: "File System Activity",
}
"""OCSF classes whose events must name an accountable actor; ``unattributed`` reports runs of those that do not."""

_ACTOR_COLUMNS = ("actor_orig_uid", "actor_orig_name", "actor_user_uid", "actor_user_name")

_HOUR_US = 3_600_000_000
_MIN_RATE_EVENTS = 10  # source_silent by mean rate needs this many events over at least an hour
_RESET_DROP = 1000  # a numbering that falls by more than this (and below half) in time order restarted
_WEEK_HOURS = 168
_DETAIL_TEXT_MAX = 200  # characters of a command line or path quoted in a detail sentence


class Regex(str):
    """A :class:`Marker` condition value matched as a regular expression rather than compared for equality.

    The same pattern runs on polars (Rust regex), pandas (RE2 through pyarrow), DuckDB (RE2) and Spark (Java), so
    patterns keep to their common subset: no backreferences, no lookaround, non-capturing groups ``(?:...)``, and
    ``(?i)`` at the start for case-insensitivity.
    """

    __slots__ = ()


@dataclass(frozen=True)
class Marker:
    """One row of a marker table: a record that, by itself, says logging was lost, disabled or mistimed.

    ``where`` maps canonical columns to the value each must hold: a string or integer (equal), a tuple (one of),
    or a :class:`Regex` (the pattern occurs in the value). All must hold. ``severity`` is that of a successful
    action; a failed one (``status_id`` 2) is reported one step lower.
    """

    source: str
    where: Mapping[str, str | int | tuple[str, ...] | Regex]
    meaning: str
    severity: str = "high"

    @property
    def condition(self) -> str:
        """The condition as text, for documentation: ``event_code = '1102' and api_service = '...'``."""
        parts = []
        for column, value in self.where.items():
            if isinstance(value, Regex):
                parts.append(f"{column} matches /{value}/")
            elif isinstance(value, tuple):
                parts.append(f"{column} in {list(value)}")
            else:
                parts.append(f"{column} = {value!r}")
        return " and ".join(parts)

    def expr(self) -> nw.Expr:
        """The condition as a narwhals expression (null where a column it reads is null).

        A pattern only sees the rows the marker's plain conditions let through (the others are null), so a regex
        over ``raw`` runs on the syslog rows, not on every record of the frame.
        """
        plain, patterns = [], []
        for column, value in self.where.items():
            col = nw.col(column)
            if isinstance(value, Regex):
                patterns.append((col, str(value)))
            elif isinstance(value, tuple):
                plain.append(col.is_in(list(value)))
            else:
                plain.append(col == value)
        gate = nw.all_horizontal(*plain, ignore_nulls=False) if plain else None
        conditions = list(plain)
        for col, pattern in patterns:
            seen = col if gate is None else nw.when(gate).then(col)
            conditions.append(seen.str.contains(pattern))
        return nw.all_horizontal(*conditions, ignore_nulls=False)


_EVENTLOG = "Microsoft-Windows-Eventlog"
_SECURITY_AUDITING = "Microsoft-Windows-Security-Auditing"
_LOG_DAEMONS = r"(?:auditd|rsyslog|rsyslogd|syslog-ng|syslog|systemd-journald|journald)"

TAMPER_MARKERS: tuple[Marker, ...] = (
    # Windows event log (EVTX, Event XML and JSON exports: the provider tells these ids from other providers')
    Marker("Windows", {"event_code": "1102", "api_service": _EVENTLOG}, "the Security audit log was cleared"),
    Marker("Windows", {"event_code": "104", "api_service": _EVENTLOG}, "an event log was cleared"),
    Marker("Windows", {"event_code": "1100", "api_service": _EVENTLOG}, "the event logging service shut down"),
    Marker("Windows", {"event_code": "4719", "api_service": _SECURITY_AUDITING}, "the system audit policy was changed"),
    Marker("Windows", {"process_cmdline": Regex(r"(?i)wevtutil(?:\.exe)?\s+(?:cl|clear-log)(?:\s|$)")},
           "a command cleared an event log (wevtutil cl)"),
    Marker("Windows", {"process_cmdline": Regex(r"(?i)(?:Clear|Remove)-EventLog")},
           "a command cleared or removed an event log (Clear-EventLog)"),
    Marker("Windows", {"process_cmdline": Regex(r"(?i)auditpol(?:\.exe)?\s.*(?:/clear|/remove|:disable)")},
           "a command cleared or disabled the audit policy (auditpol)"),
    # Linux audit: the daemon's own records, and the commands that stop or blind it
    Marker("auditd", {"source_type": "auditd", "event_code": ("DAEMON_END", "DAEMON_ABORT")},
           "the audit daemon stopped"),
    Marker("auditd", {"source_type": "auditd", "event_code": "CONFIG_CHANGE", "activity_id": 10},
           "auditing was disabled in the kernel (audit_enabled=0)"),
    Marker("Linux", {"process_cmdline": Regex(r"auditctl\s.*-e\s*0(?:\s|$)")},
           "a command disabled auditing (auditctl -e 0)"),
    Marker("Linux", {"process_cmdline": Regex(r"auditctl\s.*-D(?:\s|$)")},
           "a command deleted every audit rule (auditctl -D)"),
    Marker("Linux", {"process_cmdline": Regex(
        r"(?i)(?:service\s+" + _LOG_DAEMONS + r"\s+stop"
        r"|systemctl\s.*(?:stop|disable|mask|kill)\s.*" + _LOG_DAEMONS
        + r"|(?:pkill|killall)\s.*" + _LOG_DAEMONS + ")")},
        "a command stopped a logging or audit daemon"),
    # syslog and journald: the logging daemons' own last words
    Marker("syslog, journald", {"source_type": ("syslog", "journald"), "raw": Regex(r"rsyslogd.*exiting on signal")},
           "rsyslogd stopped"),
    Marker("syslog, journald", {"source_type": ("syslog", "journald"),
                                "raw": Regex(r"Stopped (?:System Logging|Security Auditing) Service")},
           "systemd stopped the system logging or audit service"),
    Marker("syslog, journald", {"source_type": ("syslog", "journald"), "raw": Regex(r"The audit daemon is exiting")},
           "the audit daemon stopped"),
    Marker("syslog, journald", {"source_type": ("syslog", "journald"), "raw": Regex(r"syslog-ng.*shutting down")},
           "syslog-ng stopped"),
    # Shell history wiped or disabled (any source that records command lines: auditd, Sysmon, 4688, ...)
    Marker("shell", {"process_cmdline": Regex(r"history\s+-c")}, "a command cleared the shell history (history -c)"),
    Marker("shell", {"process_cmdline": Regex(
        r"unset\s+HISTFILE|HISTFILE=/dev/null|HISTSIZE=0|HISTFILESIZE=0|set\s+\+o\s+history")},
        "a command turned shell history off"),
    Marker("shell", {"process_cmdline": Regex(
        r"(?:rm|shred|truncate|unlink)\s.*_history|>\s*\S*_history|ln\s+-\S*\s+/dev/null\s+\S*history")},
        "a command deleted, emptied or redirected a shell history file"),
    Marker("auditd", {"file_path": Regex(r"_history$"),
                      "api_operation": ("unlink", "unlinkat", "rename", "renameat", "renameat2", "truncate",
                                        "ftruncate")},
           "a shell history file was deleted, renamed or truncated"),
    # AWS: CloudTrail, CloudTrail Lake, CloudWatch Logs, VPC flow logs
    Marker("AWS CloudTrail", {"source_type": "cloudtrail", "api_operation": "StopLogging"},
           "a CloudTrail trail stopped logging"),
    Marker("AWS CloudTrail", {"source_type": "cloudtrail", "api_operation": "DeleteTrail"},
           "a CloudTrail trail was deleted"),
    Marker("AWS CloudTrail", {"source_type": "cloudtrail", "api_operation": "UpdateTrail"},
           "a CloudTrail trail was changed (its bucket, scope or encryption)"),
    Marker("AWS CloudTrail", {"source_type": "cloudtrail", "api_operation": "PutEventSelectors"},
           "a CloudTrail trail's event selectors were changed: some events may no longer be recorded"),
    Marker("AWS CloudTrail", {"source_type": "cloudtrail",
                              "api_operation": ("DeleteEventDataStore", "StopEventDataStoreIngestion")},
           "a CloudTrail Lake event data store was deleted or stopped ingesting"),
    Marker("AWS CloudTrail", {"source_type": "cloudtrail", "api_operation": ("DeleteLogGroup", "DeleteLogStream")},
           "a CloudWatch Logs log group or stream was deleted"),
    Marker("AWS CloudTrail", {"source_type": "cloudtrail", "api_operation": "DeleteFlowLogs"},
           "VPC flow logs were deleted"),
    # Google Cloud: Cloud Logging configuration (methodName ends with the operation)
    Marker("GCP Cloud Audit Logs", {"source_type": "gcp_audit", "api_operation": Regex(r"(?:DeleteSink|UpdateSink)$")},
           "a Cloud Logging sink was deleted or changed: entries may no longer be exported"),
    Marker("GCP Cloud Audit Logs", {"source_type": "gcp_audit", "api_operation": Regex(r"DeleteLog$")},
           "a Cloud Logging log was deleted"),
    Marker("GCP Cloud Audit Logs", {"source_type": "gcp_audit",
                                    "api_operation": Regex(r"(?:CreateExclusion|UpdateExclusion)$")},
           "a Cloud Logging exclusion was created or changed: matching entries are no longer stored"),
)
"""Records that say logging was lost or disabled; ``tamper`` reports one row per matching record.

Each :class:`Marker` holds its source family, its condition (``marker.condition`` as text), what it means and its
severity. The first marker that matches a record names it.
"""

CLOCK_MARKERS: tuple[Marker, ...] = (
    Marker("Windows", {"event_code": "4616", "api_service": _SECURITY_AUDITING}, "the system time was changed",
           "medium"),
    Marker("auditd", {"source_type": "auditd", "event_code": "TIME_INJOFFSET"},
           "the kernel clock was stepped (TIME_INJOFFSET)", "medium"),
    Marker("auditd", {"source_type": "auditd", "api_operation": ("settimeofday", "clock_settime", "stime")},
           "a process set the system time", "medium"),
    # NTP daemons adjust the clock all the time: these say the clock was steered, rarely that it was moved
    Marker("auditd", {"source_type": "auditd", "event_code": "TIME_ADJNTPVAL"},
           "NTP clock parameters were adjusted (TIME_ADJNTPVAL, routine for an NTP daemon)", "low"),
    Marker("auditd", {"source_type": "auditd", "api_operation": ("adjtimex", "clock_adjtime")},
           "a process adjusted the clock (adjtimex, routine for an NTP daemon)", "low"),
)
"""Records of the system time being changed; ``clock`` reports one row per matching record."""

_MARKERS = TAMPER_MARKERS + CLOCK_MARKERS
_LOWER = {"high": "medium", "medium": "low", "low": "low"}
_SHOWN = ("event_code", "process_cmdline", "file_path", "api_operation")  # the column a marker's detail quotes


def gaps(
    events: _frame.Frame,
    *,
    kinds: str | Iterable[str] | None = None,
    silence_p: float = 0.001,
    min_baseline_hours: int = 24,
    clock_tolerance: timedelta | int = timedelta(seconds=60),
) -> _frame.Frame:
    """Find what is missing from an audit record: one row per gap, in the caller's frame type.

    Needs ``time_us`` (or ``time``), ``source_stream`` and ``source_type``; every other canonical column is used
    where present. Rows are sorted by ``start_us`` (nulls last), ``kind`` and ``source_stream``; the columns are
    :data:`GAP_COLUMNS`.

    **sequence**: per stream, ordered by ``source_seq``, a step of more than one between consecutive records is a
    gap of ``step - 1`` missing records (``seq_from``..``seq_to``); ``start``/``end`` are the times of the two
    bounding records. Repeated numbers are not gaps. A numbering that falls in time order by more than 1,000 and
    below half its previous value restarted (a reboot the loader did not tell, a log reset or cleared): that is one
    row with no ``missing`` count, and the parts before and after are checked separately. When the bounding
    records come from different ``source_file`` values the detail says so: a rotated file is missing or was cut,
    rather than records lost inside one file. (A reboot the loader sees starts a new stream, so it is not a gap.)
    Severity high from 100 missing records.

    **silence**: hours with no events between two events of a stream, judged against the stream's own rhythm.
    Events are counted per stream and UTC hour (``time_us // 3_600_000_000``). Over the stream's active span (its
    first to its last non-empty hour, empty hours counting as zero), ``r`` is the mean events per hour, ``r_hod(h)``
    the mean in that hour of the day and ``r_dow(h)`` the mean on that day of the week; the expected count in hour
    ``h`` is ``r_hod(h) * r_dow(h) / r``. Real logs are burstier than Poisson, so each stream's dispersion ``phi``
    (Pearson's chi-square of its hourly counts against those expectations, over its degrees of freedom, at least
    1) widens the model to a negative binomial with variance ``phi`` times the mean: a run of empty hours whose
    expected count is ``E`` has probability ``p = exp(-E ln(phi) / (phi - 1))`` (``exp(-E)``, Poisson, when
    ``phi`` is 1), and is reported when ``p < silence_p`` (score ``1 - p``, severity high below 1e-6). A quiet
    night or weekend thus is not a gap, and a silent afternoon of a busy working day is. Leading and trailing
    silence are not judged here (a stream that stops is ``source_silent``). A stream spanning fewer than
    ``min_baseline_hours`` hours is not judged: below a day each hour of the day is seen at most once, so the
    baseline for a silent hour would be that same silent hour and nothing could ever look unusual; a larger
    minimum asks for more repetitions of each hour before trusting the rhythm.

    **tamper**: one row per record matching :data:`TAMPER_MARKERS` (logs cleared, auditing disabled, trails
    stopped or deleted, logging daemons stopped, shell history wiped); ``start`` is the marker, ``end`` the next
    event of the same stream (logging resumed) or null. Severity high, medium for a failed attempt
    (``status_id`` 2).

    **clock**: per stream ordered by ``source_seq``, a record whose time is more than ``clock_tolerance`` before
    that of the record preceding it in sequence (severity high beyond an hour, else medium; ``start``/``end`` are
    the earlier and the later time), and one row per record matching :data:`CLOCK_MARKERS` (system time changed;
    low for the routine adjustments of NTP daemons).

    **unattributed**: events of :data:`ATTRIBUTED_CLASSES` (but not failed or unknown authentications, such as
    sshd's pre-authentication disconnects, which name no one by nature) with no accountable actor
    (``actor_orig_uid``, ``actor_orig_name``, ``actor_user_uid`` and ``actor_user_name`` all null), grouped per
    stream in time order into runs that an attributed event of the stream ends; one row per run, ``events`` its
    length (severity medium from 10 events, else low).

    **source_silent**: a stream whose last event ``L`` comes improbably long before the frame's last event ``E``
    (a stream that goes on in a later stream of the same name but another ``/bootN``, as auditd's do after a
    reboot, is not silent). A stream with a baseline (``min_baseline_hours``) is judged like a silence, by its
    rhythm and dispersion over the hours from ``L`` to ``E``, so a stream that stops for the night just before the
    frame ends is not reported; a shorter one with at least 10 timed events over at least an hour, first ``F``, by
    its mean rate ``(events - 1) / (L - F)``: ``p = exp(-rate * (E - L))``. Reported when ``p < silence_p``. The
    same by mean rate per host (``host_name`` set, ``source_stream`` null) across all of a host's streams, for
    hosts with several streams.

    **untimed**: records with no time, one row per stream (``events`` their count).

    Args:
        events: events in the canonical schema: polars DataFrame or LazyFrame, pandas DataFrame, DuckDB relation or
            PySpark DataFrame.
        kinds: the kinds to look for (one name or several, from :data:`KINDS`); all by default.
        silence_p: report silence and source_silent below this probability; strictly between 0 and 1.
        min_baseline_hours: how many hours a stream must span before its silences are judged; at least 1.
        clock_tolerance: how far time may go backwards between consecutive records of a stream before it is a
            clock gap: a :class:`datetime.timedelta` or integer microseconds, not negative.

    Returns:
        One frame of the caller's type (eager or lazy as given), one row per gap, columns :data:`GAP_COLUMNS`.

    Raises:
        SchemaError: the frame lacks ``time_us`` (and ``time``), ``source_stream`` or ``source_type``.
        InvalidArgument: a keyword has a value that cannot be used, or ``events`` is not a frame.

    Examples:
        >>> import polars as pl
        >>> from auditlab.gaps import gaps
        >>> events = pl.DataFrame({
        ...     "time_us": [1_700_000_000_000_000 + i * 1_000_000 for i in range(4)],
        ...     "source_type": "auditd",
        ...     "source_stream": "web1/boot0",
        ...     "source_seq": [1, 2, 6, 7],
        ...     "source_record_uid": ["1700000000.000:1", "1700000001.000:2", "1700000002.000:6", "1700000003.000:7"],
        ... })
        >>> found = gaps(events)
        >>> found.select("kind", "missing", "seq_from", "seq_to").row(0)
        ('sequence', 3, 3, 5)
        >>> found["evidence"][0]
        'after 1700000001.000:2; before 1700000002.000:6'
    """
    chosen = _kinds(kinds)
    p_max = _probability("silence_p", silence_p)
    min_hours = _positive_int("min_baseline_hours", min_baseline_hours)
    tolerance_us = _tolerance(clock_tolerance)

    required = ["time_us", "source_stream", "source_type"]
    optional = [
        "source_seq", "source_record_uid", "source_file", "source_line", "source_offset", "host_name",
        "parse_error", "class_uid", "activity_id", "event_code", "api_operation", "api_service", "status_id",
        "status_code", "process_cmdline", "file_path", "resource_uid", "raw", *_ACTOR_COLUMNS,
    ]
    frame, _ = _frame.lazy(events, analysis="gaps", required=required, optional=optional)
    # Only the columns read here, and raw only where a marker reads it (syslog and journald): the frame is computed
    # once (polars) and read by every kind.
    frame = frame.select(*required, *optional).with_columns(
        raw=nw.when(nw.col("source_type").is_in(["syslog", "journald"])).then(nw.col("raw"))
    )
    base = _frame.cache(_frame.ordered(frame).with_columns(_frame.record_id().alias("_al_rid")))
    parts: list[pl.DataFrame] = []
    if chosen & {"sequence", "clock"}:
        parts.extend(_sequence_and_backwards(base, chosen, tolerance_us))
    if chosen & {"tamper", "clock"}:
        parts.append(_markers(base, chosen))
    if chosen & {"silence", "source_silent", "untimed"}:
        hourly = _hourly(base, timed=bool(chosen & {"silence", "source_silent"}))
        if "silence" in chosen:
            parts.append(_silence(hourly, p_max, min_hours))
        if "source_silent" in chosen:
            parts.append(_source_silent(hourly, p_max, min_hours))
        if "untimed" in chosen:
            parts.append(_untimed(hourly))
    if "unattributed" in chosen:
        parts.append(_unattributed(base))
    return _frame.from_polars(_finish(parts), like=events)


# -- arguments -------------------------------------------------------------------------------------------------


def _kinds(kinds: str | Iterable[str] | None) -> set[str]:
    if kinds is None:
        return set(KINDS)
    names = [kinds] if isinstance(kinds, str) else list(kinds)
    unknown = [name for name in names if name not in KINDS]
    if unknown:
        raise InvalidArgument(f"gaps(kinds={kinds!r}): unknown kinds {unknown}; choose from {list(KINDS)}")
    if not names:
        raise InvalidArgument(f"gaps(kinds={kinds!r}): choose at least one of {list(KINDS)}, or None for all")
    return set(names)


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise InvalidArgument(f"gaps({name}={value!r}): must be a probability strictly between 0 and 1")
    return float(value)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"gaps({name}={value!r}): must be a whole number of hours, at least 1")
    return value


def _tolerance(value: Any) -> int:
    if isinstance(value, timedelta):
        micros = value // timedelta(microseconds=1)
    elif isinstance(value, int) and not isinstance(value, bool):
        micros = value
    else:
        raise InvalidArgument(
            f"gaps(clock_tolerance={value!r}): must be a datetime.timedelta or integer microseconds"
        )
    if micros < 0:
        raise InvalidArgument(f"gaps(clock_tolerance={value!r}): must not be negative")
    return micros


# -- queries run in the caller's backend; each collects a small result -------------------------------------------


_INTEGERS = {
    "time_us", "source_seq", "status_id", "class_uid", ORDER, "_al_prev_seq", "_al_prev_time", "_al_next",
    "_al_marker", "_al_bucket", "_al_n", "_al_hi", "_al_run",
}  # columns a numpy-backed pandas frame may hand back as floats (after a shift, or holding nulls)


def _collect(frame: nw.LazyFrame) -> pl.DataFrame:
    """A small result in polars, integer columns as Int64 whatever the backend made of them."""
    import polars as pl

    result = frame.collect("polars").to_native()
    return result.with_columns(pl.col(c).cast(pl.Int64) for c in result.columns if c in _INTEGERS)


def _sequence_and_backwards(base: nw.LazyFrame, chosen: set[str], tolerance_us: int) -> list[pl.DataFrame]:
    """Sequence gaps and clock steps backwards: one window per stream in sequence order, both kinds at once."""
    import polars as pl

    def prev(column: str) -> nw.Expr:
        return nw.col(column).shift(1).over("source_stream", "_al_segment", order_by=["source_seq", ORDER])

    # A numbering that drops in time order restarted (a reboot the loader did not see, a log reset or cleared):
    # each part is judged on its own, and the restart is reported, not taken for millions of missing records.
    seq, earlier = nw.col("source_seq"), nw.col("source_seq").shift(1).over("source_stream", order_by=ORDER)
    restarts = ((earlier - seq) > _RESET_DROP) & (seq * 2 < earlier)
    numbered = _frame.cache(
        base.filter(~seq.is_null())
        .with_columns(
            _al_restart=restarts.fill_null(value=False),
            _al_earlier_seq=earlier,
            _al_earlier_time=nw.col("time_us").shift(1).over("source_stream", order_by=ORDER),
            _al_earlier_rid=nw.col("_al_rid").shift(1).over("source_stream", order_by=ORDER),
        )
        .with_columns(
            _al_segment=nw.col("_al_restart").cast(nw.Int64()).cum_sum().over("source_stream", order_by=ORDER)
        )
    )
    parts = []
    if "sequence" in chosen:
        parts.append(_restart_rows(_collect(numbered.filter(nw.col("_al_restart")).select(
            "source_type", "source_stream", "host_name", "source_seq", "time_us", "_al_rid", "_al_earlier_seq",
            "_al_earlier_time", "_al_earlier_rid",
        ))))
    rows = numbered.with_columns(
        _al_prev_seq=prev("source_seq"),
        _al_prev_time=prev("time_us"),
        _al_prev_rid=prev("_al_rid"),
        _al_prev_file=prev("source_file"),
        _al_prev_host=prev("host_name"),
        _al_prev_error=prev("parse_error"),
    )
    is_gap = (nw.col("source_seq") - nw.col("_al_prev_seq")) > 1
    is_back = (
        nw.col("parse_error").is_null()
        & nw.col("_al_prev_error").is_null()
        & ~nw.col("_al_prev_seq").is_null()
        & ((nw.col("_al_prev_time") - nw.col("time_us")) > tolerance_us)
    )
    wanted = [nw.col(flag) for kind, flag in (("sequence", "_al_is_gap"), ("clock", "_al_is_back")) if kind in chosen]
    found = _collect(
        rows.with_columns(_al_is_gap=is_gap.fill_null(value=False), _al_is_back=is_back.fill_null(value=False))
        .filter(nw.any_horizontal(*wanted, ignore_nulls=True))
        .select(
            "source_type", "source_stream", "host_name", "source_seq", "time_us", "_al_rid", "source_file",
            "_al_prev_seq", "_al_prev_time", "_al_prev_rid", "_al_prev_file", "_al_prev_host", "_al_is_gap",
            "_al_is_back",
        )
    )
    if "sequence" in chosen:
        parts.append(_sequence_rows(found.filter(pl.col("_al_is_gap"))))
    if "clock" in chosen:
        parts.append(_backwards_rows(found.filter(pl.col("_al_is_back"))))
    return parts


def _markers(base: nw.LazyFrame, chosen: set[str]) -> pl.DataFrame:
    """Tamper and clock markers: the index of the first matching marker, and the stream's next event time."""
    first = 0 if "tamper" in chosen else len(TAMPER_MARKERS)
    last = len(_MARKERS) if "clock" in chosen else len(TAMPER_MARKERS)
    none = nw.lit(len(_MARKERS), nw.Int64())
    index = nw.min_horizontal(*(
        nw.when(_MARKERS[i].expr().fill_null(value=False)).then(nw.lit(i, nw.Int64())).otherwise(none)
        for i in range(first, last)
    ))
    found = _collect(
        base.filter(nw.col("parse_error").is_null())
        .with_columns(
            _al_marker=index.cast(nw.Int64()),
            _al_next=nw.col("time_us").shift(-1).over("source_stream", order_by=ORDER),
        )
        .filter(nw.col("_al_marker") < len(_MARKERS))
        .select(
            "source_type", "source_stream", "host_name", "time_us", "_al_next", "_al_rid", "_al_marker", "status_id",
            "status_code", *_SHOWN, "resource_uid", *_ACTOR_COLUMNS,
        )
    )
    return _marker_rows(found)


def _hourly(base: nw.LazyFrame, *, timed: bool) -> pl.DataFrame:
    """Per stream, host and UTC hour (null for untimed records): the count, and the first and last record.

    With ``timed`` false only the untimed records are counted.
    """
    keys = ["source_stream", "host_name", "_al_bucket"]
    clean = base.filter(nw.col("parse_error").is_null())
    if not timed:
        clean = clean.filter(nw.col("time_us").is_null())
    return _collect(
        clean
        .with_columns(_al_bucket=(nw.col("time_us") // _HOUR_US).cast(nw.Int64()))
        .with_columns(
            _al_lo=nw.col(ORDER).min().over(*keys),
            _al_hi=nw.col(ORDER).max().over(*keys),
            _al_n=nw.col(ORDER).count().over(*keys).cast(nw.Int64()),
        )
        .filter((nw.col(ORDER) == nw.col("_al_lo")) | (nw.col(ORDER) == nw.col("_al_hi")))
        .select("source_type", *keys, ORDER, "time_us", "_al_rid", "_al_n", "_al_hi")
    )


def _unattributed(base: nw.LazyFrame) -> pl.DataFrame:
    """Runs of events without an accountable actor: the first and last record of each run and its length."""
    attributed = nw.any_horizontal(*(~nw.col(c).is_null() for c in _ACTOR_COLUMNS), ignore_nulls=True)
    keys = ["source_stream", "_al_run"]
    found = _collect(
        base.filter(nw.col("parse_error").is_null(), ~nw.col("time_us").is_null())
        .with_columns(
            _al_attributed=attributed.cast(nw.Int64()),
            # An authentication that did not succeed (sshd's "Connection closed by ... [preauth]") may name no one
            # by nature; every other event of these classes should.
            _al_flag=nw.col("class_uid").is_in(list(ATTRIBUTED_CLASSES)) & ~attributed
            & ~((nw.col("class_uid") == 3002) & (nw.col("status_id").fill_null(0) != 1)),
        )
        .with_columns(_al_run=nw.col("_al_attributed").cum_sum().over("source_stream", order_by=ORDER))
        .filter(nw.col("_al_flag"))
        .with_columns(
            _al_lo=nw.col(ORDER).min().over(*keys),
            _al_hi=nw.col(ORDER).max().over(*keys),
            _al_n=nw.col(ORDER).count().over(*keys).cast(nw.Int64()),
        )
        .filter((nw.col(ORDER) == nw.col("_al_lo")) | (nw.col(ORDER) == nw.col("_al_hi")))
        .select("source_type", "source_stream", "host_name", "class_uid", "time_us", "_al_rid", ORDER, "_al_run",
                "_al_n")
    )
    return _unattributed_rows(found)


# -- local finishing in polars ----------------------------------------------------------------------------------


def _when(column: str) -> pl.Expr:
    """A time column as readable UTC text for detail sentences."""
    import polars as pl

    return (
        pl.from_epoch(pl.col(column), time_unit="us").dt.strftime("%Y-%m-%d %H:%M:%S UTC").fill_null("an unknown time")
    )


def _restart_rows(found: pl.DataFrame) -> pl.DataFrame:
    """A numbering that restarts inside a stream: one ``sequence`` row, no count of missing records."""
    import polars as pl

    return found.select(
        pl.lit("sequence").alias("kind"),
        "source_type",
        "source_stream",
        "host_name",
        pl.col("_al_earlier_time").alias("start_us"),
        pl.col("time_us").alias("end_us"),
        pl.lit(None, pl.Int64).alias("missing"),
        pl.lit(None, pl.Int64).alias("seq_from"),
        pl.lit(None, pl.Int64).alias("seq_to"),
        pl.lit(None, pl.Int64).alias("events"),
        pl.lit(1.0).alias("score"),
        pl.lit("medium").alias("severity"),
        pl.format(
            "the numbering of stream {} restarts from {} to {}: a reboot, a log reset or cleared, or records from "
            "another source; the parts are checked for gaps separately",
            pl.col("source_stream").fill_null("(none)"), pl.col("_al_earlier_seq"), pl.col("source_seq"),
        ).alias("detail"),
        pl.format("after {}; before {}", pl.col("_al_earlier_rid"), pl.col("_al_rid")).alias("evidence"),
    )


def _sequence_rows(found: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    missing = pl.col("source_seq") - pl.col("_al_prev_seq") - 1
    file, prev_file = pl.col("source_file"), pl.col("_al_prev_file")
    where = (
        pl.when(prev_file.is_not_null() & file.is_not_null() & (prev_file != file))
        .then(pl.format("between files {} and {}: a rotated file is missing or was cut", prev_file, file))
        .when(file.is_not_null())
        .then(pl.format("within file {}", file))
        .otherwise(pl.lit("with no file recorded"))
    )
    return found.select(
        pl.lit("sequence").alias("kind"),
        "source_type",
        "source_stream",
        pl.coalesce("host_name", "_al_prev_host").alias("host_name"),
        pl.col("_al_prev_time").alias("start_us"),
        pl.col("time_us").alias("end_us"),
        missing.alias("missing"),
        (pl.col("_al_prev_seq") + 1).alias("seq_from"),
        (pl.col("source_seq") - 1).alias("seq_to"),
        pl.lit(None, pl.Int64).alias("events"),
        pl.lit(1.0).alias("score"),
        pl.when(missing >= 100).then(pl.lit("high")).otherwise(pl.lit("medium")).alias("severity"),
        pl.format(
            "{} missing from stream {}: {}, {}",
            pl.when(missing == 1).then(pl.lit("1 record")).otherwise(pl.format("{} records", missing)),
            pl.col("source_stream").fill_null("(none)"),
            pl.when(missing == 1)
            .then(pl.format("sequence number {}", pl.col("_al_prev_seq") + 1))
            .otherwise(pl.format("sequence numbers {} to {}", pl.col("_al_prev_seq") + 1, pl.col("source_seq") - 1)),
            where,
        ).alias("detail"),
        pl.format("after {}; before {}", pl.col("_al_prev_rid"), pl.col("_al_rid")).alias("evidence"),
    )


def _duration(micros: float) -> str:
    """A duration in words: ``3 h 20 min``, ``45 s``."""
    seconds = round(abs(micros) / 1e6)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    if not days and not hours:
        parts.append(f"{seconds} s" if seconds or not minutes else "")
    return " ".join(p for p in parts if p) or "0 s"


def _backwards_rows(found: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    back = pl.col("_al_prev_time") - pl.col("time_us")
    durations = [_duration(v) for v in found.select(back).to_series().to_list()]
    return found.with_columns(pl.Series("_al_back_text", durations, dtype=pl.String)).select(
        pl.lit("clock").alias("kind"),
        "source_type",
        "source_stream",
        pl.coalesce("host_name", "_al_prev_host").alias("host_name"),
        pl.col("time_us").alias("start_us"),
        pl.col("_al_prev_time").alias("end_us"),
        pl.lit(None, pl.Int64).alias("missing"),
        pl.lit(None, pl.Int64).alias("seq_from"),
        pl.lit(None, pl.Int64).alias("seq_to"),
        pl.lit(1, pl.Int64).alias("events"),
        pl.lit(1.0).alias("score"),
        pl.when(back > _HOUR_US).then(pl.lit("high")).otherwise(pl.lit("medium")).alias("severity"),
        pl.format(
            "time goes back {} from sequence number {} ({}) to {} ({}) in stream {}: the clock was set back or the "
            "records were reordered",
            pl.col("_al_back_text"), pl.col("_al_prev_seq"), _when("_al_prev_time"), pl.col("source_seq"),
            _when("time_us"), pl.col("source_stream").fill_null("(none)"),
        ).alias("detail"),
        pl.format("after {}; at {}", pl.col("_al_prev_rid"), pl.col("_al_rid")).alias("evidence"),
    )


def _quote(value: str | None) -> str:
    """A log-derived value fit for a detail sentence: one line, printable, not too long."""
    if value is None:
        return ""
    text = "".join(ch if ch.isprintable() else "?" for ch in " ".join(str(value).split()))
    if len(text) > _DETAIL_TEXT_MAX:
        text = text[: _DETAIL_TEXT_MAX - 3] + "..."
    return text


def _marker_rows(found: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for row in found.iter_rows(named=True):
        marker = _MARKERS[row["_al_marker"]]
        kind = "tamper" if row["_al_marker"] < len(TAMPER_MARKERS) else "clock"
        failed = row["status_id"] == 2
        shown = next((c for c in _SHOWN if c in marker.where), None)
        sentence = marker.meaning
        if shown is not None and row[shown] is not None:
            sentence += f" ({shown} {_quote(row[shown])})" if shown != "process_cmdline" else f": {_quote(row[shown])}"
        if row["resource_uid"] is not None and shown == "event_code":
            sentence += f" on {_quote(row['resource_uid'])}"
        actor = next((row[c] for c in ("actor_orig_name", "actor_user_name", "actor_orig_uid", "actor_user_uid")
                      if row[c] is not None), None)
        if actor is not None:
            sentence += f", by {_quote(actor)}"
        if failed:
            code = f" ({_quote(row['status_code'])})" if row["status_code"] is not None else ""
            sentence += f"; the attempt failed{code}"
        if kind == "tamper":
            if row["_al_next"] is not None:
                sentence += f"; the stream's next event is {_duration(row['_al_next'] - row['time_us'])} later"
            elif row["time_us"] is not None:
                sentence += "; no later event in the stream"
        rows.append({
            "kind": kind,
            "source_type": row["source_type"],
            "source_stream": row["source_stream"],
            "host_name": row["host_name"],
            "start_us": row["time_us"],
            "end_us": row["_al_next"] if kind == "tamper" and row["time_us"] is not None else row["time_us"],
            "events": 1,
            "score": 1.0,
            "severity": _LOWER[marker.severity] if failed else marker.severity,
            "detail": sentence,
            "evidence": row["_al_rid"],
        })
    return _frame_of(rows)


def _silent_runs(hourly: pl.DataFrame, min_hours: int, *, trailing: bool) -> pl.DataFrame | None:
    """Runs of empty hours of each stream judged against its rhythm: ``expected`` events, ``phi``, ``p``.

    The runs between two events of a stream, or (``trailing``) from each stream's last event to the frame's last
    hour. None where there is none.
    """
    import polars as pl

    # streams get an integer key (a null stream too), so that the joins below need no null-equal keys
    buckets = _buckets(hourly.filter(pl.col("_al_bucket").is_not_null())).with_columns(
        _al_key=pl.col("source_stream").rank("dense").fill_null(0)
    )
    streams = (
        buckets.group_by("_al_key")
        .agg(
            first=pl.col("_al_bucket").min(),
            last=pl.col("_al_bucket").max(),
            total=pl.col("n").sum(),
            source_stream=pl.col("source_stream").first(),
            source_type=pl.col("source_type").sort_by("last_order").last(),
            host_name=pl.col("host_name").sort_by("last_order").last(),
        )
        .with_columns(span=pl.col("last") - pl.col("first") + 1)
        .filter(pl.col("span") >= min_hours)
    )
    if buckets.is_empty():
        return None
    if trailing:  # from the hour after each stream's last event to the frame's last hour
        end = buckets["_al_bucket"].max()
        runs = (
            buckets.join(streams.select("_al_key"), on="_al_key")
            .group_by("_al_key")
            .agg(last_bucket=pl.col("_al_bucket").max(), last_us=pl.col("last_us").sort_by("_al_bucket").last(),
                 last_rid=pl.col("last_rid").sort_by("_al_bucket").last())
            .filter(pl.col("last_bucket") < end)
            .select("_al_key", "last_us", "last_rid", a=pl.col("last_bucket") + 1, b1=pl.lit(end + 1, pl.Int64))
        )
    else:  # the empty hours [a, b1) between two non-empty hours of a stream
        runs = (
            buckets.join(streams.select("_al_key"), on="_al_key")
            .sort("_al_key", "_al_bucket")
            .with_columns(
                next_bucket=pl.col("_al_bucket").shift(-1).over("_al_key"),
                next_first_us=pl.col("first_us").shift(-1).over("_al_key"),
                next_first_rid=pl.col("first_rid").shift(-1).over("_al_key"),
            )
            .filter(pl.col("next_bucket") - pl.col("_al_bucket") > 1)
            .select("_al_key", "last_us", "last_rid", "next_first_us", "next_first_rid",
                    a=pl.col("_al_bucket") + 1, b1=pl.col("next_bucket"))
        )
    if runs.is_empty():
        return None
    # Expected events at each of the 168 hours of the week, per stream: r_hod * r_dow / r, with hour-of-day and
    # day-of-week means over the span's hours (empty hours included) and r the mean over the whole span.
    week = pl.DataFrame({"c": range(_WEEK_HOURS)}, schema={"c": pl.Int64}).with_columns(
        hod=pl.col("c") % 24, dow=(pl.col("c") // 24 + 3) % 7  # hour 0 of 1970-01-01 was a Thursday (3)
    )
    hours = streams.join(week, how="cross").with_columns(  # how many hours of the span fall on each of the 168
        hours=(pl.col("last") - pl.col("c")) // _WEEK_HOURS - (pl.col("first") - 1 - pl.col("c")) // _WEEK_HOURS
    )
    counted = buckets.with_columns(hod=pl.col("_al_bucket") % 24, dow=(pl.col("_al_bucket") // 24 + 3) % 7)

    def rate(by: str) -> pl.DataFrame:
        seen = hours.group_by("_al_key", by).agg(hours=pl.col("hours").sum())
        n = counted.group_by("_al_key", by).agg(n=pl.col("n").sum())
        mean = pl.when(pl.col("hours") > 0).then(pl.col("n").fill_null(0) / pl.col("hours")).otherwise(0.0)
        return seen.join(n, on=["_al_key", by], how="left").select("_al_key", by, mean.alias(f"r_{by}"))

    weights = (
        hours.join(rate("hod"), on=["_al_key", "hod"])
        .join(rate("dow"), on=["_al_key", "dow"])
        .with_columns(w=pl.col("r_hod") * pl.col("r_dow") / (pl.col("total") / pl.col("span")))
        .sort("_al_key", "c")
        .select(
            "_al_key",
            "c",
            "w",
            before=pl.col("w").cum_sum().over("_al_key") - pl.col("w"),  # expected from hour 0 of the week to c
            week_total=pl.col("w").sum().over("_al_key"),
        )
    )
    dispersion = _dispersion(buckets, streams, weights)
    return (
        _expected(runs, weights)
        .join(dispersion, on="_al_key")
        .with_columns(  # negative binomial P(0) with variance phi * mean: exp(-E ln(phi) / (phi - 1))
            p=(-pl.col("expected") * pl.when(pl.col("phi") > 1.0)
               .then(pl.col("phi").log() / (pl.col("phi") - 1.0)).otherwise(1.0)).exp()
        )
        .join(streams.select("_al_key", "source_stream", "source_type", "host_name"), on="_al_key")
        .sort("_al_key", "a")
    )


def _silence(hourly: pl.DataFrame, p_max: float, min_hours: int) -> pl.DataFrame:
    import polars as pl

    runs = _silent_runs(hourly, min_hours, trailing=False)
    if runs is None:
        return _frame_of([])
    runs = runs.filter(pl.col("p") < p_max)
    rows = []
    for run in runs.iter_rows(named=True):
        p, empty = run["p"], run["b1"] - run["a"]
        rows.append({
            "kind": "silence",
            "source_type": run["source_type"],
            "source_stream": run["source_stream"],
            "host_name": run["host_name"],
            "start_us": run["last_us"],
            "end_us": run["next_first_us"],
            "score": 1.0 - p,
            "severity": "high" if p < 1e-6 else "medium",
            "detail": (
                f"stream {run['source_stream'] or '(none)'} is silent for "
                f"{_duration(run['next_first_us'] - run['last_us'])} ({empty} empty hour(s)) where its own rhythm at "
                f"these hours of the day and days of the week expects about {run['expected']:.1f} events "
                f"(p = {p:.2g}, counts {run['phi']:.2g} times as variable as Poisson)"
            ),
            "evidence": f"after {run['last_rid']}; before {run['next_first_rid']}",
        })
    return _frame_of(rows)


def _dispersion(buckets: pl.DataFrame, streams: pl.DataFrame, weights: pl.DataFrame) -> pl.DataFrame:
    """Per stream, ``phi``: how much more variable its hourly counts are than Poisson (Pearson's statistic over the
    span's hours, empty ones included, divided by its degrees of freedom; at least 1).

    ``sum((n - m)^2 / m) = sum(n^2 / m) - 2 N + sum(m)``, so only the non-empty hours need visiting: the sum of the
    expected counts ``m`` over the span comes from the weekly prefix sums like a silent run's.
    """
    import polars as pl

    m = weights.select("_al_key", "c", "w")
    seen = (
        buckets.with_columns(c=pl.col("_al_bucket") % _WEEK_HOURS)
        .join(m, on=["_al_key", "c"])
        .group_by("_al_key")
        .agg(squares=(pl.col("n").cast(pl.Float64) ** 2 / pl.col("w")).filter(pl.col("w") > 0).sum())
    )
    ends = streams.select("_al_key", "total", "span", a=pl.col("first"), b1=pl.col("last") + 1)
    model = _expected(ends, weights).join(seen, on="_al_key", how="left")
    pearson = pl.col("squares").fill_null(0.0) - 2 * pl.col("total") + pl.col("expected")
    return model.select(
        "_al_key",
        phi=pl.when(pl.col("span") > 1).then(pearson / (pl.col("span") - 1)).otherwise(1.0).clip(lower_bound=1.0),
    )


def _expected(hours: pl.DataFrame, weights: pl.DataFrame) -> pl.DataFrame:
    """``hours`` (per ``_al_key``, the hour range ``[a, b1)``) with ``expected``: the events the stream's weekly
    rhythm expects over it, ``W(b1) - W(a)`` where ``W(k) = (k // 168) * week_total + before[k % 168]``."""
    import polars as pl

    return (
        hours.with_columns(c_a=pl.col("a") % _WEEK_HOURS, c_b=pl.col("b1") % _WEEK_HOURS)
        .join(weights.select("_al_key", "week_total", c_a="c", before_a="before"), on=["_al_key", "c_a"])
        .join(weights.select("_al_key", c_b="c", before_b="before"), on=["_al_key", "c_b"])
        .with_columns(
            expected=(pl.col("b1") // _WEEK_HOURS - pl.col("a") // _WEEK_HOURS) * pl.col("week_total")
            + pl.col("before_b") - pl.col("before_a")
        )
    )


def _buckets(hourly: pl.DataFrame) -> pl.DataFrame:
    """The hourly table per stream and hour (across hosts): count, first and last event."""
    import polars as pl

    return hourly.group_by("source_stream", "_al_bucket").agg(
        n=pl.col("_al_n").filter(pl.col(ORDER) == pl.col("_al_hi")).sum(),
        first_us=pl.col("time_us").sort_by(ORDER).first(),
        first_rid=pl.col("_al_rid").sort_by(ORDER).first(),
        last_us=pl.col("time_us").sort_by(ORDER).last(),
        last_rid=pl.col("_al_rid").sort_by(ORDER).last(),
        last_order=pl.col(ORDER).max(),
        source_type=pl.col("source_type").sort_by(ORDER).last(),
        host_name=pl.col("host_name").sort_by(ORDER).last(),
    )


def _source_silent(hourly: pl.DataFrame, p_max: float, min_hours: int) -> pl.DataFrame:
    import polars as pl

    # streams with a baseline are judged by their rhythm and dispersion, like silence; the others by a flat rate
    rhythm = _silent_runs(hourly, min_hours, trailing=True)
    judged = {} if rhythm is None else {
        row["source_stream"]: (row["p"], row["expected"], row["phi"])
        for row in rhythm.select("source_stream", "p", "expected", "phi").iter_rows(named=True)
    }

    timed = hourly.filter(pl.col("_al_bucket").is_not_null())
    if timed.is_empty():
        return _frame_of([])
    frame_end = timed["time_us"].max()

    def summary(by: str, other: str) -> pl.DataFrame:
        return timed.group_by(by).agg(
            pl.col(other).sort_by(ORDER).last(),
            n=pl.col("_al_n").filter(pl.col(ORDER) == pl.col("_al_hi")).sum(),
            first_us=pl.col("time_us").min(),
            last_us=pl.col("time_us").sort_by(ORDER).last(),
            last_rid=pl.col("_al_rid").sort_by(ORDER).last(),
            source_type=pl.col("source_type").sort_by(ORDER).last(),
            types=pl.col("source_type").drop_nulls().n_unique(),
            streams=pl.col("source_stream").n_unique(),
        )

    streams = summary("source_stream", "host_name").with_columns(scope=pl.lit("stream"))
    hosts = (
        summary("host_name", "source_stream")
        .filter(pl.col("host_name").is_not_null(), pl.col("streams") >= 2)
        .with_columns(
            scope=pl.lit("host"),
            source_stream=pl.lit(None, pl.String),
            source_type=pl.when(pl.col("types") == 1).then(pl.col("source_type")),
        )
    )
    # A stream that ends because its source went on in a new one (auditd's host/boot0 -> host/boot1 at a reboot)
    # has not fallen silent: its origin (host, else the stream's name without the boot) is judged as a whole.
    origin = pl.col("source_stream").str.replace(r"/boot[0-9]+$", "/boot")  # host/boot0, host/boot1: one origin
    streams = streams.with_columns(_origin_end=pl.col("last_us").max().over(origin)).filter(
        pl.col("_origin_end") <= pl.col("last_us")
    ).drop("_origin_end")
    both = pl.concat([streams, hosts], how="diagonal_relaxed").filter(
        pl.col("n") >= 2, pl.col("last_us") > pl.col("first_us")
    )
    rows = []
    for item in both.sort("scope", "source_stream", "host_name", nulls_last=True).iter_rows(named=True):
        rate = (item["n"] - 1) / (item["last_us"] - item["first_us"])  # events per microsecond
        quiet = frame_end - item["last_us"]
        p = math.exp(-rate * quiet)
        why = (f"at its own rate of {rate * _HOUR_US:.3g} events per hour ({item['n']} events over "
               f"{_duration(item['last_us'] - item['first_us'])}) that silence has Poisson p = {p:.2g}")
        if item["scope"] == "stream" and item["source_stream"] in judged:
            p, expected, phi = judged[item["source_stream"]]
            why = (f"its own rhythm at those hours of the day and days of the week expects about {expected:.1f} "
                   f"events (p = {p:.2g}, counts {phi:.2g} times as variable as Poisson)")
        elif item["n"] < _MIN_RATE_EVENTS or item["last_us"] - item["first_us"] < _HOUR_US:
            continue  # a handful of events, or a burst of seconds, gives no rate worth judging a silence by
        if p >= p_max:
            continue
        who = f"stream {item['source_stream']}" if item["scope"] == "stream" else f"host {item['host_name']}"
        if item["scope"] == "stream" and item["source_stream"] is None:
            who = "the records with no stream"
        rows.append({
            "kind": "source_silent",
            "source_type": item["source_type"],
            "source_stream": item["source_stream"],
            "host_name": item["host_name"],
            "start_us": item["last_us"],
            "end_us": frame_end,
            "score": 1.0 - p,
            "severity": "high" if p < 1e-6 else "medium",
            "detail": (
                f"{who} falls silent {_duration(quiet)} before the last event of the frame: {why}"
            ),
            "evidence": f"last {item['last_rid']}",
        })
    return _frame_of(rows)


def _untimed(hourly: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    untimed = hourly.filter(pl.col("_al_bucket").is_null())
    summary = untimed.group_by("source_stream").agg(
        n=pl.col("_al_n").filter(pl.col(ORDER) == pl.col("_al_hi")).sum(),
        first_rid=pl.col("_al_rid").sort_by(ORDER).first(),
        last_rid=pl.col("_al_rid").sort_by(ORDER).last(),
        source_type=pl.col("source_type").sort_by(ORDER).last(),
        host_name=pl.col("host_name").sort_by(ORDER).last(),
    )
    return summary.select(
        pl.lit("untimed").alias("kind"),
        "source_type",
        "source_stream",
        "host_name",
        pl.col("n").cast(pl.Int64).alias("events"),
        pl.lit(1.0).alias("score"),
        pl.lit("medium").alias("severity"),
        pl.format(
            "{} record(s) of stream {} have no time: they cannot be placed on a timeline or judged for silence",
            pl.col("n"), pl.col("source_stream").fill_null("(none)"),
        ).alias("detail"),
        pl.when(pl.col("n") == 1)
        .then(pl.col("first_rid"))
        .otherwise(pl.format("first {}; last {}", pl.col("first_rid"), pl.col("last_rid")))
        .alias("evidence"),
    )


def _unattributed_rows(found: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    runs = found.group_by("source_stream", "_al_run").agg(
        n=pl.col("_al_n").first(),
        start_us=pl.col("time_us").sort_by(ORDER).first(),
        end_us=pl.col("time_us").sort_by(ORDER).last(),
        first_rid=pl.col("_al_rid").sort_by(ORDER).first(),
        last_rid=pl.col("_al_rid").sort_by(ORDER).last(),
        classes=pl.col("class_uid").unique().sort(),
        source_type=pl.col("source_type").sort_by(ORDER).last(),
        host_name=pl.col("host_name").sort_by(ORDER).last(),
    )
    names = pl.col("classes").list.eval(
        pl.element().replace_strict(ATTRIBUTED_CLASSES, default="other", return_dtype=pl.String)
    ).list.join(", ")
    return runs.select(
        pl.lit("unattributed").alias("kind"),
        "source_type",
        "source_stream",
        "host_name",
        "start_us",
        "end_us",
        pl.col("n").cast(pl.Int64).alias("events"),
        pl.lit(1.0).alias("score"),
        pl.when(pl.col("n") >= 10).then(pl.lit("medium")).otherwise(pl.lit("low")).alias("severity"),
        pl.format(
            "{} consecutive event(s) of stream {} ({}) name no accountable actor (actor_orig_* and actor_user_* "
            "all empty)",
            pl.col("n"), pl.col("source_stream").fill_null("(none)"), names,
        ).alias("detail"),
        pl.when(pl.col("n") == 1)
        .then(pl.col("first_rid"))
        .otherwise(pl.format("first {}; last {}", pl.col("first_rid"), pl.col("last_rid")))
        .alias("evidence"),
    )


def _polars_schema() -> pl.Schema:
    """:data:`GAP_COLUMNS` as a polars schema."""
    empty = nw.from_dict({name: [] for name in GAP_COLUMNS}, schema=GAP_COLUMNS, backend="polars")
    return empty.to_native().schema


def _frame_of(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows (dicts of some of the columns) as a frame of every column but ``start`` and ``end``."""
    import polars as pl

    schema = {k: v for k, v in _polars_schema().items() if k not in ("start", "end")}
    return pl.DataFrame(rows, schema=schema)


def _finish(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Every kind's rows in :data:`GAP_COLUMNS`, sorted by start, kind and stream."""
    import polars as pl

    schema = _polars_schema()
    conformed = [
        part.select(
            (pl.col(name).cast(dtype) if name in part.columns else pl.lit(None, dtype)).alias(name)
            for name, dtype in schema.items()
            if name not in ("start", "end")
        )
        for part in parts
    ]
    result = pl.concat(conformed, how="vertical") if conformed else _frame_of([])
    return (
        result.with_columns(
            pl.from_epoch(pl.col(f"{name}_us"), time_unit="us").dt.replace_time_zone("UTC").alias(name)
            for name in ("start", "end")
        )
        .select(pl.col(name).cast(dtype) for name, dtype in schema.items())
        .sort(
            ["start_us", "kind", "source_stream", "host_name", "seq_from", "end_us", "evidence", "detail"],
            nulls_last=True,
        )
    )
