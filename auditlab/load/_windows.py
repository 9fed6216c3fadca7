"""The Windows event log, whatever its serialization: one field map shared by EVTX, Event XML and JSON exports.

Every Windows event has the same two parts: ``System`` (who logged what, where and when) and the event's own fields
(``EventData``, or the one element under ``UserData``). The loaders :mod:`~auditlab.load.evtx`,
:mod:`~auditlab.load.windows_xml` and :mod:`~auditlab.load.windows_json` only read their serialization; one function,
:func:`map_event`, turns an event's System fields and event fields into canonical values for all three (through
:func:`read_event` for the ``evtx`` parser's JSON shape, which Event XML is read into too, and :func:`event_values` or
the JSON exports' own readers otherwise), and :func:`frame` makes canonical frames of them. All three give
``source_type = "evtx"``: the rows are Windows event log events whatever file they came in (``source_file`` and
``raw`` tell the serialization).

**System.**

=====================================  ============================================================================
column                                 System field
=====================================  ============================================================================
time, time_us, time_original           ``TimeCreated/@SystemTime``, in UTC (a time without a zone is taken as UTC;
                                       ``time_original`` keeps the text)
event_code                             ``EventID`` (as text; ``Qualifiers`` stays in ``unmapped``)
api_service                            ``Provider/@Name``
api_operation                          the event's action, ECS ``event.action`` style (``logged-in``,
                                       ``created-process``, ...; :data:`EVENTS`), null for unlisted events
source_seq                             ``EventRecordID``
host_name                              ``Computer``
source_stream                          ``Computer/Channel``: the stream ``EventRecordID`` counts in
source_record_uid                      ``Computer/Channel:EventRecordID``
status_id                              2 failure: the *Audit Failure* keyword (``0x0010000000000000``), 4625 and
                                       4771 always, and 4768/4769/4776 with a ``Status`` other than 0x0; 1 success:
                                       the *Audit Success* keyword (``0x0020000000000000``); else 0 unknown
actor_user_uid                         ``Security/@UserID`` when the event data names no actor (System channel,
                                       Sysmon, 104, 7045); else it stays in ``unmapped``
=====================================  ============================================================================

``Provider/@Guid``, ``EventSourceName``, ``Qualifiers``, ``Version``, ``Level``, ``Task``, ``Opcode``, ``Keywords``,
``Correlation`` (``ActivityID``, ``RelatedActivityID``), ``Execution`` (``ProcessID``, ``ThreadID``: the process that
*wrote* the event, such as lsass, not the actor) go to ``unmapped["System"]``.

**Event data: who did what to whom.** Event fields go to columns by the event's *profile* (:data:`EVENTS`, keyed by
``EventID``; Sysmon events by :data:`SYSMON_EVENTS`, only when the provider or channel is Microsoft-Windows-Sysmon).
Where a column lists several fields, the first one present is used. The default profile, used by every event not
listed below:

===================== ======================================================================================
column                event field(s)
===================== ======================================================================================
actor_user_uid        ``SubjectUserSid`` (else ``Security/@UserID``)
actor_user_name       ``SubjectUserName``
actor_user_domain     ``SubjectDomainName``
actor_session_uid     ``SubjectLogonId``: the Windows logon session (LogonId, hex, as written)
target_user_uid       ``TargetUserSid``, ``TargetSid``
target_user_name      ``TargetUserName``
target_session_uid    ``TargetLogonId``
actor_process_pid     ``ProcessId`` (hex ``0x408`` or decimal, as an integer; 0, "no process", is null)
actor_process_name    ``ProcessName``
process_cmdline       ``CommandLine``
src_ip, src_port      ``IpAddress``, ``IpPort`` (port 0 is null; ``::1`` and 127.0.0.1 are kept)
src_hostname          ``WorkstationName``, ``Workstation``
status_code           ``Status``
status_detail         ``FailureReason``, with ``%%2304``-``%%2313`` written out (``Unknown user name or bad
                      password.``), then ``SubStatus`` when it is not 0x0, written out where known
                      (``Unknown user name or bad password. (SubStatus 0xc000006a: the user name is correct
                      but the password is wrong)``)
===================== ======================================================================================

Profiles that differ (the rest of the default applies unless said):

- **Logon, logoff** (4624, 4625, 4634, 4647, 4778, 4779): the account logging on (``Target*``) is the actor *and*
  the target (``actor_user_* = target_user_* = TargetUserSid/TargetUserName``, ``actor_user_domain =
  TargetDomainName``, ``actor_session_uid = target_session_uid = TargetLogonId``, the new session). The ``Subject*``
  of a logon is the service that asked for it (SYSTEM, the machine account, or the user who ran ``runas``): it stays
  in ``unmapped``. So the accountable actor of a logon is the person logging on, as in a Linux ``USER_LOGIN``.
- **Explicit credentials** (4648, ``runas``, ``net use /user``): the subject is the original, accountable actor and
  the target the effective one: ``actor_orig_uid/name = SubjectUserSid/SubjectUserName``, ``actor_user_name/domain
  = TargetUserName/TargetDomainName`` (4648 carries no target SID), ``actor_session_uid = SubjectLogonId`` (the
  session it was done from), ``target_user_name = TargetUserName``.
- **Special privileges** (4672): the account that just logged on, ``Subject*``, is actor and target
  (``target_session_uid = SubjectLogonId``); ``PrivilegeList`` stays in ``unmapped``.
- **Kerberos and NTLM** (4768, 4769, 4770, 4771, 4776): logged by the domain controller, they name no subject; the
  account authenticating (``TargetUserName``, ``TargetSid``, ``TargetDomainName``) is actor and target;
  ``resource_uid = ServiceName`` (``service``).
- **Process creation** (4688): ``actor_process_pid = ProcessId`` (the creator), ``actor_process_name =
  ParentProcessName``, ``file_path = NewProcessName`` (the program started), ``process_cmdline = CommandLine``.
- **Accounts** (4720, 4722-4726, 4738, 4740, 4767, 4781, 4798): ``target_user_name = TargetUserName`` (4781:
  ``NewTargetUserName``), ``target_user_uid = TargetSid``.
- **Group membership** (4728, 4729, 4732, 4733, 4756, 4757): ``target_user_uid/name = MemberSid/MemberName`` (the
  member), ``resource_uid = TargetSid`` (the group, ``group``; its name stays in ``unmapped``); group creation,
  change and deletion (4727, 4730, 4731, 4734, 4735, 4737, 4754, 4755, 4758) name the group the same way.
- **Services** (4697, 7045): ``resource_uid = ServiceName`` (``service``), ``file_path = ServiceFileName`` /
  ``ImagePath``; 7036: ``resource_uid = param1`` (the state, ``param2``, stays in ``unmapped``).
- **Scheduled tasks** (4698-4702): ``resource_uid = TaskName`` (``scheduled task``).
- **Logs and audit policy** (1100, 1102, 104, 4719): the actor is the ``Subject*`` of ``UserData/LogFileCleared``
  (104 has no SID: ``Security/@UserID``); 104: ``resource_uid = Channel`` (the cleared log, ``event log``); 4719:
  ``resource_uid = SubcategoryGuid`` (``audit policy``).
- **Shares** (5140, 5145): ``resource_uid = ShareName`` (``share``), ``file_path = RelativeTargetName``.
- **Sysmon** 1 (process create): ``actor_user_domain/name`` from ``User`` (``DOMAIN\\name``), ``actor_session_uid =
  LogonId``, ``actor_process_pid/name = ParentProcessId/ParentImage``, ``file_path = Image``, ``process_cmdline =
  CommandLine``. 3 (network connection): ``User``, ``ProcessId``, ``Image``, ``src_ip/src_port/src_hostname =
  SourceIp/SourcePort/SourceHostname``, ``resource_uid = DestinationIp:DestinationPort`` (``network endpoint``).
  10 (process access): ``actor_process_pid/name = SourceProcessId/SourceImage``, ``SourceUser``, ``resource_uid =
  TargetImage`` (``process``). 11 (file create): ``file_path = TargetFilename``. 13 (registry value set):
  ``resource_uid = TargetObject`` (``registry value``). Every Sysmon event: ``User``, ``ProcessId``, ``Image`` where
  present.

Unset values are null: ``-``, empty text, the NULL SID ``S-1-0-0`` in user ids, LogonId ``0x0`` in session ids.
IDs stay text (SIDs, hex LogonIds). ``unmapped`` is the JSON (orjson) of every field no column holds: ``{"System":
{...}, "EventData": {...}}`` (``"UserData": {"LogFileCleared": {...}}`` for UserData events), plus what the
serialization adds (``RenderingInfo`` of forwarded events, an export's ``Message``, ...).

**Classes** (``class_uid``, ``activity_id``): :data:`EVENTS` and :data:`SYSMON_EVENTS`. 3002 Authentication (1
Logon, 2 Logoff, 3 Authentication Ticket, 4 Service Ticket Request, 5 Service Ticket Renew, 6 Preauth, 99 Other),
3005 User Access Management (1 Assign Privileges: 4672), 3001 Account Change, 3006 Group Management (3 Add User, 4
Remove User, 5 Delete, 6 Create), 1007 Process Activity, 1006 Scheduled Job Activity, 1008 Event Log Activity (1
Clear: 1102, 104; 7 Stop: 1100; 99: 4719, a change of the audit policy), 4010 Network File Activity for share
access (5140, 5145: a remote read of files is network file activity, not local file-system activity), 201004
Windows Service Activity (OCSF Windows extension) for service installs (4697, 7045: 1 Create) and state changes
(7036: 99), 1001 File System Activity, 4001 Network Activity, 201002 Registry Value Activity; 4616 (system time
changed) has no OCSF class (0, 99). Every other event loads as class 0, activity 0, with all its fields in
``unmapped``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from auditlab import schema
from auditlab.load._batch import finish

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "EVENTS", "EVENT_LIST", "MAPPED", "ROW", "SOURCE_TYPE", "SYSMON_EVENTS", "Event", "Profile", "Rows",
    "code_error", "event_values", "frame", "json_bytes", "map_event", "read_event", "system_fields", "text",
]  # fmt: skip

SOURCE_TYPE = "evtx"
"""``source_type`` of every Windows event, from EVTX, Event XML or a JSON export alike."""

SYSMON = "Microsoft-Windows-Sysmon"
SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
SECURITY = "Microsoft-Windows-Security-Auditing"
EVENTLOG = "Microsoft-Windows-Eventlog"
SCM = "Service Control Manager"

# ------------------------------------------------------------------------------------------------ profiles

Entry = tuple[str, tuple[str, ...]]
"""``(column, native fields)``: the column takes the first field present."""


@dataclass(frozen=True)
class Profile:
    """How one kind of event maps its fields: ``(column, fields)`` entries and the type of its resource."""

    entries: tuple[Entry, ...]
    resource_type: str | None = None
    endpoint: tuple[str, str] | None = None
    """``(ip field, port field)`` joined into ``resource_uid`` as ``ip:port`` (``[ip]:port`` for IPv6)."""
    system_user: bool = True
    """Whether ``Security/@UserID`` is the actor when the fields name none (not for Sysmon: it is Sysmon's own)."""


_SUBJECT: tuple[Entry, ...] = (
    ("actor_user_uid", ("SubjectUserSid",)),
    ("actor_user_name", ("SubjectUserName",)),
    ("actor_user_domain", ("SubjectDomainName",)),
    ("actor_session_uid", ("SubjectLogonId",)),
)
_TARGET: tuple[Entry, ...] = (
    ("target_user_uid", ("TargetUserSid", "TargetSid")),
    ("target_user_name", ("TargetUserName",)),
    ("target_session_uid", ("TargetLogonId",)),
)
_TARGET_IS_ACTOR: tuple[Entry, ...] = (
    ("actor_user_uid", ("TargetUserSid", "TargetSid")),
    ("actor_user_name", ("TargetUserName",)),
    ("actor_user_domain", ("TargetDomainName",)),
    ("actor_session_uid", ("TargetLogonId",)),
    *_TARGET,
)
_PROCESS: tuple[Entry, ...] = (("actor_process_pid", ("ProcessId",)), ("actor_process_name", ("ProcessName",)))
_SOURCE: tuple[Entry, ...] = (
    ("src_ip", ("IpAddress",)),
    ("src_port", ("IpPort",)),
    ("src_hostname", ("WorkstationName", "Workstation")),
)
_STATUS: tuple[Entry, ...] = (
    ("status_code", ("Status",)),
    ("status_detail", ("FailureReason",)),
    ("status_sub", ("SubStatus",)),
)
_SYSMON_ACTOR: tuple[Entry, ...] = (
    ("actor_user_qualified", ("User",)),
    ("actor_process_pid", ("ProcessId",)),
    ("actor_process_name", ("Image",)),
)

DEFAULT = Profile((*_SUBJECT, *_TARGET, *_PROCESS, *_SOURCE, *_STATUS, ("process_cmdline", ("CommandLine",))))
LOGON = Profile((*_TARGET_IS_ACTOR, *_PROCESS, *_SOURCE, *_STATUS))
EXPLICIT = Profile((
    ("actor_orig_uid", ("SubjectUserSid",)),
    ("actor_orig_name", ("SubjectUserName",)),
    ("actor_session_uid", ("SubjectLogonId",)),
    ("actor_user_uid", ("TargetUserSid",)),
    ("actor_user_name", ("TargetUserName",)),
    ("actor_user_domain", ("TargetDomainName",)),
    ("target_user_name", ("TargetUserName",)),
    ("target_user_uid", ("TargetUserSid",)),
    *_PROCESS, *_SOURCE,
))  # fmt: skip
PRIVILEGES = Profile((
    *_SUBJECT,
    ("target_user_uid", ("SubjectUserSid",)),
    ("target_user_name", ("SubjectUserName",)),
    ("target_session_uid", ("SubjectLogonId",)),
))  # fmt: skip
KERBEROS = Profile((*_TARGET_IS_ACTOR, *_SOURCE, *_STATUS, ("resource_uid", ("ServiceName",))), "service")
PROCESS_CREATE = Profile((
    *_SUBJECT, *_TARGET,
    ("actor_process_pid", ("ProcessId",)),
    ("actor_process_name", ("ParentProcessName",)),
    ("file_path", ("NewProcessName",)),
    ("process_cmdline", ("CommandLine",)),
))  # fmt: skip
PROCESS_EXIT = Profile((*_SUBJECT, *_PROCESS, *_STATUS))
ACCOUNT = Profile((
    *_SUBJECT,
    ("target_user_uid", ("TargetSid", "TargetUserSid")),
    ("target_user_name", ("TargetUserName", "NewTargetUserName")),
    *_PROCESS,
))  # fmt: skip
GROUP_MEMBER = Profile((
    *_SUBJECT,
    ("target_user_uid", ("MemberSid",)),
    ("target_user_name", ("MemberName",)),
    ("resource_uid", ("TargetSid",)),
), "group")  # fmt: skip
GROUP = Profile((*_SUBJECT, ("resource_uid", ("TargetSid",))), "group")
SERVICE = Profile((*_SUBJECT, ("resource_uid", ("ServiceName",)), ("file_path", ("ServiceFileName", "ImagePath"))),
                  "service")
SERVICE_STATE = Profile((("resource_uid", ("param1",)),), "service")
TASK = Profile((*_SUBJECT, ("resource_uid", ("TaskName",))), "scheduled task")
LOG = Profile((*_SUBJECT, ("resource_uid", ("Channel",))), "event log")
AUDIT_POLICY = Profile((*_SUBJECT, ("resource_uid", ("SubcategoryGuid",))), "audit policy")
TIME_CHANGE = Profile((*_SUBJECT, *_PROCESS))
SHARE = Profile((*_SUBJECT, *_SOURCE, ("resource_uid", ("ShareName",)), ("file_path", ("RelativeTargetName",))),
                "share")
SYSMON_DEFAULT = Profile(_SYSMON_ACTOR, system_user=False)
SYSMON_PROCESS = Profile((
    ("actor_user_qualified", ("User",)),
    ("actor_session_uid", ("LogonId",)),
    ("actor_process_pid", ("ParentProcessId",)),
    ("actor_process_name", ("ParentImage",)),
    ("file_path", ("Image",)),
    ("process_cmdline", ("CommandLine",)),
), system_user=False)  # fmt: skip
SYSMON_NETWORK = Profile((
    *_SYSMON_ACTOR,
    ("src_ip", ("SourceIp",)),
    ("src_port", ("SourcePort",)),
    ("src_hostname", ("SourceHostname",)),
), "network endpoint", endpoint=("DestinationIp", "DestinationPort"), system_user=False)  # fmt: skip
SYSMON_ACCESS = Profile((
    ("actor_user_qualified", ("SourceUser",)),
    ("actor_process_pid", ("SourceProcessId",)),
    ("actor_process_name", ("SourceImage",)),
    ("resource_uid", ("TargetImage",)),
), "process", system_user=False)  # fmt: skip
SYSMON_FILE = Profile((*_SYSMON_ACTOR, ("file_path", ("TargetFilename",))), system_user=False)
SYSMON_REGISTRY = Profile((*_SYSMON_ACTOR, ("resource_uid", ("TargetObject",))), "registry value", system_user=False)

# --------------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    """What an event id means: OCSF class and activity, action name, field profile, and when it is a failure.

    ``failure`` is ``"always"`` (the event reports a failure), ``"status"`` (a failure when ``Status`` is not 0x0)
    or None (the keywords tell). ``providers`` limits the entry to events of those providers (or of an unknown one).
    """

    class_uid: int
    activity_id: int
    action: str
    profile: Profile = DEFAULT
    failure: str | None = None
    providers: tuple[str, ...] = ()


_AUTH, _ACCESS, _ACCOUNT, _GROUP, _PROC, _JOB, _LOG = 3002, 3005, 3001, 3006, 1007, 1006, 1008
_NETFILE, _SERVICE, _FILE, _NET, _REGVALUE, _MODULE = 4010, 201004, 1001, 4001, 201002, 1005

EVENTS: dict[int, Event] = {
    # Authentication: 1 Logon, 2 Logoff, 3 Authentication Ticket, 4 Service Ticket Request, 5 Renew, 6 Preauth
    4624: Event(_AUTH, 1, "logged-in", LOGON),
    4625: Event(_AUTH, 1, "logon-failed", LOGON, failure="always"),
    4634: Event(_AUTH, 2, "logged-out", LOGON),
    4647: Event(_AUTH, 2, "logged-out", LOGON),
    4648: Event(_AUTH, 1, "logged-in-explicit", EXPLICIT),
    4778: Event(_AUTH, 1, "session-reconnected", LOGON),
    4779: Event(_AUTH, 2, "session-disconnected", LOGON),
    4768: Event(_AUTH, 3, "kerberos-authentication-ticket-requested", KERBEROS, failure="status"),
    4769: Event(_AUTH, 4, "kerberos-service-ticket-requested", KERBEROS, failure="status"),
    4770: Event(_AUTH, 5, "kerberos-service-ticket-renewed", KERBEROS),
    4771: Event(_AUTH, 6, "kerberos-preauth-failed", KERBEROS, failure="always"),
    4776: Event(_AUTH, 99, "credential-validated", KERBEROS, failure="status"),
    # User Access Management: 1 Assign Privileges
    4672: Event(_ACCESS, 1, "logged-in-special", PRIVILEGES),
    # Account Change: 1 Create, 2 Enable, 3 Password Change, 4 Password Reset, 5 Disable, 6 Delete, 9 Lock,
    # 12 Unlock, 99 Other
    4720: Event(_ACCOUNT, 1, "added-user-account", ACCOUNT),
    4722: Event(_ACCOUNT, 2, "enabled-user-account", ACCOUNT),
    4723: Event(_ACCOUNT, 3, "changed-password", ACCOUNT),
    4724: Event(_ACCOUNT, 4, "reset-password", ACCOUNT),
    4725: Event(_ACCOUNT, 5, "disabled-user-account", ACCOUNT),
    4726: Event(_ACCOUNT, 6, "deleted-user-account", ACCOUNT),
    4738: Event(_ACCOUNT, 99, "modified-user-account", ACCOUNT),
    4740: Event(_ACCOUNT, 9, "locked-out-user-account", ACCOUNT),
    4767: Event(_ACCOUNT, 12, "unlocked-user-account", ACCOUNT),
    4781: Event(_ACCOUNT, 99, "renamed-user-account", ACCOUNT),
    4798: Event(_ACCOUNT, 99, "group-membership-enumerated", ACCOUNT),
    # Group Management: 3 Add User, 4 Remove User, 5 Delete, 6 Create, 99 Other
    4727: Event(_GROUP, 6, "added-group-account", GROUP),
    4728: Event(_GROUP, 3, "added-member-to-group", GROUP_MEMBER),
    4729: Event(_GROUP, 4, "removed-member-from-group", GROUP_MEMBER),
    4730: Event(_GROUP, 5, "deleted-group-account", GROUP),
    4731: Event(_GROUP, 6, "added-group-account", GROUP),
    4732: Event(_GROUP, 3, "added-member-to-group", GROUP_MEMBER),
    4733: Event(_GROUP, 4, "removed-member-from-group", GROUP_MEMBER),
    4734: Event(_GROUP, 5, "deleted-group-account", GROUP),
    4735: Event(_GROUP, 99, "modified-group-account", GROUP),
    4737: Event(_GROUP, 99, "modified-group-account", GROUP),
    4754: Event(_GROUP, 6, "added-group-account", GROUP),
    4755: Event(_GROUP, 99, "modified-group-account", GROUP),
    4756: Event(_GROUP, 3, "added-member-to-group", GROUP_MEMBER),
    4757: Event(_GROUP, 4, "removed-member-from-group", GROUP_MEMBER),
    4758: Event(_GROUP, 5, "deleted-group-account", GROUP),
    # Process Activity: 1 Launch, 2 Terminate
    4688: Event(_PROC, 1, "created-process", PROCESS_CREATE),
    4689: Event(_PROC, 2, "exited-process", PROCESS_EXIT),
    # Scheduled Job Activity: 1 Create, 2 Update, 3 Delete, 4 Enable, 5 Disable
    4698: Event(_JOB, 1, "scheduled-task-created", TASK),
    4699: Event(_JOB, 3, "scheduled-task-deleted", TASK),
    4700: Event(_JOB, 4, "scheduled-task-enabled", TASK),
    4701: Event(_JOB, 5, "scheduled-task-disabled", TASK),
    4702: Event(_JOB, 2, "scheduled-task-updated", TASK),
    # Event Log Activity: 1 Clear, 7 Stop, 99 Other
    1100: Event(_LOG, 7, "logging-service-shutdown", LOG, providers=(EVENTLOG,)),
    1102: Event(_LOG, 1, "audit-log-cleared", LOG, providers=(EVENTLOG,)),
    104: Event(_LOG, 1, "log-cleared", LOG, providers=(EVENTLOG,)),
    4719: Event(_LOG, 99, "changed-audit-config", AUDIT_POLICY),
    # no OCSF class for a change of the system time
    4616: Event(0, 99, "system-time-changed", TIME_CHANGE),
    # Network File Activity: share access
    5140: Event(_NETFILE, 99, "network-share-accessed", SHARE),
    5145: Event(_NETFILE, 99, "network-share-object-checked", SHARE),
    # Windows Service Activity (OCSF Windows extension): 1 Create, 99 Other
    4697: Event(_SERVICE, 1, "service-installed", SERVICE),
    7045: Event(_SERVICE, 1, "service-installed", SERVICE, providers=(SCM,)),
    7036: Event(_SERVICE, 99, "service-state-changed", SERVICE_STATE, providers=(SCM,)),
}  # fmt: skip
"""Events by ``EventID`` (any provider but Sysmon, or only ``providers`` where an entry names them)."""

SYSMON_EVENTS: dict[int, Event] = {
    1: Event(_PROC, 1, "process-created", SYSMON_PROCESS),
    3: Event(_NET, 1, "network-connection", SYSMON_NETWORK),
    5: Event(_PROC, 2, "process-terminated", SYSMON_DEFAULT),
    7: Event(_MODULE, 1, "image-loaded", SYSMON_DEFAULT),
    8: Event(_PROC, 4, "remote-thread-created", SYSMON_DEFAULT),
    10: Event(_PROC, 3, "process-accessed", SYSMON_ACCESS),
    11: Event(_FILE, 1, "file-created", SYSMON_FILE),
    13: Event(_REGVALUE, 2, "registry-value-set", SYSMON_REGISTRY),
    23: Event(_FILE, 4, "file-deleted", SYSMON_FILE),
}
"""Sysmon events by ``EventID``, for events of the Microsoft-Windows-Sysmon provider or channel only."""

_UNKNOWN = Event(0, 0, "", DEFAULT)
_UNKNOWN_SYSMON = Event(0, 0, "", SYSMON_DEFAULT)

FAILURE_REASONS = {
    "%%2304": "An error occurred during logon.",
    "%%2305": "The specified user account has expired.",
    "%%2306": "The NetLogon component is not active.",
    "%%2307": "Account locked out.",
    "%%2308": "The user has not been granted the requested logon type at this machine.",
    "%%2309": "The specified account's password has expired.",
    "%%2310": "Account currently disabled.",
    "%%2311": "Account logon time restriction violation.",
    "%%2312": "User not allowed to logon at this computer.",
    "%%2313": "Unknown user name or bad password.",
}
"""The message-table texts of 4625's ``FailureReason`` codes, for ``status_detail``."""

SUB_STATUS = {
    "0xc0000064": "the user name does not exist",
    "0xc000006a": "the user name is correct but the password is wrong",
    "0xc000006d": "bad user name or password",
    "0xc000006e": "an account restriction prevents this logon",
    "0xc000006f": "logon outside the allowed hours",
    "0xc0000070": "logon from a workstation that is not allowed",
    "0xc0000071": "the password has expired",
    "0xc0000072": "the account is disabled",
    "0xc0000133": "the clocks of the domain controller and this computer differ too much",
    "0xc000015b": "the user has not been granted the requested logon type",
    "0xc0000192": "the Netlogon service is not started",
    "0xc0000193": "the account has expired",
    "0xc0000224": "the user must change the password at next logon",
    "0xc0000234": "the account is locked out",
    "0xc0000413": "the authentication firewall refused the logon",
}
"""Common NTSTATUS values of ``SubStatus`` (4625, 4776), written out in ``status_detail``."""

# ------------------------------------------------------------------------------------------- mapping records

MAPPED = (
    "actor_user_uid", "actor_user_name", "actor_user_domain", "actor_user_qualified", "actor_orig_uid",
    "actor_orig_name", "actor_session_uid", "actor_process_pid", "actor_process_name", "target_user_uid",
    "target_user_name", "target_session_uid", "process_cmdline", "file_path", "resource_uid", "src_ip", "src_port",
    "src_hostname", "status_code", "status_detail", "status_sub",
)  # fmt: skip
"""The columns event fields go to; two are folded into others: ``actor_user_qualified`` (a ``DOMAIN\\name`` split
into domain and name) and ``status_sub`` (``SubStatus``, written into ``status_detail``)."""

HEAD = ("time_original", "event_code", "api_service", "host_name", "channel", "source_seq", "event", "status_id",
        "unmapped", "record_error")
"""What a reader gives per event before the :data:`MAPPED` values: System values, the :data:`EVENT_LIST` index,
status, the ``unmapped`` JSON (bytes) and why the event could not be read fully."""

ROW = HEAD + MAPPED
"""The layout of one event's values, as :func:`read_event` and :func:`event_values` return them."""

EVENT_LIST: tuple[Event, ...] = (_UNKNOWN, _UNKNOWN_SYSMON, *EVENTS.values(), *SYSMON_EVENTS.values())
"""Every :class:`Event`, indexed: the ``event`` value of :data:`HEAD`."""
_INDEX = {id(e): i for i, e in enumerate(EVENT_LIST)}
_NO_VALUES = (None,) * len(MAPPED)
_EMPTY_ROW = (None,) * len(ROW)
ROW_OF_ERROR = _EMPTY_ROW
"""The :data:`ROW` values of a record that could not be read at all."""


class _Plan:
    """A profile compiled for speed: the fields to take (in C, ``map(data.pop, ...)``) and where each one goes."""

    def __init__(self, profile: Profile) -> None:
        position: dict[str, int] = {}
        alternatives: dict[int, tuple[str, ...]] = {}
        for _, names in profile.entries:
            position.setdefault(names[0], len(position))
        self.fields = tuple(position)
        self.nones = (None,) * len(self.fields)
        endpoint = len(self.fields)  # the joined endpoint goes here, then a None for unmapped columns
        index = [endpoint + 1] * len(MAPPED)
        for column, names in profile.entries:
            slot = MAPPED.index(column)
            if index[slot] != endpoint + 1:
                raise ValueError(f"{column} is mapped twice in {profile}")
            index[slot] = position[names[0]]
            if len(names) > 1:
                if alternatives.get(position[names[0]], names[1:]) != names[1:] or set(names[1:]) & set(position):
                    raise ValueError(f"ambiguous alternatives {names} in {profile}")
                alternatives[position[names[0]]] = names[1:]
        if profile.endpoint:
            index[MAPPED.index("resource_uid")] = endpoint
        self.alternatives = tuple(alternatives.items())
        self.getter = itemgetter(*index)
        self.endpoint = profile.endpoint
        self.system_user = profile.system_user
        self.status = position.get("Status")


_PLANS = {id(p): _Plan(p) for p in {e.profile for e in EVENT_LIST}}
_KEYWORD_STATUS: dict[Any, int] = {}
_AUDIT_SUCCESS, _AUDIT_FAILURE = 0x0020000000000000, 0x0010000000000000
_OK_STATUS = ("0x0", "0", "-", "", 0, None)


def text(value: Any) -> str | None:
    """A native value as text: strings as they are, numbers in decimal, booleans and structures as JSON."""
    if value is None or type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    if isinstance(value, (bool, dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def keyword_status(keywords: Any) -> int:
    """The status the keywords tell: 1 *Audit Success*, 2 *Audit Failure*, else 0.

    Keywords come as a hex mask (``0x8020000000000000``), a signed decimal (exports that write the mask as an
    int64), or names (``["Audit Success"]``, ``AUDIT_FAILURE``).

    Examples:
        >>> keyword_status("0x8020000000000000"), keyword_status(-9218868437227405312)
        (1, 2)
        >>> keyword_status(["Audit Failure"]), keyword_status("0x8000000000000000")
        (2, 0)
    """
    key = keywords if type(keywords) in (str, int) else text(keywords)
    status = _KEYWORD_STATUS.get(key)
    if status is None:
        status = _keyword_status(keywords)
        if len(_KEYWORD_STATUS) < 4096:
            _KEYWORD_STATUS[key] = status
    return status


def _keyword_status(keywords: Any) -> int:
    mask = None
    if type(keywords) is int:
        mask = keywords
    elif type(keywords) is str:
        value = keywords.strip()
        try:
            mask = int(value, 16) if value[:2].lower() == "0x" else int(value)
        except ValueError:
            mask = None
    if mask is not None:
        mask &= 0xFFFFFFFFFFFFFFFF
        return 2 if mask & _AUDIT_FAILURE else 1 if mask & _AUDIT_SUCCESS else 0
    names = (text(keywords) or "").lower().replace("_", " ")
    return 2 if "audit failure" in names else 1 if "audit success" in names else 0


def event_id(value: Any) -> int | None:
    """An ``EventID`` as an integer (None if it is not one)."""
    if type(value) is int:
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def lookup(number: int | None, provider: Any, channel: Any) -> Event:
    """The :class:`Event` of an event id from a provider and channel (an unknown event: class 0)."""
    if provider == SYSMON or channel == SYSMON_CHANNEL:
        return SYSMON_EVENTS.get(number, _UNKNOWN_SYSMON)  # type: ignore[arg-type]
    event = EVENTS.get(number)  # type: ignore[arg-type]
    if event is None or (event.providers and provider is not None and provider not in event.providers):
        return _UNKNOWN
    return event


def map_event(
    code: Any, provider: Any, channel: Any, keywords: Any, user_id: Any, data: dict[str, Any] | None
) -> tuple[int, int, tuple[Any, ...], bool]:
    """The shared field map: one event's System fields and event fields to canonical values.

    Every serialization calls this once per event. It takes the fields it maps *out of* ``data`` (so that what is
    left is what ``unmapped`` holds).

    Args:
        code: ``EventID``; provider: ``Provider/@Name``; channel: ``Channel``; keywords: ``Keywords``;
        user_id: ``Security/@UserID``; data: the event's fields (EventData, or the element under UserData).

    Returns:
        ``(event, status_id, values, user_id_used)``: the :data:`EVENT_LIST` index, the status, the :data:`MAPPED`
        values (native types: text is made in :func:`frame`), and whether ``user_id`` became the actor (then it is
        held, else it belongs in ``unmapped``).

    Examples:
        >>> data = {"SubjectUserName": "PC1$", "TargetUserName": "alice", "TargetLogonId": "0x1234"}
        >>> event, status, values, used = map_event(4624, SECURITY, "Security", "0x8020000000000000", None, data)
        >>> EVENT_LIST[event].action, status
        ('logged-in', 1)
        >>> {k: v for k, v in zip(MAPPED, values) if v is not None}  # doctest: +NORMALIZE_WHITESPACE
        {'actor_user_name': 'alice', 'actor_session_uid': '0x1234', 'target_user_name': 'alice',
         'target_session_uid': '0x1234'}
        >>> data  # what is left for unmapped: the subject of a logon is the service that asked for it
        {'SubjectUserName': 'PC1$'}
    """
    key = (code, provider, channel)
    try:
        resolved = _RESOLVED[key]
    except (KeyError, TypeError):  # a new kind of event, or an unhashable code
        resolved = _resolve(code, provider, channel, key)
    plan = resolved.plan
    status_value = None
    if type(data) is dict and data:
        pop = data.pop
        found = [*map(pop, plan.fields, plan.nones), None, None]
        for at, names in plan.alternatives:
            if found[at] is None:
                for name in names:
                    value = pop(name, None)
                    if value is not None:
                        found[at] = value
                        break
        if plan.endpoint:
            found[-2] = _endpoint(data.get(plan.endpoint[0]), data.get(plan.endpoint[1]))
            if found[-2] is not None:
                pop(plan.endpoint[0], None)
                pop(plan.endpoint[1], None)
        values = plan.getter(found)
        if plan.status is not None:
            status_value = found[plan.status]
    else:
        values = _NO_VALUES
    if keywords is None:
        status = 0
    else:
        status = _KEYWORD_STATUS.get(keywords) if type(keywords) is str else None
        if status is None:
            status = keyword_status(keywords)
    failure = resolved.failure
    if failure is not None and (failure == "always" or status_value not in _OK_STATUS):
        status = 2
    used = user_id is not None and plan.system_user and values[0] is None and values[3] is None
    if used:
        values = (user_id, *values[1:])
    return resolved.index, status, values, used


class _Resolved:
    """An event kind (id, provider, channel) resolved: its :data:`EVENT_LIST` index, plan and failure rule."""

    __slots__ = ("failure", "index", "plan")

    def __init__(self, event: Event) -> None:
        self.index = _INDEX[id(event)]
        self.plan = _PLANS[id(event.profile)]
        self.failure = event.failure


_RESOLVED: dict[tuple[Any, Any, Any], _Resolved] = {}


def _resolve(code: Any, provider: Any, channel: Any, key: tuple[Any, Any, Any]) -> _Resolved:
    resolved = _Resolved(lookup(code if type(code) is int else event_id(code), provider, channel))
    if len(_RESOLVED) < 65536:
        with contextlib.suppress(TypeError):  # an unhashable code (a structure) is not kept
            _RESOLVED[key] = resolved
    return resolved


def _endpoint(ip: Any, port: Any) -> str | None:
    ip, port = text(ip), text(port)
    if not ip or ip == "-":
        return None
    host = f"[{ip}]" if ":" in ip else ip
    return f"{host}:{port}" if port not in (None, "", "-") else ip


# ----------------------------------------------------------------------------- the System/EventData shape

_XMLNS_ONLY = ("xmlns",)


def _namespaces_only(node: Any) -> bool:
    return type(node) is dict and all(k == "xmlns" or k.startswith("xmlns:") for k in node)


def read_event(event: Any) -> tuple[Any, ...]:
    """One event in the JSON shape of the ``evtx`` parser (``{"System": {...}, "EventData": {...}}``, the value
    under ``"Event"``) to its :data:`ROW` values. Event XML is read into the same shape.

    The event is consumed: the fields columns hold are taken out of it, and ``unmapped`` is the JSON of the rest,
    in the same shape (``{"System": {"Provider": {"#attributes": {"Guid": ...}}, "Version": 0, ...},
    "EventData": {...}}``). Namespace declarations are dropped.

    Examples:
        >>> row = read_event({"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Eventlog"}},
        ...     "EventID": 1102, "TimeCreated": {"#attributes": {"SystemTime": "2021-11-13T14:30:53.638285Z"}},
        ...     "EventRecordID": 469345, "Channel": "Security", "Computer": "FS03", "Keywords": "0x4020000000000000"},
        ...     "UserData": {"LogFileCleared": {"SubjectUserName": "admmig", "SubjectLogonId": "0x123550"}}})
        >>> values = {k: v for k, v in zip(ROW, row) if v is not None}
        >>> EVENT_LIST[values.pop("event")].action
        'audit-log-cleared'
        >>> values  # doctest: +NORMALIZE_WHITESPACE
        {'time_original': '2021-11-13T14:30:53.638285Z', 'event_code': 1102,
         'api_service': 'Microsoft-Windows-Eventlog', 'host_name': 'FS03', 'channel': 'Security',
         'source_seq': 469345, 'status_id': 1, 'unmapped': b'{"System":{"Keywords":"0x4020000000000000"}}',
         'actor_user_name': 'admmig', 'actor_session_uid': '0x123550'}
    """
    if type(event) is not dict:
        return (*_EMPTY_ROW[:8], json_bytes({"Event": event}), "not a Windows event: no System element", *_NO_VALUES)
    try:  # the usual shape, read in place; anything unusual goes the careful way
        system = event["System"]
        code = system["EventID"]
        provider_node = system["Provider"]["#attributes"]
        provider = provider_node["Name"]
        created = system["TimeCreated"]["#attributes"]
        time = created["SystemTime"]
        record_id = system["EventRecordID"]
        channel = system["Channel"]
        computer = system["Computer"]
        if type(code) is dict or type(provider_node) is not dict or type(created) is not dict:
            raise TypeError
    except (KeyError, TypeError, IndexError):
        return _read_unusual(event)
    del system["EventID"], provider_node["Name"], system["EventRecordID"], system["Channel"], system["Computer"]
    if len(created) == 1:
        del system["TimeCreated"]
    else:
        del created["SystemTime"]
    if not provider_node:
        del system["Provider"]
    keywords = system.get("Keywords")
    security = system.get("Security", 0)
    user_id = None
    if security is None:
        del system["Security"]
    elif type(security) is dict and type(security.get("#attributes")) is dict:
        user_id = security["#attributes"].get("UserID")
    if system.get("Correlation", 0) is None:
        del system["Correlation"]
    data = event.get("EventData")
    if type(data) is dict:
        container, name = event, "EventData"
        if "#attributes" in data and _namespaces_only(data["#attributes"]):
            del data["#attributes"]
    else:
        data, container, name = _data(event)
    index, status, values, used = map_event(code, provider, channel, keywords, user_id, data)
    if used:
        del security["#attributes"]["UserID"]
        if not security["#attributes"]:
            del system["Security"]
    if container is not None and not data:
        del container[name]
        if container is not event and not container:
            del event["UserData"]
    if not system:
        del event["System"]
    attributes = event.get("#attributes")
    if attributes is not None and ((len(attributes) == 1 and "xmlns" in attributes) or _namespaces_only(attributes)):
        del event["#attributes"]
    unmapped = None
    if event:
        try:
            unmapped = orjson.dumps(event)
        except TypeError:  # nesting beyond orjson's limit
            unmapped = json_bytes(event)
    return (time, code, provider, computer, channel, record_id, index, status, unmapped, None, *values)


def _data(event: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str | None]:
    """The event's fields (EventData, else the one element of UserData) and where they sit (to drop it if empty)."""
    data = event.get("EventData")
    container: dict[str, Any] | None = event
    name = "EventData"
    if data is None:
        user_data = event.get("UserData")
        if type(user_data) is dict and len(user_data) == 1:
            name, data = next(iter(user_data.items()))
            container = user_data
    if type(data) is not dict:
        return None, None, None
    if _namespaces_only(data.get("#attributes")):
        del data["#attributes"]
    return data, container, name


def system_fields(node: dict[str, Any]) -> dict[str, Any]:
    """The System element, in the JSON shape of the ``evtx`` parser, as flat fields.

    Attributes become fields of their own (``Provider/@Name`` is ``Provider``, ``TimeCreated/@SystemTime`` is
    ``TimeCreated``, ``Security/@UserID`` is ``UserID``, ``Execution/@ProcessID`` is ``ProcessID``, ...), and an
    element with attributes and text (``<EventID Qualifiers="16384">7036</EventID>``) keeps its text under its name.

    Examples:
        >>> system_fields({"Provider": {"#attributes": {"Name": "Service Control Manager"}},
        ...                "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7036}, "Correlation": None})
        {'Provider': 'Service Control Manager', 'Qualifiers': 16384, 'EventID': 7036}
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if type(value) is dict:
            attributes = value.get("#attributes")
            if type(attributes) is dict:
                for name, attribute in attributes.items():
                    out[_SYSTEM_ATTRIBUTES.get((key, name), name)] = attribute
            if "#text" in value:
                out[key] = value["#text"]
            elif attributes is None:  # a nested element without attributes: kept whole
                out[key] = value
        elif value is not None:
            out[key] = value
    return out


_SYSTEM_ATTRIBUTES = {
    ("Provider", "Name"): "Provider",
    ("Provider", "Guid"): "ProviderGuid",
    ("TimeCreated", "SystemTime"): "TimeCreated",
    ("Security", "UserID"): "UserID",
    ("EventID", "Qualifiers"): "Qualifiers",
}


def _read_unusual(event: dict[str, Any]) -> tuple[Any, ...]:
    """:func:`read_event` for an event off the usual shape (a missing or odd System field): System flattened."""
    node = event.pop("System", None)
    system = system_fields(node) if type(node) is dict else {}
    if node is not None and type(node) is not dict:
        event["System"] = node
    code = system.pop("EventID", None)
    provider = system.pop("Provider", None)
    channel = system.pop("Channel", None)
    user_id = system.pop("UserID", None)
    data, container, name = _data(event)
    index, status, values, used = map_event(code, provider, channel, system.get("Keywords"), user_id, data)
    if user_id is not None and not used:
        system["UserID"] = user_id
    if container is not None and not data:
        del container[name]
        if container is not event and not container:
            del event["UserData"]
    if _namespaces_only(event.get("#attributes")):
        del event["#attributes"]
    row = (system.pop("TimeCreated", None), code, provider, system.pop("Computer", None), channel,
           system.pop("EventRecordID", None), index, status)
    if system:
        event = {"System": system, **event}
    error = code_error(code)
    if error is None and node is None:
        error = "not a Windows event: no System element"
    return (*row, json_bytes(event) if event else None, error, *values)


def event_values(
    system: dict[str, Any], data: dict[str, Any] | None, rest: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    """The :data:`ROW` values of an event given as flat System fields (named as :func:`system_fields` names them)
    and its fields; what no column holds (left in ``system``, ``data`` and ``rest``) becomes ``unmapped``:
    ``{"System": {...}, "EventData": {...}, **rest}``. For serializations that are not the parser's shape (JSON
    exports).

    Examples:
        >>> row = event_values({"EventID": "4625", "Computer": "pc1", "Keywords": "0x8010000000000000"},
        ...                    {"TargetUserName": "bob", "LogonType": "3"}, {"Message": "Failed."})
        >>> values = {k: v for k, v in zip(ROW, row) if v is not None}
        >>> EVENT_LIST[values.pop("event")].action
        'logon-failed'
        >>> values  # doctest: +NORMALIZE_WHITESPACE
        {'event_code': '4625', 'host_name': 'pc1', 'status_id': 2,
         'unmapped': b'{"System":{"Keywords":"0x8010000000000000"},"EventData":{"LogonType":"3"},"Message":"Failed."}',
         'actor_user_name': 'bob', 'target_user_name': 'bob'}
    """
    code = system.pop("EventID", None)
    provider = system.pop("Provider", None)
    channel = system.pop("Channel", None)
    user_id = system.pop("UserID", None)
    index, status, values, used = map_event(code, provider, channel, system.get("Keywords"), user_id, data)
    if user_id is not None and not used:
        system["UserID"] = user_id
    row = (system.pop("TimeCreated", None), code, provider, system.pop("Computer", None), channel,
           system.pop("EventRecordID", None), index, status)
    unmapped: dict[str, Any] = {}
    system = {k: v for k, v in system.items() if v is not None}
    if system:
        unmapped["System"] = system
    if data:
        unmapped["EventData"] = data
    if rest:
        unmapped.update(rest)
    return (*row, json_bytes(unmapped) if unmapped else None, code_error(code), *values)


def code_error(code: Any) -> str | None:
    """Why an ``EventID`` makes a record not a Windows event (None when it is a number)."""
    if code is None:
        return "not a Windows event: it has no EventID"
    if event_id(code) is None:
        return f"EventID is not a number: {text(code)!r}"
    return None


def json_bytes(value: Any) -> bytes:
    """Compact JSON (orjson), UTF-8; the standard library where orjson's nesting limit is passed."""
    try:
        return orjson.dumps(value)
    except TypeError:  # beyond orjson's nesting limit: the standard library goes deeper
        import json

        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        except (RecursionError, ValueError):
            return b'{"error":"too deeply nested to encode; see raw"}'


# ------------------------------------------------------------------------------------------------- batches


class Rows:
    """A batch of Windows events of one file: their :data:`ROW` values and provenance, made into a frame.

    Examples:
        >>> rows = Rows()
        >>> system = {"EventID": "4625", "Keywords": "0x8010000000000000", "TimeCreated": "2024-01-02T03:04:05.1Z"}
        >>> rows.add("<Event/>", 1, 0, event_values(system, {"TargetUserName": "bob", "IpAddress": "203.0.113.9"}))
        >>> rows.add_error("", 2, 8, "the event is cut short")
        >>> rows.frame("x.xml").select("event_code", "status_id", "actor_user_name", "src_ip", "parse_error").rows()
        [('4625', 2, 'bob', '203.0.113.9', None), (None, None, None, None, 'the event is cut short')]
    """

    __slots__ = ("error", "line", "offset", "raw", "sha256", "values")

    def __init__(self) -> None:
        self.raw: list[Any] = []
        """The verbatim records: text, or (JSON records) UTF-8 bytes; one kind per batch."""
        self.sha256: list[str] = []
        self.line: list[int | None] = []
        self.offset: list[int | None] = []
        self.values: list[tuple[Any, ...]] = []
        self.error: list[str | None] = []

    def __len__(self) -> int:
        return len(self.raw)

    def add(self, raw: str | bytes, line: int | None, offset: int | None, values: tuple[Any, ...],
            error: str | None = None, sha256: str | None = None) -> None:
        """Add one event: its verbatim text, provenance, :data:`ROW` values and any error of reading it."""
        self.raw.append(raw)
        data = raw if type(raw) is bytes else raw.encode("utf-8", "surrogatepass")  # type: ignore[union-attr]
        self.sha256.append(sha256 or hashlib.sha256(data).hexdigest())
        self.line.append(line)
        self.offset.append(offset)
        self.values.append(values)
        self.error.append(error)

    def add_error(self, raw: str | bytes, line: int | None, offset: int | None, error: str,
                  sha256: str | None = None) -> None:
        """Add a record that could not be read as an event (``parse_error`` set, ``raw`` kept)."""
        self.add(raw, line, offset, _EMPTY_ROW, error, sha256)

    def split(self, n: int) -> Rows:
        """Take the first ``n`` rows out into a batch of their own."""
        head = Rows()
        for name in Rows.__slots__:
            values = getattr(self, name)
            setattr(head, name, values[:n])
            del values[:n]
        return head

    def frame(self, source_file: str) -> pl.DataFrame:
        """The batch as a canonical events frame."""
        return frame(self, source_file)


def frame(rows: Rows, source_file: str) -> pl.DataFrame:
    """The canonical frame of a batch: the :data:`ROW` values through the column rules below, then :func:`finish`."""
    if not rows.raw:
        return schema.empty()
    columns: dict[str, Any] = dict(zip(ROW, zip(*rows.values, strict=True), strict=True))
    special = ("event", "status_id", "unmapped", "source_seq")
    data = {name: _strings(name, values) for name, values in columns.items() if name not in special}
    data["event"] = pl.Series("event", columns["event"], pl.Int32)
    data["status_id"] = pl.Series("status_id", columns["status_id"], pl.Int16)
    data["unmapped"] = pl.Series("unmapped", columns["unmapped"], pl.Binary).cast(pl.String)
    data["source_seq"] = _record_ids(columns["source_seq"])
    data["raw"] = _raw(rows.raw)
    data["raw_sha256"] = pl.Series("raw_sha256", rows.sha256, pl.String)
    data["source_line"] = pl.Series("source_line", rows.line, pl.Int64)
    data["source_offset"] = pl.Series("source_offset", rows.offset, pl.Int64)
    data["read_error"] = pl.Series("read_error", rows.error, pl.String)
    data["source_file"] = pl.repeat(source_file, len(rows.raw), dtype=pl.String, eager=True)
    out = pl.DataFrame(data).select(_COLUMN_RULES())
    if out.get_column("time_us").null_count() > out.get_column("time_original").null_count():
        out = out.with_columns(_TIME_FALLBACK()).with_columns(_TIME_FROM_US())  # another form than the parser's
    if out.schema == _CANONICAL:  # what finish() would return: every column, in order, with its dtype
        return out
    return finish(out, source_type=SOURCE_TYPE, source_file=source_file)


def _raw(raw: list[Any]) -> pl.Series:
    """The verbatim records: UTF-8 bytes (EVTX, JSON) or text (XML)."""
    try:
        if type(raw[0]) is bytes:
            return pl.Series("raw", raw, pl.Binary).cast(pl.String)
        return pl.Series("raw", raw, pl.String)
    except (TypeError, pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
        text_raw = [r.decode("utf-8", "backslashreplace") if type(r) is bytes else r for r in raw]
        return pl.Series("raw", text_raw, pl.String)


def _record_ids(values: Sequence[Any]) -> pl.Series:
    """``EventRecordID`` as Int64: integers as they are (the parser's JSON), text parsed (XML, exports)."""
    try:
        return pl.Series("source_seq", values, pl.Int64)
    except (TypeError, OverflowError):
        text_ids = pl.Series("source_seq", [v if v is None or type(v) is str else text(v) for v in values], pl.String)
        return pl.DataFrame([text_ids]).select(_integer(C("source_seq"), pl.Int64)).to_series()


def _strings(name: str, values: Sequence[Any]) -> pl.Series:
    """A String series of native values (numbers in decimal, structures as JSON)."""
    try:
        return pl.Series(name, values, pl.String)
    except TypeError:
        pass
    try:  # integers (EventID, EventRecordID and numeric fields of the evtx parser's JSON)
        return pl.Series(name, values, pl.Int64).cast(pl.String)
    except (TypeError, OverflowError):
        return pl.Series(name, [v if v is None or type(v) is str else text(v) for v in values], pl.String)


C = pl.col
_UNSET = ["-", ""]
_TIME_UTC = ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z")
_TIME_NAIVE = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f")
_CLASSES = {i: e.class_uid for i, e in enumerate(EVENT_LIST)}
_ACTIVITIES = {i: e.activity_id for i, e in enumerate(EVENT_LIST)}
_ACTIONS = {i: e.action for i, e in enumerate(EVENT_LIST) if e.action}
_RESOURCE_TYPES = {i: e.profile.resource_type for i, e in enumerate(EVENT_LIST) if e.profile.resource_type}


def _unset(column: pl.Expr, *more: str) -> pl.Expr:
    return pl.when(column.is_in([*_UNSET, *more]).not_()).then(column)


def _column_rules() -> list[pl.Expr]:
    """Every canonical column, in order, from a batch's values, in one pass: unset values nulled
    (``-``, empty text, the NULL SID in user ids, LogonId 0x0 in session ids), ``DOMAIN\\name`` split, numbers
    parsed, the event's class named, streams and record ids built, and the reasons a row did not parse cleanly."""
    out: dict[str, pl.Expr] = {}
    for name in ("api_service", "actor_user_domain", "actor_orig_name", "actor_process_name", "target_user_name",
                 "process_cmdline", "file_path", "resource_uid", "src_ip", "src_hostname", "status_code",
                 "host_name"):  # fmt: skip
        out[name] = _unset(C(name))
    for name in ("actor_user_uid", "target_user_uid", "actor_orig_uid"):
        out[name] = _unset(C(name), "S-1-0-0")
    for name in ("actor_session_uid", "target_session_uid"):
        out[name] = _unset(C(name), "0x0")
    qualified = _unset(C("actor_user_qualified"))
    parts = qualified.str.split_exact("\\", 1)
    has_domain = qualified.str.contains("\\", literal=True)
    out["actor_user_name"] = pl.coalesce(
        _unset(C("actor_user_name")), pl.when(has_domain).then(parts.struct.field("field_1")).otherwise(qualified))
    out["actor_user_domain"] = pl.coalesce(out["actor_user_domain"],
                                           pl.when(has_domain).then(parts.struct.field("field_0")))
    sub = _unset(C("status_sub"), "0x0", "0")
    sub_text = sub.str.to_lowercase().replace_strict(SUB_STATUS, default=None, return_dtype=pl.String)
    sub_note = pl.concat_str(pl.lit("SubStatus "), sub, pl.when(sub_text.is_not_null()).then(
        pl.concat_str(pl.lit(": "), sub_text)).otherwise(pl.lit("")))
    reason = _unset(C("status_detail").replace(FAILURE_REASONS))
    both = pl.concat_str(reason, pl.lit(" ("), sub_note, pl.lit(")"))
    out["status_detail"] = pl.when(sub.is_null()).then(reason).when(reason.is_null()).then(sub_note).otherwise(both)
    pid = _integer(C("actor_process_pid"), pl.Int64)
    out["actor_process_pid"] = pl.when(pid != 0).then(pid)
    port = _integer(C("src_port"), pl.Int32)
    out["src_port"] = pl.when(port != 0).then(port)
    event = C("event")
    out["class_uid"] = event.replace_strict(_CLASSES, default=None, return_dtype=pl.Int32)
    out["activity_id"] = event.replace_strict(_ACTIVITIES, default=None, return_dtype=pl.Int16)
    out["api_operation"] = event.replace_strict(_ACTIONS, default=None, return_dtype=pl.String)
    out["resource_type"] = pl.when(out["resource_uid"].is_not_null()).then(
        event.replace_strict(_RESOURCE_TYPES, default=None, return_dtype=pl.String))
    host, channel = out["host_name"], _unset(C("channel"))
    stream = pl.when(host.is_not_null() | channel.is_not_null()).then(
        pl.concat_str(host.fill_null(""), pl.lit("/"), channel.fill_null("")))
    out["source_stream"] = stream
    out["source_record_uid"] = pl.when(C("source_seq").is_not_null()).then(
        pl.concat_str(stream, pl.lit(":"), C("source_seq").cast(pl.String)))
    out["time_us"] = _time_us()
    out["time"] = pl.from_epoch(out["time_us"], time_unit="us").dt.replace_time_zone("UTC")
    out["source_type"] = pl.lit(SOURCE_TYPE, pl.String)
    bad_time = C("time_original").is_not_null() & out["time_us"].is_null()
    no_time = C("time_original").is_null() & C("event_code").is_not_null()
    reasons = pl.concat_str(
        C("read_error"),
        C("record_error"),
        pl.when(bad_time).then(pl.concat_str(pl.lit("TimeCreated does not parse: "), C("time_original"))),
        pl.when(no_time).then(pl.lit("the event has no TimeCreated")),
        separator="; ",
        ignore_nulls=True,
    )
    out["parse_error"] = pl.when(reasons != "").then(reasons)
    passed = ("source_file", "time_original", "event_code", "status_id", "source_seq", "source_line", "source_offset",
              "raw", "raw_sha256", "unmapped")  # fmt: skip
    exprs = []
    for column in schema.COLUMNS.values():
        if column.name in out:
            expr = out[column.name]
        elif column.name in passed:
            expr = C(column.name)
        else:
            expr = pl.lit(None, column.dtype)
        exprs.append(expr.cast(column.dtype).alias(column.name))
    return exprs


def _integer(column: pl.Expr, dtype: Any) -> pl.Expr:
    """Text to an integer: ``0x`` hexadecimal (ProcessId in 4688) or decimal; anything else is null."""
    value = column.str.strip_chars()
    hexa = value.str.to_lowercase().str.starts_with("0x")
    return (
        pl.when(hexa).then(value.str.slice(2).str.to_integer(base=16, strict=False))
        .otherwise(value.str.to_integer(base=10, strict=False))
        .cast(dtype, strict=False)
    )


def _time_us() -> pl.Expr:
    """``TimeCreated`` in the parser's and Event XML's form (``2024-01-02T03:04:05.1234567Z``) to epoch us."""
    utc = pl.Datetime("us", "UTC")
    return C("time_original").str.strip_chars().str.strptime(utc, _TIME_UTC[0], strict=False).dt.epoch("us")


def _time_fallback() -> pl.Expr:
    """The other forms of time exports write: offsets, no zone (taken as UTC), ``/Date(ms)/`` (PowerShell)."""
    t = C("time_original").str.strip_chars()
    utc = pl.Datetime("us", "UTC")
    parsed = [t.str.strptime(utc, f, strict=False) for f in _TIME_UTC[1:]]
    parsed += [t.str.strptime(pl.Datetime("us"), f, strict=False).dt.replace_time_zone("UTC") for f in _TIME_NAIVE]
    epoch_ms = t.str.extract(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$", 1).cast(pl.Int64, strict=False)
    return pl.coalesce(C("time_us"), *(p.dt.epoch("us") for p in parsed), epoch_ms * 1000).alias("time_us")


def _time_from_us() -> list[pl.Expr]:
    """``time`` and the time-dependent ``parse_error`` again, after the fallback forms were tried."""
    other = C("parse_error").str.replace(r"(?s)(?:; )?TimeCreated does not parse: .*$", "")
    parse_error = pl.concat_str(
        pl.when(other != "").then(other),
        pl.when(C("time_us").is_null() & C("time_original").is_not_null())
        .then(pl.concat_str(pl.lit("TimeCreated does not parse: "), C("time_original"))),
        separator="; ",
        ignore_nulls=True,
    )
    return [
        pl.from_epoch(C("time_us"), time_unit="us").dt.replace_time_zone("UTC").alias("time"),
        pl.when(parse_error != "").then(parse_error).alias("parse_error"),
    ]


_TIME_FALLBACK = functools.cache(_time_fallback)
_TIME_FROM_US = functools.cache(_time_from_us)
_COLUMN_RULES = functools.cache(_column_rules)
_CANONICAL = schema.polars_schema()
