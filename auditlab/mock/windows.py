"""Render ``windows`` events as Windows Event XML (``windows-xml``) or OTRF/Mordor-style JSON lines (``windows-json``).

Both formats write one file per computer and channel, ``<computer>/<channel>.xml`` or ``.json`` (a ``/`` in the
channel, as in ``Microsoft-Windows-Sysmon/Operational``, becomes ``-``), one record per event in time order.
``EventRecordID`` counts up per computer and channel from a start drawn from a stable hash of the two, so the output
depends on the events only.

**windows-xml** writes each event as ``Get-WinEvent | % ToXml`` does (``EvtRender``): the ``System`` block on one
line, single-quoted attributes, ``<Provider Name=... Guid=.../>`` (``EventSourceName`` and ``<EventID
Qualifiers='16384'>`` for the Service Control Manager), ``TimeCreated/@SystemTime`` to 100 ns
(``2024-01-02T03:04:05.1234560Z``; the last digit is always 0, the events being in microseconds), ``<Correlation
ActivityID=.../>`` for logon events, ``<Execution ProcessID=... ThreadID=.../>``, ``<Security/>`` or ``<Security
UserID=.../>``, then ``<EventData><Data Name='X'>v</Data>...`` or ``<UserData><LogFileCleared xmlns=...>...``.
Values are escaped as Windows escapes them: ``&``, ``<``, ``>`` as entities, a carriage return as ``&#xD;`` (a raw one
would be read back as a line feed); a line feed and a tab are written raw (so a value with a line feed, such as the
``PrivilegeList`` of a 4672, makes a record of several lines), and so are the other C0 control characters, which
makes the event ill-formed XML, exactly as Windows writes it (the loader must cope). Attribute values (``Data/@Name``)
escape quotes and white space too.

**windows-json** writes the flattened shape of the OTRF / Mordor data sets (nxlog's ``im_msvistalog`` field
names): ``TimeCreated`` as OTRF writes it (``2020-10-18 07:50:06.220``: UTC, *milliseconds*, no zone), ``Hostname``,
``Keywords`` (the mask as a signed 64-bit integer, as nxlog writes it), ``EventType`` (``AUDIT_SUCCESS``,
``AUDIT_FAILURE`` or ``INFO``), ``SeverityValue``/``Severity``, ``EventID`` (a number), ``SourceName``,
``ProviderGuid``, ``Version``, ``Task`` (text, as OTRF writes it), ``OpcodeValue``, ``RecordNumber``,
``ExecutionProcessID``, ``ExecutionThreadID``, ``Channel``, ``UserID`` (when the event has one), ``Message`` (the
first line of the event's message, for the events listed in :data:`MESSAGES`), then the event fields at the top
level: EventData, or the fields of the one UserData element (the real OTRF sample's 1102 has none: that export
dropped UserData; nxlog keeps them). An event field whose name is one of those System members (104's ``Channel``) is
not written: the export has one member of a name. Strings are written as UTF-8 with JSON escapes (control
characters as ``\\u00XX``). The time keeps milliseconds only, so ``time_us`` is expected truncated to them.

**Expected values** (:attr:`Record.expect`) are stated from the field map documented in :mod:`auditlab.load._windows`
(not by calling it): System columns (``time_us``, ``event_code``, ``api_service``, ``host_name``, ``source_type``,
``source_stream``, ``source_seq``, ``source_record_uid``, ``status_id``), and for events of the documented profiles
(every listed event id but Sysmon's) ``class_uid``, ``activity_id``, the actor, original actor, target, process,
source, status code, command line, file and resource columns, from the fields as written (an unset value, ``-``,
empty, the NULL SID in a user id or LogonId ``0x0`` in a session id, is null).

``fields`` of an event besides those :mod:`auditlab.mock._model` lists: ``version`` (the event's ``Version``) and
``user_id`` (``Security/@UserID``: the actor of System-channel events such as 7045 and 104, which name none in their
data). ``event.stripped`` (the ``strip_actor`` fault) writes the fields the actor columns come from (by the event's
profile: ``Subject*`` of most events, ``Target*`` of logons, both for 4648) as Windows writes an unknown account
(``S-1-0-0``, ``-``, LogonId ``0x0``) and drops ``UserID``, so the actor loads as null.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import lru_cache
from hashlib import blake2b
from itertools import chain, repeat
from typing import Any

import orjson

from auditlab._errors import InvalidArgument
from auditlab.mock._model import Event, Record
from auditlab.mock.world import stable_int

__all__ = ["MESSAGES", "render"]

SECURITY = "Microsoft-Windows-Security-Auditing"
EVENTLOG = "Microsoft-Windows-Eventlog"
SCM = "Service Control Manager"
SYSMON = "Microsoft-Windows-Sysmon"
SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
USER_DATA_NS = {EVENTLOG: "http://manifests.microsoft.com/win/2004/08/windows/eventlog"}
"""The namespace of a provider's UserData element (``LogFileCleared`` of 1102 and 104)."""

