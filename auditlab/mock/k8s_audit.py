"""Render ``k8s`` events as Kubernetes API server audit logs (``k8s-audit``): ``audit.k8s.io/v1`` Events, one JSON
object per line, as the log backend writes ``--audit-log-path``.

An event's ``fields`` are the audit Event without ``requestReceivedTimestamp`` and ``stageTimestamp``. The renderer
writes ``stageTimestamp`` at :attr:`~auditlab.mock._model.Event.time_us` (the time the loader reads, and the order
the API server writes its lines in) and ``requestReceivedTimestamp`` 0.5 to 3.5 ms earlier (derived from the
auditID; the same instant for a RequestReceived stage), both with microseconds. Members come in the order of the
API server's Go struct (kind, apiVersion, level, auditID, stage, requestURI, verb, user, impersonatedUser,
sourceIPs, userAgent, objectRef, responseStatus, requestObject, responseObject, requestReceivedTimestamp,
stageTimestamp, annotations; others last), and ``<``, ``>``, ``&``, U+2028 and U+2029 are escaped as Go's
``encoding/json`` escapes them. The file is ``CLUSTER/kube-apiserver/audit.log``, CLUSTER being the event's ``host``.

A ``stripped`` event (the ``strip_actor`` fault) has ``"user": {}`` (no username, uid, groups or extra) and no
``impersonatedUser``.

Each record's ``expect`` is stated from the field map documented in :mod:`auditlab.load.k8s_audit`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import shlex
from functools import lru_cache
from hashlib import sha256
from types import MethodType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from auditlab.mock._json import as_text, at, coalesce, iso_second
from auditlab.mock._json import component as _component
from auditlab.mock._model import Event, Record

__all__ = ["render"]

ORDER = (
    "kind", "apiVersion", "metadata", "level", "timestamp", "auditID", "stage", "requestURI", "verb", "user",
    "impersonatedUser", "sourceIPs", "userAgent", "objectRef", "responseStatus", "requestObject", "responseObject",
    "requestReceivedTimestamp", "stageTimestamp", "annotations",
)  # fmt: skip
"""The members of an audit Event, in the order the API server writes them (``metadata`` and ``timestamp``: v1beta1)."""
_RANK = {key: i for i, key in enumerate(ORDER)}

_GO_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"),
               ("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))
"""Go's encoding/json escapes these inside strings (they never occur outside strings in JSON)."""

# The loader's documented verb table (auditlab.load.k8s_audit), restated.
ACTIVITIES = {"create": 1, "get": 2, "list": 2, "watch": 2, "update": 3, "patch": 3, "delete": 4,
              "deletecollection": 4}
_SERVICE_ACCOUNT = "system:serviceaccount:"


# ---------------------------------------------------------------------------------------------------- rendering


def render(chosen: list[tuple[int, Event]], format: str) -> list[Record]:  # noqa: A002
    """The records of the ``k8s`` events ``chosen`` ((index, event) pairs, in time order), in file order."""
    if format != "k8s-audit":
        raise ValueError(f"not a Kubernetes audit format: {format!r}")
    out = []
    for index, event in chosen:
        written = orjson.dumps(native(event))
        text = written
        if not text.isascii() or text.find(b"<") >= 0 or text.find(b">") >= 0 or text.find(b"&") >= 0:
            for raw, escaped in _GO_ESCAPES:
                text = text.replace(raw, escaped)
        if text is written:  # orjson's bytes keep the (ten times larger) block they were written in: copy them
            text = memoryview(written).tobytes()
        # the expected values are stated when asked for (a bound method is the cheapest callable), from the event
        # (an immutable value) laid out again
        out.append(Record(_file(event.host), text, index, MethodType(_expect_event, event)))
    out.sort(key=_by_file)  # stable: each file keeps its events in time order
    return out


def _expect_event(event: Event) -> dict[str, Any]:
    return expect(native(event))


def _by_file(record: Record) -> str:
    return record.file


_RECEIVED_RANK = _RANK["requestReceivedTimestamp"]
_TAILS: dict[tuple[str, ...], tuple[str, ...] | None] = {}
"""Members of an event's fields (in their order) -> those that come after the timestamps, or None when the members
are not in the API server's order (or name a timestamp): the fields of one shape are laid out once."""


