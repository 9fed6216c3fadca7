"""Render ``aws`` events as AWS CloudTrail records: S3 delivery files (``cloudtrail``) or JSON lines
(``cloudtrail-jsonl``).

An event's ``fields`` are the CloudTrail record without ``eventTime``; the renderer writes ``eventTime`` from
:attr:`~auditlab.mock._model.Event.time_us` (whole seconds, as CloudTrail does) and puts the members in the order
CloudTrail writes them (eventVersion, userIdentity, eventTime, eventSource, eventName, awsRegion, ...; members it
does not know come last, in their order).

``cloudtrail`` writes what a trail delivers to S3: one gzipped ``{"Records":[...]}`` per recipient account, region
and five-minute window, at
``AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_SUFFIX.json.gz``, dated by
the end of the window (when the file would be delivered), SUFFIX 16 letters and digits from a SHA-256 of the
window and the records. ``cloudtrail-jsonl`` writes ``ACCOUNT/cloudtrail.jsonl``, one record per line. The account
is ``recipientAccountId``, else ``userIdentity.accountId``, else the event's ``host``.

A ``stripped`` event (the ``strip_actor`` fault) keeps only ``type`` and ``accountId`` of ``userIdentity`` (arn,
userName, principalId, accessKeyId, credentialId, sessionContext, invokedBy, onBehalfOf, identityProvider go) and
loses ``additionalEventData.sourceIdentity``.

Each record's ``expect`` is stated from the field map documented in :mod:`auditlab.load.cloudtrail`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import ipaddress
import re
from functools import lru_cache
from types import MethodType
from typing import Any

import orjson

from auditlab.mock._json import as_text, at, coalesce, iso_second
from auditlab.mock._json import component as _component
from auditlab.mock._model import Event, Record

__all__ = ["pack", "render"]

ORDER = (
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
    "userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements", "additionalEventData",
    "requestID", "eventID", "readOnly", "resources", "eventType", "apiVersion", "managementEvent",
    "recipientAccountId", "sharedEventID", "serviceEventDetails", "vpcEndpointId", "vpcEndpointAccountId",
    "eventCategory", "addendum", "sessionCredentialFromConsole", "edgeDeviceDetails", "tlsDetails", "insightDetails",
)  # fmt: skip
"""The members of a CloudTrail record, in the order CloudTrail writes them."""
_RANK = {key: i for i, key in enumerate(ORDER)}

_STRIPPED = ("arn", "userName", "principalId", "accessKeyId", "credentialId", "sessionContext", "invokedBy",
             "onBehalfOf", "identityProvider")
"""userIdentity members a stripped event leaves out (``type`` and ``accountId`` stay)."""

WINDOW_US = 300_000_000
"""A delivery file holds five minutes of records."""

_SUFFIX_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# The loader's documented tables (auditlab.load.cloudtrail: ``_ACCOUNT_CHANGES``, ``_VERBS``), restated here so that
# the truth does not come from the code it checks.
ACCOUNT_CHANGES: dict[str, int] = {
    "CreateUser": 1, "DeleteUser": 6, "UpdateUser": 99, "TagUser": 99, "UntagUser": 99,
    "CreateLoginProfile": 2, "DeleteLoginProfile": 5, "UpdateLoginProfile": 4, "ChangePassword": 3,
    "CreateAccessKey": 99, "UpdateAccessKey": 99, "DeleteAccessKey": 99,
    "AttachUserPolicy": 7, "PutUserPolicy": 7, "DetachUserPolicy": 8, "DeleteUserPolicy": 8,
    "PutUserPermissionsBoundary": 7, "DeleteUserPermissionsBoundary": 8,
    "AddUserToGroup": 7, "RemoveUserFromGroup": 8,
    "CreateGroup": 1, "DeleteGroup": 6, "UpdateGroup": 99,
    "AttachGroupPolicy": 7, "PutGroupPolicy": 7, "DetachGroupPolicy": 8, "DeleteGroupPolicy": 8,
    "EnableMFADevice": 10, "DeactivateMFADevice": 11, "ResyncMFADevice": 99,
    "CreateServiceSpecificCredential": 99, "DeleteServiceSpecificCredential": 99,
    "UploadSSHPublicKey": 99, "DeleteSSHPublicKey": 99,
    "UploadSigningCertificate": 99, "DeleteSigningCertificate": 99,
}  # fmt: skip

VERBS: dict[int, tuple[str, ...]] = {
    1: ("Create", "Put", "Run", "Attach", "Add", "Import", "Upload", "Register", "Allocate", "Associate", "Copy",
        "Launch", "Insert", "Send", "Issue", "Generate", "Request"),
    2: ("Get", "List", "Describe", "Lookup", "Head", "Search", "Query", "Scan", "Select", "Download", "Check",
        "Filter", "Retrieve", "View", "Read"),
    3: ("Update", "Modify", "Set", "Change", "Replace", "Reset", "Edit", "Enable", "Disable", "Tag", "Untag",
        "Rename", "Restore", "Start", "Stop", "Reboot", "Resume", "Suspend", "Apply", "Patch", "Authorize",
        "Accept", "Reject", "Confirm"),
    4: ("Delete", "Remove", "Detach", "Terminate", "Revoke", "Deregister", "Disassociate", "Release", "Purge",
        "Cancel", "Destroy", "Deactivate", "Unsubscribe"),
}  # fmt: skip
_VERB_PATTERNS = [(activity, re.compile(rf"^(?:Batch)?(?:{'|'.join(verbs)})(?:[A-Z0-9_]|\Z)"))
                  for activity, verbs in VERBS.items()]
_STS_SESSIONS = ("AssumeRoot", "GetFederationToken", "GetSessionToken")
_SESSION_ARN = re.compile(r":(?:assumed-role/[^/]+|federated-user)/(.+)\Z", re.DOTALL)


# ---------------------------------------------------------------------------------------------------- rendering


def render(chosen: list[tuple[int, Event]], format: str) -> list[Record]:  # noqa: A002
    """The records of the ``aws`` events ``chosen`` ((index, event) pairs, in time order), in file order."""
    if format not in ("cloudtrail", "cloudtrail-jsonl"):
        raise ValueError(f"not a CloudTrail format: {format!r}")
    jsonl = format == "cloudtrail-jsonl"
    by_file: dict[Any, list[Record]] = {}
    for index, event in chosen:
        record = native(event)
        # orjson's bytes keep the (ten times larger) block they were written in: a record keeps a copy
        text = memoryview(orjson.dumps(record)).tobytes()
        account = record.get("recipientAccountId")
        if type(account) is not str or not account:
            account = _account(record, event)
        if jsonl:
            key: Any = _jsonl_name(account)
        else:
            region = record.get("awsRegion")
            if type(region) is not str or not region:
                region = as_text(region) or "us-east-1"
            key = (_component(account), _component(region), event.time_us // WINDOW_US * WINDOW_US + WINDOW_US)
        group = by_file.get(key)
        if group is None:
            by_file[key] = group = []
        # the expected values are stated when asked for (a bound method is the cheapest callable), from the event
        # (an immutable value) laid out again; a delivery file is named once all its records are known
        group.append(Record(key if jsonl else "", text, index, MethodType(_expect_event, event)))
    out = []
    for key, group in by_file.items():
        if not jsonl:
            name = _delivery_name(*key, [r.text for r in group])
            for r in group:
                r.file = name
        out += group
    out.sort(key=_by_file)  # stable: each file keeps its records in time order
    return out


def pack(records: list[Record], format: str) -> bytes:  # noqa: A002
    """The bytes of one delivery file: ``{"Records":[...]}``, gzipped (``cloudtrail-jsonl`` is written as lines)."""
    body = b'{"Records":[' + b",".join([r.text for r in records]) + b"]}"
    return gzip.compress(body, compresslevel=6, mtime=0)


def _expect_event(event: Event) -> dict[str, Any]:
    return expect(native(event))


def _by_file(record: Record) -> str:
    return record.file


@lru_cache(maxsize=4096)
def _jsonl_name(account: str) -> str:
    return f"{_component(account)}/cloudtrail.jsonl"


_TIME_RANK = _RANK["eventTime"]
_HEADS: dict[tuple[str, ...], tuple[str, ...] | None] = {}
"""Members of an event's fields (in their order) -> those that come before ``eventTime``, or None when the members
are not in CloudTrail's order (or name ``eventTime``): the fields of one shape are laid out once."""


