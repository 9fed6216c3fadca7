"""Faults injected into a rendered log, each with its exact ground truth.

A fault acts on the events before rendering (a skewed clock, stripped actors, the event a clear leaves behind) or on
the records as written (dropped, duplicated, reordered, cut, corrupted, rotated away), or both. Every record a fault
removes, adds or changes is a row of :attr:`Log.fault_truth <auditlab.mock.render.Log.fault_truth>`: the fault, the
record's ``rid``, the ``effect`` and a ``detail``. Removed records keep the ``rid`` they had in the log before the
fault; added and changed ones have their ``rid`` in the new log's :attr:`~auditlab.mock.render.Log.truth`.

Event-level faults are applied first, in the order given, then record-level ones, in the order given, so that a log
is always ``render(faulted events)`` followed by record edits; the same ``seed`` gives the same bytes.
"""

from __future__ import annotations

import collections
import inspect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlab._errors import InvalidArgument
from auditlab.mock.render import Log, get_format, render_records

if TYPE_CHECKING:
    from auditlab.mock._model import Event, Record

SECOND = 1_000_000


@dataclass
class Ctx:
    """What a fault sees: the log's format and source, a seeded generator, and notes passed between its phases."""

    format: str
    source: str
    rng: random.Random
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """A registered fault: name, what it does, and its event and record phases (either may be ``None``)."""

    name: str
    description: str
    on_events: Callable[..., tuple[list[Event], list[tuple[int, str, str]]]] | None = None
    on_records: Callable[..., tuple[list[Record], list[dict[str, Any]]]] | None = None

    def params(self) -> dict[str, Any]:
        """The fault's keyword parameters and their defaults."""
        out: dict[str, Any] = {}
        for phase in (self.on_events, self.on_records):
            if phase is not None:
                for p in list(inspect.signature(phase).parameters.values())[2:]:
                    out[p.name] = p.default
        return out


def _row(fault: str, record: Record, effect: str, detail: str = "") -> dict[str, Any]:
    return {"fault": fault, "rid": record.rid, "file": record.file, "event": record.event, "effect": effect,
            "detail": detail}