def native(event: Event) -> dict[str, Any]:
    """The audit Event of an event: its fields with both timestamps, in the API server's order, stripped if asked."""
    fields = event.fields
    time_us = event.time_us
    seconds, micro = divmod(time_us, 1_000_000)
    head = f"{iso_second(seconds)}."
    staged = f"{head}{str(micro + 1_000_000)[1:]}Z"
    if fields.get("stage") != "RequestReceived":
        seed = sha256(str(fields.get("auditID")).encode()).digest()
        received_s, micro = divmod(time_us - 500 - int.from_bytes(seed[:4], "big") % 3000, 1_000_000)
        if received_s != seconds:
            head = _second(received_s)
        received = f"{head}{str(micro + 1_000_000)[1:]}Z"
    else:
        received = staged
    keys = tuple(fields)
    tail = _TAILS.get(keys, False)
    if tail is False:
        tail = _tail(keys)
    if tail is None or event.stripped:
        return _sorted_native(event, received, staged)
    if not tail:
        return {**fields, "requestReceivedTimestamp": received, "stageTimestamp": staged}
    record = dict(fields)
    if len(tail) == 1:
        value = record.pop(tail[0])
        record["requestReceivedTimestamp"], record["stageTimestamp"], record[tail[0]] = received, staged, value
    else:
        moved = [(key, record.pop(key)) for key in tail]
        record["requestReceivedTimestamp"], record["stageTimestamp"] = received, staged
        record.update(moved)
    return record


def _tail(keys: tuple[str, ...]) -> tuple[str, ...] | None:
    last = len(ORDER)
    ranks = [_RANK.get(key, last) for key in keys]
    if ranks != sorted(ranks) or _RECEIVED_RANK in ranks or _RECEIVED_RANK + 1 in ranks:
        tail = None
    else:
        tail = tuple(key for key, rank in zip(keys, ranks, strict=True) if rank > _RECEIVED_RANK)
    if len(_TAILS) >= 4096:
        _TAILS.clear()
    _TAILS[keys] = tail
    return tail


def _sorted_native(event: Event, received: str, staged: str) -> dict[str, Any]:
    record = dict(event.fields)
    if event.stripped:
        record["user"] = {}
        record.pop("impersonatedUser", None)
    record["requestReceivedTimestamp"] = received
    record["stageTimestamp"] = staged
    last = len(ORDER)
    return dict(sorted(record.items(), key=lambda item: _RANK.get(item[0], last)))


def micro_time(time_us: int) -> str:
    """RFC 3339 with microseconds in UTC, as Kubernetes' MicroTime: ``2024-01-02T03:04:05.000000Z``."""
    seconds, micro = divmod(time_us, 1_000_000)
    return f"{_second(seconds)}{str(micro + 1_000_000)[1:]}Z"


