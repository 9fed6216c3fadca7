"""The CloudTrail loader: every sample record accounted for, golden mappings, edge cases, and damage properties."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditlab import schema
from auditlab.load import _json_records, cloudtrail
from auditlab.load._io import Source
from tests._damage import Mutation, check_damaged_array, check_damaged_lines, mutations
from tests._json_loaders import by_id, jsonl, load, one, utc, walk
from tests.conftest import sample

CT = "aws_cloudtrail"
STEAL = "stratus_detonation_aws.credential-access.ec2-steal-instance-credentials.json"
STOP = "stratus_detonation_aws.defense-evasion.cloudtrail-stop.json"
LOGIN = "stratus_detonation_aws.initial-access.console-login-without-mfa.json"
ADMIN = "stratus_detonation_aws.persistence.iam-create-admin-user.json"
LOOKUP = "plaso_aws_cloudtrail_lookupevents.jsonl"


def record(**fields: Any) -> dict[str, Any]:
    """A minimal CloudTrail record (an IAM user's API call) with ``fields`` replaced."""
    base = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice",
                         "accountId": "111122223333", "accessKeyId": "AKIAEXAMPLE", "userName": "alice"},
        "eventTime": "2024-01-02T03:04:05Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2",
        "requestParameters": None,
        "responseElements": None,
        "eventID": "00000000-0000-4000-8000-000000000001",
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
    }
    base.update(fields)
    return base



# ------------------------------------------------------------------------------------------- every sample record