AUDIT_SUCCESS, AUDIT_FAILURE = 0x8020000000000000, 0x8010000000000000

# -------------------------------------------------------------------------------------- System defaults


_SECURITY_TASKS = {
    4624: 12544, 4625: 12544, 4648: 12544, 4634: 12545, 4647: 12545, 4672: 12548, 4778: 12551, 4779: 12551,
    4688: 13312, 4689: 13313, 4697: 12289, 4698: 12804, 4699: 12804, 4700: 12804, 4701: 12804, 4702: 12804,
    4719: 13568, 4616: 12288, 5140: 12808, 5145: 12811, 4768: 14339, 4771: 14339, 4769: 14337, 4770: 14337,
    4776: 14336,
    **dict.fromkeys((4720, 4722, 4723, 4724, 4725, 4726, 4738, 4740, 4767, 4781, 4798), 13824),
    **dict.fromkeys((4727, 4728, 4729, 4730, 4731, 4732, 4733, 4734, 4735, 4737, 4754, 4755, 4756, 4757, 4758),
                    13826),
}  # fmt: skip
"""``Task`` (the audit subcategory) of Security-Auditing events."""

_SECURITY_VERSIONS = {4624: 2, 4688: 2, 4625: 0, 4634: 0, 4648: 0, 4672: 0}
_LOGON_TASKS = (12544, 12545, 12548)
"""Tasks whose events carry a ``Correlation/@ActivityID`` (logon, logoff, special logon)."""

MESSAGES = {
    4624: "An account was successfully logged on.",
    4625: "An account failed to log on.",
    4634: "An account was logged off.",
    4647: "User initiated logoff:",
    4648: "A logon was attempted using explicit credentials.",
    4672: "Special privileges assigned to new logon.",
    4688: "A new process has been created.",
    4689: "A process has exited.",
    4719: "System audit policy was changed.",
    4720: "A user account was created.",
    4732: "A member was added to a security-enabled local group.",
    1102: "The audit log was cleared.",
    104: "The System log file was cleared.",
    7045: "A service was installed in the system.",
}
"""The first line of the message of common events (``Message`` of windows-json)."""


def _system(event: Event) -> dict[str, Any]:
    """The System values of an event: its fields, with the defaults of its event id and provider."""
    f = event.fields
    event_id = int(f["event_id"])
    provider = f.get("provider") or SECURITY
    channel = f.get("channel") or ("Security" if provider == SECURITY else "System")
    if provider == SECURITY:
        task, level = _SECURITY_TASKS.get(event_id, 0), 0
        failed = event_id in (4625, 4771) or not event.success
        keywords = AUDIT_FAILURE if failed else AUDIT_SUCCESS
        process = "System" if event_id == 4688 else "lsass.exe"
        version = _SECURITY_VERSIONS.get(event_id, 0)
    elif provider == EVENTLOG:
        task = {1100: 103}.get(event_id, 104)
        level, version, process = 4, 0, "eventlog"
        keywords = 0x8000000000000000 if channel != "Security" else 0x4020000000000000
    elif provider == SCM:
        task, level, version, process, keywords = 0, 4, 0, "services.exe", 0x8080000000000000
    else:
        task, level, version, process, keywords = 0, 4, 0, provider, 0x8000000000000000
    host = event.host
    if process == "System":
        pid = 4
    elif type(process) is str:
        pid = _pid(host, process)
    else:
        pid = 4 * (100 + stable_int("pid", host, process) % 400)
    return {
        "event_id": event_id, "provider": provider, "provider_guid": f.get("provider_guid"), "channel": channel,
        "version": f.get("version", version), "level": f.get("level", level), "task": f.get("task", task),
        "opcode": f.get("opcode", 0), "keywords": _mask(f.get("keywords", keywords)),
        "process_id": f.get("process_id", pid), "thread_id": f.get("thread_id"),
        "qualifiers": 16384 if provider == SCM else None,
        "user_id": None if event.stripped else f.get("user_id"),
    }  # fmt: skip


def _mask(keywords: Any) -> int:
    """Keywords as an unsigned 64-bit mask (given as an int, hex text or decimal text)."""
    if isinstance(keywords, str):
        value = keywords.strip()
        keywords = int(value, 16) if value[:2].lower() == "0x" else int(value)
    return int(keywords) & 0xFFFFFFFFFFFFFFFF


def _activity_guid(*parts: object) -> str:
    """A GUID (lower case, in braces, as ToXml writes it) from a stable hash of ``parts``."""
    h = f"{stable_int('guid', *parts):016x}{stable_int('guid2', *parts):016x}"
    return "{" + f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}" + "}"


# ------------------------------------------------------------------------------- the documented field map

