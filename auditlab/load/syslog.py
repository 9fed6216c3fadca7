"""Linux syslog files (``auth.log``, ``secure``, ``messages``): RFC 3164, rsyslog's ISO-8601 form and RFC 5424.

**Lines.** Every non-blank line is one row; ``raw`` is the line without its line break (``\\n`` or ``\\r\\n``),
``source_line`` its 1-based number and ``source_offset`` the byte offset of its first byte. Three line shapes are
read, in one file or mixed:

- RFC 3164, as rsyslog and syslog-ng write files: ``[<PRI>]Mmm dd hh:mm:ss[.ffffff] HOST TAG[PID]: MESSAGE``;
- rsyslog's high-precision form (the default on current distributions): ``2024-01-02T03:04:05.123456+01:00 HOST
  TAG[PID]: MESSAGE`` (any RFC 3339 time, also without offset);
- RFC 5424: ``<PRI>1 TIMESTAMP HOST APP-NAME PROCID MSGID STRUCTURED-DATA MESSAGE`` (``-`` is an unset field).

**Time.** RFC 3164 times carry neither year nor zone: ``al.load(path, year=2024, tz="Europe/Paris")`` says what
they are. The zone is ``tz=`` (an IANA name; ``"UTC"`` by default), and applies to every time written without an
offset; a time repeated by a daylight-saving change is read as its first occurrence, and a time skipped by one is a
``parse_error``. The year is ``year=`` for the file's first line, going on to the next year where the month steps
back by more than six (December, then January). Without ``year=``, a line's year is that of the file's modification
time (in ``tz``), or the year before for a line whose date and time fall more than a day after the modification
time: a file written until 5 January 2025 reads its December lines as 2024 and its January lines as 2025. Either
way the assumption is written into the row's ``unmapped`` as ``"year_assumed": 2024`` and ``"tz_assumed": "UTC"``
(on every row whose time was completed so), so that it is never mistaken for data from the log.
``time_original`` is the timestamp as written.

**Field map.**

===================== =================================================================================
column                from
===================== =================================================================================
time_us, time         the timestamp (see *Time*); ``time_original``: its text
host_name             HOST (RFC 5424 ``-``: null)
source_stream         HOST: a host's syslog is one stream (programs are not: most log only when something
                      happens, so their silence is no gap); ``source_seq`` and ``source_record_uid`` are null,
                      syslog has neither sequence numbers nor record ids
api_service,          the program: TAG (RFC 5424 APP-NAME)
actor_process_name
actor_process_pid     PID (RFC 5424 PROCID, when a number; otherwise it goes to ``unmapped`` as ``procid``)
class_uid ... src_*   the MESSAGE, read by :mod:`auditlab.load._authlog` (sshd, sudo, su, PAM, systemd-logind,
                      shadow-utils, cron; its docstring holds the table). Any other message is a generic row:
                      ``class_uid`` 0, and the text in ``unmapped`` as ``message``
unmapped              JSON: ``message`` (generic rows), ``facility`` and ``severity`` (names, from PRI),
                      ``year_assumed``, ``tz_assumed``, RFC 5424 ``msgid`` and ``structured_data`` (``{SD-ID:
                      {PARAM: value}}``, a list where an SD-ID repeats), and what the message parser found
                      beside the columns (``auth_method``, ``tty``, ``pwd``, ``pam_service``, ...)
===================== =================================================================================

**Bad input.** A line without a timestamp and host that this loader reads is a row with ``parse_error`` set and
``raw`` kept; so is a line whose time does not exist (``Feb 30``) or is unset (RFC 5424 ``-``), its other fields
read. Invalid UTF-8 is kept in ``raw`` as
``\\xNN`` escapes, and a NUL byte as it is; both set ``parse_error``, and the line is parsed all the same. Control
characters stay in ``raw`` and are escaped in ``unmapped``; nothing here prints. Lines of any length are one row.
Corrupt compression ends the file with one more ``parse_error`` row (``raw`` empty) naming the fault.

**Speed.** Lines are read by polars' CSV reader where they allow it; headers, times, the message patterns and the
JSON of ``unmapped`` are polars expressions on whole columns, and chunks are mapped two at a time in threads (polars
releases the GIL). Only RFC 5424 structured data goes through Python. See ``benchmarks/bench_syslog.py``.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import orjson
import polars as pl

from auditlab._errors import InvalidArgument
from auditlab.load import _authlog
from auditlab.load._authlog import json_member, json_object
from auditlab.load._batch import finish
from auditlab.load._io import CHUNK_BYTES, iter_chunks
from auditlab.load._lines import lines_frame

if TYPE_CHECKING:
    from collections.abc import Iterator

    from auditlab.load._io import Source

__all__ = ["DESCRIPTION", "NAME", "OPTIONS", "parse", "sniff"]

NAME = "syslog"
DESCRIPTION = "Linux syslog files (auth.log, secure; RFC 3164, ISO-8601, RFC 5424): sshd, sudo, su, PAM, logind"

OPTIONS = ("year", "tz")
"""The keyword options of :func:`parse` that ``al.load(..., year=, tz=)`` passes through."""
WORKERS = 2
"""Chunks mapped at once, each in a thread."""
ROLLBACK_SLACK = timedelta(days=1)
"""How far past the file's modification time a line may be (clock skew, zones) before it counts as last year's."""

C = pl.col
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FACILITIES = ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
               "ntp", "security", "console", "solaris-cron", *(f"local{i}" for i in range(8)))
_SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

_ISO = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
_ZONE = r"Z|[+-][0-9]{2}:?[0-9]{2}"
_HEADER = (  # RFC 3164 and ISO-8601 lines: the header only (the message is the rest)
    r"^(?<head>(?:<(?<pri>[0-9]{1,3})>)?"
    rf"(?<ts>(?<mon>{'|'.join(_MONTHS)}) {{1,2}}(?<day>[0-9]{{1,2}}) (?<hms>[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}})"
    rf"(?<frac>\.[0-9]{{1,9}})?|(?<iso>{_ISO})(?<zone>{_ZONE})?)"
    r"(?: (?<host>[^ ]+)(?:$| (?:(?<prog>[^ \[:]+)(?:\[(?<pid>[^\]]*)\])?: ?)?)))"
)
_RFC5424 = (
    r"^<(?<pri>[0-9]{1,3})>(?<version>[1-9][0-9]?) (?<ts>[^ ]+) (?<host>[^ ]+) (?<prog>[^ ]+) (?<pid>[^ ]+) "
    r'(?<msgid>[^ ]+) (?<sd>-|(?:\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\])+)(?: (?<msg>.*))?$'
)
_TIMESTAMP = rf"^(?<iso>{_ISO})(?<zone>{_ZONE})?$"

_BOM = b"\xef\xbb\xbf"

# ------------------------------------------------------------------------------------------------------ sniffing

_SNIFF_3164 = re.compile(
    rb"^(?:<[0-9]{1,3}>)?(?:(?:" + "|".join(_MONTHS).encode() + rb") {1,2}[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
    rb"(?:\.[0-9]{1,9})?|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    rb"(?:Z|[+-][0-9]{2}:?[0-9]{2})?) [^ ]+ [^ \[:]+(?:\[[^\]]*\])?:"
)
_SNIFF_5424 = re.compile(rb"^<[0-9]{1,3}>[1-9][0-9]? [^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ (?:-|\[)")


def sniff(head: bytes) -> bool:
    """Whether the start of a file is syslog: at least half of its first ten lines have a syslog header and tag.

    Examples:
        >>> sniff(b"Feb 12 14:10:21 sd-126005 sshd[16378]: Invalid user pascal from 35.188.49.176 port 53502\\n")
        True
        >>> sniff(b'<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM\\'su root\\' failed\\n')
        True
        >>> sniff(b"type=DAEMON_START msg=audit(1481076983.819:7798): auditd start, ver=2.4.1\\n")
        False
        >>> sniff(b'{"MESSAGE": "Feb 12 14:10:21 host sshd[1]: x"}\\n')
        False
    """
    lines = head.removeprefix(_BOM).split(b"\n")
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines.pop()  # cut by the sniffing window
    lines = [line.rstrip(b"\r") for line in lines if line.strip()][:10]
    found = sum(1 for line in lines if _SNIFF_3164.match(line) or _SNIFF_5424.match(line))
    return found > 0 and 2 * found >= len(lines)


# ------------------------------------------------------------------------------------------------------- parsing


def parse(
    source: Source,
    *,
    batch_rows: int,
    year: int | None = None,
    tz: str | None = None,
    chunk_bytes: int = CHUNK_BYTES // WORKERS,
) -> Iterator[pl.DataFrame]:
    """Read a syslog file into canonical frames of at most ``batch_rows`` rows, one row per non-blank line.

    Args:
        source: the file to read.
        batch_rows: the most rows per yielded frame.
        year: the year of the file's first RFC 3164 line (whose timestamps have none); by default inferred from
            the file's modification time (see the module docstring).
        tz: the IANA time zone of timestamps written without an offset; ``"UTC"`` by default.
        chunk_bytes: decompressed bytes read at a time.

    Raises:
        InvalidArgument: a ``year`` or ``tz`` that cannot be used, before anything is read.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from auditlab.load._io import Source
        >>> path = Path(tempfile.mkdtemp()) / "auth.log"
        >>> _ = path.write_text("Mar  3 10:00:01 web1 sshd[42]: Accepted publickey for alice from 10.0.0.5 port 50022 "
        ...                     "ssh2: ED25519 SHA256:Zm9v\\n")
        >>> frame = next(parse(Source(path, None), batch_rows=100, year=2024, tz="Europe/Paris"))
        >>> frame.select("time_original", "actor_user_name", "src_ip", "actor_credential_uid").row(0)
        ('Mar  3 10:00:01', 'alice', '10.0.0.5', 'SHA256:Zm9v')
        >>> str(frame["time"].item())  # 10:00:01 in Paris, UTC+1 in March
        '2024-03-03 09:00:01+00:00'
    """
    zone = _check_tz(tz)
    years = _Years(_check_year(year), zone, None if year is not None else _mtime(source))
    pending: list[Future[pl.DataFrame]] = []

    def ready(limit: int) -> Iterator[pl.DataFrame]:
        while len(pending) > limit:
            frame = pending.pop(0).result()
            for start in range(0, frame.height, batch_rows):
                yield frame.slice(start, batch_rows)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for chunk in iter_chunks(source, chunk_bytes):
            lines = lines_frame(chunk, text_file=True)
            header = _header(lines)
            header = header.with_columns(years.of(header))  # in file order: the year may roll over
            pending.append(pool.submit(_frame, header, zone, source.name))
            if chunk.error is not None:
                error = {"raw": [""], "parse_error": [chunk.error], "source_line": [None], "source_offset": [None]}
                pending.append(pool.submit(finish, error, source_type=NAME, source_file=source.name))
            yield from ready(WORKERS)
        yield from ready(0)


def _check_tz(tz: str | None) -> str:
    if tz is None:
        return "UTC"
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
        pl.Series([0], dtype=pl.Datetime("us")).dt.replace_time_zone(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError, pl.exceptions.PolarsError):
        raise InvalidArgument(
            f"tz: expected an IANA time zone name such as 'UTC' or 'Europe/Paris', got {tz!r}"
        ) from None
    return tz


def _check_year(year: int | None) -> int | None:
    if year is not None and (type(year) is not int or not 1 <= year <= 9999):
        raise InvalidArgument(f"year: expected a year such as 2024 (an integer from 1 to 9999), got {year!r}")
    return year


def _mtime(source: Source) -> float:
    return os.stat(source.path).st_mtime


class _Years:
    """The year of each RFC 3164 line: from ``year=`` (rolled over in file order), or from the file time."""

    def __init__(self, year: int | None, tz: str, mtime: float | None) -> None:
        self.given = year
        self.last_month: int | None = None
        self.rollovers = 0
        if year is None:
            from zoneinfo import ZoneInfo

            wall = datetime.fromtimestamp(mtime or 0.0, ZoneInfo(tz)).replace(tzinfo=None)
            limit = wall + ROLLBACK_SLACK
            self.base = wall.year
            # month, day and time as one number; a line above it is last year's (none is, when the slack ends the year)
            self.limit = _key(limit.month, limit.day, limit.hour * 10_000 + limit.minute * 100 + limit.second) if (
                limit.year == wall.year) else None

    def of(self, header: pl.DataFrame) -> pl.Series:
        """The ``year`` of each row (null where the line has no RFC 3164 timestamp)."""
        month = C("month").cast(pl.Int32)
        if self.given is None:
            later = pl.lit(False)
            if self.limit is not None:
                hms = C("hms").str.replace_all(":", "", literal=True).cast(pl.Int64, strict=False)
                later = (_key(month.cast(pl.Int64), C("day").cast(pl.Int64, strict=False), hms) > self.limit)
            year = pl.lit(self.base, pl.Int32) - later.fill_null(False).cast(pl.Int32)
            return header.select(pl.when(month.is_not_null()).then(year).alias("year")).to_series()
        known = header.select(month.alias("m"), pl.int_range(pl.len()).alias("i")).filter(C("m").is_not_null())
        if known.is_empty():
            return pl.Series("year", [None] * header.height, dtype=pl.Int32)
        first = self.last_month if self.last_month is not None else known.item(0, "m")
        steps = known.select(
            (((C("m").shift(1, fill_value=first) - C("m")) > 6).cast(pl.Int32).cum_sum() + self.rollovers).alias("s")
        ).to_series()
        self.last_month, self.rollovers = int(known.item(-1, "m")), int(steps[-1])
        out = pl.Series("year", [None] * header.height, dtype=pl.Int32)
        return out.scatter(known.get_column("i"), steps + self.given)


def _key(month: pl.Expr | int, day: pl.Expr | int, hms: pl.Expr | int) -> pl.Expr | int:
    return month * 100_000_000 + day * 1_000_000 + hms  # type: ignore[operator,return-value]


def _header(lines: pl.DataFrame) -> pl.DataFrame:
    """The header fields of each line (RFC 3164 and ISO-8601 by one regex, RFC 5424 by another) and its message."""
    text = C("text")
    is5424 = text.str.starts_with("<") & text.str.contains(r"^<[0-9]{1,3}>[1-9][0-9]? ")
    frame = lines.with_columns(
        text.str.extract_groups(_HEADER).alias("h"),
        pl.when(is5424).then(text).str.extract_groups(_RFC5424).alias("r"),
    )
    h, r = C("h").struct.field, C("r").struct.field
    head = h("head")
    ts5424 = r("ts").str.extract_groups(_TIMESTAMP)
    message = pl.when(r("version").is_not_null()).then(r("msg").str.strip_prefix("\ufeff")).when(
        head.is_not_null()).then(text.str.slice(head.str.len_chars()))
    return frame.select(
        "line", "offset", "text", "error",
        (r("version").is_not_null() | head.is_not_null()).alias("parsed"),
        pl.coalesce(r("pri"), h("pri")).cast(pl.Int32, strict=False).alias("pri"),
        pl.coalesce(r("ts"), h("ts")).alias("time_original"),
        h("mon").replace_strict({m: i for i, m in enumerate(_MONTHS, 1)}, default=None, return_dtype=pl.Int8)
        .alias("month"),
        h("day"), h("hms"), h("frac"),
        pl.coalesce(ts5424.struct.field("iso"), h("iso")).alias("iso"),
        pl.coalesce(ts5424.struct.field("zone"), h("zone")).alias("zone"),
        _nil(pl.coalesce(r("host"), h("host"))).alias("host"),
        _nil(pl.coalesce(r("prog"), h("prog"))).alias("program"),
        _nil(pl.coalesce(r("pid"), h("pid"))).alias("pid"),
        _nil(r("msgid")).alias("msgid"),
        _nil(r("sd")).alias("sd"),
        message.alias("message"),
    )


def _nil(e: pl.Expr) -> pl.Expr:
    return pl.when((e != "-") & (e != "")).then(e)


def _frame(header: pl.DataFrame, tz: str, source_file: str) -> pl.DataFrame:
    """Map one chunk's parsed lines to canonical columns (runs in a worker thread)."""
    parsed = C("parsed")
    msg = _authlog.parse(header.get_column("program"), header.get_column("message"))
    frame = pl.concat([header, msg], how="horizontal").with_columns(
        *_time_us(header, tz), _structured_data(header.get_column("sd")),
    )
    pid = C("pid").cast(pl.Int64, strict=False)
    pri = C("pri")
    generic = C("class_uid") == 0
    unmapped = json_object([
        pl.when(generic).then(json_member("message", C("message"))),
        json_member("facility", pl.when(pri < 192).then(
            (pri // 8).replace_strict(dict(enumerate(_FACILITIES)), default=None, return_dtype=pl.String))),
        json_member("severity", pl.when(pri < 192).then(
            (pri % 8).replace_strict(dict(enumerate(_SEVERITIES)), default=None, return_dtype=pl.String))),
        json_member("year_assumed", C("year").cast(pl.String), raw=True),
        json_member("tz_assumed", pl.when(C("iso_naive")).then(pl.lit(tz))),
        json_member("msgid", C("msgid")),
        json_member("structured_data", C("sd_json"), raw=True),
        json_member("procid", pl.when(pid.is_null()).then(C("pid"))),
        C("fields"),
    ])
    bad_time = parsed & C("time_us").is_null()
    error = pl.concat_str(
        C("error"),
        pl.when(C("text").str.contains("\x00", literal=True)).then(pl.lit("NUL byte in line")),
        pl.when(~parsed).then(pl.lit("not a syslog line: no RFC 3164, ISO-8601 or RFC 5424 timestamp and host")),
        pl.when(bad_time & C("time_original").is_in(["-"])).then(pl.lit("no timestamp (RFC 5424 '-')")),
        pl.when(bad_time & ~C("time_original").is_in(["-"])).then(
            pl.concat_str(pl.lit("timestamp does not parse: "), C("time_original"))),
        separator="; ", ignore_nulls=True,
    )
    out = frame.select(
        "time_us",
        pl.when(parsed).then(C("time_original")).alias("time_original"),
        *(pl.when(parsed).then(C(name)).alias(name) for name in _authlog.COLUMNS if name != "fields"),
        pl.when(parsed).then(C("program")).alias("api_service"),
        pl.when(parsed).then(C("program")).alias("actor_process_name"),
        pl.when(parsed).then(pid).alias("actor_process_pid"),
        C("host").alias("host_name"),
        C("host").alias("source_stream"),
        C("line").alias("source_line"),
        C("offset").alias("source_offset"),
        C("text").alias("raw"),
        pl.when(parsed).then(unmapped).alias("unmapped"),
        pl.when(error != "").then(error).alias("parse_error"),
    )
    return finish(out, source_type=NAME, source_file=source_file)


def _time_us(header: pl.DataFrame, tz: str) -> list[pl.Expr]:
    """``time_us`` from each line's timestamp parts, and ``iso_naive`` (a time without offset, read in ``tz``).

    RFC 3164 times are computed from their parts (an impossible date or time is null); ISO-8601 times are parsed.
    """
    year, month, day = C("year"), C("month").cast(pl.Int32), C("day").cast(pl.Int32, strict=False)
    hour, minute, second = (C("hms").str.slice(i, 2).cast(pl.Int64, strict=False) for i in (0, 3, 6))
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = month.replace_strict(_DAYS_IN_MONTH, default=0, return_dtype=pl.Int32) + (leap & (month == 2)).cast(pl.Int32)
    valid = (day >= 1) & (day <= days) & (hour < 24) & (minute < 60) & (second <= 60)  # 60: a leap second
    date = pl.date(year, month, pl.when(valid).then(day))
    frac = C("frac").str.slice(1).str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64, strict=False).fill_null(0)
    naive = (date.cast(pl.Int64) * 86_400 + hour * 3_600 + minute * 60 + second) * 1_000_000 + frac
    zone, iso = header.get_column("zone"), header.get_column("iso")
    if (iso.is_not_null() & zone.is_null()).any():
        iso_naive = pl.when(C("zone").is_null()).then(C("iso")).str.strptime(
            pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.f", strict=False).dt.epoch("us")
        naive = pl.coalesce(naive, iso_naive)
    local = naive if tz == "UTC" else pl.from_epoch(naive, time_unit="us").dt.replace_time_zone(
        tz, ambiguous="earliest", non_existent="null").dt.epoch("us")
    if zone.is_not_null().any():
        zoned = pl.concat_str(C("iso"), C("zone")).str.strptime(
            pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%.f%#z", strict=False).dt.epoch("us")
        local = pl.coalesce(zoned, local)
    flag = C("month").is_not_null() | (C("iso").is_not_null() & C("zone").is_null())
    return [flag.alias("iso_naive"), local.alias("time_us")]


_DAYS_IN_MONTH = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_SD_ELEMENT = re.compile(r'\[([^ \]="]+)((?: [^ \]="]+="(?:[^"\\]|\\.)*")*) ?\]')
_SD_PARAM = re.compile(r' ([^ \]="]+)="((?:[^"\\]|\\.)*)"')
_SD_ESCAPE = re.compile(r'\\(["\\\]])')


def _structured_data(sd: pl.Series) -> pl.Series:
    """RFC 5424 structured data as JSON text: ``{SD-ID: {PARAM: value}}`` (a list where an SD-ID repeats)."""
    if sd.null_count() == sd.len():
        return pl.Series("sd_json", [None] * sd.len(), dtype=pl.String)
    cache: dict[str, str] = {}
    out = []
    for text in sd.to_list():
        if text is None:
            out.append(None)
        elif text in cache:
            out.append(cache[text])
        else:
            out.append(cache.setdefault(text, _sd_json(text)))
    return pl.Series("sd_json", out, dtype=pl.String)


def _sd_json(text: str) -> str:
    elements: dict[str, list[dict[str, str]]] = {}
    for sd_id, params in _SD_ELEMENT.findall(text):
        values = {name: _SD_ESCAPE.sub(r"\1", value) for name, value in _SD_PARAM.findall(params)}
        elements.setdefault(sd_id, []).append(values)
    return orjson.dumps({k: v[0] if len(v) == 1 else v for k, v in elements.items()}).decode()
