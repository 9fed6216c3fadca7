"""The mock generator's cloud renderers (CloudTrail, GCP audit, Kubernetes audit): rendered logs load back as their
truth says, the files look like the real ones, and rendering is deterministic."""

from __future__ import annotations

import gzip
import json
import re
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditlab.mock import cloudtrail, gcp_audit, k8s_audit
from auditlab.mock._model import Event
from auditlab.mock.render import Log, render_records
from tests._mock import assert_round_trip

T0 = 1_722_588_804_123_456  # 2024-08-02T08:53:24.123456Z
SEC = 1_000_000
ACCT_A, ACCT_B = "111122223333", "444455556666"
S3_PATH = re.compile(
    r"^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d\d)/(\d\d)/"
    r"\1_CloudTrail_\2_(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)Z_[A-Za-z0-9]{16}\.json\.gz$"
)

# ------------------------------------------------------------------------------------------------- CloudTrail


def iam_user(name: str, account: str = ACCT_A, key: str | None = "AKIAIOSFODNN7EXAMPLE") -> dict[str, Any]:
    identity = {"type": "IAMUser", "principalId": f"AIDA{name.upper()[:8]}EXAMPLE",
                "arn": f"arn:aws:iam::{account}:user/{name}", "accountId": account}
    if key is not None:
        identity["accessKeyId"] = key
    identity["userName"] = name
    return identity


def assumed_role(role: str, session: str, account: str = ACCT_A, source_identity: str | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLEID",
                          "arn": f"arn:aws:iam::{account}:role/{role}",
                          "accountId": account, "userName": role},
        "webIdFederationData": {},
        "attributes": {"creationDate": "2024-08-02T08:00:00Z", "mfaAuthenticated": "false"},
    }
    if source_identity is not None:
        context["sourceIdentity"] = source_identity
    return {"type": "AssumedRole", "principalId": f"AROAEXAMPLEROLEID:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}", "accountId": account,
            "accessKeyId": "ASIAEXAMPLESESSION01", "sessionContext": context}


ROOT = {"type": "Root", "principalId": ACCT_A, "arn": f"arn:aws:iam::{ACCT_A}:root", "accountId": ACCT_A,
        "accessKeyId": ""}


def ct(identity: dict[str, Any], source: str, name: str, n: int, *, region: str = "us-east-1",
       ip: str = "203.0.113.7", recipient: str = ACCT_A, event_type: str = "AwsApiCall", **rest: Any) -> dict[str, Any]:
    """A CloudTrail record without eventTime, in the order CloudTrail writes it (``rest`` goes where it belongs)."""
    record = {"eventVersion": "1.08", "userIdentity": identity, "eventSource": source, "eventName": name,
              "awsRegion": region, "sourceIPAddress": ip, "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.5"}
    record.update(rest)
    record.setdefault("requestParameters", None)
    record.setdefault("responseElements", None)
    record.update({"requestID": f"00000000-0000-4000-8000-{n:012d}", "eventID": f"e0000000-0000-4000-8000-{n:012d}",
                   "readOnly": name.startswith(("Get", "List", "Describe")), "eventType": event_type,
                   "managementEvent": True, "recipientAccountId": recipient, "eventCategory": "Management"})
    return record


def aws(n: int, time_us: int, fields: dict[str, Any], **kw: Any) -> Event:
    return Event(time_us, "aws", "api_call", fields.get("recipientAccountId", ACCT_A), fields=fields, **kw)