Entries = dict[str, tuple[str, ...]]

_SUBJECT: Entries = {
    "actor_user_uid": ("SubjectUserSid",), "actor_user_name": ("SubjectUserName",),
    "actor_user_domain": ("SubjectDomainName",), "actor_session_uid": ("SubjectLogonId",),
}  # fmt: skip
_TARGET: Entries = {
    "target_user_uid": ("TargetUserSid", "TargetSid"), "target_user_name": ("TargetUserName",),
    "target_session_uid": ("TargetLogonId",),
}  # fmt: skip
_DEFAULT: Entries = {
    **_SUBJECT, **_TARGET,
    "actor_process_pid": ("ProcessId",), "actor_process_name": ("ProcessName",),
    "process_cmdline": ("CommandLine",),
    "src_ip": ("IpAddress",), "src_port": ("IpPort",), "src_hostname": ("WorkstationName", "Workstation"),
    "status_code": ("Status",),
}  # fmt: skip
"""The default profile of ``auditlab.load._windows`` (its ``status_detail`` is not checked here)."""

_TARGET_IS_ACTOR: Entries = {
    "actor_user_uid": ("TargetUserSid", "TargetSid"), "actor_user_name": ("TargetUserName",),
    "actor_user_domain": ("TargetDomainName",), "actor_session_uid": ("TargetLogonId",),
}  # fmt: skip

_PROFILES: dict[str, Entries] = {
    "default": _DEFAULT,
    "logon": {**_DEFAULT, **_TARGET_IS_ACTOR},
    "explicit": {
        **_DEFAULT,
        "actor_orig_uid": ("SubjectUserSid",), "actor_orig_name": ("SubjectUserName",),
        "actor_session_uid": ("SubjectLogonId",), "actor_user_uid": ("TargetUserSid",),
        "actor_user_name": ("TargetUserName",), "actor_user_domain": ("TargetDomainName",),
        "target_user_name": ("TargetUserName",),
    },
    "privileges": {
        **_DEFAULT,
        "target_user_uid": ("SubjectUserSid",), "target_user_name": ("SubjectUserName",),
        "target_session_uid": ("SubjectLogonId",),
    },
    "kerberos": {**_DEFAULT, **_TARGET_IS_ACTOR, "resource_uid": ("ServiceName",)},
    "process": {
        **_DEFAULT,
        "actor_process_name": ("ParentProcessName",), "file_path": ("NewProcessName",),
    },
    "account": {**_DEFAULT, "target_user_name": ("TargetUserName",), "target_user_uid": ("TargetSid",)},
    "rename": {**_DEFAULT, "target_user_name": ("NewTargetUserName",), "target_user_uid": ("TargetSid",)},
    "member": {
        **_DEFAULT,
        "target_user_uid": ("MemberSid",), "target_user_name": ("MemberName",), "resource_uid": ("TargetSid",),
    },
    "group": {**_DEFAULT, "resource_uid": ("TargetSid",)},
    "service": {**_DEFAULT, "resource_uid": ("ServiceName",), "file_path": ("ServiceFileName", "ImagePath")},
    "service_state": {**_DEFAULT, "resource_uid": ("param1",)},
    "task": {**_DEFAULT, "resource_uid": ("TaskName",)},
    "log": {**_DEFAULT, "resource_uid": ("Channel",)},
    "audit_policy": {**_DEFAULT, "resource_uid": ("SubcategoryGuid",)},
    "share": {**_DEFAULT, "resource_uid": ("ShareName",), "file_path": ("RelativeTargetName",)},
}  # fmt: skip
"""The profiles of the documented field map: column -> fields, the first present is used; "the rest of the
default applies unless said"."""

_RESOURCE_TYPES = {"kerberos": "service", "member": "group", "group": "group", "service": "service",
                   "service_state": "service", "task": "scheduled task", "log": "event log",
                   "audit_policy": "audit policy", "share": "share"}

