"""Google Cloud Audit Logs (Cloud Logging ``LogEntry`` records) into the canonical events frame.

Inputs, told from content (gzipped or not; see :mod:`auditlab.load._json_records` for provenance and damage):
the JSON array ``gcloud logging read --format=json`` prints, JSON lines as a sink or ``--format=json`` piped
through ``jq -c`` writes, and the Logging API's ``{"entries": [...]}`` responses. Every entry is a row: an audit
log entry (``protoPayload`` of ``@type`` ``type.googleapis.com/google.cloud.audit.AuditLog``) is mapped as below;
any other entry (``textPayload``, ``jsonPayload``, another ``protoPayload``) is a clean row of class 0 with its
time, log, resource and project, and its payload in ``unmapped``.

``protoPayload`` is written ``pp`` below.

===================================================  ==============================================================
native field                                         column
===================================================  ==============================================================
insertId                                             source_record_uid
timestamp                                            time (UTC), time_original; else receiveTimestamp
logName                                              source_stream, with ``%2F`` decoded:
                                                     ``projects/P/logs/cloudaudit.googleapis.com/activity``
logName's log id                                     event_code: ``cloudaudit.googleapis.com/activity``,
                                                     ``.../data_access``, ``.../system_event``, ``.../policy``
                                                     (or any other log's id, for other entries)
resource.labels.project_id                           cloud_account_uid; else the project of logName
resource.labels.zone, .region, .location             cloud_region, the first present; else
                                                     pp.resourceLocation.currentLocations[0]
resource.type                                        resource_type (the monitored resource: gce_instance, ...)
pp.resourceName                                      resource_uid
pp.methodName                                        api_operation; class_uid and activity_id (below)
pp.serviceName                                       api_service
pp.authenticationInfo.principalEmail                 actor_user_uid and actor_user_name; else principalSubject
                                                     (third-party identities have no email); actor_user_domain
                                                     is the email's domain
pp.authenticationInfo.serviceAccountDelegationInfo   actor_orig_uid and actor_orig_name [1]_
pp.authenticationInfo.serviceAccountKeyName          actor_credential_uid
pp.status.code                                       status_code; status_id 1 when 0 or absent (a google.rpc
                                                     code: 7 PERMISSION_DENIED, 16 UNAUTHENTICATED, ...), else 2
pp.status.message                                    status_detail
pp.requestMetadata.callerIp                          src_ip when it parses as an IP address, else src_hostname
                                                     ("private", "gce-internal-ip")
===================================================  ==============================================================

.. [1] The delegation chain lists, in the order of the delegation, the identities that obtained credentials of
   the service account making the call (``principalEmail``). Its first element is where the chain starts: the
   human (or service agent) who impersonated the service account. ``actor_orig_uid``/``actor_orig_name`` are its
   ``firstPartyPrincipal.principalEmail``, else its ``principalSubject``; a ``thirdPartyPrincipal`` without a
   subject gives its ``thirdPartyClaims`` as JSON text (uid only). The whole chain stays in ``unmapped``. Without
   a chain they are null: the caller is accountable itself.

``actor_user_type`` is ServiceAccount (an email ending in ``.gserviceaccount.com``, or a subject starting with
``serviceAccount:``), Federated (a ``principal://`` or ``principalSet://`` subject), else User (any other email
or a ``user:`` subject), null without a principal. There are no sessions (``actor_session_*`` null) and no
sequence numbers (``source_seq`` null).

===============================================  ==========================  ====================================
methodName (the part after its last dot)         class_uid                   activity_id; target_user_name
===============================================  ==========================  ====================================
\\*SetIamPolicy, any capitalisation, any service  3005 User Access Management  1 Assign Privileges when every
                                                                             pp.serviceData.policyDelta
                                                                             .bindingDeltas action is ADD, 2 Revoke
                                                                             Privileges when every one is REMOVE,
                                                                             else 99; target = the first delta's
                                                                             member (``user:mallory@example.com``)
iam.googleapis.com's service account lifecycle:  3001 Account Change         ``_ACCOUNT_CHANGES``: 1 Create, 2
CreateServiceAccount, DeleteServiceAccount,                                  Enable, 5 Disable, 6 Delete, 99 Other;
Disable..., Enable..., \\*ServiceAccountKey, ...                              target = the service account:
                                                                             pp.response.email, else resourceName's
                                                                             ``serviceAccounts/EMAIL``, else
                                                                             pp.request.account_id (or accountId)
iamcredentials.googleapis.com's                  3002 Authentication         99 Other; target = the service account
GenerateAccessToken, GenerateIdToken                                         impersonated (resourceName's
                                                                             ``serviceAccounts/EMAIL``)
any other audit log entry                        6003 API Activity           the leading verb (``_VERBS``): 1 Create
                                                                             (create, insert, ...), 2 Read (get,
                                                                             list, ...), 3 Update (update, patch,
                                                                             set, ...), 4 Delete (delete, remove,
                                                                             ...), else 99 Other
an entry that is not an audit log                0 Other                     0 Unknown; status_id null
===============================================  ==========================  ====================================

``unmapped`` is the JSON (orjson) of every field no column holds: severity, receiveTimestamp, operation (the
first/last pair of a long-running operation), labels, the payload (textPayload, jsonPayload, or the rest of
protoPayload: request, response, authorizationInfo, the delegation chain and principalSubject, callerSuppliedUserAgent
(the client's own claim), status.details, resourceLocation, serviceData, metadata), and resource.labels except
project_id.

A value that is JSON but not a log entry (no logName or no timestamp), or whose timestamp does not parse, is a row
with ``parse_error`` set and whatever could be mapped.

Examples:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> import auditlab as al
    >>> entry = {"insertId": "x1", "logName": "projects/p1/logs/cloudaudit.googleapis.com%2Factivity",
    ...          "timestamp": "2024-01-02T03:04:05.123456789Z", "resource": {"type": "gcs_bucket",
    ...          "labels": {"project_id": "p1", "location": "us-east1"}},
    ...          "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
    ...                           "methodName": "storage.buckets.delete", "serviceName": "storage.googleapis.com",
    ...                           "resourceName": "projects/_/buckets/logs",
    ...                           "authenticationInfo": {"principalEmail": "alice@example.com"}}}
    >>> path = Path(tempfile.mkdtemp()) / "entries.json"
    >>> _ = path.write_text(json.dumps([entry], indent=2))
    >>> events = al.load(path)
    >>> events.select("actor_user_name", "api_operation", "activity_id", "status_id", "cloud_region").row(0)
    ('alice@example.com', 'storage.buckets.delete', 4, 1, 'us-east1')
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import polars as pl

from auditlab.load import _json_records
from auditlab.load._json_columns import (
    JSON_START,
    base_frame,
    frames,
    ip_or_hostname,
    parse_error,
    prune,
    time_us,
    unmapped_json,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from auditlab.load._io import Source

__all__ = ["DESCRIPTION", "NAME", "parse", "sniff"]

NAME = "gcp_audit"
DESCRIPTION = "GCP Cloud Audit Logs: Cloud Logging entries as gcloud logging read --format=json arrays or JSON lines"

_AUDIT_LOG = "type.googleapis.com/google.cloud.audit.AuditLog"

# --------------------------------------------------------------------------------------------------- field map

_AUTH = ("protoPayload", "authenticationInfo")
_FIRST = (*_AUTH, "serviceAccountDelegationInfo", 0)

_FIELDS: dict[str, tuple[str | int, ...]] = {
    # canonical columns, as they are in the entry
    "source_record_uid": ("insertId",),
    "api_operation": ("protoPayload", "methodName"),
    "api_service": ("protoPayload", "serviceName"),
    "resource_uid": ("protoPayload", "resourceName"),
    "resource_type": ("resource", "type"),
    "actor_credential_uid": (*_AUTH, "serviceAccountKeyName"),
    "status_code": ("protoPayload", "status", "code"),
    "status_detail": ("protoPayload", "status", "message"),
    # inputs of the rules below
    "timestamp": ("timestamp",),
    "received": ("receiveTimestamp",),
    "log_name": ("logName",),
    "payload_type": ("protoPayload", "@type"),
    "email": (*_AUTH, "principalEmail"),
    "subject": (*_AUTH, "principalSubject"),
    "first_email": (*_FIRST, "firstPartyPrincipal", "principalEmail"),
    "first_subject": (*_FIRST, "principalSubject"),
    "first_claims": (*_FIRST, "thirdPartyPrincipal", "thirdPartyClaims"),
    "caller_ip": ("protoPayload", "requestMetadata", "callerIp"),
    "project": ("resource", "labels", "project_id"),
    "zone": ("resource", "labels", "zone"),
    "region": ("resource", "labels", "region"),
    "location": ("resource", "labels", "location"),
    "current_location": ("protoPayload", "resourceLocation", "currentLocations", 0),
    "response_email": ("protoPayload", "response", "email"),
    "request_account": ("protoPayload", "request", "account_id"),
    "request_account_rest": ("protoPayload", "request", "accountId"),
}
"""Column or rule input <- path in the LogEntry (a string is a member, an integer a list index)."""

_DERIVED = ("delta_actions", "delta_member")
"""Values the converter derives in Python from pp.serviceData.policyDelta.bindingDeltas: "ADD", "REMOVE" or
"MIXED" (the actions of every delta), and the first delta's member."""