def native(event: Event) -> dict[str, Any]:
    """The CloudTrail record of an event: its fields with ``eventTime``, in CloudTrail's order, stripped if asked."""
    fields = event.fields
    keys = tuple(fields)
    head = _HEADS.get(keys, False)
    if head is False:
        head = _head(keys)
    if head is None or event.stripped:
        return _sorted_native(event)
    # the members before eventTime, eventTime, then all the fields: those already there keep their place
    record = {key: fields[key] for key in head}
    record["eventTime"] = _iso_seconds(event.time_us)
    record.update(fields)
    return record


def _head(keys: tuple[str, ...]) -> tuple[str, ...] | None:
    last = len(ORDER)
    ranks = [_RANK.get(key, last) for key in keys]
    if ranks != sorted(ranks) or _TIME_RANK in ranks:
        head = None
    else:
        head = tuple(key for key, rank in zip(keys, ranks, strict=True) if rank < _TIME_RANK)
    if len(_HEADS) >= 4096:
        _HEADS.clear()
    _HEADS[keys] = head
    return head


def _sorted_native(event: Event) -> dict[str, Any]:
    record = dict(event.fields)
    record["eventTime"] = _iso_seconds(event.time_us)
    if event.stripped:
        identity = record.get("userIdentity")
        if isinstance(identity, dict):
            record["userIdentity"] = {k: v for k, v in identity.items() if k not in _STRIPPED}
        extra = record.get("additionalEventData")
        if isinstance(extra, dict) and "sourceIdentity" in extra:
            record["additionalEventData"] = {k: v for k, v in extra.items() if k != "sourceIdentity"}
    last = len(ORDER)
    return dict(sorted(record.items(), key=lambda item: _RANK.get(item[0], last)))