def _number(name: str, value: Any, what: str, ok: Callable[[float], bool] = lambda v: True) -> float:
    """``value`` as a finite number satisfying ``ok``; anything else is an error naming ``name`` and the value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok(value):
        raise InvalidArgument(f"{name}: expected {what}, got {value!r}")
    return value


def _count(n: int | None, fraction: float | None, available: int, what: str, unit: str = "records") -> int:
    if n is not None and fraction is not None:
        raise InvalidArgument(f"n: give n or fraction, not both (n={n!r}, fraction={fraction!r})")
    if fraction is not None:
        _number("fraction", fraction, "a number between 0 and 1", lambda v: 0 <= v <= 1)
        return round(fraction * available)
    n = 1 if n is None else n
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidArgument(f"n: expected a count >= 0, got {n!r}")
    if n > available:
        raise InvalidArgument(f"n: cannot {what} {n} {unit}, the log has {available}")
    return n


def _time(record: Record) -> int:
    return record.time_us


def _iso(t: int) -> str:
    import datetime as dt

    return (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=t)).isoformat()


def _pick_file(records: list[Record], file: str | None, ctx: Ctx) -> str:
    files = sorted({r.file for r in records})
    if not files:
        raise InvalidArgument("log: the log has no records to fault")
    if file is None:  # a file with two records or more, where a cut can fall between records
        sizes = collections.Counter(r.file for r in records)
        return ctx.rng.choice([f for f in files if sizes[f] > 1] or files)
    if file not in files:
        raise InvalidArgument(f"file: {file!r} is not a file of this log; files: {', '.join(files)}")
    return file


def _pick_time(records: list[Record], at: Any, ctx: Ctx) -> int:
    from auditlab.mock.background import to_us

    if at is not None:
        return to_us(at, "at")
    times = sorted(_time(r) for r in records)
    if not times:
        return 0
    # a time in the middle half, after the first record, so that something is before it
    return times[max(1, len(times) // 4) + ctx.rng.randrange(max(1, len(times) // 2))] if len(times) > 1 else times[0]


# --- record faults -------------------------------------------------------------------------------------------------


def drop_records(records: list[Record], ctx: Ctx, n: int | None = None, fraction: float | None = None):
    k = _count(n, fraction, len(records), "drop")
    gone = set(ctx.rng.sample(range(len(records)), k))
    rows = [_row("drop_records", records[i], "dropped") for i in sorted(gone)]
    return [r for i, r in enumerate(records) if i not in gone], rows


def drop_range(records: list[Record], ctx: Ctx, start: Any = None, end: Any = None, minutes: float = 30):
    from auditlab.mock.background import to_us

    _number("minutes", minutes, "a duration > 0", lambda v: v > 0)
    lo = _pick_time(records, start, ctx)
    hi = to_us(end, "end") if end is not None else lo + int(minutes * 60 * SECOND)
    if hi <= lo:
        raise InvalidArgument(f"end: must be after start, got start={start!r}, end={end!r}")
    detail = f"{_iso(lo)} .. {_iso(hi)}"
    rows = [_row("drop_range", r, "dropped", detail) for r in records if lo <= _time(r) < hi]
    return [r for r in records if not lo <= _time(r) < hi], rows


def duplicate(records: list[Record], ctx: Ctx, n: int | None = None, fraction: float | None = None):
    k = _count(n, fraction, len(records), "duplicate")
    chosen = set(ctx.rng.sample(range(len(records)), k))
    out, rows, next_rid = [], [], max((r.rid for r in records), default=-1) + 1
    for i, record in enumerate(records):
        out.append(record)
        if i in chosen:
            copy = record.but(rid=next_rid)
            rows.append(_row("duplicate", copy, "duplicated", f"copy of rid {record.rid}"))
            out.append(copy)
            next_rid += 1
    return out, rows


def reorder(records: list[Record], ctx: Ctx, seconds: float = 5.0):
    _number("seconds", seconds, "a tolerance >= 0", lambda v: v >= 0)
    out, rows = [], []
    for file in sorted({r.file for r in records}):
        mine = [r for r in records if r.file == file]
        keyed = sorted(enumerate(mine), key=lambda p: (_time(p[1]) + ctx.rng.uniform(0, seconds) * SECOND, p[0]))
        for place, (was, record) in enumerate(keyed):
            if place != was:
                rows.append(_row("reorder", record, "moved", f"position {was} -> {place} in {file}"))
        out += [r for _, r in keyed]
    return out, rows


def _lines_only(fault: str, ctx: Ctx) -> None:
    if not get_format(ctx.format).lines:
        raise InvalidArgument(f"format: {fault} damages records of line formats; a {ctx.format} file is one gzipped "
                              f"JSON document, where damage takes the whole file: use cloudtrail-jsonl")


def truncate_lines(records: list[Record], ctx: Ctx, n: int | None = None, fraction: float | None = None):
    _lines_only("truncate_lines", ctx)
    k = _count(n, fraction, len(records), "truncate")
    out, rows = list(records), []
    for i in sorted(ctx.rng.sample(range(len(records)), k)):
        r = records[i]
        if len(r.text) < 2:
            continue
        keep = ctx.rng.randrange(1, len(r.text))
        out[i] = r.but(text=r.text[:keep].rstrip(b"\n"))
        rows.append(_row("truncate_lines", r, "truncated", f"kept {keep} of {len(r.text)} bytes"))
    return out, rows


def corrupt_bytes(records: list[Record], ctx: Ctx, n: int | None = None, fraction: float | None = None,
                  nbytes: int = 3):
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 1:
        raise InvalidArgument(f"nbytes: expected a count >= 1, got {nbytes!r}")
    _lines_only("corrupt_bytes", ctx)
    k = _count(n, fraction, len(records), "corrupt")
    out, rows = list(records), []
    garbage = (b"\xff", b"\xfe", b"\x00", b"\xc3", b"\x80", b"\x1b")
    for i in sorted(ctx.rng.sample(range(len(records)), k)):
        r = records[i]
        data = bytearray(r.text)
        spots = sorted(ctx.rng.sample(range(len(data)), min(nbytes, len(data))))
        for spot in spots:
            data[spot : spot + 1] = ctx.rng.choice(garbage)
        out[i] = r.but(text=bytes(data).replace(b"\n\n", b"\n\x00"))
        rows.append(_row("corrupt_bytes", r, "corrupted", f"bytes at {spots}"))
    return out, rows


def _rotated(file: str) -> str:
    return file[:-3] + ".1.gz" if file.endswith(".gz") else file + ".1"


def rotate(records: list[Record], ctx: Ctx, at: Any = None, file: str | None = None, lost: bool = False):
    _lines_only("rotate", ctx)
    name = _pick_file(records, file, ctx)
    cut = _pick_time([r for r in records if r.file == name], at, ctx)
    out, rows = [], []
    for r in records:
        if r.file == name and _time(r) < cut:
            if lost:
                rows.append(_row("rotate", r, "dropped", f"in {_rotated(name)}, rotated at {_iso(cut)} and lost"))
                continue
            rows.append(_row("rotate", r, "moved", f"{name} -> {_rotated(name)}"))
            r = r.but(file=_rotated(name))
        out.append(r)
    return out, rows


# --- clear: an event phase (the event the clear leaves) and a record phase (what it removes) ------------------------


def _clear_event(host: str, source: str, fmt: str, t: int, ctx: Ctx) -> Event:
    from auditlab.mock import _build as b
    from auditlab.mock.world import Account, Cluster, Host

    rng, labels = ctx.rng, b.Labels("fault", 0, "clear_log")
    if source == "linux":
        path = "/var/log/audit/audit.log" if fmt == "auditd" else "/var/log/auth.log"
        if fmt == "auditd":
            return b.linux(t, Host(host, "linux", ""), "command", labels, user="root", uid=0, auid=0, euid=0, ses=1,
                           tty="pts/0", pid=rng.randrange(2000, 30000), ppid=1, exe="/usr/bin/truncate",
                           argv=["truncate", "-s", "0", path], cwd="/root")
        return b.linux(t, Host(host, "linux", ""), "sudo", labels, user="root", uid=0, auid=0, ses=1, tty="pts/0",
                       pid=rng.randrange(2000, 30000), command=f"/usr/bin/truncate -s 0 {path}", cwd="/root",
                       target="root", target_uid=0)
    if source == "windows":
        admin = {"SubjectUserSid": "S-1-5-21-1-2-3-500", "SubjectUserName": "Administrator",
                 "SubjectDomainName": "CORP", "SubjectLogonId": "0x3e7"}
        channel = ctx.notes.get("channel", "Security")
        if channel == "Security":
            return b.windows(t, Host(host.split(".")[0], "windows", ""), 1102, None, labels, provider=b.EVENTLOG,
                             user_data=("LogFileCleared", admin)).but(host=host)
        data = {"SubjectUserName": "Administrator", "SubjectDomainName": "CORP", "Channel": channel,
                "BackupPath": ""}
        return b.windows(t, Host(host.split(".")[0], "windows", ""), 104, None, labels, provider=b.EVENTLOG,
                         channel=channel, user_data=("LogFileCleared", data)).but(host=host)
    if source == "aws":
        account = Account(host, "", ctx.notes.get("region", "us-east-1"), (), ())
        identity = {"type": "Root", "principalId": host, "arn": f"arn:aws:iam::{host}:root", "accountId": host,
                    "accessKeyId": "ASIA" + "Q" * 16}
        bucket = f"aws-cloudtrail-logs-{host}"
        return b.cloudtrail(t, account, identity, "s3.amazonaws.com", "DeleteObjects", rng, labels,
                            src_ip="203.0.113.66", request={"bucketName": bucket, "delete": ""},
                            management=False, read_only=False,
                            resources=[{"accountId": host, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}])
    if source == "k8s":
        admin = {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]}
        return b.k8s(t, Cluster(host, "", ()), admin, "create", "pods", rng, labels, namespace="kube-system",
                     name="kube-apiserver-master-0", subresource="exec", src_ip="203.0.113.66")
    from auditlab.mock.world import World

    world = World(0, (), (), (), (), host)
    method = "google.logging.v2.LoggingServiceV2.DeleteLog"
    return b.gcp(t, world, "admin@example.com", "logging.googleapis.com", method,
                 f"projects/{host}/logs/cloudaudit.googleapis.com%2Fdata_access", rng, labels, src_ip="203.0.113.66",
                 resource={"type": "logging_log", "labels": {"project_id": host}}, permission="logging.logs.delete")


def _log_of(file: str, fmt: str) -> str:
    """The log a file belongs to: the file itself, or for CloudTrail delivery files the account and region's prefix
    (``AWSLogs/<account>/CloudTrail/<region>/``), whose objects are what a clear deletes."""
    if fmt == "cloudtrail":
        return "/".join(file.split("/")[:4]) + "/"
    return file


def clear_log_events(events: list[Event], ctx: Ctx, at: Any = None, file: str | None = None, with_event: bool = True):
    """Event phase of ``clear_log``: choose the log and the time; add the event the clear leaves, if any."""
    records = render_records(events, ctx.format)
    log = _log_of(_pick_file(records, file, ctx), ctx.format)
    mine = [r for r in records if _log_of(r.file, ctx.format) == log]
    cut = _pick_time(mine, at, ctx)
    ctx.notes.update(log=log, cut=cut)
    if not with_event:
        return events, []
    first = events[mine[0].event]
    if first.source == "windows":
        ctx.notes["channel"] = first.fields.get("channel", "Security")
    if first.source == "aws":
        ctx.notes["region"] = first.fields.get("awsRegion", "us-east-1")
    clear = _clear_event(first.host, first.source, ctx.format, cut, ctx)
    ctx.notes["event"] = len(events)
    return [*events, clear], [(len(events), "inserted", f"the clear of {log} at {_iso(cut)}")]


def clear_log_records(records: list[Record], ctx: Ctx, at: Any = None, file: str | None = None,
                      with_event: bool = True):
    """Record phase of ``clear_log``: remove the log's records up to the clear. With its event, in a line format,
    that is every record of the file before the event's own first record; otherwise every record of the log
    written at or before the clear's time."""
    log, cut, clear = ctx.notes["log"], ctx.notes["cut"], ctx.notes.get("event")
    by_place = get_format(ctx.format).lines and clear is not None
    where = next((i for i, r in enumerate(records) if r.event == clear), None) if by_place else None
    out, rows = [], []
    for i, r in enumerate(records):
        if _log_of(r.file, ctx.format) == log and r.event != clear and (
                i < where if where is not None else _time(r) <= cut):
            rows.append(_row("clear_log", r, "dropped", f"cleared at {_iso(cut)}"))
            continue
        out.append(r)
    return out, rows


