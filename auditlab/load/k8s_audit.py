"""Kubernetes API server audit logs into the canonical events frame.

Inputs, told from content (gzipped or not; see :mod:`auditlab.load._json_records` for provenance and damage):
``audit.k8s.io/v1`` and ``v1beta1`` ``Event`` objects as JSON lines (the log backend's ``--audit-log-path``
file, with or without a final newline), a single event (pretty-printed or not), a JSON array of events, or an
``EventList`` whose ``items`` member comes first (``{"items": [...]}``). An ``EventList`` written the way the API
server writes it (``kind`` and ``apiVersion`` before ``items``) is read as one record: a row with ``parse_error``
set and the whole list in ``raw``.

**One row per event and stage.** The API server logs a request at each stage its audit policy asks for
(RequestReceived, ResponseStarted, ResponseComplete, Panic); each is one record and one row. The rows of one
request share ``source_record_uid`` (the auditID) and differ in ``event_code`` (the stage) and ``time``.

===========================================  ==================================================================
native field                                 column
===========================================  ==================================================================
stage                                        event_code
verb                                         api_operation; activity_id (below)
objectRef.apiGroup                           api_service; "core" for the core group ("" or no apiGroup); null
                                             for a non-resource request (no objectRef.resource)
objectRef.resource [+ "/" + subresource]     resource_type: "pods", "pods/exec", "clusterrolebindings"
objectRef namespace, resource, name          resource_uid, the object's API path (below)
auditID                                      source_record_uid
stageTimestamp                               time (UTC), time_original; else requestReceivedTimestamp, else
                                             ``timestamp`` (v1beta1), else metadata.creationTimestamp
user, impersonatedUser                       actor_user_*, actor_orig_* (below)
user.extra["authentication.kubernetes.io/    actor_credential_uid (the token's JTI or the certificate's hash,
credential-id"][0]                           Kubernetes 1.30+)
responseStatus.code                          status_code; status_id (below)
responseStatus.message, else .reason         status_detail
sourceIPs, the last                          src_ip: the address the API server saw (the ones before it come
                                             from X-Forwarded-For / X-Real-Ip, which the client can set); a
                                             value that is not an IP address goes to src_hostname
requestURI ``command=`` parameters           process_cmdline, for pods/exec only: the command's arguments
                                             joined with POSIX shell quoting (``shlex.join``), never run
===========================================  ==================================================================

``source_stream`` is ``"k8s_audit"`` for every row: an event does not name its cluster or API server, so all the
events read form one stream. To keep clusters apart, derive it from where the files came from, for instance
``events.with_columns(source_stream=pl.col("source_file").str.extract("^logs/([^/]+)/"))``. ``source_seq`` is
null (the audit log has no sequence numbers); ``host_name`` and the cloud columns are null.

**Who did it.** With impersonation (``impersonatedUser`` set), the effective actor is the impersonated user and
the original, accountable actor is the authenticated ``user``; without, the effective actor is ``user`` and
``actor_orig_*`` are null. Either way ``*_name`` is ``username`` and ``*_uid`` is ``uid``, else the username.
``system:anonymous`` is an actor name like any other; a request that failed authentication (401) names no
username, so it has no actor (an unattributed row, with its source address). ``actor_user_type`` and
``actor_user_domain`` come from the effective username:

===========================================  ===============  ==================
username                                     actor_user_type  actor_user_domain
===========================================  ===============  ==================
system:serviceaccount:NAMESPACE:NAME         ServiceAccount   NAMESPACE
system:node:NAME                             Node             null
system:anonymous                             Anonymous        null
any other system:*                           System           null
anything else                                User             null
===========================================  ===============  ==================

**What happened.** Every event is class 6003 API Activity; ``activity_id`` from the verb: create 1; get, list,
watch 2; update, patch 3; delete, deletecollection 4; any other (impersonate, bind, escalate, approve, a
non-resource request's HTTP method such as post) 99. An exec opened over WebSocket (newer kubectl) is a GET, which
may be logged with verb get: it is then 2, and still has its ``process_cmdline``. ``status_id``: 1 for 2xx codes
and for 101 (Switching Protocols: how an exec, attach or port-forward stream starts), 2 for codes of 400 and above
(401: authentication failed, 403: denied by authorization or admission), 99 for other codes, 0 when there is no
code yet (RequestReceived), in which case responseStatus.status ("Success", "Failure") decides where present.

``resource_uid`` is the object's path in the API, without the group and version: ``namespaces/NS/RESOURCE/NAME``
for a namespaced object, ``RESOURCE/NAME`` for a cluster-scoped one, without ``/NAME`` for a collection (list,
deletecollection, create), ``namespaces/NAME`` for a namespace itself; for a non-resource request (``/healthz``,
``/version``) it is requestURI's path. A create whose objectRef has no name (``generateName``) is named from
responseObject.metadata.name. For exec, attach and port-forward the target is the pod: ``resource_uid`` is the
pod's path and ``resource_type`` ``pods/exec``. ``target_user_name`` is the account acted upon: for a
serviceaccount (and its token subresource), ``system:serviceaccount:NS:NAME``; for a rolebinding or
clusterrolebinding, the binding's first subject (requestObject, else responseObject): a ServiceAccount as
``system:serviceaccount:NS:NAME``, a User or Group by its name (every subject and the roleRef stay in
``unmapped``).

``unmapped`` is the JSON (orjson) of every field no column holds: level, requestURI, userAgent (the client's own
claim, so it is kept here rather than in a column), every sourceIP, annotations (the authorization decision and
reason, pod-security labels), requestObject, responseObject, requestReceivedTimestamp, the user's groups and extra,
and what is left of objectRef (apiVersion, uid, resourceVersion) and responseStatus.

A value that is JSON but not an audit event (no stage or no timestamp), or whose timestamp does not parse, is a row
with ``parse_error`` set and whatever could be mapped.

Examples:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> import auditlab as al
    >>> event = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a1", "stage": "ResponseComplete",
    ...          "verb": "delete", "user": {"username": "alice"}, "sourceIPs": ["10.0.0.9"],
    ...          "objectRef": {"resource": "secrets", "namespace": "prod", "name": "db", "apiVersion": "v1"},
    ...          "responseStatus": {"code": 200}, "stageTimestamp": "2024-01-02T03:04:05.123456Z"}
    >>> path = Path(tempfile.mkdtemp()) / "audit.log"
    >>> _ = path.write_text(json.dumps(event))
    >>> events = al.load(path)
    >>> events.select("actor_user_name", "api_operation", "resource_uid", "activity_id", "status_id").row(0)
    ('alice', 'delete', 'namespaces/prod/secrets/db', 4, 1)
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

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

NAME = "k8s_audit"
DESCRIPTION = "Kubernetes audit log (audit.k8s.io/v1, v1beta1 Events): JSON lines, one row per event and stage"

# --------------------------------------------------------------------------------------------------- field map

_FIELDS: dict[str, tuple[str | int, ...]] = {
    # canonical columns, as they are in the event
    "event_code": ("stage",),
    "api_operation": ("verb",),
    "source_record_uid": ("auditID",),
    "status_code": ("responseStatus", "code"),
    "actor_credential_uid": ("user", "extra", "authentication.kubernetes.io/credential-id", 0),
    # inputs of the rules below
    "stage_time": ("stageTimestamp",),
    "received_time": ("requestReceivedTimestamp",),
    "legacy_time": ("timestamp",),
    "created_time": ("metadata", "creationTimestamp"),
    "uri": ("requestURI",),
    "user_name": ("user", "username"),
    "user_uid": ("user", "uid"),
    "imp_name": ("impersonatedUser", "username"),
    "imp_uid": ("impersonatedUser", "uid"),
    "ref_group": ("objectRef", "apiGroup"),
    "ref_resource": ("objectRef", "resource"),
    "ref_subresource": ("objectRef", "subresource"),
    "ref_namespace": ("objectRef", "namespace"),
    "ref_name": ("objectRef", "name"),
    "rs_status": ("responseStatus", "status"),
    "rs_message": ("responseStatus", "message"),
    "rs_reason": ("responseStatus", "reason"),
    "created_name": ("responseObject", "metadata", "name"),
    "req_subject_kind": ("requestObject", "subjects", 0, "kind"),
    "req_subject_name": ("requestObject", "subjects", 0, "name"),
    "req_subject_ns": ("requestObject", "subjects", 0, "namespace"),
    "resp_subject_kind": ("responseObject", "subjects", 0, "kind"),
    "resp_subject_name": ("responseObject", "subjects", 0, "name"),
    "resp_subject_ns": ("responseObject", "subjects", 0, "namespace"),
}
"""Column or rule input <- path in the audit event (a string is a member, an integer a list index)."""

_DERIVED = ("source_ip", "process_cmdline")
"""Values the converter derives in Python: the last of sourceIPs, an exec's command line."""