def _account(record: dict[str, Any], event: Event) -> str:
    return as_text(record.get("recipientAccountId")) or as_text(at(record, "userIdentity", "accountId")) or event.host


def _delivery_name(account: str, region: str, end_us: int, texts: list[bytes]) -> str:
    digest = hashlib.sha256(f"{account}/{region}/{end_us}\n".encode() + b"\n".join(texts)).digest()
    # the 16 low base-62 digits of the digest, least significant first
    number = int.from_bytes(digest, "big") % _SUFFIX_SPAN
    suffix = []
    for _ in range(16):
        number, digit = divmod(number, 62)
        suffix.append(_SUFFIX_ALPHABET[digit])
    day, stamp = _window(end_us)
    return (f"AWSLogs/{account}/CloudTrail/{region}/{day}/"
            f"{account}_CloudTrail_{region}_{stamp}_{''.join(suffix)}.json.gz")


_SUFFIX_SPAN = len(_SUFFIX_ALPHABET) ** 16


@lru_cache(maxsize=4096)
def _window(end_us: int) -> tuple[str, str]:
    """``YYYY/MM/DD`` and ``YYYYMMDDTHHMMZ`` of a delivery time."""
    when = _utc(end_us)
    return (f"{when.year:04d}/{when.month:02d}/{when.day:02d}",
            f"{when.year:04d}{when.month:02d}{when.day:02d}T{when.hour:02d}{when.minute:02d}Z")


def _utc(time_us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=time_us)


def _iso_seconds(time_us: int) -> str:
    seconds = time_us // 1_000_000
    return f"{iso_second(seconds)}Z"


# ------------------------------------------------------------------------------------------------------- truth


def expect(record: dict[str, Any]) -> dict[str, Any]:
    """The canonical values :mod:`auditlab.load.cloudtrail` documents for a CloudTrail record."""
    get = lambda *path: as_text(at(record, *path))  # noqa: E731
    name, source, error = get("eventName"), get("eventSource"), get("errorCode")
    out: dict[str, Any] = {
        "time_us": _seconds(record.get("eventTime")),
        "event_code": get("eventType"),
        "api_operation": name,
        "api_service": source,
        "cloud_region": get("awsRegion"),
        "source_record_uid": get("eventID"),
        "source_seq": None,
        **_identity(record),
        **_where(record),
        **_address(get("sourceIPAddress")),
        **_targets(record, name, source),
    }
    console = get("responseElements", "ConsoleLogin")
    failed = error is not None or (name == "ConsoleLogin" and console == "Failure")
    out["status_id"] = None if name is None else 2 if failed else 1
    out["status_detail"] = get("errorMessage")
    if error is not None or name != "ConsoleLogin":
        # status_code is documented as errorCode; what a ConsoleLogin without one gives is not documented
        out["status_code"] = error
    out.update(_classification(record, name, source))
    return out


def _seconds(text: Any) -> int | None:
    if type(text) is not str:
        return None
    when = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return (when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)


def _address(value: str | None) -> dict[str, Any]:
    try:
        ipaddress.ip_address(value or "")
    except ValueError:
        return {"src_ip": None, "src_hostname": value}
    return {"src_ip": value, "src_hostname": None}