_G = 3006
_EVENTS: dict[int, tuple[int, int, str]] = {
    4624: (3002, 1, "logon"), 4625: (3002, 1, "logon"), 4634: (3002, 2, "logon"), 4647: (3002, 2, "logon"),
    4778: (3002, 1, "logon"), 4779: (3002, 2, "logon"), 4648: (3002, 1, "explicit"),
    4768: (3002, 3, "kerberos"), 4769: (3002, 4, "kerberos"), 4770: (3002, 5, "kerberos"),
    4771: (3002, 6, "kerberos"), 4776: (3002, 99, "kerberos"),
    4672: (3005, 1, "privileges"),
    4720: (3001, 1, "account"), 4722: (3001, 2, "account"), 4723: (3001, 3, "account"), 4724: (3001, 4, "account"),
    4725: (3001, 5, "account"), 4726: (3001, 6, "account"), 4738: (3001, 99, "account"),
    4740: (3001, 9, "account"), 4767: (3001, 12, "account"), 4781: (3001, 99, "rename"),
    4798: (3001, 99, "account"),
    4727: (_G, 6, "group"), 4731: (_G, 6, "group"), 4754: (_G, 6, "group"), 4730: (_G, 5, "group"),
    4734: (_G, 5, "group"), 4758: (_G, 5, "group"), 4735: (_G, 99, "group"), 4737: (_G, 99, "group"),
    4755: (_G, 99, "group"), 4728: (_G, 3, "member"), 4732: (_G, 3, "member"), 4756: (_G, 3, "member"),
    4729: (_G, 4, "member"), 4733: (_G, 4, "member"), 4757: (_G, 4, "member"),
    4688: (1007, 1, "process"), 4689: (1007, 2, "default"),
    4698: (1006, 1, "task"), 4699: (1006, 3, "task"), 4700: (1006, 4, "task"), 4701: (1006, 5, "task"),
    4702: (1006, 2, "task"),
    1100: (1008, 7, "log"), 1102: (1008, 1, "log"), 104: (1008, 1, "log"), 4719: (1008, 99, "audit_policy"),
    4616: (0, 99, "default"),
    5140: (4010, 99, "share"), 5145: (4010, 99, "share"),
    4697: (201004, 1, "service"), 7045: (201004, 1, "service"), 7036: (201004, 99, "service_state"),
}  # fmt: skip
"""Event id -> (class_uid, activity_id, profile), as documented (OCSF activity ids)."""

_ONLY_FROM = {1100: EVENTLOG, 1102: EVENTLOG, 104: EVENTLOG, 7045: SCM, 7036: SCM}
"""Events listed for one provider only (any other provider's event of that id is unlisted)."""

_FAILS_ALWAYS = (4625, 4771)
_FAILS_ON_STATUS = (4768, 4769, 4776)
_OK_STATUS = ("0x0", "0", "-", "")

_STRING_COLUMNS = ("actor_user_uid", "actor_user_name", "actor_user_domain", "actor_orig_uid", "actor_orig_name",
                   "actor_session_uid", "actor_process_name", "target_user_uid", "target_user_name",
                   "target_session_uid", "process_cmdline", "file_path", "resource_uid", "src_ip", "src_hostname",
                   "status_code")  # fmt: skip


def _event_kind(event_id: int, provider: str, channel: str) -> tuple[int, int, str] | None:
    """(class, activity, profile) of a listed event; None for a Sysmon event (not checked here)."""
    if provider == SYSMON or channel == SYSMON_CHANNEL:
        return None
    kind = _EVENTS.get(event_id)
    only = _ONLY_FROM.get(event_id)
    if kind is None or (only is not None and provider != only):
        return (0, 0, "default")
    return kind


def _unset(column: str, value: str | None) -> str | None:
    """The documented null rule: ``-`` and empty text; the NULL SID in user ids; LogonId 0x0 in session ids."""
    if value is None or value in ("-", ""):
        return None
    if column.endswith("_uid") and column.startswith(("actor_user", "target_user", "actor_orig")) \
            and value == "S-1-0-0":
        return None
    if column.endswith("session_uid") and value == "0x0":
        return None
    return value


def _integer(value: str | None, bits: int) -> int | None:
    """Hex (``0x408``) or decimal text as an integer; 0 and what does not parse or fit are null."""
    if value is None:
        return None
    text = value.strip()
    try:
        number = int(text[2:], 16) if text[:2].lower() == "0x" else int(text, 10)
    except ValueError:
        return None
    if not text[2 if text[:2].lower() == "0x" else 0:].isascii() or "_" in text:
        return None  # int() takes Unicode digits and underscores; the loader's parse does not
    if number == 0 or not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        return None
    return number


def _expect_fields(kind: tuple[int, int, str], fields: Mapping[str, str], user_id: str | None) -> dict[str, Any]:
    """The columns the documented profile gives for these (written) fields."""
    class_uid, activity_id, profile = kind
    raw: dict[str, str | None] = {}
    for column, names in _PROFILES[profile].items():
        raw[column] = next((fields[n] for n in names if fields.get(n) is not None), None)
    if raw["actor_user_uid"] is None and user_id is not None:
        raw["actor_user_uid"] = user_id  # Security/@UserID when the data names no actor
    out: dict[str, Any] = {c: _unset(c, raw.get(c)) for c in _STRING_COLUMNS}
    out["actor_process_pid"] = _integer(raw.get("actor_process_pid"), 64)
    out["src_port"] = _integer(raw.get("src_port"), 32)
    resource_type = _RESOURCE_TYPES.get(profile)
    out["resource_type"] = resource_type if out["resource_uid"] is not None else None
    out["class_uid"], out["activity_id"] = class_uid, activity_id
    return out


