"""Builders of native-shaped events, shared by the baseline and the attack scenarios.

Each builder returns an :class:`~auditlab.mock._model.Event` whose ``fields`` are what its source writes (a CloudTrail
record, a Kubernetes audit Event, a Cloud Audit Log entry, a Windows event's System and EventData, or the facts of
a Linux action), so that renderers only format. Random parts (event ids, ports, pids) come from the ``rng`` passed
in, so a seed gives the same events.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any

from auditlab.mock._model import Event
from auditlab.mock.world import DOMAIN, Account, Actor, Cluster, Host, World, stable_int

SECURITY = ("Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-a5ba-3e3b0328c30d}")
EVENTLOG = ("Microsoft-Windows-Eventlog", "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}")
SCM = ("Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}")
ADMINISTRATORS = "S-1-5-32-544"
SYSTEM_SID = "S-1-5-18"


class Labels:
    """The labels of the events one scenario step makes: scenario id, step number and ATT&CK technique."""

    def __init__(self, scenario: str = "", step: int = 0, technique: str = "") -> None:
        self.scenario, self.step, self.technique = scenario, step, technique
        self._of = {"scenario": scenario, "step": step, "technique": technique}

    def of(self) -> dict[str, Any]:
        """The labels as :class:`~auditlab.mock._model.Event` keyword arguments."""
        return self._of


BENIGN = Labels()


def event_id(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (what ``str(uuid.UUID(int=..., version=4))`` gives, without the object)."""
    n = (rng.getrandbits(128) & ~(0xC000 << 48) & ~(0xF000 << 64)) | (0x8000 << 48) | (4 << 76)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --- Linux -------------------------------------------------------------------------------------------------------


def linux(t: int, host: Host, kind: str, labels: Labels = BENIGN, *, actor: Actor | None = None,
          success: bool = True, **fields: Any) -> Event:
    """A ``linux`` event of ``kind`` on ``host``; a logged-in ``actor`` fills ``user``, ``uid`` and ``auid``."""
    if actor is not None:
        fields.setdefault("user", actor.key)
        fields.setdefault("uid", actor.uid)
        fields.setdefault("auid", None if kind == "ssh_auth" else actor.uid)  # no login uid before the login
    return Event(t, "linux", kind, host.name, fields, success=success, actor=actor.key if actor else None,
                 **labels.of())


# --- AWS ----------------------------------------------------------------------------------------------------------


def iam_user(actor: Actor, account: Account) -> dict[str, Any]:
    """The ``userIdentity`` of ``actor``'s IAM user in ``account``, signing with the user's access key."""
    arn = f"arn:aws:iam::{account.id}:user/{actor.aws_user}"
    return {"type": "IAMUser", "principalId": actor.aws_user_id, "arn": arn,
            "accountId": account.id, "accessKeyId": actor.aws_key, "userName": actor.aws_user}


def console_user(actor: Actor, account: Account) -> dict[str, Any]:
    """The ``userIdentity`` of a console sign-in (no access key)."""
    identity = iam_user(actor, account)
    del identity["accessKeyId"]
    return identity


def assumed_role(account: Account, role: str, session: str, key: str, issued: str, *, mfa: bool = False,
                 source_identity: str | None = None) -> dict[str, Any]:
    """The ``userIdentity`` of a role session ``role/session`` in ``account`` signing with ``key``."""
    role_id = "AROA" + format(abs(hash_str(account.id + role)) % 10**17, "017d")
    context: dict[str, Any] = {
        "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": f"arn:aws:iam::{account.id}:role/{role}",
                          "accountId": account.id, "userName": role},
        "attributes": {"creationDate": issued, "mfaAuthenticated": "true" if mfa else "false"},
    }
    if source_identity:
        context["sourceIdentity"] = source_identity
    return {"type": "AssumedRole", "principalId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{account.id}:assumed-role/{role}/{session}", "accountId": account.id,
            "accessKeyId": key, "sessionContext": context}


def hash_str(text: str) -> int:
    """A stable integer of ``text`` (not Python's salted ``hash``)."""
    return stable_int(text)