def _second(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.`` of a second since the epoch."""
    return f"{iso_second(seconds)}."


@lru_cache(maxsize=4096)
def _file(host: str) -> str:
    return f"{_component(host)}/kube-apiserver/audit.log"


# ------------------------------------------------------------------------------------------------------- truth


def _us(text: str | None) -> int | None:
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text) if text else None
    if match is None:
        return None
    when = dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    whole = (when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)
    return whole + int((match.group(2) or "0")[:6].ljust(6, "0"))


def expect(record: dict[str, Any]) -> dict[str, Any]:
    """The canonical values :mod:`auditlab.load.k8s_audit` documents for an audit Event."""
    get = lambda *path: as_text(at(record, *path))  # noqa: E731
    verb, code = get("verb"), at(record, "responseStatus", "code")
    ips = record.get("sourceIPs")
    source_ip = as_text(ips[-1]) if type(ips) is list and ips else None
    is_ip = _is_ip(source_ip)
    out: dict[str, Any] = {
        "time_us": _us(coalesce(get("stageTimestamp"), get("requestReceivedTimestamp"), get("timestamp"),
                                 get("metadata", "creationTimestamp"))),
        "event_code": get("stage"),
        "api_operation": verb,
        "source_record_uid": get("auditID"),
        "source_stream": "k8s_audit",
        "source_seq": None,
        "host_name": None,
        "cloud_account_uid": None,
        "cloud_region": None,
        "status_code": as_text(code),
        "status_detail": coalesce(get("responseStatus", "message"), get("responseStatus", "reason")),
        "src_ip": source_ip if is_ip else None,
        "src_hostname": None if is_ip else source_ip,
        "actor_credential_uid": get("user", "extra", "authentication.kubernetes.io/credential-id", 0),
        "class_uid": 6003 if verb is not None else None,
        "activity_id": ACTIVITIES.get(verb, 99) if verb is not None else None,
        "status_id": _status(code, get("responseStatus", "status")) if verb is not None else None,
        **_identity(record),
        **_object(record, verb),
    }
    if get("objectRef", "subresource") == "exec":
        out["process_cmdline"] = _command(record.get("requestURI"))
    return out


def _is_ip(text: str | None) -> bool:
    try:
        ipaddress.ip_address(text or "")
    except ValueError:
        return False
    return True


def _status(code: Any, status: str | None) -> int:
    if type(code) is str and re.fullmatch(r"[+-]?[0-9]+", code):
        code = int(code)
    if type(code) is int:
        return 1 if 200 <= code <= 299 or code == 101 else 2 if code >= 400 else 99
    return 1 if status == "Success" else 2 if status == "Failure" else 0


def _identity(record: dict[str, Any]) -> dict[str, Any]:
    get = lambda *path: as_text(at(record, *path))  # noqa: E731
    user_name, user_uid = get("user", "username"), get("user", "uid")
    imp_name, imp_uid = get("impersonatedUser", "username"), get("impersonatedUser", "uid")
    impersonating = imp_name is not None or imp_uid is not None
    name, uid = (imp_name, imp_uid) if impersonating else (user_name, user_uid)
    if name is None:
        kind = None
    elif name.startswith(_SERVICE_ACCOUNT):
        kind = "ServiceAccount"
    elif name.startswith("system:node:"):
        kind = "Node"
    elif name == "system:anonymous":
        kind = "Anonymous"
    elif name.startswith("system:"):
        kind = "System"
    else:
        kind = "User"
    domain = name[len(_SERVICE_ACCOUNT):].split(":", 1) if kind == "ServiceAccount" else None
    return {
        "actor_user_uid": coalesce(uid, name),
        "actor_user_name": name,
        "actor_user_type": kind,
        "actor_user_domain": domain[0] or None if domain and len(domain) == 2 else None,
        "actor_orig_uid": coalesce(user_uid, user_name) if impersonating else None,
        "actor_orig_name": user_name if impersonating else None,
    }


def _object(record: dict[str, Any], verb: str | None) -> dict[str, Any]:
    get = lambda *path: as_text(at(record, *path))  # noqa: E731
    resource, sub = get("objectRef", "resource"), get("objectRef", "subresource")
    namespace, group = get("objectRef", "namespace"), get("objectRef", "apiGroup")
    named = coalesce(get("objectRef", "name"),
                      get("responseObject", "metadata", "name") if verb == "create" and sub is None else None)
    if resource is None:
        uri = get("requestURI")
        path = re.match(r"/[^?#]*", uri) if uri else None
        return {"api_service": None, "resource_uid": path.group(0) if path else None, "resource_type": None,
                "target_user_name": None}
    prefix = f"namespaces/{namespace}/" if namespace is not None and resource != "namespaces" else ""
    service = group or "core"
    target = None
    if resource == "serviceaccounts" and service == "core":
        target = f"{_SERVICE_ACCOUNT}{namespace}:{named}" if namespace is not None and named is not None else None
    elif resource in ("rolebindings", "clusterrolebindings") and service == "rbac.authorization.k8s.io":
        where = "requestObject" if get("requestObject", "subjects", 0, "name") is not None else "responseObject"
        kind, name = get(where, "subjects", 0, "kind"), get(where, "subjects", 0, "name")
        if kind == "ServiceAccount":
            ns = coalesce(get(where, "subjects", 0, "namespace"), namespace)
            target = f"{_SERVICE_ACCOUNT}{ns}:{name}" if ns is not None and name is not None else None
        else:
            target = name
    return {
        "api_service": service,
        "resource_uid": prefix + resource + (f"/{named}" if named is not None else ""),
        "resource_type": resource + (f"/{sub}" if sub is not None else ""),
        "target_user_name": target,
    }


def _command(uri: Any) -> str | None:
    if type(uri) is not str:
        return None
    args = [v for k, v in parse_qsl(urlsplit(uri).query, keep_blank_values=True) if k == "command"]
    return shlex.join(args) if args else None
