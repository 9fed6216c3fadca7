"""Windows events exported as JSON into the canonical events frame: one row per exported event.

The field map is the one every Windows serialization shares, documented in :mod:`auditlab.load._windows`
(System fields, who is the actor of a logon, event classes); rows have ``source_type = "evtx"``, the Windows
event log. Records are read by
:mod:`auditlab.load._json_records` (JSON lines, arrays, ``{"Events": [...]}``/``{"Records": [...]}``/``{"records":
[...]}``/``{"value": [...]}`` documents; provenance and damage as described there), and each record's shape is told
from its members:

==========================  ==================================================================================
shape                       where System fields and event fields are
==========================  ==================================================================================
``evtx_dump -o json(l)``    ``{"Event": {"System": ..., "EventData": ...}}`` (or the value under ``Event``): the
                            ``evtx`` parser's shape, read as EVTX records are
Winlogbeat / Elastic        ``winlog.event_id`` (else ``event.code``), ``winlog.provider_name`` (else
                            ``event.provider``), ``winlog.channel``, ``winlog.computer_name`` (else
                            ``host.name``), ``winlog.record_id``, ``@timestamp``, ``winlog.keywords`` (else
                            ``event.outcome``), ``winlog.user.identifier``; fields: ``winlog.event_data`` (else
                            ``winlog.user_data``)
flattened (OTRF/Mordor,     ``EventID`` (PowerShell: ``Id``); provider: ``ProviderName``, ``SourceName``,
nxlog, Sentinel             ``EventSourceName``; ``Channel`` (``LogName``); computer: ``Computer``, ``Hostname``,
``SecurityEvent``,          ``MachineName``; record id: ``EventRecordID``, ``RecordNumber``, ``RecordId``; time:
``Get-WinEvent |            ``TimeCreated``, ``TimeGenerated``, ``EventTime``, ``@timestamp`` (the first present);
ConvertTo-Json``)           keywords: ``Keywords``, else ``EventType`` (``AUDIT_SUCCESS``) or
                            ``KeywordsDisplayNames``; ``UserID``. Every other top-level member is an event field
==========================  ==================================================================================

Times with a zone (``Z``, ``+02:00``) are converted to UTC; a time without one (OTRF's ``"2020-10-18
07:50:06.220"``) is taken as UTC, as written (``time_original`` keeps the text; some exports write local time).

``unmapped`` keeps what no column holds in the export's own shape: for Winlogbeat and flattened records, the record
without the members columns hold (empty strings and nulls, which flattened exports such as Sentinel's write for
every absent field, are left out); for the parser's shape, as for EVTX. ``raw`` is the record's verbatim JSON.

A JSON value that is none of these shapes (no ``EventID``) is a row with ``parse_error`` set.

Examples:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> import auditlab as al
    >>> record = {"@timestamp": "2024-01-02T03:04:05.678Z", "winlog": {"event_id": "4625", "channel": "Security",
    ...     "computer_name": "dc1", "record_id": "42", "provider_name": "Microsoft-Windows-Security-Auditing",
    ...     "keywords": ["Audit Failure"], "event_data": {"TargetUserName": "bob", "IpAddress": "203.0.113.9"}}}
    >>> path = Path(tempfile.mkdtemp()) / "winlogbeat.ndjson"
    >>> _ = path.write_text(json.dumps(record) + "\\n")
    >>> al.load(path).select("event_code", "actor_user_name", "src_ip", "status_id", "source_seq").row(0)
    ('4625', 'bob', '203.0.113.9', 2, 42)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from auditlab.load import _json_records, _windows

if TYPE_CHECKING:
    from collections.abc import Iterator

    import polars as pl

    from auditlab.load._io import Source

__all__ = ["DESCRIPTION", "NAME", "parse", "sniff"]

NAME = "windows_json"
DESCRIPTION = "Windows events exported as JSON (evtx_dump, Winlogbeat, OTRF/nxlog, Sentinel SecurityEvent)"

WRAPPERS = ("Events", "Records", "records", "value")

_SNIFF_JSON_START = re.compile(rb"\A(?:\xef\xbb\xbf)?[ \t\r\n]*[\[{]")
_WS = rb"[ \t\r\n]*"
_SNIFF_WINLOGBEAT = re.compile(rb'"winlog"' + _WS + rb":" + _WS + rb"\{")
_SNIFF_WINLOG_ID = re.compile(rb'"event_id"' + _WS + rb":")
_SNIFF_SYSTEM = re.compile(rb'"System"' + _WS + rb":" + _WS + rb"\{")
_SNIFF_EVENT_ID = re.compile(rb'"(?:EventID|EventId)"' + _WS + rb":" + _WS + rb'(?:"?\d|\{)')
_SNIFF_WINDOWS = re.compile(
    rb'"(?:Channel|SourceName|EventSourceName|ProviderName|Computer|Hostname|LogName)"' + _WS + rb":"
)
_SNIFF_POWERSHELL = re.compile(rb'"Id"' + _WS + rb":" + _WS + rb"\d")
_SNIFF_POWERSHELL_LOG = re.compile(rb'"(?:LogName|ProviderName)"' + _WS + rb":")


def sniff(head: bytes) -> bool:
    """Whether the start of a file is JSON holding Windows events (Winlogbeat, the parser's shape, or flattened).

    Examples:
        >>> sniff(b'{"EventID": 4624, "Channel": "Security", "Hostname": "pc1"}')
        True
        >>> sniff(b'{"eventVersion": "1.08", "eventID": "x", "eventSource": "iam.amazonaws.com"}')
        False
    """
    if not _SNIFF_JSON_START.match(head):
        return False
    if _SNIFF_WINLOGBEAT.search(head) and _SNIFF_WINLOG_ID.search(head):
        return True
    if _SNIFF_EVENT_ID.search(head) and (_SNIFF_SYSTEM.search(head) or _SNIFF_WINDOWS.search(head)):
        return True
    return bool(_SNIFF_POWERSHELL.search(head) and _SNIFF_POWERSHELL_LOG.search(head))


def parse(source: Source, *, batch_rows: int) -> Iterator[pl.DataFrame]:
    """Read one JSON file of Windows events into canonical frames of at most ``batch_rows`` rows."""
    batches = _json_records.read(source, batch_rows=batch_rows, wrappers=WRAPPERS, convert=_convert)
    while True:
        with _json_records.gc_paused():
            batch = next(batches, None)
            if batch is None:
                return
            rows = _windows.Rows()
            for raw, sha, line, offset, value, error in zip(batch.raw, batch.raw_sha256, batch.line, batch.offset,
                                                            batch.value, batch.error, strict=True):
                if value is None:
                    rows.add_error(raw, line, offset, error or "not a JSON value", sha)
                else:
                    rows.add(raw, line, offset, value, error, sha)
            del batch
            frame = rows.frame(source.name)
            del rows
        yield frame


def _convert(value: Any) -> tuple[Any, ...]:
    """One parsed JSON value to its :data:`~auditlab.load._windows.ROW` values (never raises)."""
    try:
        return _row(value)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        rest = {"record": value}
        return (*(None,) * 8, _windows.json_bytes(rest), f"the record could not be read as a Windows event: {exc!r}",
                *(None,) * len(_windows.MAPPED))


def _row(value: Any) -> tuple[Any, ...]:
    if type(value) is not dict:
        return _windows.event_values({}, None, {"value": value})
    event = value.get("Event")
    if type(event) is dict and "System" in event:
        if len(value) == 1:
            return _windows.read_event(event)
        row = _windows.read_event(event)  # members beside "Event" join its unmapped
        rest = {k: v for k, v in value.items() if k != "Event"}
        return _with_rest(row, rest)
    if type(value.get("System")) is dict:
        return _windows.read_event(value)
    winlog = value.get("winlog")
    if type(winlog) is dict and ("event_id" in winlog or "channel" in winlog):
        return _winlogbeat(value, winlog)
    return _flat(value)


def _with_rest(row: tuple[Any, ...], rest: dict[str, Any]) -> tuple[Any, ...]:
    import orjson

    at = _windows.ROW.index("unmapped")
    unmapped = orjson.loads(row[at]) if row[at] else {}
    unmapped.update(rest)
    return (*row[:at], _windows.json_bytes(unmapped), *row[at + 1 :])


def _pop_first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value is not None and value != "":
            del record[name]
            return value
    return None


def _winlogbeat(record: dict[str, Any], winlog: dict[str, Any]) -> tuple[Any, ...]:
    event = record.get("event") if type(record.get("event")) is dict else {}
    host = record.get("host") if type(record.get("host")) is dict else {}
    code = _pop_first(winlog, ("event_id",))
    if code is None:
        code = _pop_first(event, ("code",))
    provider = _pop_first(winlog, ("provider_name",))
    if provider is None:
        provider = _pop_first(event, ("provider",))
    computer = _pop_first(winlog, ("computer_name",))
    if computer is None:
        computer = host.get("name")
    keywords = winlog.get("keywords")
    if keywords is None:
        outcome = event.get("outcome")
        keywords = {"success": "Audit Success", "failure": "Audit Failure"}.get(outcome)  # type: ignore[arg-type]
    user = winlog.get("user")
    user_id = user.get("identifier") if type(user) is dict else None
    data = winlog.get("event_data")
    key = "event_data"
    if type(data) is not dict:
        data, key = winlog.get("user_data"), "user_data"
    if type(data) is not dict:
        data, key = None, None
    system = (
        record.pop("@timestamp", None),
        code,
        provider,
        computer,
        winlog.pop("channel", None),
        winlog.pop("record_id", None),
    )
    index, status, values, used = _windows.map_event(code, provider, system[4], keywords, user_id, data)
    if used:
        del user["identifier"]  # type: ignore[index]
    if key is not None and not data:
        del winlog[key]
    for container, name in ((event, "event"), (host, "host")):
        if not container and name in record:
            del record[name]
    unmapped = _windows.json_bytes(_clean(record)) if record else None
    return (*system, index, status, unmapped, _windows.code_error(code), *values)


_FLAT_TIME = ("TimeCreated", "TimeGenerated", "EventTime", "@timestamp")
_FLAT_PROVIDER = ("ProviderName", "SourceName", "EventSourceName", "Provider")
_FLAT_COMPUTER = ("Computer", "Hostname", "ComputerName", "MachineName")
_FLAT_CHANNEL = ("Channel", "LogName")
_FLAT_RECORD_ID = ("EventRecordID", "RecordNumber", "RecordId", "EventRecordId")


def _flat(record: dict[str, Any]) -> tuple[Any, ...]:
    """A flattened export: System fields and event fields side by side at the top level."""
    code = _pop_first(record, ("EventID", "EventId"))
    if code is None and ("LogName" in record or "ProviderName" in record):
        code = _pop_first(record, ("Id",))  # Get-WinEvent | ConvertTo-Json
    if type(code) is dict:  # {"Qualifiers": ..., "EventID": ...} or similar: keep whole, read the number inside
        record["EventID"] = code
        code = next((v for v in code.values() if _windows.event_id(v) is not None), None)
    keywords = record.get("Keywords")
    if keywords is None or keywords == "":
        keywords = record.get("EventType") or record.get("KeywordsDisplayNames")
    system = {
        "TimeCreated": _pop_first(record, _FLAT_TIME),
        "EventID": code,
        "Provider": _pop_first(record, _FLAT_PROVIDER),
        "Computer": _pop_first(record, _FLAT_COMPUTER),
        "Channel": _pop_first(record, _FLAT_CHANNEL),
        "EventRecordID": _pop_first(record, _FLAT_RECORD_ID),
    }
    user_id = record.get("UserID")
    index, status, values, used = _windows.map_event(code, system["Provider"], system["Channel"], keywords,
                                                     user_id, record)
    if used:
        del record["UserID"]
    head = (system["TimeCreated"], code, system["Provider"], system["Computer"], system["Channel"],
            system["EventRecordID"], index, status)
    record = _clean(record)
    return (*head, _windows.json_bytes(record) if record else None, _windows.code_error(code), *values)


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    """Without the members that say nothing: null, empty text (exports write them for every absent field)."""
    return {k: v for k, v in record.items() if v is not None and v != ""}