_NAMES = (*_FIELDS, *_DERIVED)

_ACCOUNT_CHANGES: dict[str, int] = {
    # iam.googleapis.com method (after its last dot) -> OCSF Account Change activity_id
    "CreateServiceAccount": 1, "DeleteServiceAccount": 6, "UndeleteServiceAccount": 99,
    "EnableServiceAccount": 2, "DisableServiceAccount": 5,
    "UpdateServiceAccount": 99, "PatchServiceAccount": 99,
    "CreateServiceAccountKey": 99, "UploadServiceAccountKey": 99, "DeleteServiceAccountKey": 99,
    "EnableServiceAccountKey": 99, "DisableServiceAccountKey": 99,
}  # fmt: skip

_TOKENS = ("GenerateAccessToken", "GenerateIdToken")
"""iamcredentials.googleapis.com methods that issue a service account's credentials to the caller."""

_VERBS: dict[str, int] = {
    # leading verb of a method (after its last dot and an optional "batch"), lower case -> API Activity activity_id
    **dict.fromkeys(("create", "insert", "add", "import", "upload", "copy", "clone", "generate", "attach",
                     "register", "allocate", "reserve"), 1),
    **dict.fromkeys(("get", "list", "aggregated", "search", "query", "lookup", "read", "access", "describe",
                     "fetch", "watch", "view"), 2),
    **dict.fromkeys(("update", "patch", "set", "replace", "modify", "enable", "disable", "start", "stop", "reset",
                     "resize", "move", "rename", "restore", "resume", "suspend", "apply", "change", "edit",
                     "undelete", "rollback"), 3),
    **dict.fromkeys(("delete", "remove", "detach", "destroy", "purge", "revoke", "deregister", "cancel"), 4),
}