def _identity(record: dict[str, Any]) -> dict[str, Any]:
    get = lambda *path: as_text(at(record, "userIdentity", *path))  # noqa: E731
    kind, arn, principal, user_name = get("type"), get("arn"), get("principalId"), get("userName")
    invoked_by, obo_user = get("invokedBy"), get("onBehalfOf", "userId")
    issuer_arn, issuer_name = get("sessionContext", "sessionIssuer", "arn"), get("sessionContext", "sessionIssuer",
                                                                                   "userName")
    source_identity = coalesce(get("sessionContext", "sourceIdentity"),
                                as_text(at(record, "additionalEventData", "sourceIdentity")))
    session = _SESSION_ARN.search(arn).group(1) if arn and _SESSION_ARN.search(arn) else None
    if source_identity is not None:
        where_present = (source_identity, source_identity)
    elif obo_user is not None:
        where_present = (obo_user, None)
    else:
        where_present = (None, None)
    if kind in ("IAMUser", "Root"):
        uid, name, orig = coalesce(arn, principal), user_name, (None, None)
    elif kind in ("AssumedRole", "FederatedUser"):
        uid = arn
        name = coalesce(session, issuer_name) if kind == "AssumedRole" else session
        orig = where_present if where_present != (None, None) else (issuer_arn, issuer_name)
    elif kind == "AWSService" or (kind is None and invoked_by is not None):
        uid, name, orig = invoked_by, invoked_by, where_present
    elif kind == "IdentityCenterUser":
        uid, name, orig = obo_user, user_name, (obo_user, None)
    elif kind in ("AWSAccount", "SAMLUser", "WebIdentityUser"):
        uid, name, orig = principal, user_name, where_present
    else:
        uid, name, orig = coalesce(arn, principal), user_name, where_present
    role_session = kind in ("AssumedRole", "FederatedUser")
    if role_session:
        issuer = issuer_arn
    elif kind == "IdentityCenterUser":
        issuer = get("onBehalfOf", "identityStoreArn")
    elif kind in ("SAMLUser", "WebIdentityUser"):
        issuer = get("identityProvider")
    else:
        issuer = issuer_arn
    return {
        "actor_user_uid": uid, "actor_user_name": name, "actor_user_type": kind, "actor_user_domain": get("accountId"),
        "actor_orig_uid": orig[0], "actor_orig_name": orig[1],
        "actor_credential_uid": coalesce(get("accessKeyId"), get("credentialId")),
        "actor_session_uid": principal if role_session else None, "actor_session_issuer": issuer,
    }


def _where(record: dict[str, Any]) -> dict[str, Any]:
    account = coalesce(as_text(record.get("recipientAccountId")), as_text(at(record, "userIdentity", "accountId")))
    region = as_text(record.get("awsRegion"))
    stream = None if account is None and region is None else f"{account or ''}/{region or ''}"
    return {"cloud_account_uid": account, "source_stream": stream}


def _is_account_change(name: str | None, source: str | None) -> bool:
    return source == "iam.amazonaws.com" and name in ACCOUNT_CHANGES


def _is_session_issue(name: str | None, source: str | None) -> bool:
    return source == "sts.amazonaws.com" and name is not None and (
        name.startswith("AssumeRole") or name in _STS_SESSIONS)


def _targets(record: dict[str, Any], name: str | None, source: str | None) -> dict[str, Any]:
    get = lambda *path: as_text(at(record, *path))  # noqa: E731
    out: dict[str, Any] = {"target_user_name": None, "target_session_uid": None}
    if _is_account_change(name, source):
        out["target_user_name"] = get("requestParameters", "userName")
    elif _is_session_issue(name, source):
        session_arn = coalesce(get("responseElements", "assumedRoleUser", "arn"),
                                get("responseElements", "federatedUser", "arn"))
        match = _SESSION_ARN.search(session_arn) if session_arn else None
        out["target_user_name"] = coalesce(get("requestParameters", "roleSessionName"),
                                            match.group(1) if match else None)
        out["target_session_uid"] = session_arn
    bucket, key = get("requestParameters", "bucketName"), get("requestParameters", "key")
    if get("resources", 0, "ARN") is not None:
        out["resource_uid"], out["resource_type"] = get("resources", 0, "ARN"), get("resources", 0, "type")
    elif bucket is not None:
        out["resource_uid"] = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")
    else:
        out["resource_uid"] = coalesce(get("requestParameters", "roleArn"), get("requestParameters", "userName"),
                                        get("requestParameters", "name"))
    return out


def _classification(record: dict[str, Any], name: str | None, source: str | None) -> dict[str, Any]:
    if name is None:
        return {"class_uid": None, "activity_id": None}
    if name == "ConsoleLogin" or as_text(record.get("eventType")) == "AwsConsoleSignIn":
        return {"class_uid": 3002, "activity_id": 1 if name == "ConsoleLogin" else 99}
    if _is_account_change(name, source):
        return {"class_uid": 3001, "activity_id": ACCOUNT_CHANGES[name]}
    if _is_session_issue(name, source):
        return {"class_uid": 3002, "activity_id": 99}
    activity = next((a for a, pattern in _VERB_PATTERNS if pattern.search(name)), 99)
    return {"class_uid": 6003, "activity_id": activity}