# --- event faults --------------------------------------------------------------------------------------------------


def _hosts(events: list[Event], ctx: Ctx) -> list[str]:
    return sorted({e.host for e in events if e.source == ctx.source})


def _pick_host(events: list[Event], host: str | None, ctx: Ctx) -> str:
    hosts = _hosts(events, ctx)
    if not hosts:
        raise InvalidArgument(f"log: no {ctx.source} events to fault")
    if host is None:
        return ctx.rng.choice(hosts)
    if host not in hosts:
        raise InvalidArgument(f"host: {host!r} has no {ctx.source} events; hosts: {', '.join(hosts)}")
    return host


def clock_skew(events: list[Event], ctx: Ctx, seconds: float = 300.0, host: str | None = None,
               start: Any = None, end: Any = None):
    """Every event of ``host`` (in [start, end) if given) is written ``seconds`` off (negative: behind)."""
    from auditlab.mock.background import to_us

    _number("seconds", seconds, "a number of seconds")
    name = _pick_host(events, host, ctx)
    lo = to_us(start, "start") if start is not None else None
    hi = to_us(end, "end") if end is not None else None
    if lo is not None and hi is not None and hi <= lo:
        raise InvalidArgument(f"end: must be after start, got start={start!r}, end={end!r}")
    return _shift(events, ctx, seconds, name, lo, hi, f"{seconds:+g} s on {name}")