# ----------------------------------------------------------------------------------------------------- sniffing

_SNIFF_ENTRY = re.compile(
    rb'"logName"[ \t\r\n]*:[ \t\r\n]*"(?:projects|organizations|folders|billingAccounts)/[^"/]+/logs/'
    rb'|"@type"[ \t\r\n]*:[ \t\r\n]*"type\.googleapis\.com/google\.cloud\.audit\.AuditLog"'
)


def sniff(head: bytes) -> bool:
    """Whether the start of a file is Cloud Logging entries: JSON with a ``logName`` or an AuditLog payload.

    Examples:
        >>> sniff(b'[{"insertId": "x", "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity"}]')
        True
        >>> sniff(b'{"protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog"}}')
        True
        >>> sniff(b'{"logName": "my-app", "message": "hello"}')
        False
    """
    return bool(JSON_START.match(head) and _SNIFF_ENTRY.search(head))


# ------------------------------------------------------------------------------------------------------ parsing


def parse(source: Source, *, batch_rows: int) -> Iterator[pl.DataFrame]:
    """Read one file of Cloud Logging entries into canonical frames of at most ``batch_rows`` rows, one per entry.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from auditlab.load._io import Source
        >>> path = Path(tempfile.mkdtemp()) / "entries.jsonl"
        >>> _ = path.write_text('{"insertId":"a","logName":"projects/p/logs/app","timestamp":"2024-01-02T03:04:05Z",'
        ...                     '"textPayload":"hello"}\\n')
        >>> frame = next(parse(Source(path, None), batch_rows=1000))
        >>> frame.select("class_uid", "event_code", "source_stream", "unmapped").row(0)
        (0, 'app', 'projects/p/logs/app', '{"textPayload":"hello"}')
    """
    return frames(source, batch_rows=batch_rows, wrappers=("entries",), convert=_convert, build=_frame,
                  source_type=NAME)