_NAMES = (*_FIELDS, *_DERIVED)

_HELD_TOP = ("auditID", "stage", "verb", "stageTimestamp")
"""Top-level fields that columns hold, left out of ``unmapped`` (requestReceivedTimestamp stays: it gives the
request's latency)."""
_HELD_USER = ("username", "uid")
_HELD_REF = ("apiGroup", "resource", "subresource", "namespace", "name")

_ACTIVITIES: dict[str, int] = {
    # verb -> OCSF API Activity activity_id; any other verb is 99 Other
    "create": 1,
    "get": 2, "list": 2, "watch": 2,
    "update": 3, "patch": 3,
    "delete": 4, "deletecollection": 4,
}  # fmt: skip

_BINDINGS = ("rolebindings", "clusterrolebindings")
_SERVICE_ACCOUNT = "system:serviceaccount:"

# ----------------------------------------------------------------------------------------------------- sniffing

_SNIFF_API_VERSION = re.compile(rb'"apiVersion"[ \t\r\n]*:[ \t\r\n]*"audit\.k8s\.io/v1(?:alpha1|beta1)?"')
_SNIFF_AUDIT_ID = re.compile(rb'"auditID"[ \t\r\n]*:[ \t\r\n]*"')
_SNIFF_EVENT = re.compile(
    rb'"stage"[ \t\r\n]*:[ \t\r\n]*"(?:RequestReceived|ResponseStarted|ResponseComplete|Panic)"'
    rb'|"kind"[ \t\r\n]*:[ \t\r\n]*"Event"|"requestReceivedTimestamp"[ \t\r\n]*:'
)
_SNIFF_GCP = re.compile(
    rb'"protoPayload"[ \t\r\n]*:[ \t\r\n]*\{'
    rb'|"logName"[ \t\r\n]*:[ \t\r\n]*"(?:projects|organizations|folders|billingAccounts)/'
)


