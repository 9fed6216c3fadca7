"""Render ``gcp`` events as Google Cloud Audit Logs entries (``gcp-audit``): JSON lines, as ``gcloud logging read
--format=json`` prints them (every object's keys sorted) piped through ``jq -c`` (one compact entry per line).

An event's ``fields`` are the Cloud Logging ``LogEntry`` without ``timestamp`` and ``receiveTimestamp``; the renderer
writes ``timestamp`` from :attr:`~auditlab.mock._model.Event.time_us` the way protobuf's JSON mapping does (no
fraction, or 3 or 6 digits, as the value needs), and ``receiveTimestamp`` a little later (50 to 950 ms, derived
from the entry) with nanoseconds. The file is ``PROJECT/cloudaudit.jsonl``, PROJECT being the event's ``host``.

A ``stripped`` event (the ``strip_actor`` fault) loses the caller from ``protoPayload.authenticationInfo``:
principalEmail, principalSubject, serviceAccountKeyName and serviceAccountDelegationInfo (the object stays).

Each record's ``expect`` is stated from the field map documented in :mod:`auditlab.load.gcp_audit`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from functools import lru_cache
from hashlib import sha256
from types import MethodType
from typing import Any

import orjson

from auditlab.mock._json import as_text, at, coalesce, iso_second
from auditlab.mock._json import component as _component
from auditlab.mock._model import Event, Record

__all__ = ["render"]

AUDIT_LOG = "type.googleapis.com/google.cloud.audit.AuditLog"

_STRIPPED = ("principalEmail", "principalSubject", "serviceAccountKeyName", "serviceAccountDelegationInfo")

# The loader's documented tables (auditlab.load.gcp_audit: ``_ACCOUNT_CHANGES``, ``_VERBS``), restated here so that
# the truth does not come from the code it checks.
ACCOUNT_CHANGES: dict[str, int] = {
    "CreateServiceAccount": 1, "DeleteServiceAccount": 6, "UndeleteServiceAccount": 99,
    "EnableServiceAccount": 2, "DisableServiceAccount": 5,
    "UpdateServiceAccount": 99, "PatchServiceAccount": 99,
    "CreateServiceAccountKey": 99, "UploadServiceAccountKey": 99, "DeleteServiceAccountKey": 99,
    "EnableServiceAccountKey": 99, "DisableServiceAccountKey": 99,
}  # fmt: skip
TOKENS = ("GenerateAccessToken", "GenerateIdToken")
VERBS: dict[str, int] = {
    **dict.fromkeys(("create", "insert", "add", "import", "upload", "copy", "clone", "generate", "attach",
                     "register", "allocate", "reserve"), 1),
    **dict.fromkeys(("get", "list", "aggregated", "search", "query", "lookup", "read", "access", "describe",
                     "fetch", "watch", "view"), 2),
    **dict.fromkeys(("update", "patch", "set", "replace", "modify", "enable", "disable", "start", "stop", "reset",
                     "resize", "move", "rename", "restore", "resume", "suspend", "apply", "change", "edit",
                     "undelete", "rollback"), 3),
    **dict.fromkeys(("delete", "remove", "detach", "destroy", "purge", "revoke", "deregister", "cancel"), 4),
}
_VERB = re.compile(r"^(?:[Bb]atch)?([a-z]+|[A-Z][a-z]*)")
_SLASH = re.compile("%2[Ff]")


# ---------------------------------------------------------------------------------------------------- rendering


def render(chosen: list[tuple[int, Event]], format: str) -> list[Record]:  # noqa: A002
    """The records of the ``gcp`` events ``chosen`` ((index, event) pairs, in time order), in file order."""
    if format != "gcp-audit":
        raise ValueError(f"not a GCP audit format: {format!r}")
    out = []
    for index, event in chosen:
        _, text = _entry(event)
        # the expected values are stated when asked for (a bound method is the cheapest callable), from the event
        # (an immutable value) laid out again
        out.append(Record(_file(event.host), text, index, MethodType(_expect_event, event)))
    out.sort(key=_by_file)  # stable: each file keeps its entries in time order
    return out


def _expect_event(event: Event) -> dict[str, Any]:
    return expect(native(event))


def _by_file(record: Record) -> str:
    return record.file


@lru_cache(maxsize=4096)
def _file(host: str) -> str:
    return f"{_component(host)}/cloudaudit.jsonl"


def native(event: Event) -> dict[str, Any]:
    """The LogEntry of an event: its fields with ``timestamp`` and ``receiveTimestamp``, stripped if asked."""
    return _entry(event)[0]


def _entry(event: Event) -> tuple[dict[str, Any], bytes]:
    """The LogEntry of an event and its JSON (keys sorted)."""
    entry = dict(event.fields)
    entry["timestamp"] = timestamp(event.time_us)
    seeded = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
    seed = sha256(seeded).digest()
    delay_ns = 50_000_000 + int.from_bytes(seed[:8], "big") % 900_000_000
    received = _nanos(event.time_us * 1000 + delay_ns)
    if not event.stripped and "receiveTimestamp" not in entry:
        # the entry as hashed with receiveTimestamp put in its place among the sorted members: the members after it
        # (``timestamp`` at least) end the text
        after = orjson.dumps({k: v for k, v in entry.items() if k > "receiveTimestamp"}, option=orjson.OPT_SORT_KEYS)
        cut = len(seeded) - len(after) + 1
        entry["receiveTimestamp"] = received
        if seeded[cut - 1] in b"{," and seeded.endswith(after[1:]):
            return entry, b"%s\"receiveTimestamp\":\"%s\",%s" % (seeded[:cut], received.encode(), seeded[cut:])
        return entry, _copy(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS))
    entry["receiveTimestamp"] = received
    if event.stripped:
        payload = entry.get("protoPayload")
        auth = payload.get("authenticationInfo") if isinstance(payload, dict) else None
        if isinstance(auth, dict):
            entry["protoPayload"] = {**payload, "authenticationInfo": {
                k: v for k, v in auth.items() if k not in _STRIPPED}}
    return entry, _copy(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS))


def _copy(text: bytes) -> bytes:
    """orjson's bytes keep the (ten times larger) block they were written in: a record keeps a copy."""
    return memoryview(text).tobytes()