def _status(event_id: int, keywords: int, fields: Mapping[str, str], kind: tuple[int, int, str] | None) -> int:
    """2 for 4625/4771, and 4768/4769/4776 with a Status other than 0x0; else what the keywords tell."""
    listed = kind is not None and kind == _EVENTS.get(event_id)
    if listed and event_id in _FAILS_ALWAYS:
        return 2
    if listed and event_id in _FAILS_ON_STATUS and fields.get("Status") not in (None, *_OK_STATUS):
        return 2
    return 2 if keywords & 0x0010000000000000 else 1 if keywords & 0x0020000000000000 else 0


def _strip_fields(kind: tuple[int, int, str] | None, fields: dict[str, str]) -> dict[str, str]:
    """The fields with those the actor columns come from written as Windows writes an unknown account."""
    profile = _PROFILES[kind[2] if kind else "default"]
    names = {n for column, ns in profile.items() if column.startswith(("actor_user", "actor_session", "actor_orig"))
             for n in ns}
    if kind is None:
        names |= {"User", "SourceUser", "LogonId"}
    out = {}
    for name, value in fields.items():
        if name in names:
            value = "S-1-0-0" if name.endswith("Sid") else "0x0" if name.endswith("LogonId") else "-"
        out[name] = value
    return out


# ----------------------------------------------------------------------------------------------- rendering


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_STR = frozenset((str,))


_TWO = tuple(f"{n:02d}" for n in range(60))
"""0 to 59 as two digits."""
_MILLIS = tuple(f".{n:03d}" for n in range(1000))
"""0 to 999 as a fraction of three digits."""
_HOURS: dict[int, tuple[str, str]] = {}
"""Hour since the epoch -> ``YYYY-MM-DDTHH:`` and ``YYYY-MM-DD HH:``, for the hours seen."""


def _hour(hour: int) -> tuple[str, str]:
    t = dt.datetime(1970, 1, 1) + dt.timedelta(hours=hour)
    if len(_HOURS) >= 1 << 16:
        _HOURS.clear()
    day = f"{t.year:04d}-{t.month:02d}-{t.day:02d}"
    _HOURS[hour] = texts = (f"{day}T{t.hour:02d}:", f"{day} {t.hour:02d}:")
    return texts


