"""systemd journal exports (``journalctl -o json``, also ``-o json-pretty``): one row per journal entry.

**Records.** ``journalctl -o json`` writes one JSON object per line; blank lines are skipped and a line that is not
JSON is a ``parse_error`` row (see :mod:`auditlab.load._json_records`, which also reads pretty-printed objects and
arrays of entries). Field values are strings; a value that is not valid UTF-8 or holds control characters is
exported as an array of byte values, and is decoded here as UTF-8 (invalid bytes written ``\\xNN``); a field that
occurs several times in an entry is an array of its values; a field longer than 4096 bytes is exported as ``null``
unless ``journalctl --all`` was used.

**Field map.** The message text is read by :mod:`auditlab.load._authlog`, as for syslog files (the same programs
write the same messages to the journal).

===================== =================================================================================
column                journal field
===================== =================================================================================
time_us, time         ``__REALTIME_TIMESTAMP`` (microseconds since the epoch, UTC); ``time_original``: its text
source_seq            ``__SEQNUM``; without it (systemd before 254), the ``i=`` (hex) of ``__CURSOR``
source_stream         ``__SEQNUM_ID`` (or the ``s=`` of ``__CURSOR``): the journal's sequence-number space;
                      without either, ``"_HOSTNAME/_BOOT_ID"``
source_record_uid     ``__CURSOR``
host_name             ``_HOSTNAME``
api_service           ``SYSLOG_IDENTIFIER``, else ``_COMM``
actor_process_name    ``_COMM``, else ``SYSLOG_IDENTIFIER``
actor_process_pid     ``_PID``, else ``SYSLOG_PID``
actor_user_uid        ``_UID`` (the uid of the process that logged), where the message names no actor
actor_orig_uid        ``_AUDIT_LOGINUID`` (the login uid of that process), where the message names no actor
actor_session_uid     ``_AUDIT_SESSION``, where the message names no actor
class_uid ... src_*   ``MESSAGE``: sshd, sudo, su, PAM, systemd-logind, shadow-utils, cron (the table is in
                      :mod:`auditlab.load._authlog`); any other message is a generic row, ``class_uid`` 0
unmapped              JSON of every other field, by its journal name (values decoded; repeated fields as lists):
                      ``MESSAGE`` when the message is not recognised, ``_UID``, ``_AUDIT_LOGINUID`` and
                      ``_AUDIT_SESSION`` when the message names the actor, and what the message parser found
                      beside the columns (``auth_method``, ``tty``, ``pam_service``, ...). A field a column holds
                      is there too when its value is repeated (the column holds the first), empty or null
===================== =================================================================================

So a ``useradd`` entry, whose message names no actor, reads ``actor_user_uid`` ``"0"`` (useradd ran as root) and
``actor_orig_uid`` the uid of the person who logged in and ran it through sudo; an sshd ``Accepted password for
alice`` entry names alice as actor, and sshd's own ``_UID`` 0 stays in ``unmapped``. Unset ids (``4294967295``)
are null.

**Bad input.** An entry that is not a JSON object, or has no ``__REALTIME_TIMESTAMP`` (or one that is not a
number), is a row with ``parse_error`` set and ``raw`` kept; it is parsed as far as it goes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import polars as pl

from auditlab.load import _authlog, _json_columns, _json_records
from auditlab.load._authlog import json_member
from auditlab.load._batch import finish

if TYPE_CHECKING:
    from collections.abc import Iterator

    from auditlab.load._io import Source

__all__ = ["DESCRIPTION", "NAME", "parse", "sniff"]

NAME = "journald"
DESCRIPTION = "systemd journal exports (journalctl -o json): one row per entry, auth messages parsed"

C = pl.col
_UNSET = ("4294967295", "-1")

_FIELDS = ("realtime", "seqnum", "seqnum_id", "cursor", "hostname", "boot_id", "program", "comm", "pid", "uid",
           "loginuid", "audit_session", "message", "kept")
_ADDED = ("MESSAGE", "_UID", "_AUDIT_LOGINUID", "_AUDIT_SESSION")  # held, or added to unmapped, row by row
_ALWAYS_HELD = frozenset(("__REALTIME_TIMESTAMP", "__SEQNUM", "__SEQNUM_ID", "__CURSOR", "_HOSTNAME",
                          "SYSLOG_IDENTIFIER", "_COMM", "_PID", "MESSAGE", "_UID", "_AUDIT_LOGINUID",
                          "_AUDIT_SESSION"))
_HELD_WITHOUT_PID = _ALWAYS_HELD | {"SYSLOG_PID"}
_CURSOR = re.compile(r"(?:^|;)s=([0-9a-fA-F]+);i=([0-9a-fA-F]+)(?:;|$)")

# ------------------------------------------------------------------------------------------------------ sniffing

_SNIFF_START = re.compile(rb"\A(?:\xef\xbb\xbf)?[ \t\r\n]*[\[{]")
_SNIFF_TIME = re.compile(rb'"__REALTIME_TIMESTAMP"[ \t\r\n]*:[ \t\r\n]*"[0-9]')
_SNIFF_CURSOR = re.compile(rb'"__CURSOR"[ \t\r\n]*:[ \t\r\n]*"')


def sniff(head: bytes) -> bool:
    """Whether the start of a file is a journal export: JSON with ``__CURSOR`` and ``__REALTIME_TIMESTAMP``.

    Examples:
        >>> sniff(b'{"__CURSOR":"s=a;i=1;b=c;m=1;t=2;x=3","__REALTIME_TIMESTAMP":"1700000000000000","MESSAGE":"x"}')
        True
        >>> sniff(b'{"eventName": "ConsoleLogin", "eventSource": "signin.amazonaws.com"}')
        False
    """
    return bool(_SNIFF_START.match(head) and _SNIFF_TIME.search(head) and _SNIFF_CURSOR.search(head))


# ------------------------------------------------------------------------------------------------------- parsing


def parse(source: Source, *, batch_rows: int) -> Iterator[pl.DataFrame]:
    """Read a journal export into canonical frames of at most ``batch_rows`` rows, one row per entry.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from auditlab.load._io import Source
        >>> path = Path(tempfile.mkdtemp()) / "journal.json"
        >>> _ = path.write_text('{"__CURSOR":"s=5f1b;i=2a;b=9c;m=1;t=2;x=3","__REALTIME_TIMESTAMP":"1700000000123456",'
        ...                     '"_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"systemd-logind","_PID":"612","_UID":"0",'
        ...                     '"MESSAGE":"New session 7 of user alice."}\\n')
        >>> frame = next(parse(Source(path, None), batch_rows=100))
        >>> frame.select("source_seq", "source_stream", "target_session_uid", "actor_user_name").row(0)
        (42, '5f1b', '7', 'alice')
    """
    batches = _json_records.read(source, batch_rows=batch_rows, convert=_convert)
    while True:
        with _json_records.gc_paused():
            batch = next(batches, None)
            if batch is None:
                return
            frame = _frame(batch)
            del batch
        yield finish(frame, source_type=NAME, source_file=source.name)


def _text(value: Any) -> Any:
    """A journal field value as text: byte arrays decoded; a repeated field as a list of its values."""
    if type(value) is str or value is None:
        return value
    if type(value) is list:
        try:
            return bytes(value).decode("utf-8", "backslashreplace")  # an array of byte values
        except (TypeError, ValueError):
            return [_text(v) for v in value]
    if type(value) in (int, float, bool):
        return str(value).lower() if type(value) is bool else str(value)
    return value  # an object: kept as it is, in unmapped


def _first(text: Any) -> str | None:
    """The text of a decoded field for a column: the first value of a repeated field; None for anything else."""
    while type(text) is list:
        text = text[0] if text else None
    return text if type(text) is str else None


_KEYS = ("__REALTIME_TIMESTAMP", "__SEQNUM", "__SEQNUM_ID", "__CURSOR", "_HOSTNAME", "_BOOT_ID", "SYSLOG_IDENTIFIER",
         "_COMM", "_PID", "SYSLOG_PID", "_UID", "_AUDIT_LOGINUID", "_AUDIT_SESSION", "MESSAGE")


def _convert(value: Any) -> _json_columns.Converted:
    """One parsed entry -> (field values, unmapped JSON, error, is a JSON object)."""
    if type(value) is not dict:
        return (None,) * len(_FIELDS), None, f"not a JSON object: {type(value).__name__}", False
    get = value.get
    (realtime, seqnum, seqnum_id, cursor, hostname, boot_id, identifier, comm, pid, syslog_pid, uid, loginuid,
     audit_session, message) = [v if type(v := get(k)) is str else _first(_text(v)) for k in _KEYS]
    if cursor is not None and (seqnum is None or seqnum_id is None) and (found := _CURSOR.search(cursor)):
        seqnum_id = seqnum_id or found[1]
        seqnum = seqnum or str(int(found[2], 16))
    held = _ALWAYS_HELD
    if pid is None:  # SYSLOG_PID, as the client gave it, only where journald did not record the sender's _PID
        pid, held = syslog_pid, _HELD_WITHOUT_PID
    rest = {k: v if type(v) is str else _text(v) for k, v in value.items() if k not in held}
    for key in held.intersection(value):  # in unmapped too where the value does not fit a column:
        text = _text(value[key])  # repeated, null, empty, an object
        if type(text) is not str or not text:
            rest[key] = text
    kept = [k for k in _ADDED if k in rest]
    row = (realtime, seqnum, seqnum_id, cursor, hostname, boot_id, identifier or comm, comm or identifier, pid, uid,
           loginuid, audit_session, message, f",{','.join(kept)}," if kept else None)
    unmapped, error = _json_columns.unmapped_json(rest)
    if realtime is None:
        error = "; ".join(filter(None, (error, "no __REALTIME_TIMESTAMP: not a journal entry")))
    return row, unmapped, error, True


def _id(name: str) -> pl.Expr:
    return pl.when(~C(name).is_in(_UNSET)).then(C(name))


def _frame(batch: _json_records.JsonRecords) -> pl.DataFrame:
    if not batch.value:
        from auditlab import schema

        return schema.empty()
    frame = _json_columns.base_frame(batch, _FIELDS)
    msg = _authlog.parse(frame.get_column("program"), frame.get_column("message"))
    frame = pl.concat([frame.drop("unmapped"), msg.rename({"fields": "msg_fields"}),
                       frame.select(C("unmapped").alias("native"))], how="horizontal")
    named = pl.any_horizontal(C(c).is_not_null() for c in ("actor_user_name", "actor_user_uid", "actor_orig_name",
                                                           "actor_orig_uid"))
    time_us = C("realtime").cast(pl.Int64, strict=False)
    def new(key: str) -> pl.Expr:  # the key is not in unmapped already
        return ~C("kept").fill_null("").str.contains(f",{key},", literal=True)

    extra = pl.concat_str([
        pl.when((C("class_uid") == 0) & new("MESSAGE")).then(json_member("MESSAGE", C("message"))),
        pl.when(named & new("_UID")).then(json_member("_UID", C("uid"))),
        pl.when(named & new("_AUDIT_LOGINUID")).then(json_member("_AUDIT_LOGINUID", C("loginuid"))),
        pl.when(named & new("_AUDIT_SESSION")).then(json_member("_AUDIT_SESSION", C("audit_session"))),
        C("msg_fields"),
    ], separator=",", ignore_nulls=True)
    native = C("native")
    unmapped = (
        pl.when(extra == "").then(native)
        .when(native.is_null()).then(pl.concat_str(pl.lit("{"), extra, pl.lit("}")))
        .otherwise(pl.concat_str(native.str.strip_suffix("}"), pl.lit(","), extra, pl.lit("}")))
    )
    parsed = C("parsed")
    bad_time = parsed & C("realtime").is_not_null() & time_us.is_null()
    error = pl.concat_str(
        C("read_error"),
        pl.when(C("read_error").is_null() | parsed).then(C("record_error")),
        pl.when(bad_time).then(pl.concat_str(pl.lit("__REALTIME_TIMESTAMP is not a number: "), C("realtime"))),
        separator="; ", ignore_nulls=True,
    )
    stream = pl.coalesce(C("seqnum_id"), pl.when(C("boot_id").is_not_null()).then(
        pl.concat_str(C("hostname").fill_null(""), pl.lit("/"), C("boot_id"))))
    return frame.select(
        time_us.alias("time_us"),
        C("realtime").alias("time_original"),
        *(pl.when(parsed).then(C(name)).alias(name) for name in _authlog.COLUMNS
          if name not in ("fields", "actor_user_uid", "actor_orig_uid")),
        pl.when(named).then(C("actor_user_uid")).otherwise(_id("uid")).alias("actor_user_uid"),
        pl.when(named).then(C("actor_orig_uid")).otherwise(_id("loginuid")).alias("actor_orig_uid"),
        pl.when(~named).then(_id("audit_session")).alias("actor_session_uid"),
        C("program").alias("api_service"),
        C("comm").alias("actor_process_name"),
        C("pid").cast(pl.Int64, strict=False).alias("actor_process_pid"),
        C("hostname").alias("host_name"),
        stream.alias("source_stream"),
        C("seqnum").cast(pl.Int64, strict=False).alias("source_seq"),
        C("cursor").alias("source_record_uid"),
        "source_line", "source_offset", "raw", "raw_sha256",
        pl.when(parsed).then(unmapped).alias("unmapped"),
        pl.when(error != "").then(error).alias("parse_error"),
    )