def sniff(head: bytes) -> bool:
    """Whether the start of a file is a Kubernetes audit log: JSON holding audit events.

    An event is told by its ``"apiVersion": "audit.k8s.io/v1"`` (or v1beta1), or, where an event was written
    without it, by an ``auditID`` together with a ``stage``, ``"kind": "Event"`` or ``requestReceivedTimestamp``.
    A Cloud Logging entry (``protoPayload``, ``logName``: GKE's audit logs) is not: it is ``gcp_audit``.

    Examples:
        >>> sniff(b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x","stage":"ResponseComplete"}')
        True
        >>> sniff(b'{"logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","auditID":"x"}')
        False
        >>> sniff(b'{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"}}')
        False
    """
    if not JSON_START.match(head) or _SNIFF_GCP.search(head):
        return False
    if _SNIFF_API_VERSION.search(head):
        return True
    return bool(_SNIFF_AUDIT_ID.search(head) and _SNIFF_EVENT.search(head))


# ------------------------------------------------------------------------------------------------------ parsing


def parse(source: Source, *, batch_rows: int) -> Iterator[pl.DataFrame]:
    """Read one Kubernetes audit log into canonical frames of at most ``batch_rows`` rows, one row per record.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from auditlab.load._io import Source
        >>> path = Path(tempfile.mkdtemp()) / "audit.log"
        >>> _ = path.write_text(
        ...     '{"auditID":"a","stage":"RequestReceived","verb":"get","stageTimestamp":"2024-01-02T03:04:05Z"}\\n'
        ...     '{"auditID":"a","stage":"ResponseComplete","verb":"get","stageTimestamp":"2024-01-02T03:04:06Z",'
        ...     '"responseStatus":{"code":403}}\\n')
        >>> frame = next(parse(Source(path, None), batch_rows=1000))
        >>> frame.select("event_code", "status_id", "source_line", "source_offset").rows()
        [('RequestReceived', 0, 1, 0), ('ResponseComplete', 2, 2, 95)]
    """
    return frames(source, batch_rows=batch_rows, wrappers=("items",), convert=_convert, build=_frame, source_type=NAME)