_RECORD = _json_records.Fields(_FIELDS)
_NO_VALUES = (None,) * len(_NAMES)


def _convert(value: Any) -> tuple[tuple[Any, ...], bytes | None, str | None, bool]:
    """One parsed value -> (field values and derived values, unmapped JSON, error, is a JSON object)."""
    if type(value) is not dict:
        return _NO_VALUES, None, f"not a JSON object: {type(value).__name__}", False
    row = _RECORD.row(value)
    actions, member = None, None
    unmapped = value  # ours to change: what columns hold is taken out
    for key in ("insertId", "timestamp", "logName"):
        unmapped.pop(key, None)
    resource = unmapped.get("resource")
    if type(resource) is dict:
        prune(resource, "labels", ("project_id",))
        prune(unmapped, "resource", ("type",))
    payload = unmapped.get("protoPayload")
    if type(payload) is dict:
        actions, member = _binding_deltas(payload)
        for key in ("methodName", "serviceName", "resourceName"):
            payload.pop(key, None)
        prune(payload, "status", ("code", "message"))
        prune(payload, "authenticationInfo", ("principalEmail", "serviceAccountKeyName"))
        prune(payload, "requestMetadata", ("callerIp",))
        if not payload:
            del unmapped["protoPayload"]
    text, error = unmapped_json(unmapped)
    return (*row, actions, member), text, error, True


def _binding_deltas(payload: dict[str, Any]) -> tuple[str | None, Any]:
    """("ADD", "REMOVE" or "MIXED"; the first member) of an IAM policy change's binding deltas, if it has any."""
    data = payload.get("serviceData")
    delta = data.get("policyDelta") if type(data) is dict else None
    deltas = delta.get("bindingDeltas") if type(delta) is dict else None
    if type(deltas) is not list or not deltas:
        return None, None
    actions = {d.get("action") if type(d) is dict else None for d in deltas}
    first = deltas[0].get("member") if type(deltas[0]) is dict else None
    if actions == {"ADD"} or actions == {"REMOVE"}:
        return actions.pop(), first
    return "MIXED", first


def _frame(batch: _json_records.JsonRecords) -> pl.DataFrame:
    """The batch's columns: the field map's values, then the rules below, as polars expressions."""
    frame = base_frame(batch, _NAMES)
    frame = frame.with_columns(
        pl.coalesce(C("timestamp"), C("received")).alias("time_original"),
        pl.coalesce(C("first_email"), C("first_subject"), C("first_claims")).alias("actor_orig_uid"),
        pl.coalesce(C("first_email"), C("first_subject")).alias("actor_orig_name"),
        C("log_name").str.replace_all("%2[Ff]", "/").alias("source_stream"),
        (C("payload_type") == _AUDIT_LOG).fill_null(value=False).alias("audit"),
        C("api_operation").str.extract(r"([^.]*)$", 1).alias("method"),
    )
    frame = frame.with_columns(time_us(), *ip_or_hostname(frame, "caller_ip"), *_identity(), *_where())
    return frame.with_columns(*_classification(), _parse_error())