def _shift(events: list[Event], ctx: Ctx, seconds: float, host: str, lo: int | None, hi: int | None, detail: str):
    shift = round(seconds * SECOND)
    out, rows = [], []
    for i, e in enumerate(events):
        if e.source == ctx.source and e.host == host and (lo is None or e.time_us >= lo) and (
                hi is None or e.time_us < hi):
            e = e.but(skew_us=e.skew_us + shift)
            rows.append((i, "time_shifted", detail))
        out.append(e)
    return out, rows


def clock_jump(events: list[Event], ctx: Ctx, seconds: float = -3600.0, at: Any = None, host: str | None = None):
    """From ``at`` on, ``host``'s clock is ``seconds`` off: a step (negative: the clock goes back)."""
    from auditlab.mock.background import to_us

    _number("seconds", seconds, "a number of seconds")
    name = _pick_host(events, host, ctx)
    mine = sorted(e.time_us for e in events if e.source == ctx.source and e.host == name)
    cut = to_us(at, "at") if at is not None else mine[len(mine) // 4 + ctx.rng.randrange(max(1, len(mine) // 2))]
    return _shift(events, ctx, seconds, name, cut, None, f"jump of {seconds:+g} s at {_iso(cut)} on {name}")


def strip_actor(events: list[Event], ctx: Ctx, n: int | None = None, fraction: float | None = None):
    """The actor fields of ``n`` (or ``fraction`` of the) events are left out of their records."""
    mine = [i for i, e in enumerate(events) if e.source == ctx.source]
    k = _count(n, fraction, len(mine), "strip the actor of", unit="events")
    chosen = set(ctx.rng.sample(mine, k))
    out = [e.but(stripped=True) if i in chosen else e for i, e in enumerate(events)]
    return out, [(i, "actor_stripped", "") for i in sorted(chosen)]


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("drop_records", "records lost at random (n or fraction)", on_records=drop_records),
    Fault("drop_range", "every record in a time range lost (start, end or minutes)", on_records=drop_range),
    Fault("clear_log", "a file cleared at a time: its earlier records gone, with or without the event the clear "
          "writes (1102/104, a truncate, DeleteObjects, DeleteLog, an exec into the API server)",
          on_events=clear_log_events, on_records=clear_log_records),
    Fault("rotate", "a file rotated at a time: its earlier records moved to file.1 (or lost)", on_records=rotate),
    Fault("duplicate", "records written twice (n or fraction)", on_records=duplicate),
    Fault("reorder", "records shuffled within a tolerance of seconds", on_records=reorder),
    Fault("clock_skew", "a host's clock off by seconds (for a time range)", on_events=clock_skew),
    Fault("clock_jump", "a host's clock jumps by seconds at a time", on_events=clock_jump),
    Fault("strip_actor", "the actor fields left out of records (n or fraction)", on_events=strip_actor),
    Fault("truncate_lines", "records cut short (n or fraction)", on_records=truncate_lines),
    Fault("corrupt_bytes", "bytes of records overwritten with invalid UTF-8, NUL and ESC (n, nbytes)",
          on_records=corrupt_bytes),
)}