_RECORD = _json_records.Fields(_FIELDS)
_NO_VALUES = (None,) * len(_NAMES)


def _convert(value: Any) -> tuple[tuple[Any, ...], bytes | None, str | None, bool]:
    """One parsed value -> (field values and derived values, unmapped JSON, error, is a JSON object).

    Runs once per record, while the record is fresh in the CPU cache; the rest of the mapping is columnar.
    """
    if type(value) is not dict:
        return _NO_VALUES, None, f"not a JSON object: {type(value).__name__}", False
    if value.get("kind") == "EventList":
        items = value.get("items")
        count = len(items) if type(items) is list else 0
        error = (f"an EventList of {count} events whose items do not come first in the object: "
                 "it is not split into events (they are in raw)")
        return _NO_VALUES, None, error, True
    row = _RECORD.row(value)
    ips = value.get("sourceIPs")
    source_ip = ips[-1] if type(ips) is list and ips else None
    ref = value.get("objectRef")
    command = None
    if type(ref) is dict and ref.get("subresource") == "exec":
        command = _exec_command(value.get("requestURI"))
    unmapped = value  # ours to change: what columns hold is taken out
    for key in _HELD_TOP:
        unmapped.pop(key, None)
    prune(unmapped, "user", _HELD_USER)
    prune(unmapped, "impersonatedUser", _HELD_USER)
    prune(unmapped, "objectRef", _HELD_REF)
    status = unmapped.get("responseStatus")
    if type(status) is dict:
        prune(unmapped, "responseStatus", ("code", "message") if status.get("message") else ("code", "reason"))
    text, error = unmapped_json(unmapped)
    return (*row, source_ip, command), text, error, True


def _exec_command(uri: Any) -> str | None:
    """The command line of a pods/exec request: its ``command=`` query parameters, shell-quoted (never run).

    Examples:
        >>> _exec_command("/api/v1/namespaces/d/pods/p/exec?command=sh&command=-c&command=cat%20/etc/shadow&tty=1")
        "sh -c 'cat /etc/shadow'"
    """
    if type(uri) is not str or "command=" not in uri:
        return None
    args = [v for k, v in parse_qsl(urlsplit(uri).query, keep_blank_values=True) if k == "command"]
    return shlex.join(args) if args else None


def _frame(batch: _json_records.JsonRecords) -> pl.DataFrame:
    """The batch's columns: the field map's values, then the rules below, as polars expressions."""
    frame = base_frame(batch, _NAMES)
    frame = frame.with_columns(
        pl.coalesce(C("stage_time"), C("received_time"), C("legacy_time"), C("created_time")).alias("time_original")
    )
    frame = frame.with_columns(time_us(), *ip_or_hostname(frame, "source_ip"))
    frame = frame.with_columns(*_identity(), *_classification(), *_object())
    return frame.with_columns(*_targets(), _parse_error(), pl.lit(NAME, pl.String).alias("source_stream"))


# -------------------------------------------------------------------------------------------------------- rules

C = pl.col
_NULL = pl.lit(None, pl.String)


def _identity() -> list[pl.Expr]:
    impersonating = C("imp_name").is_not_null() | C("imp_uid").is_not_null()
    name = pl.when(impersonating).then(C("imp_name")).otherwise(C("user_name"))
    uid = pl.when(impersonating).then(C("imp_uid")).otherwise(C("user_uid"))
    kind = (
        pl.when(name.str.starts_with(_SERVICE_ACCOUNT)).then(pl.lit("ServiceAccount"))
        .when(name.str.starts_with("system:node:")).then(pl.lit("Node"))
        .when(name == "system:anonymous").then(pl.lit("Anonymous"))
        .when(name.str.starts_with("system:")).then(pl.lit("System"))
        .when(name.is_not_null()).then(pl.lit("User"))
    )
    return [
        pl.coalesce(uid, name).alias("actor_user_uid"),
        name.alias("actor_user_name"),
        kind.alias("actor_user_type"),
        name.str.extract(rf"^{_SERVICE_ACCOUNT}([^:]+):", 1).alias("actor_user_domain"),
        pl.when(impersonating).then(pl.coalesce(C("user_uid"), C("user_name"))).alias("actor_orig_uid"),
        pl.when(impersonating).then(C("user_name")).alias("actor_orig_name"),
    ]