def console_login(identity: dict[str, Any], n: int, *, success: bool) -> dict[str, Any]:
    extra: dict[str, Any] = {} if success else {"errorMessage": "Failed authentication"}
    return ct(identity, "signin.amazonaws.com", "ConsoleLogin", n, event_type="AwsConsoleSignIn", ip="198.51.100.23",
              **extra, responseElements={"ConsoleLogin": "Success" if success else "Failure"},
              additionalEventData={"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                                   "MFAUsed": "No"},
              userAgent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")


ROLE_ARN = f"arn:aws:iam::{ACCT_A}:role/OrganizationAccountAccessRole"


def assume_role(identity: dict[str, Any], n: int, recipient: str) -> dict[str, Any]:
    session = "mallory-xacct"
    return ct(identity, "sts.amazonaws.com", "AssumeRole", n, recipient=recipient, ip="192.0.2.44",
              requestParameters={"roleArn": ROLE_ARN, "roleSessionName": session, "durationSeconds": 3600},
              responseElements={"credentials": {"accessKeyId": "ASIAEXAMPLEXACCT0001", "sessionToken": "IQoJb3JpZ2lu",
                                                "expiration": "Aug 2, 2024, 10:01:00 AM"},
                                "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLEROLEID:mallory-xacct",
                                                    "arn": f"arn:aws:sts::{ACCT_A}:assumed-role/"
                                                           f"OrganizationAccountAccessRole/{session}"}},
              resources=[{"accountId": ACCT_A, "type": "AWS::IAM::Role", "ARN": ROLE_ARN}],
              sharedEventID="5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c")


def aws_events() -> list[Event]:
    alice, mallory_b = iam_user("alice"), iam_user("mallory", ACCT_B, "AKIAMALLORYEXAMPLE01")
    failed_identity = {"type": "IAMUser", "principalId": "AIDAALICEEXAMPLE", "accountId": ACCT_A, "accessKeyId": "",
                       "userName": "alice"}
    attacker_role = assumed_role("OrganizationAccountAccessRole", "mallory-xacct")
    data_role = assumed_role("DataReader", "i-0abc123def4567890", source_identity="alice@example.com")
    bucket, key = "acme-payroll", "exports/2024/salaries 08.csv"
    return [
        aws(0, T0, ct(alice, "ec2.amazonaws.com", "DescribeInstances", 0, region="eu-west-1",
                      requestParameters={"instancesSet": {}, "filterSet": {}})),
        aws(1, T0 + 10 * SEC, console_login(failed_identity, 1, success=False), scenario="intrusion", step=1,
            technique="T1110.001"),
        aws(2, T0 + 20 * SEC, console_login(iam_user("alice", key=None), 2, success=True), scenario="intrusion",
            step=2, technique="T1078.004"),
        aws(3, T0 + 40 * SEC, ct(alice, "iam.amazonaws.com", "CreateAccessKey", 3,
                                 requestParameters={"userName": "mallory"},
                                 responseElements={"accessKey": {"accessKeyId": "AKIANEWKEYEXAMPLE001",
                                                                 "status": "Active", "userName": "mallory",
                                                                 "createDate": "Aug 2, 2024 8:54:04 AM"}})),
        aws(4, T0 + 41 * SEC, ct(alice, "iam.amazonaws.com", "AttachUserPolicy", 4,
                                 requestParameters={"userName": "mallory",
                                                    "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})),
        aws(5, T0 + 60 * SEC, ct(alice, "iam.amazonaws.com", "ListUsers", 5, errorCode="AccessDenied",
                                 errorMessage=f"User: arn:aws:iam::{ACCT_A}:user/alice is not authorized to perform: "
                                              "iam:ListUsers on resource: arn:aws:iam::111122223333:user/ because no "
                                              "identity-based policy allows the iam:ListUsers action")),
        aws(6, T0 + 400 * SEC, assume_role(mallory_b, 6, ACCT_B)),
        aws(7, T0 + 400 * SEC, assume_role({"type": "AWSAccount", "principalId": "AIDAMALLORYEXAMPLE",
                                            "accountId": ACCT_B}, 7, ACCT_A)),
        aws(8, T0 + 460 * SEC, ct(attacker_role, "cloudtrail.amazonaws.com", "StopLogging", 8,
                                  requestParameters={"name": f"arn:aws:cloudtrail:us-east-1:{ACCT_A}:trail/org"})),
        aws(9, T0 + 470 * SEC, ct(ROOT, "cloudtrail.amazonaws.com", "DeleteTrail", 9,
                                  requestParameters={"name": "org"})),
        aws(10, T0 + 86_400 * SEC, {
            **ct(data_role, "s3.amazonaws.com", "GetObject", 10, region="eu-west-1", ip="10.0.3.17",
                 requestParameters={"bucketName": bucket, "Host": f"{bucket}.s3.eu-west-1.amazonaws.com",
                                    "key": key},
                 additionalEventData={"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                                      "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader",
                                      "x-amz-id-2": "q3Yy", "bytesTransferredOut": 48213},
                 resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                            {"accountId": ACCT_A, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]),
            "managementEvent": False, "eventCategory": "Data"}),
        aws(11, T0 + 86_401 * SEC, ct({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}, "sts.amazonaws.com",
                                      "AssumeRole", 11, ip="ec2.amazonaws.com", userAgent="ec2.amazonaws.com",
                                      requestParameters={"roleArn": f"arn:aws:iam::{ACCT_A}:role/web",
                                                         "roleSessionName": "i-0abc123def4567890"})),
        aws(12, T0 + 86_402 * SEC, ct(alice, "s3.amazonaws.com", "ListBuckets", 12), stripped=True),
        aws(13, T0 + 86_403 * SEC, ct(attacker_role, "iam.amazonaws.com", "CreateUser", 13,
                                      requestParameters={"userName": "backdoor"}), stripped=True),
    ]


def by_event(log: Log) -> dict[int, dict[str, Any]]:
    return {r.event: r.expect for r in log.records}


@pytest.mark.parametrize("fmt", ["cloudtrail", "cloudtrail-jsonl"])
def test_cloudtrail_round_trip(fmt: str) -> None:
    log = Log(aws_events(), fmt)
    loaded = assert_round_trip(log)
    assert loaded.height == 14
    assert loaded.get_column("synthetic_label").null_count() == 0


def test_cloudtrail_truth_states_the_documented_columns() -> None:
    want = by_event(Log(aws_events(), "cloudtrail-jsonl"))
    assert want[0]["time_us"] == T0 // SEC * SEC  # eventTime has whole seconds
    assert want[0]["actor_user_uid"] == f"arn:aws:iam::{ACCT_A}:user/alice"
    assert want[1]["status_id"] == 2
    assert "status_code" not in want[1]  # a ConsoleLogin's status_code is not documented
    assert (want[2]["status_id"], want[2]["class_uid"], want[2]["activity_id"]) == (1, 3002, 1)
    assert want[3]["target_user_name"] == want[4]["target_user_name"] == "mallory"
    assert (want[4]["class_uid"], want[4]["activity_id"]) == (3001, 7)
    assert (want[5]["status_id"], want[5]["status_code"]) == (2, "AccessDenied")
    assert (want[6]["cloud_account_uid"], want[7]["cloud_account_uid"]) == (ACCT_B, ACCT_A)
    assert want[7]["actor_user_uid"] == "AIDAMALLORYEXAMPLE"
    assert want[7]["target_session_uid"].endswith("assumed-role/OrganizationAccountAccessRole/mallory-xacct")
    assert (want[8]["actor_user_name"], want[8]["actor_orig_uid"]) == (
        "mallory-xacct", f"arn:aws:iam::{ACCT_A}:role/OrganizationAccountAccessRole")
    assert want[8]["actor_session_uid"] == "AROAEXAMPLEROLEID:mallory-xacct"
    assert (want[9]["actor_user_type"], want[9]["actor_orig_uid"]) == ("Root", None)
    assert want[10]["actor_orig_uid"] == want[10]["actor_orig_name"] == "alice@example.com"
    assert want[10]["resource_uid"] == "arn:aws:s3:::acme-payroll/exports/2024/salaries 08.csv"
    assert (want[11]["actor_user_uid"], want[11]["src_ip"], want[11]["src_hostname"]) == (
        "ec2.amazonaws.com", None, "ec2.amazonaws.com")
    for stripped in (12, 13):
        assert want[stripped]["actor_user_uid"] is want[stripped]["actor_user_name"] is None
        assert want[stripped]["actor_orig_uid"] is want[stripped]["actor_credential_uid"] is None
    assert want[13]["actor_user_type"] == "AssumedRole"


def test_cloudtrail_record_layout() -> None:
    records = render_records(aws_events(), "cloudtrail-jsonl")
    first = json.loads(records[0].text)
    assert list(first)[:8] == ["eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                               "sourceIPAddress", "userAgent"]
    assert first["eventTime"] == "2024-08-02T08:53:24Z"
    failed = json.loads(next(r.text for r in records if r.event == 1))
    assert list(failed).index("errorMessage") == list(failed).index("userAgent") + 1
    stripped = json.loads(next(r.text for r in records if r.event == 13))
    assert stripped["userIdentity"] == {"type": "AssumedRole", "accountId": ACCT_A}
    files = {r.file for r in records}
    assert files == {f"{ACCT_A}/cloudtrail.jsonl", f"{ACCT_B}/cloudtrail.jsonl"}


def test_cloudtrail_s3_delivery_layout() -> None:
    events = aws_events()
    log = Log(events, "cloudtrail")
    windows = set()
    for name, data in log.files.items():
        match = S3_PATH.match(name)
        assert match, name
        account, region, year, month, day = match.group(1, 2, 3, 4, 5)
        assert (year, month, day) == match.group(6, 7, 8)
        assert match.group(10) in {f"{m:02d}" for m in range(0, 60, 5)}
        document = json.loads(gzip.decompress(data))
        assert list(document) == ["Records"]
        assert document["Records"], name
        for record in document["Records"]:
            assert (record["recipientAccountId"], record["awsRegion"]) == (account, region)
        windows.add((account, region, match.group(6, 7, 8, 9, 10)))
        assert data[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no flags
        assert data[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert len(windows) == len(log.files)
    # the records: every one in exactly one file, each file's in time order
    ids = [r["eventID"] for data in log.files.values() for r in json.loads(gzip.decompress(data))["Records"]]
    assert sorted(ids) == sorted(e.fields["eventID"] for e in events)
    # the file of 08:53:24 is delivered at 08:55, the next day's S3 read in eu-west-1
    assert any(n.startswith(f"AWSLogs/{ACCT_A}/CloudTrail/us-east-1/2024/08/02/") and "_20240802T0855Z_" in n
               for n in log.files)
    assert any(n.startswith(f"AWSLogs/{ACCT_A}/CloudTrail/eu-west-1/2024/08/03/") for n in log.files)
    # same events, same bytes; a different record, a different name
    assert Log(aws_events(), "cloudtrail").files == log.files
    changed = [e.but(fields={**e.fields, "userAgent": "other"}) if i == 0 else e for i, e in enumerate(events)]
    assert set(Log(changed, "cloudtrail").files) != set(log.files)


def test_renderers_skip_other_sources() -> None:
    events = [*aws_events()[:2], *gcp_events()[:2], *k8s_events()[:2]]
    for fmt, source in (("cloudtrail", "aws"), ("gcp-audit", "gcp"), ("k8s-audit", "k8s")):
        records = render_records(events, fmt)
        assert {events[r.event].source for r in records} == {source}
        assert Log([e for e in events if e.source != source], fmt).files == {}


# ----------------------------------------------------------------------------------------------------- GCP audit

PROJECT = "acme-prod"
ALICE = "alice@example.com"
SA = f"deployer@{PROJECT}.iam.gserviceaccount.com"


def entry(n: int, log: str, method: str, service: str, resource: str, *, email: str | None = ALICE,
          ip: str = "203.0.113.9", status: dict[str, Any] | None = None, labels: dict[str, str] | None = None,
          resource_type: str = "project", severity: str = "NOTICE", **payload: Any) -> dict[str, Any]:
    auth: dict[str, Any] = {"principalEmail": email} if email else {}
    auth.update(payload.pop("auth", {}))
    pp: dict[str, Any] = {"@type": gcp_audit.AUDIT_LOG, "authenticationInfo": auth,
                          "requestMetadata": {"callerIp": ip,
                                              "callerSuppliedUserAgent": "google-cloud-sdk gcloud/480.0.0"},
                          "serviceName": service, "methodName": method, "resourceName": resource, **payload}
    if status is not None:
        pp["status"] = status
    return {"insertId": f"{n:x}q1w2e3r4t5", "logName": f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2F{log}",
            "protoPayload": pp,
            "resource": {"type": resource_type, "labels": {"project_id": PROJECT, **(labels or {})}},
            "severity": severity}


DENIED = {"code": 7, "message": 'Permission "iam.serviceAccountKeys.create" denied on resource (or it may not exist).',
          "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
                       "domain": "iam.googleapis.com"}]}


def gcp(time_us: int, fields: dict[str, Any], **kw: Any) -> Event:
    return Event(time_us, "gcp", "api_call", PROJECT, fields=fields, **kw)


def gcp_events() -> list[Event]:
    grant = {"policyDelta": {"bindingDeltas": [{"action": "ADD", "role": "roles/owner",
                                                "member": "user:mallory@evil.example"}]}}
    delegation = {"serviceAccountDelegationInfo": [{"firstPartyPrincipal": {"principalEmail": ALICE}}]}
    return [
        gcp(T0, entry(1, "activity", "SetIamPolicy", "cloudresourcemanager.googleapis.com", f"projects/{PROJECT}",
                      serviceData={"@type": "type.googleapis.com/google.iam.v1.logging.AuditData", **grant},
                      request={"@type": "type.googleapis.com/google.iam.v1.SetIamPolicyRequest",
                               "resource": PROJECT})),
        gcp(T0 + 5_000, entry(2, "activity", "google.iam.admin.v1.CreateServiceAccount", "iam.googleapis.com",
                              f"projects/{PROJECT}/serviceAccounts/{SA}", resource_type="service_account",
                              request={"account_id": "deployer"}, response={"email": SA})),
        gcp(T0 + 7 * SEC, entry(3, "activity", "google.iam.admin.v1.CreateServiceAccountKey", "iam.googleapis.com",
                                f"projects/-/serviceAccounts/{SA}", email="mallory@evil.example", status=DENIED,
                                severity="ERROR", resource_type="service_account")),
        gcp(T0 + 9 * SEC, entry(4, "data_access", "storage.objects.get", "storage.googleapis.com",
                                "projects/_/buckets/acme-payroll/objects/salaries.csv", email=SA, ip="gce-internal-ip",
                                labels={"bucket_name": "acme-payroll", "location": "europe-west1"},
                                resource_type="gcs_bucket", severity="INFO", auth=delegation)),
        gcp(T0 + 11 * SEC, entry(5, "data_access", "storage.objects.list", "storage.googleapis.com",
                                 "projects/_/buckets/acme-payroll", email="mallory@evil.example",
                                 status={"code": 7, "message": "PERMISSION_DENIED"}, severity="ERROR",
                                 labels={"bucket_name": "acme-payroll", "location": "europe-west1"},
                                 resource_type="gcs_bucket")),
        gcp(T0 + 12 * SEC, entry(6, "data_access", "GenerateAccessToken", "iamcredentials.googleapis.com",
                                 f"projects/-/serviceAccounts/{SA}", ip="2001:db8::7", severity="INFO",
                                 resource_type="service_account")),
        gcp(T0 - 456 + 13 * SEC, entry(7, "activity", "v1.compute.instances.insert", "compute.googleapis.com",
                                   f"projects/{PROJECT}/zones/europe-west1-b/instances/miner-1",
                                   labels={"zone": "europe-west1-b", "instance_id": "4471"},
                                   resource_type="gce_instance", auth={"serviceAccountKeyName": "//iam.googleapis.com/"
                                   f"projects/{PROJECT}/serviceAccounts/{SA}/keys/0123abcd"}, email=SA)),
        gcp(T0 + 14 * SEC, entry(8, "activity", "storage.buckets.delete", "storage.googleapis.com",
                                 "projects/_/buckets/acme-logs", resource_type="gcs_bucket"), stripped=True),
    ]


def test_gcp_round_trip() -> None:
    log = Log(gcp_events(), "gcp-audit")
    assert list(log.files) == [f"{PROJECT}/cloudaudit.jsonl"]
    assert_round_trip(log)
    want = by_event(log)
    assert (want[0]["class_uid"], want[0]["activity_id"], want[0]["target_user_name"]) == (
        3005, 1, "user:mallory@evil.example")
    assert (want[1]["class_uid"], want[1]["target_user_name"]) == (3001, SA)
    assert (want[2]["status_id"], want[2]["status_code"]) == (2, "7")
    assert want[3]["event_code"] == "cloudaudit.googleapis.com/data_access"
    assert (want[3]["actor_orig_uid"], want[3]["src_hostname"], want[3]["cloud_region"]) == (
        ALICE, "gce-internal-ip", "europe-west1")
    assert (want[4]["status_id"], want[4]["status_code"], want[4]["activity_id"]) == (2, "7", 2)
    assert (want[5]["class_uid"], want[5]["src_ip"]) == (3002, "2001:db8::7")
    assert want[6]["actor_credential_uid"].endswith("/keys/0123abcd")
    assert want[7]["actor_user_uid"] is want[7]["actor_user_type"] is None


def test_gcp_entry_layout() -> None:
    records = render_records(gcp_events(), "gcp-audit")
    first = json.loads(records[0].text)
    assert list(first) == sorted(first)
    assert list(first["protoPayload"]) == sorted(first["protoPayload"])
    assert first["timestamp"] == "2024-08-02T08:53:24.123456Z"
    assert re.fullmatch(r"2024-08-02T08:53:2[45]\.\d{9}Z", first["receiveTimestamp"])
    assert json.loads(records[6].text)["timestamp"] == "2024-08-02T08:53:37.123Z"  # 3 digits where they do
    assert gcp_audit.timestamp(0) == "1970-01-01T00:00:00Z"
    stripped = json.loads(records[7].text)
    assert stripped["protoPayload"]["authenticationInfo"] == {}
    assert b"\n" not in b"".join(r.text for r in records)


# ------------------------------------------------------------------------------------------------ Kubernetes audit

CLUSTER = "prod-eu"
CI = "system:serviceaccount:ci:runner"
AGGREGATOR = "system:serviceaccount:kube-system:clusterrole-aggregator"


def k8s(n: int, verb: str, uri: str, user: dict[str, Any], *, stage: str = "ResponseComplete",
        level: str = "Metadata", code: int | None = 200, ref: dict[str, Any] | None = None, ip: str = "10.0.0.7",
        decision: str = "allow", **rest: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
        "auditID": rest.pop("audit_id", f"6c8f2b3a-4d5e-4f60-9a1b-{n:012d}"), "stage": stage, "requestURI": uri,
        "verb": verb, "user": user,
        **({"impersonatedUser": rest.pop("impersonated")} if "impersonated" in rest else {}),
        "sourceIPs": [ip], "userAgent": rest.pop("agent", "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"),
    }
    if ref is not None:
        record["objectRef"] = ref
    if code is not None:
        record["responseStatus"] = rest.pop("status", {"metadata": {}, "code": code})
    record.update(rest)
    record["annotations"] = {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": ""}
    return record


def k8s_event(time_us: int, fields: dict[str, Any], **kw: Any) -> Event:
    return Event(time_us, "k8s", "request", CLUSTER, fields=fields, **kw)


def k8s_events() -> list[Event]:
    anonymous = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
    ci = {"username": CI, "uid": "0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
          "groups": ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"],
          "extra": {"authentication.kubernetes.io/credential-id": ["JTI=5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"],
                    "authentication.kubernetes.io/pod-name": ["runner-7d9f8"]}}
    admin = {"username": "kubernetes-admin", "groups": ["kubeadm:cluster-admins", "system:authenticated"]}
    forbidden = {"metadata": {}, "status": "Failure", "message": 'secrets is forbidden: User "system:anonymous" '
                 'cannot list resource "secrets" in API group "" in the namespace "kube-system"',
                 "reason": "Forbidden", "details": {"kind": "secrets"}, "code": 403}
    exec_uri = ("/api/v1/namespaces/prod/pods/web-7d9f8/exec?command=sh&command=-c&command=cat+%2Fetc%2Fshadow"
                "&container=web&stdin=true&stdout=true&tty=true")
    exec_ref = {"resource": "pods", "namespace": "prod", "name": "web-7d9f8", "apiVersion": "v1", "subresource": "exec"}
    binding = {"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
               "metadata": {"name": "ci-admin", "creationTimestamp": None},
               "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": "ci"}],
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}}
    pod = {"kind": "Pod", "apiVersion": "v1",
           "metadata": {"generateName": "debug-", "namespace": "kube-system", "creationTimestamp": None},
           "spec": {"hostPID": True, "hostNetwork": True,
                    "containers": [{"name": "debug", "image": "alpine:3.20", "command": ["nsenter", "-t", "1", "-a"],
                                    "securityContext": {"privileged": True}}]}}
    return [
        k8s_event(T0, k8s(0, "list", "/api/v1/namespaces/kube-system/secrets?limit=500", anonymous, code=403,
                          ref={"resource": "secrets", "namespace": "kube-system", "apiVersion": "v1"},
                          ip="198.51.100.66", decision="forbid", status=forbidden, agent="curl/8.5.0")),
        k8s_event(T0 + 1_000, k8s(1, "get", "/version", anonymous, ip="198.51.100.66", agent="curl/8.5.0")),
        k8s_event(T0 + 2 * SEC, k8s(2, "list", "/api/v1/namespaces/prod/secrets", ci,
                                    ref={"resource": "secrets", "namespace": "prod", "apiVersion": "v1"})),
        k8s_event(T0 + 3 * SEC, k8s(3, "get", "/api/v1/namespaces/prod/secrets/db-creds", ci,
                                    ref={"resource": "secrets", "namespace": "prod", "name": "db-creds",
                                         "apiVersion": "v1"})),
        k8s_event(T0 + 4 * SEC, k8s(4, "create", exec_uri, admin, stage="ResponseStarted", level="Request",
                                    code=101, ref=exec_ref, audit_id="exec-0001")),
        k8s_event(T0 + 64 * SEC, k8s(5, "create", exec_uri, admin, stage="ResponseComplete", level="Request",
                                     code=101, ref=exec_ref, audit_id="exec-0001")),
        k8s_event(T0 + 70 * SEC, k8s(6, "create", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", ci,
                                     level="RequestResponse", code=201,
                                     ref={"resource": "clusterrolebindings", "name": "ci-admin",
                                          "apiGroup": "rbac.authorization.k8s.io", "apiVersion": "v1"},
                                     requestObject=binding,
                                     responseObject={**binding, "metadata": {"name": "ci-admin", "uid": "f00d"}})),
        k8s_event(T0 + 80 * SEC, k8s(7, "create", "/api/v1/namespaces/kube-system/pods", ci, level="RequestResponse",
                                     code=201, ref={"resource": "pods", "namespace": "kube-system", "apiVersion": "v1"},
                                     requestObject=pod,
                                     responseObject={**pod, "metadata": {**pod["metadata"], "name": "debug-x7k2p",
                                                                         "uid": "4a5b"}})),
        k8s_event(T0 + 90 * SEC, k8s(8, "get", "/api/v1/namespaces/kube-system/secrets/admin-token", admin,
                                     impersonated={"username": AGGREGATOR, "groups": ["system:serviceaccounts"]},
                                     ref={"resource": "secrets", "namespace": "kube-system", "name": "admin-token",
                                          "apiVersion": "v1"})),
        k8s_event(T0 + 95 * SEC, k8s(9, "create", "/api/v1/namespaces/ci/serviceaccounts/runner/token", ci, code=201,
                                     ref={"resource": "serviceaccounts", "namespace": "ci", "name": "runner",
                                          "apiVersion": "v1", "subresource": "token"})),
        k8s_event(T0 + 96 * SEC, k8s(10, "delete", "/api/v1/namespaces/prod", admin, stage="RequestReceived",
                                     code=None, ref={"resource": "namespaces", "namespace": "prod", "name": "prod",
                                                     "apiVersion": "v1"})),
        k8s_event(T0 + 97 * SEC, k8s(11, "delete", "/api/v1/namespaces/prod/pods/web-7d9f8", admin,
                                     ref={"resource": "pods", "namespace": "prod", "name": "web-7d9f8",
                                          "apiVersion": "v1"}), stripped=True),
    ]


def test_k8s_round_trip() -> None:
    log = Log(k8s_events(), "k8s-audit")
    assert list(log.files) == [f"{CLUSTER}/kube-apiserver/audit.log"]
    assert_round_trip(log)
    want = by_event(log)
    assert (want[0]["actor_user_type"], want[0]["status_id"], want[0]["status_code"]) == ("Anonymous", 2, "403")
    assert want[0]["resource_uid"] == "namespaces/kube-system/secrets"
    assert (want[1]["resource_uid"], want[1]["api_service"]) == ("/version", None)
    assert (want[2]["actor_user_domain"], want[2]["actor_credential_uid"]) == (
        "ci", "JTI=5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
    assert want[3]["resource_uid"] == "namespaces/prod/secrets/db-creds"
    assert (want[4]["process_cmdline"], want[4]["resource_type"], want[4]["status_id"]) == (
        "sh -c 'cat /etc/shadow'", "pods/exec", 1)
    assert want[4]["source_record_uid"] == want[5]["source_record_uid"] == "exec-0001"
    assert (want[6]["target_user_name"], want[6]["api_service"]) == (CI, "rbac.authorization.k8s.io")
    assert want[7]["resource_uid"] == "namespaces/kube-system/pods/debug-x7k2p"
    assert (want[8]["actor_user_name"], want[8]["actor_orig_name"]) == (AGGREGATOR, "kubernetes-admin")
    assert want[9]["target_user_name"] == CI
    assert (want[10]["status_id"], want[10]["resource_uid"]) == (0, "namespaces/prod")
    assert want[11]["actor_user_uid"] is want[11]["actor_user_type"] is None


def test_k8s_event_layout() -> None:
    events = k8s_events()
    records = render_records(events, "k8s-audit")
    first = json.loads(records[0].text)
    assert list(first)[:7] == ["kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb"]
    assert list(first)[-3:] == ["requestReceivedTimestamp", "stageTimestamp", "annotations"]
    assert first["stageTimestamp"] == "2024-08-02T08:53:24.123456Z"
    received = k8s_audit.micro_time(T0 - 3500) <= first["requestReceivedTimestamp"] < first["stageTimestamp"]
    assert received
    assert b"&" not in records[4].text  # Go escapes & < >
    assert b"\\u0026command=" in records[4].text
    pending = json.loads(records[10].text)
    assert pending["requestReceivedTimestamp"] == pending["stageTimestamp"]
    assert json.loads(records[11].text)["user"] == {}
    assert [r.event for r in records] == list(range(len(events)))


# ------------------------------------------------------------------------------------------- generated values

AWKWARD = st.one_of(
    st.text(max_size=30),
    st.text(alphabet='"\\\'\n\r\t\x00\x1b\x7f\u2028\u2029<>&é漢😀\ufeff\ufffd /:%+=@', max_size=20),
    st.text(min_size=200, max_size=3000),
    st.sampled_from(["", " ", "null", "None", "0", "-", "\\u0000", '{"a":1}', "[1]", "\\"]),
)
TIMES = st.integers(min_value=0, max_value=253_402_000_000_000_000)  # 1970 to 9999-12-26
IPS = st.one_of(st.ip_addresses().map(str), AWKWARD)
NAMES = st.from_regex(r"[A-Za-z0-9+=,.@_-]{1,40}", fullmatch=True)  # IAM role and session names


@st.composite
def ct_events(draw: st.DrawFn) -> list[Event]:
    events = []
    for n in range(draw(st.integers(1, 6))):
        account = draw(st.sampled_from([ACCT_A, ACCT_B, "000000000000"]))
        kind = draw(st.sampled_from(["IAMUser", "AssumedRole", "Root", "AWSService", "AWSAccount", "FederatedUser"]))
        if kind == "IAMUser":
            identity = iam_user(draw(AWKWARD) or "u", account, draw(st.one_of(st.none(), AWKWARD)))
        elif kind == "AssumedRole":
            identity = assumed_role(draw(NAMES), draw(NAMES), account, draw(st.one_of(st.none(), AWKWARD)))
        elif kind == "Root":
            identity = {**ROOT, "accountId": account}
        elif kind == "AWSService":
            identity = {"type": "AWSService", "invokedBy": draw(AWKWARD)}
        elif kind == "AWSAccount":
            identity = {"type": "AWSAccount", "principalId": draw(AWKWARD), "accountId": account}
        else:
            name = draw(NAMES)
            identity = {"type": "FederatedUser", "principalId": f"{account}:{name}",
                        "arn": f"arn:aws:sts::{account}:federated-user/{name}", "accountId": account,
                        "sessionContext": {"sessionIssuer": {"type": "IAMUser", "arn": f"arn:aws:iam::{account}:user/b",
                                                             "userName": draw(AWKWARD)}}}
        source, name = draw(st.sampled_from([
            ("iam.amazonaws.com", "CreateAccessKey"), ("iam.amazonaws.com", "AttachUserPolicy"),
            ("iam.amazonaws.com", "DeleteLoginProfile"), ("sts.amazonaws.com", "AssumeRole"),
            ("sts.amazonaws.com", "GetSessionToken"), ("signin.amazonaws.com", "ConsoleLogin"),
            ("s3.amazonaws.com", "GetObject"), ("cloudtrail.amazonaws.com", "StopLogging"),
            ("ec2.amazonaws.com", "BatchDescribeThings"), ("kms.amazonaws.com", "Decrypt"),
        ]))
        rest: dict[str, Any] = {"userAgent": draw(AWKWARD)}
        for key in ("errorCode", "errorMessage"):
            if draw(st.booleans()):
                rest[key] = draw(AWKWARD)
        params = draw(st.dictionaries(st.sampled_from(["userName", "roleArn", "roleSessionName", "bucketName",
                                                       "key", "name", "policyArn"]), AWKWARD, max_size=4))
        rest["requestParameters"] = params or None
        if name == "ConsoleLogin":
            rest["responseElements"] = {"ConsoleLogin": draw(st.sampled_from(["Success", "Failure"]))}
            rest["additionalEventData"] = {"MFAUsed": "No"}
        elif name == "AssumeRole" and draw(st.booleans()):
            rest["responseElements"] = {"assumedRoleUser": {"arn": f"arn:aws:sts::{account}:assumed-role/r/"
                                                                   f"{draw(NAMES)}"}}
        if draw(st.booleans()):
            rest["resources"] = [{"type": draw(AWKWARD), "ARN": draw(AWKWARD)}]
        record = ct(identity, source, name, n, region=draw(st.one_of(st.sampled_from(["us-east-1", "eu-west-1"]),
                                                                          AWKWARD)),
                    ip=draw(IPS), recipient=account, event_type=draw(st.sampled_from(["AwsApiCall",
                                                                                      "AwsConsoleSignIn"])), **rest)
        record["eventID"] = f"{n}{draw(AWKWARD)}"  # unique within the log, awkward all the same
        events.append(aws(n, draw(TIMES), record, stripped=draw(st.booleans())))
    return events


@st.composite
def gcp_generated(draw: st.DrawFn) -> list[Event]:
    events = []
    for n in range(draw(st.integers(1, 6))):
        log = draw(st.sampled_from(["activity", "data_access", "system_event", "policy"]))
        method, service = draw(st.sampled_from([
            ("SetIamPolicy", "cloudresourcemanager.googleapis.com"),
            ("google.iam.admin.v1.CreateServiceAccount", "iam.googleapis.com"),
            ("google.iam.admin.v1.DisableServiceAccount", "iam.googleapis.com"),
            ("GenerateAccessToken", "iamcredentials.googleapis.com"),
            ("storage.objects.get", "storage.googleapis.com"),
            ("v1.compute.instances.insert", "compute.googleapis.com"),
            ("google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion", "secretmanager.googleapis.com"),
            ("batchDelete", "x.googleapis.com"),
        ]))
        email = draw(st.one_of(st.none(), AWKWARD, st.sampled_from([ALICE, SA])))
        auth: dict[str, Any] = {}
        if draw(st.booleans()):
            auth["principalSubject"] = draw(st.one_of(AWKWARD, st.sampled_from(
                ["serviceAccount:x", "principal://iam.googleapis.com/x", "user:alice@example.com"])))
        if draw(st.booleans()):
            auth["serviceAccountDelegationInfo"] = [draw(st.one_of(
                st.builds(lambda e: {"firstPartyPrincipal": {"principalEmail": e}}, AWKWARD),
                st.builds(lambda s: {"principalSubject": s}, AWKWARD)))]
        if draw(st.booleans()):
            auth["serviceAccountKeyName"] = draw(AWKWARD)
        labels = draw(st.dictionaries(st.sampled_from(["zone", "region", "location"]), AWKWARD, max_size=2))
        payload: dict[str, Any] = {"auth": auth}
        if draw(st.booleans()):
            payload["serviceData"] = {"policyDelta": {"bindingDeltas": [
                {"action": draw(st.sampled_from(["ADD", "REMOVE"])), "role": "roles/owner", "member": draw(AWKWARD)}
                for _ in range(draw(st.integers(1, 3)))]}}
        if draw(st.booleans()):
            payload["response"] = {"email": draw(AWKWARD)}
        if draw(st.booleans()):
            payload["resourceLocation"] = {"currentLocations": [draw(AWKWARD)]}
        status = draw(st.one_of(st.none(), st.builds(lambda c, m: {"code": c, "message": m}, st.integers(0, 16),
                                                     AWKWARD)))
        fields = entry(n, log, method, service, draw(AWKWARD), email=email, ip=draw(IPS), status=status,
                       labels=labels, resource_type=draw(AWKWARD), **payload)
        fields["insertId"] = f"{n}{draw(AWKWARD)}"
        fields["protoPayload"]["requestMetadata"]["callerSuppliedUserAgent"] = draw(AWKWARD)
        events.append(Event(draw(TIMES), "gcp", "api_call", draw(st.sampled_from([PROJECT, "other-proj", "x/../y"])),
                            fields=fields, stripped=draw(st.booleans())))
    return events


@st.composite
def k8s_generated(draw: st.DrawFn) -> list[Event]:
    events = []
    for n in range(draw(st.integers(1, 6))):
        user = {"username": draw(st.one_of(AWKWARD, st.sampled_from(
            ["system:anonymous", CI, "system:node:n1", "system:kube-scheduler", "system:serviceaccount:", "alice"])))}
        if draw(st.booleans()):
            user["uid"] = draw(AWKWARD)
        if draw(st.booleans()):
            user["extra"] = {"authentication.kubernetes.io/credential-id": [draw(AWKWARD)]}
        rest: dict[str, Any] = {"agent": draw(AWKWARD)}
        if draw(st.booleans()):
            rest["impersonated"] = {"username": draw(AWKWARD)}
            if draw(st.booleans()):
                rest["impersonated"]["uid"] = draw(AWKWARD)
        verb = draw(st.one_of(st.sampled_from([*sorted(k8s_audit.ACTIVITIES), "impersonate", "post"]), AWKWARD))
        ref = None
        if draw(st.booleans()):
            ref = {"resource": draw(st.one_of(st.sampled_from(["pods", "secrets", "namespaces", "serviceaccounts",
                                                               "clusterrolebindings", "rolebindings"]), AWKWARD)),
                   "apiVersion": "v1"}
            for key in ("namespace", "name", "apiGroup", "subresource"):
                if draw(st.booleans()):
                    ref[key] = draw(st.one_of(AWKWARD, st.sampled_from(["", "rbac.authorization.k8s.io", "exec"])))
        args = draw(st.lists(AWKWARD, max_size=4))
        uri = draw(st.one_of(AWKWARD, st.just("/api/v1/namespaces/d/pods/p/exec?" + "&".join(
            f"command={quote(a, safe='')}" for a in args) + "&tty=true")))
        code = draw(st.one_of(st.none(), st.integers(100, 599)))
        if code is not None:
            status = {"metadata": {}, "code": code}
            for key in ("message", "reason"):
                if draw(st.booleans()):
                    status[key] = draw(AWKWARD)
            rest["status"] = status
        elif draw(st.booleans()):
            rest["responseStatus"] = {"status": draw(st.sampled_from(["Success", "Failure", "x"]))}
        if draw(st.booleans()):
            subject = {"kind": draw(st.sampled_from(["ServiceAccount", "User", "Group"])), "name": draw(AWKWARD)}
            if draw(st.booleans()):
                subject["namespace"] = draw(AWKWARD)
            rest[draw(st.sampled_from(["requestObject", "responseObject"]))] = {"subjects": [subject]}
        if draw(st.booleans()):
            rest.setdefault("responseObject", {})["metadata"] = {"name": draw(AWKWARD)}
        fields = k8s(n, verb, uri, user, stage=draw(st.sampled_from(["RequestReceived", "ResponseStarted",
                                                                      "ResponseComplete", "Panic"])),
                     code=code, ref=ref, ip=draw(IPS), audit_id=draw(AWKWARD), **rest)
        if draw(st.booleans()):
            fields["sourceIPs"] = [draw(IPS) for _ in range(draw(st.integers(0, 3)))]
        events.append(Event(draw(TIMES), "k8s", "request", draw(st.sampled_from([CLUSTER, "c2", "", ".."])),
                            fields=fields, stripped=draw(st.booleans())))
    return events


@pytest.mark.parametrize("fmt", ["cloudtrail", "cloudtrail-jsonl"])
@given(events=ct_events())
def test_cloudtrail_round_trip_generated(fmt: str, events: list[Event]) -> None:
    log = Log(events, fmt)
    assert_round_trip(log)
    assert Log(events, fmt).files == log.files


@given(gcp_generated())
def test_gcp_round_trip_generated(events: list[Event]) -> None:
    log = Log(events, "gcp-audit")
    assert_round_trip(log)
    assert Log(events, "gcp-audit").files == log.files


@given(k8s_generated())
def test_k8s_round_trip_generated(events: list[Event]) -> None:
    log = Log(events, "k8s-audit")
    assert_round_trip(log)
    assert Log(events, "k8s-audit").files == log.files


def test_native_records_are_plain_json() -> None:
    for fmt, events in (("cloudtrail-jsonl", aws_events()), ("gcp-audit", gcp_events()), ("k8s-audit", k8s_events())):
        for record in render_records(events, fmt):
            assert orjson.loads(record.text) == json.loads(record.text)
            assert b"\n" not in record.text
    assert cloudtrail.ORDER.index("eventTime") == 2


def test_members_out_of_order_are_written_in_the_native_order() -> None:
    """The renderers lay out fields given in the native order in one pass; others are sorted: the same bytes."""
    for fmt, events in (("cloudtrail", aws_events()), ("k8s-audit", k8s_events()), ("gcp-audit", gcp_events())):
        moved = [e.but(fields={**dict(list(e.fields.items())[1:]), **dict(list(e.fields.items())[:1])})
                 for e in events]  # the first member last
        assert Log(moved, fmt).files == Log(events, fmt).files
        assert [r.expect for r in render_records(moved, fmt)] == [r.expect for r in render_records(events, fmt)]


def test_writing_a_log_does_not_state_its_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    """The expected values are worked out when a record's ``expect`` is read, not when its log is written."""
    stated: list[str] = []
    for module in (cloudtrail, gcp_audit, k8s_audit):
        monkeypatch.setattr(module, "expect", lambda record, _expect=module.expect, _name=module.__name__: (
            stated.append(_name), _expect(record))[1])
    for fmt, events in (("cloudtrail", aws_events()), ("gcp-audit", gcp_events()), ("k8s-audit", k8s_events())):
        log = Log(events, fmt)
        assert log.files
        assert stated == []
        assert log.records[0].expect == log.records[0].expect
        assert len(stated) == 1
        stated.clear()