def _time_xml(time_us: int) -> str:
    seconds, micro = divmod(time_us, 1_000_000)
    head = (_HOURS.get(seconds // 3600) or _hour(seconds // 3600))[0]
    return f"{head}{_TWO[seconds // 60 % 60]}:{_TWO[seconds % 60]}.{str(micro + 1_000_000)[1:]}0Z"


def _time_json(time_us: int) -> str:
    seconds, micro = divmod(time_us, 1_000_000)
    head = (_HOURS.get(seconds // 3600) or _hour(seconds // 3600))[1]
    return f"{head}{_TWO[seconds // 60 % 60]}:{_TWO[seconds % 60]}{_MILLIS[micro // 1000]}"


_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", '"': "&quot;",
                               "\r": "&#xD;", "\n": "&#xA;", "\t": "&#x9;"})


def _esc(value: str) -> str:
    """Element text as EvtRender writes it: markup escaped, CR as a reference; LF, tab and other controls raw."""
    return value.translate(_TEXT_ESCAPES)


def _plain_text(text: str) -> bool:
    """Whether element text needs no escaping."""
    return text.find("&") < 0 and text.find("<") < 0 and text.find(">") < 0 and text.find("\r") < 0


def _attr(value: Any) -> str:
    """A single-quoted attribute value."""
    return "'" + _text(value).translate(_ATTR_ESCAPES) + "'"


class _Opening(dict):  # type: ignore[type-arg]
    """Field name -> ``<Data Name='...'>``, made once per name."""

    def __missing__(self, name: str) -> str:
        if len(self) >= 4096:
            self.clear()
        self[name] = opening = f"<Data Name={_attr(name)}>"
        return opening


_DATA_OPENING = _Opening()


@lru_cache(maxsize=4096)
def _correlation(host: str) -> str:
    return f"<Correlation ActivityID={_attr(_activity_guid(host, 'boot'))}/>"


@lru_cache(maxsize=4096)
def _computer(channel: str, host: str) -> str:
    return f"<Channel>{_esc(channel)}</Channel><Computer>{_esc(host)}</Computer>"


def _xml_head(system: dict[str, Any]) -> str:
    """The Event up to the ``TimeCreated`` value."""
    provider = f"<Provider Name={_attr(system['provider'])}"
    if system["provider_guid"]:
        provider += f" Guid={_attr(system['provider_guid'])}"
    if system["provider"] == SCM:
        provider += f" EventSourceName={_attr(SCM)}"
    qualifiers = system["qualifiers"]
    event_id = f"<EventID Qualifiers='{qualifiers}'>" if qualifiers is not None else "<EventID>"
    return "".join((
        f"<Event xmlns='{EVENT_NS}'><System>", provider, "/>", event_id, f"{system['event_id']}</EventID>",
        f"<Version>{system['version']}</Version><Level>{system['level']}</Level><Task>{system['task']}</Task>",
        f"<Opcode>{system['opcode']}</Opcode><Keywords>0x{system['keywords']:016x}</Keywords>",
        "<TimeCreated SystemTime='",
    ))


def _xml(event: Event, system: dict[str, Any], record_id: int, thread_id: int, element: str | None,
         fields: dict[str, str], head: str | None = None, openings: tuple[str, ...] | None = None) -> str:
    """The Event XML; ``head`` is :func:`_xml_head` of the System values and ``openings`` the ``<Data Name=...>`` of
    the fields, when known."""
    provider, task = system["provider"], system["task"]
    correlation = _correlation(event.host) if provider == SECURITY and task in _LOGON_TASKS else "<Correlation/>"
    process_id, user_id = system["process_id"], system["user_id"]
    security = "<Security/>" if user_id is None else f"<Security UserID={_attr(user_id)}/>"
    channel = system["channel"]
    parts = [
        _xml_head(system) if head is None else head, _time_xml(event.time_us), "'/><EventRecordID>", str(record_id),
        "</EventRecordID>", correlation,
        "<Execution ProcessID=", f"'{process_id}'" if type(process_id) is int else _attr(process_id),
        " ThreadID=", f"'{thread_id}'" if type(thread_id) is int else _attr(thread_id), "/>",
        _computer(channel, event.host) if type(channel) is str else
        f"<Channel>{_esc(channel)}</Channel><Computer>{_esc(event.host)}</Computer>",
        security, "</System>",
    ]
    values = fields.values()
    plain = _plain_text("".join(values))
    if element is not None:
        ns = USER_DATA_NS.get(provider)
        parts.append(f"<UserData><{element}" + (f" xmlns={_attr(ns)}>" if ns else ">"))
        parts += [f"<{name}>{value if plain else _esc(value)}</{name}>" for name, value in fields.items()]
        parts.append(f"</{element}></UserData>")
    elif fields:
        parts.append("<EventData>")
        parts += chain.from_iterable(zip(map(_DATA_OPENING.__getitem__, fields) if openings is None else openings,
                                         values if plain else map(_esc, values), repeat("</Data>")))
        parts.append("</EventData>")
    else:
        parts.append("<EventData/>")
    parts.append("</Event>")
    return "".join(parts)


_JSON_SYSTEM = frozenset((
    "TimeCreated", "TimeGenerated", "EventTime", "@timestamp", "Hostname", "Computer", "ComputerName", "MachineName",
    "Keywords", "EventType", "KeywordsDisplayNames", "SeverityValue", "Severity", "EventID", "EventId", "SourceName",
    "ProviderName", "EventSourceName", "Provider", "ProviderGuid", "Version", "Task", "OpcodeValue", "RecordNumber",
    "EventRecordID", "RecordId", "EventRecordId", "ExecutionProcessID", "ExecutionThreadID", "Channel", "LogName",
    "UserID", "Message",
))  # fmt: skip
"""Members of a flattened record that are System fields (the export's, and those the loader reads as System)."""


def _json_fields(fields: dict[str, str]) -> dict[str, str]:
    """The event fields a flattened export can hold: those not named as a System member."""
    if _JSON_SYSTEM.isdisjoint(fields):
        return fields
    return {k: v for k, v in fields.items() if k not in _JSON_SYSTEM}


_PLAIN_JSON = frozenset((str, int, bool, type(None)))
"""Types orjson writes exactly as ``json.dumps(ensure_ascii=False, separators=(",", ":"))`` does (with bool)."""
_LEVELS = {1: ("CRITICAL", (5, "CRITICAL")), 2: ("ERROR", (4, "ERROR")), 3: ("WARNING", (3, "WARNING"))}


def _json(event: Event, system: dict[str, Any], record_id: int, thread_id: int, fields: dict[str, str],
          template: tuple[bytes, bytes, bytes, bytes] | None = None) -> bytes:
    """The flattened record; ``template`` is :func:`_json_template` of the System values when known."""
    if template is not None and type(thread_id) is int:
        # orjson writes the fields as json.dumps does (they are text); the System members are laid out already
        body = orjson.dumps(fields)
        return b"".join((template[0], _time_json(event.time_us).encode(), template[1], b"%d" % record_id,
                         template[2], b"%d" % thread_id, template[3], b"," if len(body) > 2 else b"",
                         memoryview(body)[1:]))
    record = _json_system(event, system, record_id, thread_id)
    plain = _PLAIN_JSON.issuperset(map(type, record.values()))
    record.update(fields)
    if plain:  # and fields are text: orjson writes the same bytes
        try:
            # orjson's bytes keep the (ten times larger) block they were written in: a record keeps a copy
            return memoryview(orjson.dumps(record)).tobytes()
        except orjson.JSONEncodeError:
            pass  # json.dumps says what is wrong, as it did
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_TIME_MARK, _RECORD_MARK, _THREAD_MARK = "\u2603time\u2603", 1_729_382_256_910_270_464, 1_152_921_504_606_846_976


def _json_template(event: Event, system: dict[str, Any]) -> tuple[bytes, bytes, bytes, bytes] | None:
    """The flattened record's System members (of integers and text) around its time, record number and thread (the
    fields then follow the last), or None if they are not of integers and text only."""
    record = _json_system(event, system, _RECORD_MARK, _THREAD_MARK)
    if not _EXACT_JSON.issuperset(map(type, record.values())):
        return None
    record["TimeCreated"] = _TIME_MARK
    try:
        text = orjson.dumps(record)
    except orjson.JSONEncodeError:
        return None
    head, _, rest = text.partition(b'"' + _TIME_MARK.encode() + b'"')
    if head != b'{"TimeCreated":' or text.count(b"%d" % _RECORD_MARK) != 1 or text.count(b"%d" % _THREAD_MARK) != 1:
        return None
    middle, _, rest = rest.partition(b"%d" % _RECORD_MARK)
    thread, _, tail = rest.partition(b"%d" % _THREAD_MARK)
    return head + b'"', b'"' + middle, thread, tail[:-1]


_EXACT_JSON = frozenset((str, int, type(None)))


def _json_system(event: Event, system: dict[str, Any], record_id: int, thread_id: int) -> dict[str, Any]:
    """The System members of a flattened record."""
    keywords = system["keywords"]
    if keywords & 0x0010000000000000:
        event_type, severity = "AUDIT_FAILURE", (4, "ERROR")
    elif keywords & 0x0020000000000000:
        event_type, severity = "AUDIT_SUCCESS", (2, "INFO")
    else:
        level = int(system["level"]) if str(system["level"]).isdigit() else 4
        event_type, severity = _LEVELS.get(level, ("INFO", (2, "INFO")))
    record: dict[str, Any] = {
        "TimeCreated": _time_json(event.time_us), "Hostname": event.host,
        "Keywords": keywords - (1 << 64) if keywords >= 1 << 63 else keywords, "EventType": event_type,
        "SeverityValue": severity[0], "Severity": severity[1], "EventID": system["event_id"],
        "SourceName": system["provider"],
    }  # fmt: skip
    if system["provider_guid"]:
        record["ProviderGuid"] = system["provider_guid"]
    record["Version"] = system["version"]
    record["Task"] = _text(system["task"])
    record["OpcodeValue"] = system["opcode"]
    record["RecordNumber"] = record_id
    record["ExecutionProcessID"] = system["process_id"]
    record["ExecutionThreadID"] = thread_id
    record["Channel"] = system["channel"]
    if system["user_id"] is not None:
        record["UserID"] = system["user_id"]
    message = MESSAGES.get(system["event_id"])
    if message is not None:
        record["Message"] = message
    return record


@lru_cache(maxsize=4096)
def _pid(host: str, process: str) -> int:
    return 4 * (100 + stable_int("pid", host, process) % 400)


_SHAPE_FIELDS = frozenset(("event_id", "provider", "provider_guid", "channel", "data", "user_data"))
"""Fields of an event with no System value of its own (no version, level, ...): its shape says them all."""
_TEXT_OR_NONE = frozenset((str, type(None)))
_SHAPES: dict[tuple[Any, ...], list[Any]] = {}
"""(computer, event id, provider, provider GUID, channel, failed, not stripped) -> the System values and kind of the
events of that shape, and the XML head and JSON System members once made."""
_LAYOUTS: dict[tuple[str, ...], tuple[tuple[str, ...] | None, tuple[str, ...]]] = {}
"""EventData names (text), in order -> those a flattened record keeps (None: all) and their ``<Data Name=...>``."""


def _shape_of(event: Event) -> list[Any] | None:
    """The shape of an event whose fields give no System value of their own (and are of the usual types): its System
    values, kind, XML head and JSON System members; None for another event."""
    f = event.fields
    if not _SHAPE_FIELDS.issuperset(f):
        return None
    event_id, provider, guid, channel = f.get("event_id"), f.get("provider"), f.get("provider_guid"), f.get("channel")
    if type(event_id) is not int or type(event.host) is not str or not _TEXT_OR_NONE.issuperset(
            map(type, (provider, guid, channel))):
        return None
    key = (event.host, event_id, provider, guid, channel, not event.success, not event.stripped)
    shape = _SHAPES.get(key)
    if shape is None:
        system = _system(event)
        if len(_SHAPES) >= 4096:
            _SHAPES.clear()
        _SHAPES[key] = shape = [system, _event_kind(event_id, system["provider"], system["channel"]), None, None]
    return shape


def _layout(names: tuple[str, ...]) -> tuple[tuple[str, ...] | None, tuple[str, ...]] | None:
    if not _STR.issuperset(map(type, names)):
        return None
    if len(_LAYOUTS) >= 4096:
        _LAYOUTS.clear()
    keep = None if _JSON_SYSTEM.isdisjoint(names) else tuple(n for n in names if n not in _JSON_SYSTEM)
    _LAYOUTS[names] = layout = (keep, tuple(f"<Data Name={_attr(name)}>" for name in names))
    return layout


def render(chosen: list[tuple[int, Event]], format: str) -> list[Record]:  # noqa: A002
    """One record per event, in the order given (time order): Event XML or flattened JSON, with its truth."""
    if format not in ("windows-xml", "windows-json"):
        raise InvalidArgument(f"format: the windows renderer writes windows-xml and windows-json, not {format!r}")
    xml = format == "windows-xml"
    files: dict[tuple[str, str], list[Any]] = {}  # (computer, channel) -> [next EventRecordID, file, thread hash]
    records = []
    for index, event in chosen:
        f, computer = event.fields, event.host
        shape = _shape_of(event)
        if shape is None:
            system = _system(event)
            kind = _event_kind(system["event_id"], system["provider"], system["channel"])
        else:
            system, kind = shape[0], shape[1]
        channel = system["channel"]
        state = files.get((computer, channel))
        if state is None:
            name = f"{computer}/{channel.replace('/', '-')}"
            state = files[computer, channel] = [
                1 + stable_int("EventRecordID", computer, channel) % 5_000_000,
                f"{name}.xml" if xml else f"{name}.json",
                blake2b("\x1f".join(map(str, ("tid", computer, channel, ""))).encode(), digest_size=8)]
        record_id = state[0]
        state[0] = record_id + 1
        thread_id = system["thread_id"]
        if thread_id is None:  # stable_int("tid", computer, channel, record_id): the hash of the rest, continued
            hasher = state[2].copy()
            hasher.update(b"%d" % record_id)
            thread_id = 4 * (100 + int.from_bytes(hasher.digest(), "big") % 5000)
        user_data = f.get("user_data")
        element, values = user_data if user_data is not None else (None, f.get("data") or {})
        layout = None
        if type(values) is dict and _STR.issuperset(map(type, values.values())):
            names = tuple(values)
            layout = _LAYOUTS.get(names) or _layout(names)
        # the fields as text, in order: the event's own when they are (never changed here)
        fields = values if layout is not None else {str(k): _text(v) for k, v in values.items()}
        if event.stripped:
            fields = _strip_fields(kind, fields)
        if xml:
            head = None if shape is None else shape[2]
            if head is None and shape is not None:
                head = shape[2] = _xml_head(system)
            openings = layout[1] if layout is not None and element is None else None
            text = _xml(event, system, record_id, thread_id, element, fields, head, openings).encode("utf-8")
            time_us = event.time_us
        else:
            if layout is None:
                fields = _json_fields(fields)
            elif layout[0] is not None:
                fields = {name: fields[name] for name in layout[0]}
            template = None if shape is None else shape[3]
            if template is None and shape is not None:
                template = shape[3] = _json_template(event, system) or False
            text = _json(event, system, record_id, thread_id, fields, template or None)
            time_us = event.time_us // 1000 * 1000  # OTRF keeps milliseconds
        # the expected values are stated when asked for, from values nothing changes afterwards: the System values
        # of the record's shape and its fields
        records.append(Record(state[1], text, index, _Truth((time_us, computer, channel, record_id, system, fields,
                                                             kind))))
    return records


class _Truth(tuple):  # type: ignore[type-arg]
    """What a record's expected values are stated from, called to state them: one object per record (the garbage
    collector walks every one, again and again while a large log is rendered)."""

    __slots__ = ()

    def __call__(self) -> dict[str, Any]:
        return _expect(*self)


def _expect(time_us: int, computer: str, channel: str, record_id: int, system: dict[str, Any],
            fields: dict[str, str], kind: tuple[int, int, str] | None) -> dict[str, Any]:
    """The expected values of a record from its time, computer, channel, EventRecordID, System values, fields and
    kind."""
    stream = f"{computer}/{channel}"
    expect: dict[str, Any] = {
        "time_us": time_us, "event_code": str(system["event_id"]), "api_service": system["provider"],
        "host_name": computer, "source_type": "evtx", "source_stream": stream, "source_seq": record_id,
        "source_record_uid": f"{stream}:{record_id}",
        "status_id": _status(system["event_id"], system["keywords"], fields, kind),
    }  # fmt: skip
    if kind is not None:
        expect.update(_expect_fields(kind, fields, system["user_id"]))
    return expect
