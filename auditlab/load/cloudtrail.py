"""AWS CloudTrail records into the canonical events frame.

Inputs, told from content (gzipped or not; see :mod:`auditlab.load._json_records` for provenance and damage):

- S3 delivery files, ``{"Records": [...]}``, as found under ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/``;
- JSON lines, one record per line; JSON arrays of records, pretty-printed or not;
- the output of ``aws cloudtrail lookup-events``, as JSON lines or ``{"Events": [...]}``: each item holds the record
  as a JSON string in ``CloudTrailEvent``. That record is what is mapped; ``raw`` is the whole item.

**Who did it.** ``userIdentity`` gives the effective actor (``actor_user_*``: the identity that made the call) and
the original, accountable actor (``actor_orig_*``). For every type, ``actor_user_type`` is ``type``,
``actor_user_domain`` is ``accountId`` and ``actor_credential_uid`` is ``accessKeyId`` (else ``credentialId``).

==================  =============================  ========================  =========================================
userIdentity.type   actor_user_uid                 actor_user_name           actor_orig_uid / actor_orig_name
==================  =============================  ========================  =========================================
IAMUser, Root       arn, else principalId [3]_     userName                  null: they are accountable themselves
AssumedRole         arn: arn:aws:sts::ACCT:        SESSION, else the role    sourceIdentity [1]_ (as both), else
                    assumed-role/ROLE/SESSION      (sessionIssuer.userName)  onBehalfOf.userId (name null), else
                                                                             sessionIssuer.arn / sessionIssuer.userName
FederatedUser       arn (...:federated-user/NAME)  NAME                      as AssumedRole; the issuer is the IAM user
                                                                             who called GetFederationToken
AWSService [2]_     invokedBy                      invokedBy                 sourceIdentity / onBehalfOf, where present
AWSAccount          principalId                    userName                  sourceIdentity / onBehalfOf, where present
IdentityCenterUser  onBehalfOf.userId              userName                  onBehalfOf.userId (name null)
SAMLUser,           principalId                    userName                  sourceIdentity / onBehalfOf, where present
WebIdentityUser
any other type      arn, else principalId          userName                  sourceIdentity / onBehalfOf, where present
==================  =============================  ========================  =========================================

==================================  =================  ==========================================================
userIdentity.type                   actor_session_uid  actor_session_issuer
==================================  =================  ==========================================================
AssumedRole, FederatedUser          principalId        sessionIssuer.arn
IdentityCenterUser                  null               onBehalfOf.identityStoreArn
SAMLUser, WebIdentityUser           null               identityProvider
any other type                      null               sessionIssuer.arn, where present
==================================  =================  ==========================================================

.. [1] ``userIdentity.sessionContext.sourceIdentity``, else ``additionalEventData.sourceIdentity``.
.. [2] Also a ``userIdentity`` without ``type`` that names ``invokedBy``. For other types ``invokedBy`` stays in
   ``unmapped`` (under ``userIdentity``).
.. [3] A failed console sign-in of an IAM user has ``principalId`` and ``userName`` but no ``arn``.

So ``coalesce(actor_orig_uid, actor_user_uid)`` is the human behind a role session where the record says so
(sourceIdentity, onBehalfOf), else the role; resolving a role session to whoever assumed it is identity
stitching's work, from the AssumeRole rows below.

**What happened.** ``event_code`` = eventType, ``api_operation`` = eventName, ``api_service`` = eventSource,
``time`` = eventTime in UTC (``time_original`` the text), ``cloud_account_uid`` = recipientAccountId (else
userIdentity.accountId), ``cloud_region`` = awsRegion, ``source_record_uid`` = eventID, ``source_stream`` =
``account/region``; ``source_seq`` is null (CloudTrail has no sequence numbers). ``sourceIPAddress`` goes to
``src_ip`` when it parses as an IP address (``ipaddress``; leading zeros do not), else to ``src_hostname``
("ec2.amazonaws.com", "AWS Internal"). ``errorCode`` means failure (status_id 2, status_code = errorCode,
status_detail = errorMessage), and so does a ConsoleLogin whose responseElements.ConsoleLogin is "Failure";
anything else succeeded (status_id 1).

=================================  ===================  ==============================================================
eventName                          class_uid            activity_id; target
=================================  ===================  ==============================================================
ConsoleLogin, and any eventType    3002 Authentication  1 Logon for ConsoleLogin, else 99 Other
AwsConsoleSignIn
IAM user, group, login-profile,    3001 Account Change  ``_ACCOUNT_CHANGES`` (1 Create, 2 Enable, 4 Password Reset,
access-key and MFA changes                              6 Delete, 7 Attach Policy, ...); target_user_name =
(iam.amazonaws.com)                                     requestParameters.userName
AssumeRole*, AssumeRoot,           3002 Authentication  99 Other; resource_uid = roleArn, target_session_uid =
GetFederationToken,                                     responseElements.assumedRoleUser.arn (or federatedUser.arn),
GetSessionToken                                         target_user_name = roleSessionName (else the ARN's session);
(sts.amazonaws.com)                                     the issued key stays in ``unmapped`` at
                                                        responseElements.credentials.accessKeyId
anything else                      6003 API Activity    the verb eventName starts with (``_VERBS``): 1 Create, 2 Read,
                                                        3 Update, 4 Delete, else 99 Other
=================================  ===================  ==============================================================

``resource_uid``/``resource_type`` come from ``resources[0]`` (ARN, type), else (lookup-events) the item's
``Resources[0]``, else requestParameters: bucketName and key (as an S3 ARN), roleArn, userName, name.
``unmapped`` is the JSON (orjson) of every top-level field no column holds (requestParameters, responseElements,
additionalEventData, resources, userAgent, tlsDetails, readOnly, ...), with ``userIdentity`` reduced to what its
columns do not hold (sessionContext, invokedBy, onBehalfOf, ...).

A value that is JSON but not a CloudTrail record (no eventName or eventTime), or whose eventTime does not parse, is
a row with ``parse_error`` set and whatever could be mapped.

Examples:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> import auditlab as al
    >>> record = {"eventVersion": "1.08", "eventTime": "2024-01-02T03:04:05Z", "eventSource": "iam.amazonaws.com",
    ...           "eventName": "CreateUser", "requestParameters": {"userName": "mallory"},
    ...           "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
    ...                            "userName": "alice"}}
    >>> path = Path(tempfile.mkdtemp()) / "trail.jsonl"
    >>> _ = path.write_text(json.dumps(record) + "\\n")
    >>> events = al.load(path)
    >>> events.select("actor_user_name", "api_operation", "target_user_name", "class_uid", "activity_id").row(0)
    ('alice', 'CreateUser', 'mallory', 3001, 1)
"""

