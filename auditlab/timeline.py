"""Per-actor timelines and sessions: who did what, in which order, in which session.

Both run on any frame narwhals supports (polars eager or lazy, pandas, DuckDB, PySpark) and return the caller's
type; both build on :func:`auditlab.identity.stitch`, which decides each event's accountable actor, its attribution
and its session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import narwhals as nw

from auditlab import _frame
from auditlab._frame import ORDER, Frame
from auditlab.identity import OPTIONAL, REQUIRED, _stitch, actor_key

__all__ = ["SESSION_COLUMNS", "TIMELINE_COLUMNS", "sessions", "timeline"]

TIMELINE_COLUMNS: dict[str, str] = {
    "since_prev_us": "Int64",
    "privilege_change": "Boolean",
    "first_host": "Boolean",
    "first_src_ip": "Boolean",
    "first_operation": "Boolean",
}
"""The columns :func:`timeline` adds after those of :data:`auditlab.identity.STITCH_COLUMNS`."""

SESSION_COLUMNS: dict[str, str] = {
    "session_id": "String",
    "actor": "String",
    "actor_key": "String",
    "actor_uid": "String",
    "attribution": "String",
    "start": "Datetime(us, UTC)",
    "end": "Datetime(us, UTC)",
    "start_us": "Int64",
    "end_us": "Int64",
    "duration_us": "Int64",
    "host_name": "String",
    "host_count": "Int64",
    "src_ip": "String",
    "src_ip_count": "Int64",
    "source_type": "String",
    "source_count": "Int64",
    "event_count": "Int64",
    "failure_count": "Int64",
    "privileged_count": "Int64",
    "untimed_count": "Int64",
    "native": "Boolean",
    "opening_event": "String",
    "opening_record": "String",
}
"""One row of :func:`sessions`: its columns and dtypes."""

C = nw.col


def timeline(
    events: Frame,
    actor: str | Iterable[str] | None = None,
    *,
    identities: Mapping[str, str] | Any | None = None,
    idle: timedelta = timedelta(minutes=30),
    include_errors: bool = False,
) -> Frame:
    """Every event ordered per accountable actor, with its session and what was new for the actor.

    Args:
        events: an events frame in the canonical schema (polars eager or lazy, pandas, DuckDB, PySpark).
        actor: keep only this actor (or these): matched against the normalized ``actor_key``, the accountable
            uid and the readable actor, case-insensitively. ``None`` keeps every actor.
        identities: overrides of the normalized actor key, see :func:`auditlab.identity.stitch`.
        idle: the pause that ends a session for events without a native session id.
        include_errors: keep rows with ``parse_error`` set (skipped by default).

    Returns:
        The events (caller's frame type) with :data:`auditlab.identity.STITCH_COLUMNS` and
        :data:`TIMELINE_COLUMNS` added, sorted by ``actor_key`` (events with no accountable actor last), then
        time, sequence and provenance. Events with no time come last in their actor's run, with a null
        ``since_prev_us``; they are kept, never dropped. ``since_prev_us`` is the time since the actor's previous
        event; ``privilege_change`` marks the event where the actor starts acting as another identity (its
        ``privileged`` turns true); ``first_host``, ``first_src_ip`` and ``first_operation`` mark the actor's first
        use of a host, a source address or an operation (``api_operation``) within the data.

    Examples:
        >>> import polars as pl
        >>> events = pl.DataFrame({
        ...     "time_us": [3_000_000, 1_000_000, 2_000_000], "source_type": "syslog",
        ...     "host_name": ["web1", "web1", "db1"], "actor_user_name": ["alice", "alice", "ALICE"],
        ...     "api_operation": ["sudo", "login", "login"],
        ... })
        >>> timeline(events, "alice").select("time_us", "since_prev_us", "first_host", "first_operation").rows()
        [(1000000, None, True, True), (2000000, 1000000, True, False), (3000000, 1000000, False, True)]
    """
    frame, restore = _frame.lazy(events, analysis="timeline", required=REQUIRED, optional=OPTIONAL)
    frame = _stitch(frame, like=events, identities=identities, idle=idle, include_errors=include_errors)
    if actor is not None:
        frame = frame.filter(_matches(actor))
    known = ~C("actor_key").is_null()
    prev_time = C("time_us").shift(1).over("actor_key", order_by=ORDER)
    prev_priv = C("privileged").shift(1).over("actor_key", order_by=ORDER)
    firsts = {}
    for flag, column in (("first_host", "host_name"), ("first_src_ip", "src_ip"), ("first_operation", "api_operation")):
        first = C(ORDER) == C(ORDER).min().over("actor_key", column)
        firsts[flag] = known & ~C(column).is_null() & first
    frame = frame.with_columns(
        since_prev_us=nw.when(known).then(C("time_us") - prev_time),
        privilege_change=known & C("privileged") & ~prev_priv.fill_null(False),
        **firsts,
    )
    return restore(frame.sort("actor_key", ORDER, nulls_last=True).drop(ORDER))


def _matches(actor: str | Iterable[str]) -> nw.Expr:
    import polars as pl

    wanted = [actor] if isinstance(actor, str) else list(actor)
    lowered = [name.strip().lower() for name in wanted]
    keys = nw.from_native(pl.DataFrame({"name": wanted}, schema={"name": pl.String}))
    normalized = keys.select(actor_key(C("name")))["name"].to_list()
    return (
        C("actor_key").is_in(normalized + lowered)
        | C("actor_uid").str.to_lowercase().is_in(lowered)
        | C("actor").str.to_lowercase().is_in(lowered)
    ).fill_null(False)


def sessions(
    events: Frame,
    *,
    identities: Mapping[str, str] | Any | None = None,
    idle: timedelta = timedelta(minutes=30),
    include_errors: bool = False,
) -> Frame:
    """One row per session: who, when, where from, what happened in it and how it opened.

    Sessions come from native ids where a source has them (auditd ``ses``, Windows LogonId, CloudTrail role
    sessions, sshd pids, logind sessions; see :mod:`auditlab.identity`) and otherwise from idle gaps: one actor's
    events from one source on one host or cloud account with no pause longer than ``idle``. Events with neither
    a native session nor an accountable actor belong to no session (``al.gaps`` reports them as unattributed).

    Args:
        events: an events frame in the canonical schema (polars eager or lazy, pandas, DuckDB, PySpark).
        identities: overrides of the normalized actor key, see :func:`auditlab.identity.stitch`.
        idle: the pause that ends an idle-gap session.
        include_errors: count rows with ``parse_error`` set (skipped by default).

    Returns:
        A frame of the caller's type with :data:`SESSION_COLUMNS`, sorted by start: the actor, attribution and
        host of the opening event (the session's first event in time; the actor of a later event where the
        opening one names no one), ``start``/``end`` (and ``*_us``),
        ``duration_us``, the lowest source address and how many distinct ones, the source type of the opening
        event and how many distinct sources, how many events, failures (``status_id`` 2), privileged events
        (effective identity differs from the accountable one) and events with no time (counted, not dropped),
        whether the id is native, and the opening event (``api_operation``, else ``event_code``) and record id.

    Examples:
        >>> import polars as pl
        >>> events = pl.DataFrame({
        ...     "time_us": [0, 60_000_000, 7_200_000_000], "source_type": "k8s_audit",
        ...     "actor_user_name": "bob", "status_id": [1, 2, 1], "api_operation": ["get", "delete", "list"],
        ... })
        >>> sessions(events).select("session_id", "event_count", "failure_count", "opening_event").rows()
        [('idle:k8s_audit::bob#1', 2, 1, 'get'), ('idle:k8s_audit::bob#2', 1, 0, 'list')]
    """
    frame, restore = _frame.lazy(events, analysis="sessions", required=REQUIRED, optional=OPTIONAL)
    frame = _stitch(frame, like=events, identities=identities, idle=idle, include_errors=include_errors,
                    project=True)
    frame = _frame.cache(
        frame.filter(~C("session_id").is_null()).select(
            ORDER, "session_id", "actor", "actor_key", "actor_uid", "attribution", "host_name", "source_type",
            "time", "time_us", "src_ip",
            _al_failed=(C("status_id") == 2).fill_null(False).cast(nw.Int64()),
            _al_priv=C("privileged").fill_null(False).cast(nw.Int64()),
            _al_untimed=C("time_us").is_null().cast(nw.Int64()),
            _al_opening=nw.coalesce(C("api_operation"), C("event_code")),
            _al_record=_frame.record_id(),
        )
    )
    totals = frame.group_by("session_id").agg(
        C("time").min().alias("start"),
        C("time").max().alias("end"),
        C("time_us").min().alias("start_us"),
        C("time_us").max().alias("end_us"),
        C("src_ip").min().alias("src_ip"),
        nw.len().alias("event_count"),
        C("_al_failed").sum().alias("failure_count"),
        C("_al_priv").sum().alias("privileged_count"),
        C("_al_untimed").sum().alias("untimed_count"),
        C("actor").min().alias("_al_any_actor"),
        C("actor_key").min().alias("_al_any_key"),
        C("actor_uid").min().alias("_al_any_uid"),
    )
    opening = frame.filter(C(ORDER) == C(ORDER).min().over("session_id")).select(
        "session_id", "actor", "actor_key", "actor_uid", "attribution", "host_name", "source_type",
        opening_event=C("_al_opening"),
        opening_record=C("_al_record"),
    )
    result = totals.join(opening, on="session_id", how="left")
    for column, count in (("src_ip", "src_ip_count"), ("source_type", "source_count"), ("host_name", "host_count")):
        distinct = (
            frame.filter(~C(column).is_null()).select("session_id", column).unique()
            .group_by("session_id").agg(nw.len().alias(count))
        )
        result = result.join(distinct, on="session_id", how="left").with_columns(C(count).fill_null(0))
    result = result.with_columns(  # a session opened by an event naming no one (sshd's "Connection from")
        actor=nw.coalesce(C("actor"), C("_al_any_actor")),
        actor_key=nw.coalesce(C("actor_key"), C("_al_any_key")),
        actor_uid=nw.coalesce(C("actor_uid"), C("_al_any_uid")),
        duration_us=C("end_us") - C("start_us"),
        native=~C("session_id").str.starts_with("idle:"),
    ).with_columns(*(C(name).cast(nw.Int64()) for name in (
        "event_count", "failure_count", "privileged_count", "untimed_count", "src_ip_count", "source_count",
        "host_count")))
    return restore(result.select(*SESSION_COLUMNS).sort("start_us", "session_id", nulls_last=True))