def cloudtrail(t: int, account: Account, identity: dict[str, Any], service: str, name: str, rng: random.Random,
               labels: Labels = BENIGN, *, actor: Actor | None = None, src_ip: str, user_agent: str = "aws-cli/2.15.0",
               request: dict[str, Any] | None = None, response: dict[str, Any] | None = None,
               error: tuple[str, str] | None = None, event_type: str = "AwsApiCall", read_only: bool | None = None,
               resources: list[dict[str, Any]] | None = None, additional: dict[str, Any] | None = None,
               region: str | None = None, management: bool = True, recipient: str | None = None) -> Event:
    """A CloudTrail record (without ``eventTime``) as an ``aws`` ``api_call`` event."""
    record: dict[str, Any] = {
        "eventVersion": "1.09", "userIdentity": identity, "eventSource": service, "eventName": name,
        "awsRegion": region or account.region, "sourceIPAddress": src_ip, "userAgent": user_agent,
    }
    if error:
        record["errorCode"], record["errorMessage"] = error
    record["requestParameters"] = request
    record["responseElements"] = response
    if additional is not None:
        record["additionalEventData"] = additional
    record["requestID"] = event_id(rng)
    record["eventID"] = event_id(rng)
    if read_only is not None:
        record["readOnly"] = read_only
    if resources is not None:
        record["resources"] = resources
    record["eventType"] = event_type
    record["managementEvent"] = management
    record["recipientAccountId"] = recipient or account.id
    record["eventCategory"] = "Management" if management else "Data"
    return Event(t, "aws", "api_call", recipient or account.id, record, success=error is None,
                 actor=actor.key if actor else None, **labels.of())


# --- GCP ----------------------------------------------------------------------------------------------------------


def gcp(t: int, world: World, principal: str, service: str, method: str, resource_name: str, rng: random.Random,
        labels: Labels = BENIGN, *, actor: Actor | None = None, src_ip: str, resource: dict[str, Any],
        permission: str, denied: bool = False, data_access: bool = False,
        user_agent: str = "google-cloud-sdk gcloud/467.0.0") -> Event:
    """A Cloud Audit Log entry (without ``timestamp``) as a ``gcp`` ``api_call`` event."""
    kind = "data_access" if data_access else "activity"
    payload: dict[str, Any] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {"code": 7, "message": "PERMISSION_DENIED"} if denied else {},
        "authenticationInfo": {"principalEmail": principal},
        "requestMetadata": {"callerIp": src_ip, "callerSuppliedUserAgent": user_agent},
        "serviceName": service, "methodName": method,
        "authorizationInfo": [{"resource": resource_name, "permission": permission, "granted": not denied}],
        "resourceName": resource_name,
    }
    entry = {
        "protoPayload": payload, "insertId": format(rng.getrandbits(48), "x"), "resource": resource,
        "severity": "ERROR" if denied else ("INFO" if data_access else "NOTICE"),
        "logName": f"projects/{world.project}/logs/cloudaudit.googleapis.com%2F{kind}",
    }
    return Event(t, "gcp", "api_call", world.project, entry, success=not denied,
                 actor=actor.key if actor else None, **labels.of())


# --- Kubernetes ---------------------------------------------------------------------------------------------------


def k8s(t: int, cluster: Cluster, user: dict[str, Any], verb: str, resource: str, rng: random.Random,
        labels: Labels = BENIGN, *, actor: Actor | None = None, namespace: str | None = None, name: str | None = None,
        subresource: str | None = None, api_group: str = "", code: int = 200, src_ip: str,
        user_agent: str = "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819", request_object: Any = None,
        impersonate: dict[str, Any] | None = None, level: str = "Metadata") -> Event:
    """A Kubernetes audit Event (without its timestamps) as a ``k8s`` ``request`` event."""
    prefix = f"/apis/{api_group}/v1" if api_group else "/api/v1"
    uri = prefix + (f"/namespaces/{namespace}" if namespace else "") + f"/{resource}" + (f"/{name}" if name else "")
    if subresource:
        uri += f"/{subresource}"
    ref: dict[str, Any] = {"resource": resource}
    if namespace:
        ref["namespace"] = namespace
    if name:
        ref["name"] = name
    if api_group:
        ref["apiGroup"] = api_group
    ref["apiVersion"] = "v1"
    if subresource:
        ref["subresource"] = subresource
    record: dict[str, Any] = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse" if request_object else level,
        "auditID": event_id(rng), "stage": "ResponseComplete", "requestURI": uri, "verb": verb, "user": user,
    }
    if impersonate:
        record["impersonatedUser"] = impersonate
    record["sourceIPs"] = [src_ip]
    record["userAgent"] = user_agent
    record["objectRef"] = ref
    status: dict[str, Any] = {"metadata": {}, "code": code}
    if code >= 400:
        status.update(status="Failure", reason="Forbidden" if code == 403 else "Unauthorized")
    record["responseStatus"] = status
    if request_object is not None:
        record["requestObject"] = request_object
    decision = "allow" if code < 400 else "forbid"
    record["annotations"] = {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": ""}
    return Event(t, "k8s", "request", cluster.name, record, success=code < 400,
                 actor=actor.key if actor else None, **labels.of())


@lru_cache(maxsize=1024)
def k8s_user(actor: Actor) -> dict[str, Any]:
    """The ``user`` of ``actor``'s requests."""
    if actor.role == "service":
        return {"username": actor.k8s_user, "uid": f"{hash_str(actor.key) % 10**8:08d}-sa",
                "groups": ["system:serviceaccounts", "system:serviceaccounts:apps", "system:authenticated"]}
    groups = ["system:authenticated", "oidc:admins" if actor.role == "admin" else "oidc:developers"]
    return {"username": actor.k8s_user, "groups": groups}


ANONYMOUS = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}