def count_records(path: Path) -> int:
    """Records in a sample file, counted with the standard library (independently of the loader)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return sum(1 for line in text.splitlines() if line.strip())
    value = json.loads(text)
    return len(value["Records"] if isinstance(value, dict) else value)


@pytest.mark.samples
@pytest.mark.parametrize("name", [STEAL, STOP, LOGIN, ADMIN, LOOKUP])
def test_every_sample_record_loads_cleanly(name: str) -> None:
    path = sample(CT, name)
    frame = load(path)  # the format is sniffed
    schema.validate(frame)
    assert frame.height == count_records(path)
    assert frame["parse_error"].null_count() == frame.height
    assert frame["source_type"].unique().to_list() == ["cloudtrail"]
    assert frame["source_line"].to_list() == list(range(1, frame.height + 1))
    data = path.read_bytes()
    for raw, offset in frame.select("raw", "source_offset").iter_rows():  # raw is the verbatim text at its offset
        assert data[offset : offset + len(raw.encode())] == raw.encode()
        json.loads(raw)
    assert frame["time"].null_count() == 0
    assert frame["class_uid"].null_count() == 0
    assert frame["actor_user_uid"].null_count() == 0


@pytest.mark.samples
def test_a_folder_of_samples_loads_every_file() -> None:
    folder = sample(CT)
    frame = load(folder)
    assert frame.height == sum(count_records(p) for p in folder.iterdir())
    assert frame["source_file"].n_unique() == 5


# ------------------------------------------------------------------------------------------------------- golden


@pytest.mark.samples
def test_golden_cloudtrail_stop() -> None:
    row = by_id(load(sample(CT, STOP)), "10163ed2-2253-469d-a5ee-cbc6651f8934")
    assert row["api_operation"] == "StopLogging"
    assert row["api_service"] == "cloudtrail.amazonaws.com"
    assert row["event_code"] == "AwsApiCall"
    assert (row["class_uid"], row["activity_id"], row["status_id"]) == (6003, 3, 1)
    assert row["actor_user_uid"] == "arn:aws:iam::143434273843:user/christophe"
    assert (row["actor_user_name"], row["actor_user_type"]) == ("christophe", "IAMUser")
    assert row["actor_user_domain"] == "143434273843"
    assert (row["actor_orig_uid"], row["actor_orig_name"]) == (None, None)
    assert row["actor_credential_uid"] == "AKIAGGWFBBHBE7D3M9WI"
    assert row["actor_session_uid"] is None
    assert (row["src_ip"], row["src_hostname"]) == ("86.245.153.234", None)
    assert row["resource_uid"] == "stratus-red-team-ct-stop-trail-buykxbqejv"
    assert row["time"] == utc("2024-07-31T13:06:24")
    assert row["time_original"] == "2024-07-31T13:06:24Z"
    assert row["cloud_account_uid"] == "143434273843"
    assert row["source_stream"] == "143434273843/apiso-centralnorth-2r"
    assert row["source_seq"] is None
    unmapped = json.loads(row["unmapped"])
    assert unmapped["requestParameters"] == {"name": "stratus-red-team-ct-stop-trail-buykxbqejv"}
    assert unmapped["tlsDetails"]["tlsVersion"] == "TLSv1.3"
    assert "eventName" not in unmapped
    assert "userIdentity" not in unmapped  # every userIdentity field of an IAM user has its column


@pytest.mark.samples
def test_golden_console_login_without_mfa() -> None:
    row = by_id(load(sample(CT, LOGIN)), "865d9377-9c6b-4fd7-8aad-725e95f6a140")
    assert (row["class_uid"], row["activity_id"]) == (3002, 1)
    assert (row["status_id"], row["status_code"]) == (1, "Success")
    assert row["event_code"] == "AwsConsoleSignIn"
    assert row["actor_user_name"] == "stratus-red-team-nmfalu-jfzdtsvchl"
    assert row["actor_user_uid"] == "arn:aws:iam::562283505220:user/stratus-red-team-nmfalu-jfzdtsvchl"
    assert row["actor_credential_uid"] is None
    # "225.01.00.16" has leading zeros, which ipaddress refuses (they read as octal elsewhere): not an IP
    assert (row["src_ip"], row["src_hostname"]) == (None, "225.01.00.16")
    assert row["time"] == utc("2024-08-02T08:53:24")
    assert json.loads(row["unmapped"])["additionalEventData"]["MFAUsed"] == "No"


@pytest.mark.samples
def test_golden_iam_create_admin_user() -> None:
    frame = load(sample(CT, ADMIN))
    attach = by_id(frame, "083dc4ad-e264-46bc-a407-d0dd31b58bdc")
    assert attach["api_operation"] == "AttachUserPolicy"
    assert (attach["class_uid"], attach["activity_id"]) == (3001, 7)
    assert attach["target_user_name"] == "malicious-iam-user"
    assert (attach["resource_uid"], attach["resource_type"]) == ("malicious-iam-user", "AWS::IAM::User")
    assert attach["actor_user_name"] == "christophe"
    assert attach["actor_credential_uid"] == "AKIAOZUDECYXYM4ONAN4"
    assert (attach["src_ip"], attach["src_hostname"]) == (None, "075.050.255.67")
    key = by_id(frame, "94faedcc-0fa4-46e6-9322-022e8e934f04")
    assert (key["api_operation"], key["class_uid"], key["activity_id"]) == ("CreateAccessKey", 3001, 99)
    assert key["target_user_name"] == "malicious-iam-user"
    assert json.loads(key["unmapped"])["responseElements"]["accessKey"]["accessKeyId"] == "AKIAXAFZN8JEPF6L682H"
    user = by_id(frame, "3346344c-5a3e-429e-8405-420f98f75d6e")
    assert (user["api_operation"], user["class_uid"], user["activity_id"]) == ("CreateUser", 3001, 1)
    assert user["status_id"] == 1
    assert user["time"] == utc("2024-08-01T13:33:28")
    assert user["cloud_region"] == "ap-isob-central-3r"


@pytest.mark.samples
def test_golden_ec2_steal_instance_credentials() -> None:
    frame = load(sample(CT, STEAL))
    who = by_id(frame, "b379479b-05c9-4c3c-af4b-cbd43acf29e1")
    session = "arn:aws:sts::017622104382:assumed-role/stratus-red-team-ec2-steal-credentials-role/i-786a3A8B5C0d92eF4"
    role = "arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role"
    assert who["api_operation"] == "GetCallerIdentity"
    assert (who["class_uid"], who["activity_id"]) == (6003, 2)  # an STS call, but it issues no session
    assert who["actor_user_uid"] == session
    assert who["actor_user_name"] == "i-786a3A8B5C0d92eF4"
    assert who["actor_user_type"] == "AssumedRole"
    assert (who["actor_orig_uid"], who["actor_orig_name"]) == (role, "stratus-red-team-ec2-steal-credentials-role")
    assert who["actor_session_uid"] == "AROALHCCSKSM395EGX3XN:i-786a3A8B5C0d92eF4"
    assert who["actor_session_issuer"] == role
    assert who["actor_credential_uid"] == "ASIAP5CT9NN8EYVU1FXV"
    assert who["src_ip"] == "18.236.253.47"
    assert who["time"] == utc("2024-08-02T08:23:55")
    assert json.loads(who["unmapped"])["userIdentity"]["sessionContext"]["ec2RoleDelivery"] == "1.0"
    send = by_id(frame, "2a5178c8-b4c7-44ba-b066-1ecc79b7087c")
    assert (send["api_operation"], send["class_uid"], send["activity_id"]) == ("SendCommand", 6003, 1)
    assert (send["actor_user_name"], send["actor_orig_uid"]) == ("christophe", None)
    assert send["actor_credential_uid"] == "AKIAAM80VXLJF8NPK4VC"
    assert send["source_line"] == 1
    described = by_id(frame, "394cf343-b9cf-48ce-8a94-e188656ae8ba")
    assert (described["api_operation"], described["activity_id"], described["actor_user_uid"]) == (
        "DescribeInstances", 2, session)


@pytest.mark.samples
def test_golden_lookup_events() -> None:
    path = sample(CT, LOOKUP)
    frame = load(path)
    lines = path.read_bytes().split(b"\n")
    terminate = by_id(frame, "1f2d6879-969f-4c15-b550-55015423e0c6")
    assert terminate["raw"] == lines[1].decode()  # raw is the whole lookup-events item
    assert (terminate["source_line"], terminate["source_offset"]) == (2, len(lines[0]) + 1)
    assert (terminate["api_operation"], terminate["class_uid"], terminate["activity_id"]) == (
        "TerminateInstances", 6003, 4)
    assert (terminate["resource_uid"], terminate["resource_type"]) == ("i-01234567890123456", "AWS::EC2::Instance")
    assert terminate["actor_user_uid"] == "arn:aws:iam::012345678901:user/fakeusername"
    assert terminate["actor_credential_uid"] == "0123456789ABCDEFGHIJ"
    assert terminate["time"] == utc("2022-02-07T22:23:18")  # the record's eventTime, not the item's local time
    assert terminate["src_ip"] == "1.2.3.4"
    service = by_id(frame, "ec783cd8-fad8-41a8-abac-569a78c42e33")
    assert service["api_operation"] == "SharedSnapshotVolumeCreated"
    assert (service["event_code"], service["class_uid"], service["activity_id"]) == ("AwsServiceEvent", 6003, 99)
    assert (service["actor_user_uid"], service["actor_user_name"]) == ("ec2.amazonaws.com", "ec2.amazonaws.com")
    assert service["actor_user_type"] is None  # this record's userIdentity has no type
    assert (service["src_ip"], service["src_hostname"]) == (None, "ec2.amazonaws.com")
    run = by_id(frame, "fdd7443c-ba1f-47eb-b0bc-42395266d12c")
    assert (run["api_operation"], run["activity_id"]) == ("RunInstances", 1)
    assert run["resource_uid"] == "vpc-01234567890123456"  # the item's first resource


# ------------------------------------------------------------------------------------------------- identities


def test_assumed_role_with_source_identity(tmp_path: Path) -> None:
    identity = {
        "type": "AssumedRole", "principalId": "AROAROLEID:alice-session",
        "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice-session", "accountId": "111122223333",
        "accessKeyId": "ASIATEMP",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": "AROAROLEID",
                              "arn": "arn:aws:iam::111122223333:role/Admin",
                              "accountId": "111122223333", "userName": "Admin"},
            "attributes": {"creationDate": "2024-01-02T03:00:00Z", "mfaAuthenticated": "true"},
            "sourceIdentity": "alice@example.com",
        },
    }
    row = one(tmp_path, record(userIdentity=identity))
    assert row["actor_user_uid"] == "arn:aws:sts::111122223333:assumed-role/Admin/alice-session"
    assert row["actor_user_name"] == "alice-session"
    assert (row["actor_orig_uid"], row["actor_orig_name"]) == ("alice@example.com", "alice@example.com")
    assert row["actor_session_uid"] == "AROAROLEID:alice-session"
    assert row["actor_session_issuer"] == "arn:aws:iam::111122223333:role/Admin"
    assert row["actor_credential_uid"] == "ASIATEMP"
    kept = json.loads(row["unmapped"])["userIdentity"]["sessionContext"]
    assert kept["attributes"]["mfaAuthenticated"] == "true"


def test_identity_center_user_on_behalf_of(tmp_path: Path) -> None:
    identity = {
        "type": "IdentityCenterUser", "accountId": "111122223333",
        "onBehalfOf": {"userId": "544894e8-80c1-707f-60e3-3ba6510dfac1",
                       "identityStoreArn": "arn:aws:identitystore::111122223333:identitystore/d-9067642ac7"},
        "credentialId": "EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR",
    }
    row = one(tmp_path, record(userIdentity=identity, eventSource="sso.amazonaws.com", eventName="ListInstances"))
    assert row["actor_user_type"] == "IdentityCenterUser"
    assert row["actor_user_uid"] == "544894e8-80c1-707f-60e3-3ba6510dfac1"
    assert (row["actor_orig_uid"], row["actor_orig_name"]) == ("544894e8-80c1-707f-60e3-3ba6510dfac1", None)
    assert row["actor_session_issuer"] == "arn:aws:identitystore::111122223333:identitystore/d-9067642ac7"
    assert row["actor_credential_uid"] == "EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR"
    assert row["actor_user_domain"] == "111122223333"


def test_role_session_on_behalf_of_a_workforce_user(tmp_path: Path) -> None:
    identity = {
        "type": "AssumedRole", "principalId": "AROAEXAMPLE:example-user-1",
        "arn": "arn:aws:sts::111122223333:assumed-role/DataAnalystRole/example-user-1", "accountId": "111122223333",
        "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/DataAnalystRole",
                                             "userName": "DataAnalystRole"}},
        "onBehalfOf": {"userId": "user-123",
                       "identityStoreArn": "arn:aws:identitystore::111122223333:identitystore/d-1"},
    }
    row = one(tmp_path, record(userIdentity=identity))
    assert (row["actor_orig_uid"], row["actor_orig_name"]) == ("user-123", None)
    assert row["actor_session_issuer"] == "arn:aws:iam::111122223333:role/DataAnalystRole"


def test_aws_service_identity_and_non_ip_source(tmp_path: Path) -> None:
    identity = {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
    row = one(tmp_path, record(userIdentity=identity, sourceIPAddress="AWS Internal", eventName="Decrypt",
                               eventSource="kms.amazonaws.com", recipientAccountId="444455556666"))
    assert (row["actor_user_uid"], row["actor_user_name"]) == ("cloudtrail.amazonaws.com", "cloudtrail.amazonaws.com")
    assert row["actor_user_type"] == "AWSService"
    assert (row["actor_orig_uid"], row["actor_credential_uid"], row["actor_user_domain"]) == (None, None, None)
    assert (row["src_ip"], row["src_hostname"]) == (None, "AWS Internal")
    assert row["cloud_account_uid"] == "444455556666"


@pytest.mark.parametrize(
    ("identity", "uid", "name", "orig"),
    [
        ({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root",
          "accountId": "111122223333"}, "arn:aws:iam::111122223333:root", None, None),
        ({"type": "FederatedUser", "principalId": "111122223333:bob",
          "arn": "arn:aws:sts::111122223333:federated-user/bob", "accountId": "111122223333",
          "sessionContext": {"sessionIssuer": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                                               "userName": "alice"}}},
         "arn:aws:sts::111122223333:federated-user/bob", "bob", "arn:aws:iam::111122223333:user/alice"),
        ({"type": "AWSAccount", "principalId": "AIDAOTHER", "accountId": "999988887777"}, "AIDAOTHER", None, None),
        ({"type": "SAMLUser", "principalId": "SampleUkh1i4+ExamplexL/jEvs=:SamlExample", "userName": "SamlExample",
          "identityProvider": "bdGOnTesti4+ExamplexL/jEvs="},
         "SampleUkh1i4+ExamplexL/jEvs=:SamlExample", "SamlExample", None),
        ({"type": "SomethingNew", "principalId": "PID", "userName": "who"}, "PID", "who", None),
        ({}, None, None, None),
    ],
)
def test_other_identity_types(tmp_path: Path, identity: dict, uid: str | None, name: str | None,
                              orig: str | None) -> None:
    row = one(tmp_path, record(userIdentity=identity))
    assert (row["actor_user_uid"], row["actor_user_name"], row["actor_orig_uid"]) == (uid, name, orig)
    assert row["actor_user_type"] == identity.get("type")
    assert row["parse_error"] is None


def test_empty_strings_are_null(tmp_path: Path) -> None:
    identity = record()["userIdentity"] | {"accessKeyId": ""}
    row = one(tmp_path, record(userIdentity=identity))
    assert row["actor_credential_uid"] is None


# --------------------------------------------------------------------------------------------- what happened


def test_error_code_is_a_failure(tmp_path: Path) -> None:
    row = one(tmp_path, record(eventName="GetObject", errorCode="AccessDenied", errorMessage="Access Denied",
                               requestParameters={"bucketName": "logs", "key": "a/b.txt"}))
    assert (row["status_id"], row["status_code"], row["status_detail"]) == (2, "AccessDenied", "Access Denied")
    assert (row["resource_uid"], row["resource_type"]) == ("arn:aws:s3:::logs/a/b.txt", "AWS::S3::Object")


def test_console_login_failure(tmp_path: Path) -> None:
    row = one(tmp_path, record(eventName="ConsoleLogin", eventType="AwsConsoleSignIn",
                               eventSource="signin.amazonaws.com",
                               responseElements={"ConsoleLogin": "Failure"}, errorMessage="Failed authentication"))
    assert (row["class_uid"], row["activity_id"], row["status_id"]) == (3002, 1, 2)
    assert (row["status_code"], row["status_detail"]) == ("Failure", "Failed authentication")


def test_assume_role_issues_a_session(tmp_path: Path) -> None:
    rec = record(
        eventSource="sts.amazonaws.com", eventName="AssumeRole",
        requestParameters={"roleArn": "arn:aws:iam::111122223333:role/Admin", "roleSessionName": "alice-session"},
        responseElements={"credentials": {"accessKeyId": "ASIANEWKEY", "expiration": "Jan 2, 2024, 4:04:05 AM"},
                          "assumedRoleUser": {"assumedRoleId": "AROAROLEID:alice-session",
                                              "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice-session"}},
    )
    row = one(tmp_path, rec)
    assert (row["class_uid"], row["activity_id"], row["status_id"]) == (3002, 99, 1)
    assert (row["resource_uid"], row["resource_type"]) == ("arn:aws:iam::111122223333:role/Admin", "AWS::IAM::Role")
    assert row["target_session_uid"] == "arn:aws:sts::111122223333:assumed-role/Admin/alice-session"
    assert row["target_user_name"] == "alice-session"
    assert row["actor_user_name"] == "alice"  # who assumed the role
    assert json.loads(row["unmapped"])["responseElements"]["credentials"]["accessKeyId"] == "ASIANEWKEY"


def test_get_federation_token_targets_the_federated_user(tmp_path: Path) -> None:
    rec = record(eventSource="sts.amazonaws.com", eventName="GetFederationToken", requestParameters={"name": "bob"},
                 responseElements={"federatedUser": {"arn": "arn:aws:sts::111122223333:federated-user/bob"}})
    row = one(tmp_path, rec)
    assert (row["class_uid"], row["target_user_name"]) == (3002, "bob")
    assert row["target_session_uid"] == "arn:aws:sts::111122223333:federated-user/bob"


@pytest.mark.parametrize(
    ("source", "name", "class_uid", "activity"),
    [
        ("s3.amazonaws.com", "CreateBucket", 6003, 1),
        ("s3.amazonaws.com", "PutBucketPolicy", 6003, 1),
        ("ec2.amazonaws.com", "RunInstances", 6003, 1),
        ("dynamodb.amazonaws.com", "BatchGetItem", 6003, 2),
        ("s3.amazonaws.com", "ListBuckets", 6003, 2),
        ("ec2.amazonaws.com", "ModifyInstanceAttribute", 6003, 3),
        ("ec2.amazonaws.com", "StopInstances", 6003, 3),
        ("cloudtrail.amazonaws.com", "DeleteTrail", 6003, 4),
        ("ec2.amazonaws.com", "RevokeSecurityGroupIngress", 6003, 4),
        ("ec2.amazonaws.com", "Settle", 6003, 99),  # "Set" must be a whole verb
        ("kms.amazonaws.com", "Decrypt", 6003, 99),
        ("iam.amazonaws.com", "CreateUser", 3001, 1),
        ("iam.amazonaws.com", "DeleteUser", 3001, 6),
        ("iam.amazonaws.com", "UpdateLoginProfile", 3001, 4),
        ("iam.amazonaws.com", "AddUserToGroup", 3001, 7),
        ("iam.amazonaws.com", "DetachUserPolicy", 3001, 8),
        ("iam.amazonaws.com", "DeactivateMFADevice", 3001, 11),
        ("iam.amazonaws.com", "CreateRole", 6003, 1),  # roles are not accounts
        ("sts.amazonaws.com", "AssumeRoleWithSAML", 3002, 99),
        ("sts.amazonaws.com", "GetSessionToken", 3002, 99),
        ("sts.amazonaws.com", "GetCallerIdentity", 6003, 2),
    ],
)
def test_class_and_activity(tmp_path: Path, source: str, name: str, class_uid: int, activity: int) -> None:
    row = one(tmp_path, record(eventSource=source, eventName=name, requestParameters={"userName": "bob"}))
    assert (row["class_uid"], row["activity_id"]) == (class_uid, activity)
    assert row["target_user_name"] == ("bob" if class_uid == 3001 else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05"),
        ("2024-01-02T03:04:05.250Z", "2024-01-02T03:04:05.250"),
        ("2024-01-02T05:04:05+02:00", "2024-01-02T03:04:05"),
    ],
)
def test_event_time_to_utc(tmp_path: Path, text: str, expected: str) -> None:
    row = one(tmp_path, record(eventTime=text))
    assert (row["time"], row["time_original"], row["parse_error"]) == (utc(expected), text, None)
    assert row["time_us"] == int(utc(expected).timestamp() * 1_000_000)


def test_unparseable_event_time_is_a_parse_error(tmp_path: Path) -> None:
    row = one(tmp_path, record(eventTime="yesterday"))
    assert row["time"] is None
    assert row["parse_error"] == "eventTime does not parse: yesterday"
    assert row["api_operation"] == "ListBuckets"  # what could be mapped still is


def test_values_of_unexpected_types_become_text(tmp_path: Path) -> None:
    row = one(tmp_path, record(errorCode=403, userIdentity={"type": "IAMUser", "accountId": 111122223333,
                                                             "userName": {"first": "a"}}))
    assert (row["status_code"], row["status_id"]) == ("403", 2)
    assert row["actor_user_domain"] == "111122223333"
    assert row["actor_user_name"] == '{"first":"a"}'


# ----------------------------------------------------------------------------------------------------- layouts


def test_s3_delivery_file_gzipped_in_an_awslogs_tree(tmp_path: Path) -> None:
    folder = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2024" / "01" / "02"
    folder.mkdir(parents=True)
    records = [record(eventID=f"id-{i}", eventName=name) for i, name in enumerate(["CreateBucket", "DeleteBucket"])]
    text = json.dumps({"Records": records}, separators=(",", ":"))
    path = folder / "111122223333_CloudTrail_us-east-1_20240102T0305Z_abc.json.gz"
    path.write_bytes(gzip.compress(text.encode()))
    frame = load(tmp_path / "AWSLogs")  # a folder, sniffed through gzip
    assert frame["source_record_uid"].to_list() == ["id-0", "id-1"]
    assert frame["source_line"].to_list() == [1, 2]
    raws = [json.dumps(r, separators=(",", ":")) for r in records]
    assert frame["raw"].to_list() == raws
    assert frame["source_offset"].to_list() == [text.index(raws[0]), text.index(raws[1])]
    assert frame["activity_id"].to_list() == [1, 4]
    assert frame["source_stream"].to_list() == ["111122223333/us-east-1"] * 2
    assert frame["source_file"].to_list() == [str(path)] * 2


def test_an_empty_delivery_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text('{"Records": []}\n')
    frame = load(path)  # sniffed as CloudTrail
    assert frame.height == 0
    schema.validate(frame)


def test_lookup_events_document_form(tmp_path: Path) -> None:
    items = [{"EventId": f"e{i}", "EventName": "ListBuckets", "CloudTrailEvent": json.dumps(record(eventID=f"e{i}"))}
             for i in range(3)]
    path = tmp_path / "lookup.json"
    text = json.dumps({"Events": items, "NextToken": "abc"}, indent=2)
    path.write_text(text)
    frame = load(path)
    assert frame["source_record_uid"].to_list() == ["e0", "e1", "e2"]
    assert frame["parse_error"].null_count() == 3
    first = json.dumps(items[0], indent=2).replace("\n", "\n    ")  # as indented inside the array
    assert frame["raw"][0] == first
    assert frame["source_offset"][0] == text.index('{\n      "EventId": "e0"')


def test_pretty_printed_records_one_after_another(tmp_path: Path) -> None:
    path = tmp_path / "jq-output.json"
    path.write_text("".join(json.dumps(record(eventID=f"r{i}"), indent=2) + "\n" for i in range(3)))
    frame = load(path)
    assert frame["source_record_uid"].to_list() == ["r0", "r1", "r2"]
    assert frame["parse_error"].null_count() == 3


def test_crlf_lines_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "windows.jsonl"
    lines = [json.dumps(record(eventID=f"w{i}")) for i in range(2)]
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(line.encode() + b"\r\n" for line in lines))
    frame = load(path)
    assert frame["raw"].to_list() == lines
    assert frame["source_offset"].to_list() == [3, 3 + len(lines[0]) + 2]
    assert frame["parse_error"].null_count() == 2


# ------------------------------------------------------------------------------------------------- bad input


def test_a_cut_array_keeps_what_came_before(tmp_path: Path) -> None:
    records = [record(eventID=f"c{i}") for i in range(4)]
    text = json.dumps(records, indent=3)
    cut = text.index('"c2"')
    path = tmp_path / "cut.json"
    path.write_text(text[:cut])
    frame = load(path, format="cloudtrail")
    assert frame.height == 3
    assert frame["source_record_uid"].to_list()[:2] == ["c0", "c1"]
    assert frame["parse_error"].null_count() == 2
    last = frame.row(2, named=True)
    start = text.index("{", text.index('"c1"'))
    start = text.rindex("{\n      \"eventVersion\"", 0, cut)
    assert last["source_offset"] == start
    assert last["raw"] == text[start:cut]
    assert last["parse_error"].startswith("JSON document broken at byte")
    assert last["source_line"] == 3


def test_an_invalid_line_among_good_lines(tmp_path: Path) -> None:
    good = [json.dumps(record(eventID=f"g{i}")) for i in range(3)]
    path = jsonl(tmp_path, good[0], '{"eventName": "Cut', "", good[1], "[1, 2]", good[2])
    frame = load(path)
    assert frame["source_line"].to_list() == [1, 2, 4, 5, 6]
    errors = frame["parse_error"].to_list()
    assert [errors[0], errors[2], errors[4]] == [None, None, None]
    assert errors[1].startswith("invalid JSON")
    assert errors[3] == "not a JSON object: list"
    assert frame["raw"][1] == '{"eventName": "Cut'


def test_valid_json_that_is_not_a_record(tmp_path: Path) -> None:
    frame = load(jsonl(tmp_path, record(), {"hello": "world"}), format="cloudtrail")
    row = frame.row(1, named=True)
    assert row["parse_error"] == "not a CloudTrail record: it has no eventName or no eventTime"
    assert row["raw"] == '{"hello": "world"}'
    assert json.loads(row["unmapped"]) == {"hello": "world"}


def test_deep_nesting(tmp_path: Path) -> None:
    head = '{"eventName": "x", "eventTime": "2024-01-01T00:00:00Z", "requestParameters": '
    deep = head + "[" * 5000 + "]" * 5000 + "}"
    frame = load(jsonl(tmp_path, record(eventID="before"), deep, record(eventID="after")), format="cloudtrail")
    assert frame["source_record_uid"].to_list() == ["before", None, "after"]
    assert "invalid JSON" in frame["parse_error"][1]
    assert frame["raw"][1] == deep
    # 300 levels parse (orjson allows 1024) but orjson cannot encode them again: unmapped falls back to json
    middle = head + "[" * 300 + "]" * 300 + "}"
    row = load(jsonl(tmp_path, middle, name="middle.jsonl"), format="cloudtrail").row(0, named=True)
    assert row["parse_error"] is None
    assert json.loads(row["unmapped"])["requestParameters"] is not None


def test_deep_nesting_in_a_document_ends_it(tmp_path: Path) -> None:
    text = "[" + json.dumps(record(eventID="ok")) + ', {"a": ' + "[" * 5000 + "]" * 5000 + "}]"
    path = tmp_path / "deep.json"
    path.write_text(text)
    frame = load(path, format="cloudtrail")
    assert frame.height == 2
    assert frame["source_record_uid"][0] == "ok"
    assert "nesting too deep" in frame["parse_error"][1]


def test_invalid_utf8_is_flagged_and_still_mapped(tmp_path: Path) -> None:
    line = json.dumps(record(userAgent="agent-X")).encode().replace(b"agent-X", b"agent-\xff")
    path = tmp_path / "bad.jsonl"
    path.write_bytes(json.dumps(record(eventID="a")).encode() + b"\n" + line + b"\n")
    frame = load(path)
    assert frame.height == 2
    row = frame.row(1, named=True)
    bad = line.index(b"\xff")
    assert row["parse_error"] == f"invalid UTF-8 at byte {bad}"
    assert "agent-\\xff" in row["raw"]
    assert row["api_operation"] == "ListBuckets"
    assert json.loads(row["unmapped"])["userAgent"] == "agent-\ufffd"


def test_invalid_utf8_in_a_document_spoils_only_its_record(tmp_path: Path) -> None:
    parts = [json.dumps(record(eventID=f"u{i}")).encode() for i in range(3)]
    parts[1] = parts[1].replace(b"aws-cli/2", b"aws-cli/\xfe")
    path = tmp_path / "bad.json"
    data = b"[" + b",\n".join(parts) + b"]"
    path.write_bytes(data)
    frame = load(path, format="cloudtrail")
    assert frame["source_record_uid"].to_list() == ["u0", "u1", "u2"]
    assert frame["parse_error"].to_list()[0] is None
    assert frame["parse_error"][1].startswith("invalid UTF-8")
    assert frame["source_offset"].to_list() == [data.index(p) for p in parts]


def test_corrupt_gzip_adds_a_row_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a fault loses the block being decompressed: small chunks make sure that some records come before it
    monkeypatch.setattr(_json_records, "CHUNK_BYTES", 64 * 1024)
    lines = [json.dumps(record(eventID=f"z{i}", userAgent=f"agent {i * 7919}")) for i in range(2000)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "trail.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    frame = load(path, format="cloudtrail")
    last = frame.row(-1, named=True)
    assert str(path) in last["parse_error"]
    assert "decompressed bytes" in last["parse_error"]
    clean = frame.filter(pl.col("parse_error").is_null())
    assert 0 < clean.height < 2000
    assert clean["source_record_uid"].to_list() == [f"z{i}" for i in range(clean.height)]
    assert frame.height - clean.height in (1, 2)  # the read error, and the line it cut (if any)


def test_sniffer() -> None:
    head = sample(CT, STOP).read_bytes()[:65536]
    assert cloudtrail.sniff(head)
    assert cloudtrail.sniff(sample(CT, LOOKUP).read_bytes()[:65536])
    assert cloudtrail.sniff(b'\xef\xbb\xbf{"Records": [\n]}')
    assert not cloudtrail.sniff(b"type=DAEMON_START msg=audit(1700000000.000:1): op=start ver=3.0 auid=4294967295\n")
    assert not cloudtrail.sniff(b'{"name": "eventName", "eventName": "x", "values": [1, 2]}\n')
    assert not cloudtrail.sniff(b'{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": '
                                b'"ObjectCreated:Put", "eventTime": "2024-01-01T00:00:00.000Z"}]}')
    assert not cloudtrail.sniff(b"eventName eventSource amazonaws.com")  # not JSON


def test_fields_agree_with_a_plain_walk_of_the_paths() -> None:
    rec = record(resources=[{"ARN": "arn:x", "type": "T"}], requestParameters={"userName": "u", "key": "k"},
                 userIdentity={"sessionContext": {"sessionIssuer": {"arn": "i"}, "sourceIdentity": "s"}})
    records = [rec, {"resources": "no", "userIdentity": [1]}, {}]
    for rec in records:
        assert cloudtrail._RECORD.row(rec) == tuple(walk(rec, p) for p in cloudtrail._FIELDS.values())


# ------------------------------------------------------------------------------------------ damage properties
#
# The record accounting is tests/_damage.py's, shared by the JSON loaders: in JSON lines, one row per non-blank
# line, with its number, offset and text; in documents, every record before the damage unchanged, at most one row
# for the broken rest, and nothing dropped between the rows.


def lines_sample(name: str) -> bytes:
    data = sample(CT, name).read_bytes()
    if name == STEAL:  # its first records as JSON lines
        data = b"".join(json.dumps(r).encode() + b"\n" for r in json.loads(data)[:12])
    return data


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and ("eventName" in value or "CloudTrailEvent" in value)


@pytest.mark.samples
@given(name=st.sampled_from([LOOKUP, STEAL]), mutation=mutations())
def test_property_json_lines_one_row_per_non_blank_line(
    name: str, mutation: Mutation, tmp_path_factory: pytest.TempPathFactory
) -> None:
    check_damaged_lines(lines_sample(name), mutation, tmp_path_factory.mktemp("lines"), "cloudtrail", _is_record)


@pytest.mark.samples
@given(mutation=mutations())
def test_property_documents_keep_every_record_before_the_damage(
    mutation: Mutation, tmp_path_factory: pytest.TempPathFactory
) -> None:
    original = sample(CT, STEAL).read_bytes()
    check_damaged_array(original, "eventID", mutation, tmp_path_factory.mktemp("docs"), "cloudtrail")


def test_records_reader_batches_and_provenance(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("".join(f'{{"n": {i}}}\n' for i in range(25)))
    batches = list(_json_records.read(Source(path, None), batch_rows=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [v["n"] for b in batches for v in b.value] == list(range(25))
    assert batches[0].raw[0] == b'{"n": 0}'
    assert batches[2].line == [21, 22, 23, 24, 25]


@pytest.mark.parametrize("chunk_bytes", [64, 1000, 1 << 20])
def test_documents_across_read_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int) -> None:
    # records spanning many reads, multi-byte characters and a bad byte: offsets stay exact byte offsets
    monkeypatch.setattr(_json_records, "CHUNK_BYTES", chunk_bytes)
    records = [record(eventID=f"d{i}", userAgent="agent \u00e9\u4e2d\U0001f600 " * (i % 5)) for i in range(40)]
    parts = [json.dumps(r, indent=2, ensure_ascii=False).encode() for r in records]
    parts[7] = parts[7].replace(b'"d7"', b'"d7\xff"')
    data = b'{\n  "Records": [\n' + b",\n".join(parts) + b'\n  ]\n}\n'
    path = tmp_path / "big.json"
    path.write_bytes(data)
    frame = load(path, format="cloudtrail")
    assert frame.height == 40
    assert frame["source_offset"].to_list() == [data.index(p) for p in parts]
    assert frame["source_line"].to_list() == list(range(1, 41))
    errors = frame["parse_error"].to_list()
    assert errors[7].startswith("invalid UTF-8")
    assert errors[:7] + errors[8:] == [None] * 39
    assert frame["raw"][3].encode() == parts[3]
    assert frame["source_record_uid"][39] == "d39"


def test_files_without_records(tmp_path: Path) -> None:
    for name, content in [("empty.jsonl", b""), ("blank.jsonl", b"\n  \n\r\n"), ("empty-array.json", b"[]\n")]:
        path = tmp_path / name
        path.write_bytes(content)
        assert load(path, format="cloudtrail").height == 0


def test_a_long_line_and_nul_bytes(tmp_path: Path) -> None:
    long = json.dumps(record(eventID="long", requestParameters={"policy": "x" * 5_000_000}))
    path = jsonl(tmp_path, long, '{"eventName": "A\\u0000B"}', '{"eventName": "raw \u0000 is not JSON"}')
    frame = load(path, format="cloudtrail")
    assert frame["source_record_uid"][0] == "long"
    assert frame["parse_error"][0] is None
    assert frame["raw"][0] == long
    assert frame["api_operation"][1] == "A\u0000B"  # an escaped NUL is a character like any other
    assert frame["parse_error"][2].startswith("invalid JSON")
    assert frame["raw"][2] == '{"eventName": "raw \u0000 is not JSON"}'