def timestamp(time_us: int) -> str:
    """RFC 3339 in UTC as protobuf's JSON mapping writes a Timestamp: no fraction, or 3 or 6 digits."""
    seconds, micro = divmod(time_us, 1_000_000)
    text = iso_second(seconds)
    if micro == 0:
        return text + "Z"
    if micro % 1000 == 0:
        return f"{text}.{str(micro // 1000 + 1000)[1:]}Z"
    return f"{text}.{str(micro + 1_000_000)[1:]}Z"


def _nanos(time_ns: int) -> str:
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    text = iso_second(seconds)
    return f"{text}.{str(nanos + 1_000_000_000)[1:]}Z"


# ------------------------------------------------------------------------------------------------------- truth


def _us(text: Any) -> int | None:
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text) if type(text) is str else None
    if match is None:
        return None
    when = dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    whole = (when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)
    return whole + int((match.group(2) or "0")[:6].ljust(6, "0"))


def expect(entry: dict[str, Any]) -> dict[str, Any]:
    """The canonical values :mod:`auditlab.load.gcp_audit` documents for a LogEntry."""
    get = lambda *path: as_text(at(entry, *path))  # noqa: E731
    pp = lambda *path: as_text(at(entry, "protoPayload", *path))  # noqa: E731
    auth = lambda *path: pp("authenticationInfo", *path)  # noqa: E731
    log_name = get("logName")
    audit = at(entry, "protoPayload", "@type") == AUDIT_LOG
    email, subject = auth("principalEmail"), auth("principalSubject")
    first = ("serviceAccountDelegationInfo", 0)
    first_email, first_subject = auth(*first, "firstPartyPrincipal", "principalEmail"), auth(*first, "principalSubject")
    caller = pp("requestMetadata", "callerIp")
    code = pp("status", "code")
    log_id = log_name.split("/logs/", 1)[1] if log_name and "/logs/" in log_name else None
    project = re.match(r"projects/([^/]+)/", log_name) if log_name else None
    out: dict[str, Any] = {
        "time_us": _us(coalesce(get("timestamp"), get("receiveTimestamp"))),
        "source_record_uid": get("insertId"),
        "source_stream": _SLASH.sub("/", log_name) if log_name else None,
        "event_code": _SLASH.sub("/", log_id) if log_id else None,
        "source_seq": None,
        "cloud_account_uid": coalesce(get("resource", "labels", "project_id"), project.group(1) if project else None),
        "cloud_region": coalesce(get("resource", "labels", "zone"), get("resource", "labels", "region"),
                                  get("resource", "labels", "location"),
                                  pp("resourceLocation", "currentLocations", 0)),
        "resource_type": get("resource", "type"),
        "resource_uid": pp("resourceName"),
        "api_operation": pp("methodName"),
        "api_service": pp("serviceName"),
        "actor_user_uid": coalesce(email, subject),
        "actor_user_name": coalesce(email, subject),
        "actor_user_type": _user_type(email, subject),
        "actor_user_domain": email.rsplit("@", 1)[1] or None if email and "@" in email else None,
        "actor_orig_uid": coalesce(first_email, first_subject,
                                    auth(*first, "thirdPartyPrincipal", "thirdPartyClaims")),
        "actor_orig_name": coalesce(first_email, first_subject),
        "actor_credential_uid": auth("serviceAccountKeyName"),
        "actor_session_uid": None,
        "actor_session_issuer": None,
        "status_code": code,
        "status_detail": pp("status", "message"),
        "src_ip": caller if _is_ip(caller) else None,
        "src_hostname": None if _is_ip(caller) else caller,
    }
    out.update(_classification(entry, out, audit=audit, entry_ok=log_name is not None))
    return out