# -------------------------------------------------------------------------------------------------------- rules

C = pl.col


def _identity() -> list[pl.Expr]:
    email, subject = C("email"), C("subject")
    kind = (
        pl.when(email.str.ends_with(".gserviceaccount.com") | subject.str.starts_with("serviceAccount:"))
        .then(pl.lit("ServiceAccount"))
        .when(subject.str.contains("^principal(?:Set)?://")).then(pl.lit("Federated"))
        .when(email.is_not_null() | subject.is_not_null()).then(pl.lit("User"))
    )
    return [
        pl.coalesce(email, subject).alias("actor_user_uid"),
        pl.coalesce(email, subject).alias("actor_user_name"),
        kind.alias("actor_user_type"),
        email.str.extract(r"@([^@]+)$", 1).alias("actor_user_domain"),
    ]


def _where() -> list[pl.Expr]:
    return [
        pl.coalesce(C("project"), C("log_name").str.extract(r"^projects/([^/]+)/", 1)).alias("cloud_account_uid"),
        pl.coalesce(C("zone"), C("region"), C("location"), C("current_location")).alias("cloud_region"),
        C("log_name").str.extract(r"/logs/(.+)$", 1).str.replace_all("%2[Ff]", "/").alias("event_code"),
    ]


def _classification() -> list[pl.Expr]:
    method, service, audit = C("method"), C("api_service"), C("audit")
    entry = C("parsed") & C("log_name").is_not_null()
    policy = method.str.to_lowercase().str.ends_with("setiampolicy")
    account = (service == "iam.googleapis.com") & method.is_in(list(_ACCOUNT_CHANGES))
    token = (service == "iamcredentials.googleapis.com") & method.is_in(_TOKENS)
    verb = (
        method.str.extract(r"^(?:[Bb]atch)?([a-z]+|[A-Z][a-z]*)", 1).str.to_lowercase()
        .replace_strict(_VERBS, default=99, return_dtype=pl.Int16)
    )
    grant = pl.when(C("delta_actions") == "ADD").then(1).when(C("delta_actions") == "REMOVE").then(2).otherwise(99)
    account_name = pl.coalesce(C("response_email"), C("resource_uid").str.extract(r"serviceAccounts/([^/]+)", 1),
                               C("request_account"), C("request_account_rest"))
    code = C("status_code")
    return [
        pl.when(~entry).then(None).when(~audit).then(0).when(policy).then(3005).when(account).then(3001)
        .when(token).then(3002).otherwise(6003).cast(pl.Int32).alias("class_uid"),
        pl.when(~entry).then(None).when(~audit).then(0).when(policy).then(grant)
        .when(account).then(method.replace_strict(_ACCOUNT_CHANGES, default=99, return_dtype=pl.Int16))
        .when(token).then(99).otherwise(verb).cast(pl.Int16).alias("activity_id"),
        pl.when(entry & audit).then(pl.when(code.is_null() | (code == "0")).then(1).otherwise(2)).cast(pl.Int16)
        .alias("status_id"),
        pl.when(audit & policy).then(C("delta_member")).when(audit & (account | token)).then(account_name)
        .alias("target_user_name"),
    ]


def _parse_error() -> pl.Expr:
    not_entry = C("parsed") & C("record_error").is_null() & (C("log_name").is_null() | C("time_original").is_null())
    return parse_error(not_entry, "not a Cloud Logging entry: it has no logName or no timestamp",
                       "the timestamp does not parse: ")