def _classification() -> list[pl.Expr]:
    verb = C("api_operation")
    code = C("status_code").cast(pl.Int64, strict=False)
    status = (
        pl.when(code.is_between(200, 299) | (code == 101)).then(1)
        .when(code >= 400).then(2)
        .when(code.is_not_null()).then(99)
        .when(C("rs_status") == "Success").then(1)
        .when(C("rs_status") == "Failure").then(2)
        .otherwise(0)
    )
    event = verb.is_not_null()
    return [
        pl.when(event).then(6003).cast(pl.Int32).alias("class_uid"),
        pl.when(event).then(verb.replace_strict(_ACTIVITIES, default=99, return_dtype=pl.Int16)).alias("activity_id"),
        pl.when(event).then(status).cast(pl.Int16).alias("status_id"),
        pl.coalesce(C("rs_message"), C("rs_reason")).alias("status_detail"),
    ]


def _object() -> list[pl.Expr]:
    resource = C("ref_resource")
    namespace = C("ref_namespace")
    named = pl.coalesce(
        C("ref_name"),
        pl.when((C("api_operation") == "create") & C("ref_subresource").is_null()).then(C("created_name")),
    )
    prefix = pl.when(namespace.is_not_null() & (resource != "namespaces")).then(
        pl.concat_str(pl.lit("namespaces/"), namespace, pl.lit("/"))
    )
    path = pl.concat_str(prefix.otherwise(pl.lit("")), resource,
                         pl.when(named.is_not_null()).then(pl.concat_str(pl.lit("/"), named)).otherwise(pl.lit("")))
    return [
        pl.when(resource.is_not_null()).then(pl.coalesce(C("ref_group"), pl.lit("core"))).alias("api_service"),
        pl.when(resource.is_not_null()).then(path)
        .otherwise(C("uri").str.extract(r"^(/[^?#]*)", 1)).alias("resource_uid"),
        pl.concat_str(resource, pl.when(C("ref_subresource").is_not_null())
                      .then(pl.concat_str(pl.lit("/"), C("ref_subresource"))).otherwise(pl.lit("")))
        .alias("resource_type"),
        named.alias("object_name"),
    ]


def _service_account(namespace: pl.Expr, name: pl.Expr) -> pl.Expr:
    return pl.concat_str(pl.lit(_SERVICE_ACCOUNT), namespace, pl.lit(":"), name)


def _targets() -> list[pl.Expr]:
    from_request = C("req_subject_name").is_not_null()
    kind = pl.when(from_request).then(C("req_subject_kind")).otherwise(C("resp_subject_kind"))
    name = pl.when(from_request).then(C("req_subject_name")).otherwise(C("resp_subject_name"))
    namespace = pl.coalesce(pl.when(from_request).then(C("req_subject_ns")).otherwise(C("resp_subject_ns")),
                            C("ref_namespace"))
    subject = pl.when(kind == "ServiceAccount").then(_service_account(namespace, name)).otherwise(name)
    resource = C("ref_resource")
    return [
        pl.when((resource == "serviceaccounts") & (C("api_service") == "core"))
        .then(_service_account(C("ref_namespace"), C("object_name")))
        .when(resource.is_in(_BINDINGS) & (C("api_service") == "rbac.authorization.k8s.io")).then(subject)
        .alias("target_user_name"),
    ]


def _parse_error() -> pl.Expr:
    not_event = C("parsed") & C("record_error").is_null() & (
        C("event_code").is_null() | C("time_original").is_null()
    )
    return parse_error(not_event, "not a Kubernetes audit event: it has no stage or no timestamp",
                       "the timestamp does not parse: ")