from __future__ import annotations

import re
from functools import reduce
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from auditlab.load import _json_records
from auditlab.load._json_columns import (
    JSON_START,
    base_frame,
    frames,
    ip_or_hostname,
    parse_error,
    time_us,
    unmapped_json,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from auditlab.load._io import Source

__all__ = ["DESCRIPTION", "NAME", "parse", "sniff"]

NAME = "cloudtrail"
DESCRIPTION = "AWS CloudTrail: S3 delivery files, JSON lines or arrays of records, aws cloudtrail lookup-events output"

# --------------------------------------------------------------------------------------------------- field map

_FIELDS: dict[str, tuple[str | int, ...]] = {
    # canonical columns, as they are in the record
    "time_original": ("eventTime",),
    "event_code": ("eventType",),
    "api_operation": ("eventName",),
    "api_service": ("eventSource",),
    "status_code": ("errorCode",),
    "status_detail": ("errorMessage",),
    "cloud_region": ("awsRegion",),
    "source_record_uid": ("eventID",),
    "actor_user_type": ("userIdentity", "type"),
    "actor_user_domain": ("userIdentity", "accountId"),
    # inputs of the rules below
    "recipient": ("recipientAccountId",),
    "source_ip": ("sourceIPAddress",),
    "arn": ("userIdentity", "arn"),
    "principal": ("userIdentity", "principalId"),
    "user_name": ("userIdentity", "userName"),
    "access_key": ("userIdentity", "accessKeyId"),
    "credential": ("userIdentity", "credentialId"),
    "invoked_by": ("userIdentity", "invokedBy"),
    "identity_provider": ("userIdentity", "identityProvider"),
    "issuer_arn": ("userIdentity", "sessionContext", "sessionIssuer", "arn"),
    "issuer_name": ("userIdentity", "sessionContext", "sessionIssuer", "userName"),
    "source_identity": ("userIdentity", "sessionContext", "sourceIdentity"),
    "source_identity_extra": ("additionalEventData", "sourceIdentity"),
    "obo_user": ("userIdentity", "onBehalfOf", "userId"),
    "obo_store": ("userIdentity", "onBehalfOf", "identityStoreArn"),
    "console_login": ("responseElements", "ConsoleLogin"),
    "assumed_arn": ("responseElements", "assumedRoleUser", "arn"),
    "federated_arn": ("responseElements", "federatedUser", "arn"),
    "rp_user": ("requestParameters", "userName"),
    "rp_role_arn": ("requestParameters", "roleArn"),
    "rp_session": ("requestParameters", "roleSessionName"),
    "rp_bucket": ("requestParameters", "bucketName"),
    "rp_key": ("requestParameters", "key"),
    "rp_name": ("requestParameters", "name"),
    "res_arn": ("resources", 0, "ARN"),
    "res_type": ("resources", 0, "type"),
}
"""Column or rule input <- path in the CloudTrail record (a string is a member, an integer a list index)."""

_ITEM_FIELDS: dict[str, tuple[str | int, ...]] = {
    "item_res_name": ("Resources", 0, "ResourceName"),
    "item_res_type": ("Resources", 0, "ResourceType"),
}
"""Rule inputs <- path in a lookup-events item (outside its CloudTrailEvent)."""

_HELD = frozenset(path[0] for path in _FIELDS.values() if len(path) == 1) | {"userIdentity"}
"""Top-level fields that columns hold, left out of ``unmapped``."""
_IDENTITY_HELD = frozenset({"type", "principalId", "arn", "accountId", "accessKeyId", "userName", "credentialId"})

_ACCOUNT_CHANGES: dict[str, int] = {
    # iam.amazonaws.com eventName -> OCSF Account Change activity_id
    "CreateUser": 1, "DeleteUser": 6, "UpdateUser": 99, "TagUser": 99, "UntagUser": 99,
    "CreateLoginProfile": 2, "DeleteLoginProfile": 5, "UpdateLoginProfile": 4, "ChangePassword": 3,
    "CreateAccessKey": 99, "UpdateAccessKey": 99, "DeleteAccessKey": 99,
    "AttachUserPolicy": 7, "PutUserPolicy": 7, "DetachUserPolicy": 8, "DeleteUserPolicy": 8,
    "PutUserPermissionsBoundary": 7, "DeleteUserPermissionsBoundary": 8,
    "AddUserToGroup": 7, "RemoveUserFromGroup": 8,  # the user gains or loses the group's policies
    "CreateGroup": 1, "DeleteGroup": 6, "UpdateGroup": 99,
    "AttachGroupPolicy": 7, "PutGroupPolicy": 7, "DetachGroupPolicy": 8, "DeleteGroupPolicy": 8,
    "EnableMFADevice": 10, "DeactivateMFADevice": 11, "ResyncMFADevice": 99,
    "CreateServiceSpecificCredential": 99, "DeleteServiceSpecificCredential": 99,
    "UploadSSHPublicKey": 99, "DeleteSSHPublicKey": 99,
    "UploadSigningCertificate": 99, "DeleteSigningCertificate": 99,
}  # fmt: skip

_STS_SESSIONS = ("AssumeRoot", "GetFederationToken", "GetSessionToken")  # and every AssumeRole*

_VERBS: dict[int, tuple[str, ...]] = {
    # OCSF API Activity activity_id <- the verb eventName starts with (after an optional "Batch")
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

_SESSION_ARN = r":(?:assumed-role/[^/]+|federated-user)/(.+)$"  # the session (or federated user) name of an ARN

# ----------------------------------------------------------------------------------------------------- sniffing

_SNIFF_RECORD = re.compile(
    rb'"eventSource"[ \t\r\n]*:[ \t\r\n]*"[a-z0-9.-]*amazonaws\.com"|"recipientAccountId"[ \t\r\n]*:'
)
_SNIFF_EVENT_NAME = re.compile(rb'"eventName"[ \t\r\n]*:')
_SNIFF_LOOKUP = re.compile(rb'"CloudTrailEvent"[ \t\r\n]*:[ \t\r\n]*[{"]')
_SNIFF_EMPTY = re.compile(rb'\A(?:\xef\xbb\xbf)?[ \t\r\n]*\{[ \t\r\n]*"Records"[ \t\r\n]*:[ \t\r\n]*\[[ \t\r\n]*\]')


def sniff(head: bytes) -> bool:
    """Whether the start of a file is CloudTrail: JSON holding CloudTrail records or lookup-events items.

    A record is told by an eventName with an ``*.amazonaws.com`` eventSource or a recipientAccountId (AWS event
    notifications, also ``{"Records": [...]}``, have ``"eventSource": "aws:s3"``); an empty delivery file,
    ``{"Records": []}``, is CloudTrail too.

    Examples:
        >>> sniff(b'{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"CreateUser"}')
        True
        >>> sniff(b'{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put"}]}')
        False
        >>> sniff(b"type=USER_LOGIN msg=audit(1700000000.000:1): pid=1")
        False
    """
    if not JSON_START.match(head):
        return False
    if _SNIFF_LOOKUP.search(head) or _SNIFF_EMPTY.match(head):
        return True
    return bool(_SNIFF_EVENT_NAME.search(head) and _SNIFF_RECORD.search(head))


# ------------------------------------------------------------------------------------------------------ parsing


def parse(source: Source, *, batch_rows: int) -> Iterator[pl.DataFrame]:
    """Read one CloudTrail file into canonical frames of at most ``batch_rows`` rows, one row per record.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from auditlab.load._io import Source
        >>> path = Path(tempfile.mkdtemp()) / "delivery.json"
        >>> _ = path.write_text('{"Records": [{"eventName": "GetObject", "eventTime": "2024-01-02T03:04:05Z"}, '
        ...                     '{"eventName": "DeleteObject", "eventTime": "2024-01-02T03:04:06Z"}]}')
        >>> frame = next(parse(Source(path, None), batch_rows=1000))
        >>> frame.select("api_operation", "activity_id", "source_line", "source_offset").rows()
        [('GetObject', 2, 1, 13), ('DeleteObject', 4, 2, 78)]
    """
    return frames(source, batch_rows=batch_rows, wrappers=("Records", "Events"), convert=_convert, build=_frame,
                  source_type=NAME)


_RECORD = _json_records.Fields(_FIELDS)
_ITEM = _json_records.Fields(_ITEM_FIELDS)
_NAMES = (*_FIELDS, *_ITEM_FIELDS)
_NO_FIELDS = (None,) * len(_FIELDS)
_NO_ITEM = (None,) * len(_ITEM_FIELDS)
_HELD_KEYS = tuple(_HELD)


def _convert(value: Any) -> tuple[tuple[Any, ...], bytes | None, str | None, bool]:
    """One parsed value -> (field values and lookup-item field values, unmapped JSON, error, is a JSON object).

    Runs once per record, while the record is fresh in the CPU cache; the rest of the mapping is columnar.
    """
    item = _NO_ITEM
    record = value
    if type(value) is dict and "CloudTrailEvent" in value and "eventName" not in value:
        item, record = _ITEM.row(value), value["CloudTrailEvent"]
        if type(record) is str:
            try:
                record = orjson.loads(record)
            except orjson.JSONDecodeError as exc:
                return _NO_FIELDS + item, None, f"CloudTrailEvent is not valid JSON: {exc}", False
    if type(record) is not dict:
        return _NO_FIELDS + item, None, f"not a JSON object: {type(record).__name__}", False
    row = _RECORD.row(record)
    identity = record.get("userIdentity")
    unmapped = record  # ours to change: what columns hold is taken out
    for key in _HELD_KEYS:
        unmapped.pop(key, None)
    if type(identity) is dict:
        rest = {k: v for k, v in identity.items() if k not in _IDENTITY_HELD}
        if rest:
            unmapped["userIdentity"] = rest
    elif identity is not None:
        unmapped["userIdentity"] = identity
    text, error = unmapped_json(unmapped)
    return row + item, text, error, True


def _frame(batch: _json_records.JsonRecords) -> pl.DataFrame:
    """The batch's columns: the field map's values, then the rules below, as polars expressions."""
    frame = base_frame(batch, _NAMES)
    frame = frame.with_columns(time_us(), *ip_or_hostname(frame, "source_ip"))
    frame = frame.with_columns(*_identity(), *_classification(), *_where(), _parse_error())
    return frame.with_columns(*_targets())


# -------------------------------------------------------------------------------------------------------- rules

C = pl.col
_NULL = pl.lit(None, pl.String)


def _identity() -> list[pl.Expr]:
    kind = C("actor_user_type")
    role_session = kind.is_in(["AssumedRole", "FederatedUser"])
    service = (kind == "AWSService") | kind.is_null()
    center = kind == "IdentityCenterUser"
    source_identity = pl.coalesce(C("source_identity"), C("source_identity_extra"))
    own = kind.is_in(["IAMUser", "Root"])
    orig = (
        pl.when(own).then(pl.struct(uid=_NULL, name=_NULL))
        .when(source_identity.is_not_null()).then(pl.struct(uid=source_identity, name=source_identity))
        .when(C("obo_user").is_not_null()).then(pl.struct(uid=C("obo_user"), name=_NULL))
        .when(role_session).then(pl.struct(uid=C("issuer_arn"), name=C("issuer_name")))
    )
    return [
        pl.coalesce(C("arn"), C("principal"), pl.when(center).then(C("obo_user")),
                    pl.when(service).then(C("invoked_by"))).alias("actor_user_uid"),
        pl.coalesce(C("arn").str.extract(_SESSION_ARN, 1), C("user_name"),
                    pl.when(kind == "AssumedRole").then(C("issuer_name")),
                    pl.when(service).then(C("invoked_by"))).alias("actor_user_name"),
        orig.struct.field("uid").alias("actor_orig_uid"),
        orig.struct.field("name").alias("actor_orig_name"),
        pl.coalesce(C("access_key"), C("credential")).alias("actor_credential_uid"),
        pl.when(role_session).then(C("principal")).alias("actor_session_uid"),
        pl.coalesce(C("issuer_arn"), pl.when(center).then(C("obo_store")),
                    C("identity_provider")).alias("actor_session_issuer"),
    ]


def _is_account_change() -> pl.Expr:
    return (C("api_service") == "iam.amazonaws.com") & C("api_operation").is_in(list(_ACCOUNT_CHANGES))


def _is_session_issue() -> pl.Expr:
    name = C("api_operation")
    return (C("api_service") == "sts.amazonaws.com") & (name.str.starts_with("AssumeRole") | name.is_in(_STS_SESSIONS))


def _classification() -> list[pl.Expr]:
    name = C("api_operation")
    sign_in = (name == "ConsoleLogin") | (C("event_code") == "AwsConsoleSignIn")
    verb = reduce(
        lambda chain, item: chain.when(name.str.contains(rf"^(?:Batch)?(?:{'|'.join(item[1])})(?:[A-Z0-9_]|$)"))
        .then(item[0]),
        list(_VERBS.items())[1:],
        pl.when(name.str.contains(rf"^(?:Batch)?(?:{'|'.join(_VERBS[1])})(?:[A-Z0-9_]|$)")).then(1),
    ).otherwise(99)
    failed = C("status_code").is_not_null() | ((name == "ConsoleLogin") & (C("console_login") == "Failure"))
    return [
        pl.when(name.is_null()).then(None).when(sign_in).then(3002).when(_is_account_change()).then(3001)
        .when(_is_session_issue()).then(3002).otherwise(6003).cast(pl.Int32).alias("class_uid"),
        pl.when(name.is_null()).then(None).when(sign_in).then(pl.when(name == "ConsoleLogin").then(1).otherwise(99))
        .when(_is_account_change()).then(name.replace_strict(_ACCOUNT_CHANGES, default=99, return_dtype=pl.Int16))
        .when(_is_session_issue()).then(99).otherwise(verb).cast(pl.Int16).alias("activity_id"),
        pl.when(name.is_null()).then(None).when(failed).then(2).otherwise(1).cast(pl.Int16).alias("status_id"),
        pl.coalesce(C("status_code"), pl.when(name == "ConsoleLogin").then(C("console_login"))).alias("status_code"),
    ]


def _targets() -> list[pl.Expr]:
    session_arn = pl.coalesce(C("assumed_arn"), C("federated_arn"))
    issue = _is_session_issue()
    s3_key = pl.when(C("rp_key").is_not_null()).then(pl.concat_str(pl.lit("/"), C("rp_key"))).otherwise(pl.lit(""))
    resources = (  # (uid, type), the first whose uid is present
        (C("res_arn"), C("res_type")),
        (C("item_res_name"), C("item_res_type")),
        (pl.concat_str(pl.lit("arn:aws:s3:::"), C("rp_bucket"), s3_key),
         pl.when(C("rp_key").is_not_null()).then(pl.lit("AWS::S3::Object")).otherwise(pl.lit("AWS::S3::Bucket"))),
        (C("rp_role_arn"), pl.lit("AWS::IAM::Role")),
        (C("rp_user"), pl.lit("AWS::IAM::User")),
        (C("rp_name"), _NULL),
    )
    pick = pl.when(resources[0][0].is_not_null()).then(pl.struct(uid=resources[0][0], type=resources[0][1]))
    for uid, kind in resources[1:]:
        pick = pick.when(uid.is_not_null()).then(pl.struct(uid=uid, type=kind))
    return [
        pl.when(_is_account_change()).then(C("rp_user"))
        .when(issue).then(pl.coalesce(C("rp_session"), session_arn.str.extract(_SESSION_ARN, 1)))
        .alias("target_user_name"),
        pl.when(issue).then(session_arn).alias("target_session_uid"),
        pick.struct.field("uid").alias("resource_uid"),
        pick.struct.field("type").alias("resource_type"),
    ]


def _where() -> list[pl.Expr]:
    account = pl.coalesce(C("recipient"), C("actor_user_domain"))
    region = C("cloud_region")
    return [
        account.alias("cloud_account_uid"),
        pl.when(account.is_not_null() | region.is_not_null())
        .then(pl.concat_str(account.fill_null(""), pl.lit("/"), region.fill_null(""))).alias("source_stream"),
    ]


def _parse_error() -> pl.Expr:
    not_record = C("parsed") & (C("api_operation").is_null() | C("time_original").is_null())
    return parse_error(not_record, "not a CloudTrail record: it has no eventName or no eventTime",
                       "eventTime does not parse: ")