# --- Windows ------------------------------------------------------------------------------------------------------


def windows(t: int, host: Host, event_id_: int, data: dict[str, Any] | None, labels: Labels = BENIGN, *,
            actor: Actor | None = None, success: bool = True, provider: tuple[str, str] = SECURITY,
            channel: str = "Security", user_data: tuple[str, dict[str, Any]] | None = None) -> Event:
    """A Windows event ``event_id_`` on ``host``: EventData ``data`` (or UserData ``user_data``)."""
    fields: dict[str, Any] = {"event_id": event_id_, "provider": provider[0], "provider_guid": provider[1],
                              "channel": channel}
    if user_data is not None:
        fields["user_data"] = user_data
    else:
        fields["data"] = data or {}
    return Event(t, "windows", "event", host.fqdn, fields, success=success, actor=actor.key if actor else None,
                 **labels.of())


def subject(actor: Actor | None, logon_id: str = "0x3e7") -> dict[str, str]:
    """The Subject* fields: ``actor`` in its logon session, or the machine account (SYSTEM)."""
    if actor is None:
        return {"SubjectUserSid": SYSTEM_SID, "SubjectUserName": "DC1$", "SubjectDomainName": DOMAIN,
                "SubjectLogonId": "0x3e7"}
    return {"SubjectUserSid": actor.sid, "SubjectUserName": actor.key, "SubjectDomainName": DOMAIN,
            "SubjectLogonId": logon_id}


def logon_4624(actor: Actor, logon_id: str, logon_type: int, src_ip: str, port: int,
               workstation: str, machine: str = "DC1") -> dict[str, Any]:
    """EventData of a successful logon on ``machine`` (its account, ``MACHINE$``, makes interactive logons)."""
    local = logon_type in (2, 10)  # an interactive logon is made by the machine; a network one has no subject
    return {
        "SubjectUserSid": SYSTEM_SID if local else "S-1-0-0", "SubjectUserName": f"{machine}$" if local else "-",
        "SubjectDomainName": DOMAIN if local else "-", "SubjectLogonId": "0x3e7" if local else "0x0",
        "TargetUserSid": actor.sid, "TargetUserName": actor.key,
        "TargetDomainName": DOMAIN, "TargetLogonId": logon_id, "LogonType": str(logon_type),
        "LogonProcessName": "User32 " if logon_type in (2, 10) else "NtLmSsp ",
        "AuthenticationPackageName": "Negotiate" if logon_type in (2, 10) else "NTLM",
        "WorkstationName": workstation, "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
        "TransmittedServices": "-", "LmPackageName": "-" if local else "NTLM V2", "KeyLength": "0" if local else "128",
        "ProcessId": "0x2cc" if logon_type in (2, 10) else "0x0",
        "ProcessName": "C:\\Windows\\System32\\svchost.exe" if logon_type in (2, 10) else "-",
        "IpAddress": src_ip, "IpPort": str(port), "ImpersonationLevel": "%%1833", "RestrictedAdminMode": "-",
        "TargetOutboundUserName": "-", "TargetOutboundDomainName": "-", "VirtualAccount": "%%1843",
        "TargetLinkedLogonId": "0x0", "ElevatedToken": "%%1842" if actor.role == "admin" else "%%1843",
    }


def logon_4625(user: str, sid: str, logon_type: int, src_ip: str, port: int, workstation: str,
               sub_status: str = "0xc000006a") -> dict[str, Any]:
    """EventData of a failed logon (``0xc000006a`` bad password, ``0xc0000064`` no such user)."""
    local = logon_type in (2, 10)
    return {
        "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-", "SubjectLogonId": "0x0",
        "TargetUserSid": sid, "TargetUserName": user, "TargetDomainName": DOMAIN, "Status": "0xc000006d",
        "FailureReason": "%%2313", "SubStatus": sub_status, "LogonType": str(logon_type),
        "LogonProcessName": "User32 " if local else "NtLmSsp ",
        "AuthenticationPackageName": "Negotiate" if local else "NTLM", "WorkstationName": workstation,
        "TransmittedServices": "-", "LmPackageName": "-", "KeyLength": "0", "ProcessId": "0x0", "ProcessName": "-",
        "IpAddress": src_ip, "IpPort": str(port),
    }