def _is_ip(text: str | None) -> bool:
    try:
        ipaddress.ip_address(text or "")
    except ValueError:
        return False
    return True


def _user_type(email: str | None, subject: str | None) -> str | None:
    if (email and email.endswith(".gserviceaccount.com")) or (subject and subject.startswith("serviceAccount:")):
        return "ServiceAccount"
    if subject and re.match("principal(?:Set)?://", subject):
        return "Federated"
    if email is not None or subject is not None:
        return "User"
    return None


def _classification(entry: dict[str, Any], out: dict[str, Any], *, audit: bool, entry_ok: bool) -> dict[str, Any]:
    if not entry_ok:
        return {"class_uid": None, "activity_id": None, "status_id": None, "target_user_name": None}
    if not audit:
        return {"class_uid": 0, "activity_id": 0, "status_id": None, "target_user_name": None}
    status_id = 1 if out["status_code"] in (None, "0") else 2
    operation, service = out["api_operation"], out["api_service"]
    method = operation.rsplit(".", 1)[-1] if operation is not None else None
    resource = out["resource_uid"]
    account = re.search(r"serviceAccounts/([^/]+)", resource) if resource else None
    account_name = coalesce(as_text(at(entry, "protoPayload", "response", "email")),
                             account.group(1) if account else None,
                             as_text(at(entry, "protoPayload", "request", "account_id")),
                             as_text(at(entry, "protoPayload", "request", "accountId")))
    if method is not None and method.lower().endswith("setiampolicy"):
        deltas = at(entry, "protoPayload", "serviceData", "policyDelta", "bindingDeltas")
        actions = {d.get("action") if type(d) is dict else None for d in deltas} if type(deltas) is list else set()
        activity = 1 if actions == {"ADD"} else 2 if actions == {"REMOVE"} else 99
        member = as_text(at(deltas, 0, "member")) if type(deltas) is list and deltas else None
        return {"class_uid": 3005, "activity_id": activity, "status_id": status_id, "target_user_name": member}
    if service == "iam.googleapis.com" and method in ACCOUNT_CHANGES:
        return {"class_uid": 3001, "activity_id": ACCOUNT_CHANGES[method], "status_id": status_id,
                "target_user_name": account_name}
    if service == "iamcredentials.googleapis.com" and method in TOKENS:
        return {"class_uid": 3002, "activity_id": 99, "status_id": status_id, "target_user_name": account_name}
    verb = _VERB.match(method) if method is not None else None
    activity = VERBS.get(verb.group(1).lower(), 99) if verb else 99
    return {"class_uid": 6003, "activity_id": activity, "status_id": status_id, "target_user_name": None}