def get(name: str) -> Fault:
    """The fault called ``name``; an unknown name is an error listing the available ones."""
    try:
        return FAULTS[name]
    except KeyError:
        raise InvalidArgument(f"fault: unknown fault {name!r}; available: {', '.join(FAULTS)}") from None


def inject(log: Log, fault: str, *, seed: int = 0, **params: Any) -> Log:
    """A new :class:`~auditlab.mock.render.Log`: ``log`` with ``fault`` applied (see :data:`FAULTS`), and its truth.

    Examples:
        >>> import auditlab as al
        >>> log = al.mock.scenario("ssh-bruteforce-sudo", seed=7).render("syslog")
        >>> hit = al.mock.inject(log, "drop_records", n=3, seed=1)
        >>> len(log.records) - len(hit.records), hit.fault_truth["effect"].to_list()
        (3, ['dropped', 'dropped', 'dropped'])
    """
    spec = get(fault)
    known = spec.params()
    for key in params:
        if key not in known:
            listed = ", ".join(known) or "none"
            raise InvalidArgument(f"{key}: not a parameter of fault {fault!r}; parameters: {listed}")
    return apply(log.base_events, log.format, (*log.faults, (fault, {**params, "seed": seed})))


def apply(events: tuple[Event, ...], format: str, faults: tuple[tuple[str, dict[str, Any]], ...]) -> Log:  # noqa: A002
    """Render ``events`` in ``format`` with ``faults`` applied: event phases in order, then record phases in order."""
    fmt = get_format(format)
    current = list(events)
    ctxs = []
    event_rows: list[tuple[str, int, str, str]] = []
    for name, params in faults:
        spec = get(name)
        options = {k: v for k, v in params.items() if k != "seed"}
        ctx = Ctx(fmt.name, fmt.source, random.Random(f"{params.get('seed', 0)}/{name}/{len(ctxs)}"))
        ctxs.append(ctx)
        if spec.on_events is not None:
            current, rows = spec.on_events(current, ctx, **_for(spec.on_events, options))
            event_rows += [(name, i, effect, detail) for i, effect, detail in rows]
    records = render_records(current, fmt.name)
    if event_rows:
        _keep_rids(records, render_records(events, fmt.name))
    by_event: dict[int, list[Record]] = {}
    for r in records:
        by_event.setdefault(r.event, []).append(r)
    fault_rows = [_row(name, r, effect, detail) for name, i, effect, detail in event_rows
                  for r in by_event.get(i, [])]
    for (name, params), ctx in zip(faults, ctxs, strict=True):
        spec = get(name)
        if spec.on_records is not None:
            options = {k: v for k, v in params.items() if k != "seed"}
            records, rows = spec.on_records(records, ctx, **_for(spec.on_records, options))
            fault_rows += rows
    log = Log(current, fmt.name, records=records, fault_rows=fault_rows, faults=faults)
    log.base_events = events
    return log


def _keep_rids(records: list[Record], before: list[Record]) -> None:
    """Give each record the ``rid`` it had in the rendering without faults (the k-th record of the same event), and
    records of events a fault added new rids after the largest, so that rids name the same record throughout."""
    old: dict[tuple[int, int], int] = {}
    seen: dict[int, int] = {}
    for r in before:
        k = seen[r.event] = seen.get(r.event, -1) + 1
        old[(r.event, k)] = r.rid
    seen.clear()
    fresh = max((r.rid for r in before), default=-1) + 1
    for r in records:
        k = seen[r.event] = seen.get(r.event, -1) + 1
        if (r.event, k) in old:
            r.rid = old[(r.event, k)]
        else:
            r.rid, fresh = fresh, fresh + 1


def _for(phase: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    names = set(list(inspect.signature(phase).parameters)[2:])
    return {k: v for k, v in options.items() if k in names}
