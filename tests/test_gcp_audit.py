"""The GCP Cloud Audit Logs loader: every sample entry accounted for, golden mappings, edge cases, damage properties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from auditlab import schema
from auditlab.load import gcp_audit
from tests._damage import Mutation, check_damaged_array, check_damaged_lines, mutations
from tests._json_loaders import by_id, jsonl, load, one, utc, walk
from tests.conftest import sample

GCP = "gcp_audit"
PLASO = "plaso_gcp_logging.jsonl"
AUDIT_LOG = "type.googleapis.com/google.cloud.audit.AuditLog"


def sample_entries() -> list[dict[str, Any]]:
    """The entries of the sample, parsed with the standard library (independently of the loader)."""
    text = sample(GCP, PLASO).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def entry(method: str = "storage.buckets.get", **payload: Any) -> dict[str, Any]:
    """A minimal audit log entry (alice calls ``method``) with protoPayload members replaced (None removes one)."""
    proto = {
        "@type": AUDIT_LOG,
        "status": {},
        "authenticationInfo": {"principalEmail": "alice@example.com"},
        "requestMetadata": {"callerIp": "203.0.113.7", "callerSuppliedUserAgent": "google-cloud-sdk gcloud/470.0.0"},
        "serviceName": "storage.googleapis.com",
        "methodName": method,
        "resourceName": "projects/_/buckets/logs",
    }
    proto.update(payload)
    return {
        "insertId": "abc123",
        "logName": "projects/p1/logs/cloudaudit.googleapis.com%2Factivity",
        "protoPayload": {k: v for k, v in proto.items() if v is not None},
        "receiveTimestamp": "2024-01-02T03:04:05.900Z",
        "resource": {"type": "gcs_bucket", "labels": {"project_id": "p1", "bucket_name": "logs",
                                                      "location": "us-east1"}},
        "severity": "NOTICE",
        "timestamp": "2024-01-02T03:04:05.123456789Z",
    }


# ------------------------------------------------------------------------------------------- every sample entry


@pytest.mark.samples
def test_every_sample_entry_loads_cleanly() -> None:
    path = sample(GCP, PLASO)
    entries = sample_entries()
    frame = load(path)  # the format is sniffed
    schema.validate(frame)
    assert frame.height == len(entries) == 11
    assert frame["parse_error"].null_count() == frame.height
    assert frame["source_type"].unique().to_list() == ["gcp_audit"]
    assert frame["source_record_uid"].to_list() == [e["insertId"] for e in entries]
    assert frame["time_original"].to_list() == [e["timestamp"] for e in entries]
    assert frame["source_line"].to_list() == list(range(1, frame.height + 1))
    data = path.read_bytes()
    for raw, offset in frame.select("raw", "source_offset").iter_rows():
        assert data[offset : offset + len(raw.encode())] == raw.encode()
        json.loads(raw)
    assert frame["time"].null_count() == 0
    audit = [e.get("protoPayload", {}).get("@type") == AUDIT_LOG for e in entries]
    assert [c != 0 for c in frame["class_uid"].to_list()] == audit
    assert [a is not None for a in frame["actor_user_uid"].to_list()] == audit
    assert frame["cloud_account_uid"].null_count() == 0
    assert frame["source_seq"].null_count() == frame.height


# ------------------------------------------------------------------------------------------------------- golden


@pytest.mark.samples
def test_golden_create_service_account() -> None:
    row = by_id(load(sample(GCP, PLASO)), "8loeppebz7wc")
    assert (row["api_operation"], row["api_service"]) == ("google.iam.admin.v1.CreateServiceAccount",
                                                          "iam.googleapis.com")
    assert (row["class_uid"], row["activity_id"], row["status_id"], row["status_code"]) == (3001, 1, 1, None)
    assert (row["actor_user_uid"], row["actor_user_name"]) == ("fakeemailxyz@gmail.com", "fakeemailxyz@gmail.com")
    assert (row["actor_user_type"], row["actor_user_domain"]) == ("User", "gmail.com")
    assert (row["actor_orig_uid"], row["actor_orig_name"]) == (None, None)
    assert (row["actor_session_uid"], row["actor_credential_uid"]) == (None, None)
    assert row["target_user_name"] == "test-1@fake-project.iam.gserviceaccount.com"  # the account created
    assert (row["resource_uid"], row["resource_type"]) == ("projects/fake-project", "service_account")
    assert row["time"] == utc("2021-10-19T02:43:48.064377")
    assert row["time_original"] == "2021-10-19T02:43:48.064377809Z"
    assert (row["cloud_account_uid"], row["cloud_region"]) == ("fake-project", None)
    assert row["event_code"] == "cloudaudit.googleapis.com/activity"
    assert row["source_stream"] == "projects/fake-project/logs/cloudaudit.googleapis.com/activity"
    assert (row["src_ip"], row["src_hostname"]) == ("1.1.1.1", None)
    unmapped = json.loads(row["unmapped"])
    assert unmapped["severity"] == "NOTICE"
    assert unmapped["protoPayload"]["authenticationInfo"] == {"principalSubject": "user:fakeemailxyz@gmail.com"}
    assert unmapped["protoPayload"]["requestMetadata"]["callerSuppliedUserAgent"] == "UserAgent"
    assert unmapped["protoPayload"]["request"]["account_id"] == "test-1"
    assert unmapped["resource"] == {"labels": {"email_id": "test-1@fake-project.iam.gserviceaccount.com",
                                               "unique_id": "103128253349260544953"}}
    assert "methodName" not in unmapped["protoPayload"]
    assert "insertId" not in unmapped


@pytest.mark.samples
def test_golden_denied_attacker_service_account() -> None:
    row = by_id(load(sample(GCP, PLASO)), "1awjxggeaxqgz")
    assert (row["class_uid"], row["activity_id"]) == (3001, 1)
    assert (row["status_id"], row["status_code"]) == (2, "7")  # PERMISSION_DENIED
    assert row["status_detail"] == 'Permission "iam.serviceAccounts.create" denied on resource (or it may not exist).'
    assert row["actor_user_name"] == "dvwa-service-account@ketchup.iam.gserviceaccount.com"
    assert (row["actor_user_type"], row["actor_user_domain"]) == ("ServiceAccount", "ketchup.iam.gserviceaccount.com")
    # the start of the delegation chain: the VM's service agent obtained the service account's token
    assert row["actor_orig_uid"] == "service-1234567890@compute-system.iam.gserviceaccount.com"
    assert row["actor_orig_name"] == "service-1234567890@compute-system.iam.gserviceaccount.com"
    assert row["target_user_name"] == "theattacker"  # the account asked for, never created
    assert row["src_ip"] == "34.72.217.225"
    assert row["cloud_account_uid"] == "ketchup"
    assert row["time"] == utc("2024-12-03T17:58:44.882119")
    unmapped = json.loads(row["unmapped"])
    assert unmapped["severity"] == "ERROR"
    assert unmapped["protoPayload"]["status"]["details"][0]["reason"] == "IAM_PERMISSION_DENIED"
    assert "code" not in unmapped["protoPayload"]["status"]


@pytest.mark.samples
def test_golden_instance_created_through_a_delegation_chain() -> None:
    row = by_id(load(sample(GCP, PLASO)), "-duywnve29mpi")
    assert (row["api_operation"], row["class_uid"], row["activity_id"], row["status_id"]) == (
        "beta.compute.instances.insert", 6003, 1, 1)
    assert row["actor_user_name"] == "fake-account@fake-project.com"
    assert (row["actor_orig_uid"], row["actor_orig_name"]) == ("service-account-one@fake-project.com",
                                                               "service-account-one@fake-project.com")
    assert row["resource_uid"] == "projects/1234567890/zones/us-central1-b/instances/fake-compute-instance"
    assert (row["resource_type"], row["cloud_region"]) == ("gce_instance", "us-central1-b")
    assert row["time"] == utc("2024-04-26T20:10:10.024055")
    unmapped = json.loads(row["unmapped"])
    chain = unmapped["protoPayload"]["authenticationInfo"]["serviceAccountDelegationInfo"]
    assert [d["firstPartyPrincipal"]["principalEmail"] for d in chain] == [
        "service-account-one@fake-project.com", "service-account-two@fake-project.com"]
    assert unmapped["labels"]["compute.googleapis.com/root_trigger_id"] == "b0966c41-45b9-4484-b3b9-b436bfdde977"
    assert unmapped["operation"]["first"] is True


@pytest.mark.samples
def test_golden_open_firewall_rule() -> None:
    frame = load(sample(GCP, PLASO))
    first, last = by_id(frame, "-xa4ip4e4rhyi"), by_id(frame, "-tehlutdkc4c")  # a long-running operation's pair
    for row in (first, last):
        assert (row["api_operation"], row["activity_id"]) == ("v1.compute.firewalls.insert", 1)
        assert row["resource_uid"] == "projects/fake-project/global/firewalls/test"
        assert row["actor_user_name"] == "fakeemailxyz@gmail.com"
    assert first["cloud_region"] == "global"  # resourceLocation.currentLocations
    assert last["cloud_region"] is None
    request = json.loads(first["unmapped"])["protoPayload"]["request"]
    assert (request["sourceRanges"], request["alloweds"]) == (["0.0.0.0/0"], [{"IPProtocol": "tcp",
                                                                               "ports": ["3389"]}])
    assert first["time"] < last["time"]


@pytest.mark.samples
def test_golden_entries_that_are_not_audit_logs() -> None:
    frame = load(sample(GCP, PLASO))
    structured, text = by_id(frame, "1k28f3cfv7aknt"), by_id(frame, "1io3yo2fursxdi")
    for row in (structured, text):
        assert (row["class_uid"], row["activity_id"], row["status_id"]) == (0, 0, None)
        assert (row["actor_user_uid"], row["api_operation"], row["parse_error"]) == (None, None, None)
        assert (row["event_code"], row["source_stream"]) == ("testlog", "projects/fake-project/logs/testlog")
        assert (row["resource_type"], row["cloud_account_uid"]) == ("generic_node", "fake-project")
    assert json.loads(structured["unmapped"])["jsonPayload"]["actor"] == {"user": "fakeemailxyz@gmail.com"}
    assert json.loads(text["unmapped"])["textPayload"] == "This is a text payload"
    assert text["time"] == utc("2021-10-19T02:04:00.272384")


# --------------------------------------------------------------------------------------------- who and what


def test_set_iam_policy_grants_and_revokes(tmp_path: Path) -> None:
    def policy(*deltas: tuple[str, str]) -> dict:
        data = {"@type": "type.googleapis.com/google.iam.v1.logging.AuditData",
                "policyDelta": {"bindingDeltas": [{"action": a, "role": "roles/owner", "member": m}
                                                  for a, m in deltas]}}
        return entry("SetIamPolicy", serviceName="cloudresourcemanager.googleapis.com",
                     resourceName="projects/p1", serviceData=data)

    records = [
        policy(("ADD", "user:mallory@example.com")),
        policy(("REMOVE", "user:bob@example.com"), ("REMOVE", "group:ops@example.com")),
        policy(("ADD", "serviceAccount:ci@p1.iam.gserviceaccount.com"), ("REMOVE", "user:bob@example.com")),
        entry("SetIamPolicy", serviceName="cloudresourcemanager.googleapis.com"),
        entry("google.iam.admin.v1.SetIAMPolicy", serviceName="iam.googleapis.com"),
        entry("storage.setIamPermissions"),
    ]
    frame = load(jsonl(tmp_path, *records))
    assert frame["class_uid"].to_list() == [3005, 3005, 3005, 3005, 3005, 6003]
    assert frame["activity_id"].to_list() == [1, 2, 99, 99, 99, 3]
    assert frame["target_user_name"].to_list() == [
        "user:mallory@example.com", "user:bob@example.com", "serviceAccount:ci@p1.iam.gserviceaccount.com",
        None, None, None]
    kept = json.loads(frame["unmapped"][0])["protoPayload"]["serviceData"]["policyDelta"]["bindingDeltas"]
    assert kept == [{"action": "ADD", "role": "roles/owner", "member": "user:mallory@example.com"}]


def test_service_account_impersonation_issues_a_token(tmp_path: Path) -> None:
    sa = "deployer@p1.iam.gserviceaccount.com"
    row = one(tmp_path, entry("GenerateAccessToken", serviceName="iamcredentials.googleapis.com",
                              resourceName=f"projects/-/serviceAccounts/{sa}"))
    assert (row["class_uid"], row["activity_id"]) == (3002, 99)
    assert row["target_user_name"] == sa
    assert row["actor_user_name"] == "alice@example.com"


@pytest.mark.parametrize(
    ("method", "activity", "target"),
    [
        ("google.iam.admin.v1.DeleteServiceAccount", 6, "ci@p1.iam.gserviceaccount.com"),
        ("google.iam.admin.v1.DisableServiceAccount", 5, "ci@p1.iam.gserviceaccount.com"),
        ("google.iam.admin.v1.EnableServiceAccount", 2, "ci@p1.iam.gserviceaccount.com"),
        ("google.iam.admin.v1.CreateServiceAccountKey", 99, "ci@p1.iam.gserviceaccount.com"),
    ],
)
def test_service_account_lifecycle(tmp_path: Path, method: str, activity: int, target: str) -> None:
    row = one(tmp_path, entry(method, serviceName="iam.googleapis.com",
                              resourceName="projects/p1/serviceAccounts/ci@p1.iam.gserviceaccount.com/keys/k1"))
    assert (row["class_uid"], row["activity_id"], row["target_user_name"]) == (3001, activity, target)


@pytest.mark.parametrize(
    ("method", "activity"),
    [
        ("v1.compute.instances.insert", 1), ("storage.objects.create", 1), ("BatchCreateInstances", 1),
        ("storage.objects.get", 2), ("v1.compute.instances.aggregatedList", 2), ("ListLogEntries", 2),
        ("google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion", 2),
        ("v1.compute.instances.setMetadata", 3), ("storage.buckets.update", 3), ("io.k8s.core.v1.pods.patch", 3),
        ("v1.compute.instances.stop", 3),
        ("storage.buckets.delete", 4), ("google.logging.v2.ConfigServiceV2.DeleteSink", 4),
        ("jobservice.jobcompleted", 99), ("Settle", 99), ("batch", 99),
    ],
)
def test_activity_from_the_method_verb(tmp_path: Path, method: str, activity: int) -> None:
    row = one(tmp_path, entry(method))
    assert (row["class_uid"], row["activity_id"], row["api_operation"]) == (6003, activity, method)


@pytest.mark.parametrize(
    ("status", "status_id", "code"),
    [({}, 1, None), (None, 1, None), ({"code": 0}, 1, "0"), ({"code": 7, "message": "denied"}, 2, "7"),
     ({"code": 16}, 2, "16")],
)
def test_status(tmp_path: Path, status: dict | None, status_id: int, code: str | None) -> None:
    row = one(tmp_path, entry(status=status))
    assert (row["status_id"], row["status_code"]) == (status_id, code)


@pytest.mark.parametrize(
    ("caller", "ip", "hostname"),
    [("private", None, "private"), ("gce-internal-ip", None, "gce-internal-ip"), ("2001:db8::1", "2001:db8::1", None),
     ("010.1.1.1", None, "010.1.1.1")],
)
def test_caller_ip_or_name(tmp_path: Path, caller: str, ip: str | None, hostname: str | None) -> None:
    row = one(tmp_path, entry(requestMetadata={"callerIp": caller}))
    assert (row["src_ip"], row["src_hostname"]) == (ip, hostname)


def test_identities_without_email(tmp_path: Path) -> None:
    subject = "principal://iam.googleapis.com/locations/global/workforcePools/corp/subject/alice"
    third = {"thirdPartyPrincipal": {"thirdPartyClaims": {"iss": "https://token.actions.githubusercontent.com",
                                                          "sub": "repo:org/app:ref:refs/heads/main"}}}
    rows = load(jsonl(
        tmp_path,
        entry(authenticationInfo={"principalSubject": subject}),
        entry(authenticationInfo={"principalEmail": "ci@p1.iam.gserviceaccount.com",
                                  "serviceAccountKeyName": "//iam.googleapis.com/projects/p1/serviceAccounts/"
                                                           "ci@p1.iam.gserviceaccount.com/keys/0123abcd",
                                  "serviceAccountDelegationInfo": [third]}),
        entry(authenticationInfo={"principalEmail": "ci@p1.iam.gserviceaccount.com",
                                  "serviceAccountDelegationInfo": [{"principalSubject": "user:bob@example.com"}]}),
        entry(authenticationInfo={}),
    )).rows(named=True)
    assert (rows[0]["actor_user_uid"], rows[0]["actor_user_name"], rows[0]["actor_user_type"]) == (
        subject, subject, "Federated")
    assert rows[0]["actor_user_domain"] is None
    assert rows[1]["actor_credential_uid"].endswith("/keys/0123abcd")
    assert json.loads(rows[1]["actor_orig_uid"]) == third["thirdPartyPrincipal"]["thirdPartyClaims"]
    assert rows[1]["actor_orig_name"] is None
    assert (rows[2]["actor_orig_uid"], rows[2]["actor_orig_name"]) == ("user:bob@example.com", "user:bob@example.com")
    assert (rows[3]["actor_user_uid"], rows[3]["actor_user_type"]) == (None, None)  # redacted or anonymous
    assert rows[3]["parse_error"] is None


def test_where_it_happened(tmp_path: Path) -> None:
    zoned = entry()
    zoned["resource"]["labels"] |= {"zone": "europe-west1-b", "region": "europe-west1"}
    located = entry(resourceLocation={"currentLocations": ["asia-east1"]})
    located["resource"] = {"type": "audited_resource", "labels": {"service": "x"}}
    org = entry()
    org["logName"] = "organizations/123456/logs/cloudaudit.googleapis.com%2Fpolicy"
    del org["resource"]
    frame = load(jsonl(tmp_path, zoned, located, org))
    assert frame["cloud_region"].to_list() == ["europe-west1-b", "asia-east1", None]
    assert frame["cloud_account_uid"].to_list() == ["p1", "p1", None]  # the second: from logName
    assert frame["event_code"].to_list() == ["cloudaudit.googleapis.com/activity"] * 2 + [
        "cloudaudit.googleapis.com/policy"]
    assert frame["source_stream"][2] == "organizations/123456/logs/cloudaudit.googleapis.com/policy"


# ----------------------------------------------------------------------------------------------------- layouts


@pytest.mark.samples
def test_gcloud_array_and_api_response_layouts(tmp_path: Path) -> None:
    entries = sample_entries()
    layouts = {"gcloud.json": json.dumps(entries, indent=2),
               "api.json": json.dumps({"entries": entries, "nextPageToken": "tok"})}
    for name, text in layouts.items():
        path = tmp_path / name
        path.write_text(text)
        frame = load(path)  # sniffed
        assert frame["source_record_uid"].to_list() == [e["insertId"] for e in entries], name
        assert frame["parse_error"].null_count() == len(entries), name
        assert frame["source_line"].to_list() == list(range(1, len(entries) + 1))
        for raw, offset in frame.select("raw", "source_offset").iter_rows():
            assert json.loads(text[offset : offset + len(raw)]) == json.loads(raw)


# ------------------------------------------------------------------------------------------------- bad input


def test_bad_lines_among_good_ones(tmp_path: Path) -> None:
    good = [json.dumps(entry() | {"insertId": f"g{i}"}) for i in range(3)]
    no_log = json.dumps({"insertId": "n", "timestamp": "2024-01-02T03:04:05Z", "textPayload": "x"})
    bad_time = json.dumps(entry() | {"insertId": "t", "timestamp": "02/01/2024"})
    path = tmp_path / "entries.jsonl"
    path.write_text(f"{good[0]}\n\n{good[1]}\n{{\"insertId\": \n\"x\"\n{no_log}\n{bad_time}\n{good[2][:50]}")
    frame = load(path, format="gcp_audit")
    assert frame["source_line"].to_list() == [1, 3, 4, 5, 6, 7, 8]
    assert frame["source_record_uid"].to_list() == ["g0", "g1", None, None, "n", "t", None]
    errors = frame["parse_error"].to_list()
    assert errors[:2] == [None, None]
    assert errors[2].startswith("invalid JSON")
    assert errors[3] == "not a JSON object: str"
    assert errors[4] == "not a Cloud Logging entry: it has no logName or no timestamp"
    assert errors[5] == "the timestamp does not parse: 02/01/2024"
    assert frame["api_operation"][5] == "storage.buckets.get"  # what could be mapped still is
    assert errors[6].startswith("invalid JSON")
    assert frame["class_uid"].to_list()[2:5] == [None, None, None]


@pytest.mark.samples
def test_a_cut_gcloud_array_keeps_what_came_before(tmp_path: Path) -> None:
    text = json.dumps(sample_entries(), indent=2)
    cut = text.index('"1k28f3cfv7aknt"')
    path = tmp_path / "cut.json"
    path.write_text(text[:cut])
    frame = load(path)
    assert frame.height == 8
    assert frame["parse_error"].null_count() == 7
    assert frame["parse_error"][7].startswith("JSON document broken")
    assert frame["raw"][7] == text[text.rindex("{\n", 0, cut) : cut]


def test_deep_nesting_and_invalid_utf8(tmp_path: Path) -> None:
    deep = json.dumps(entry(request=0)).replace('"request": 0', '"request": ' + "[" * 5000 + "]" * 5000)
    bad = json.dumps(entry(requestMetadata={"callerIp": "1.2.3.4", "callerSuppliedUserAgent": "agent-X"})).encode()
    bad = bad.replace(b"agent-X", b"agent-\xfe")
    path = tmp_path / "entries.jsonl"
    path.write_bytes(deep.encode() + b"\n" + bad + b"\n" + json.dumps(entry()).encode())
    frame = load(path)
    assert frame.height == 3
    assert "invalid JSON" in frame["parse_error"][0]
    assert frame["raw"][0] == deep
    assert frame["parse_error"][1] == f"invalid UTF-8 at byte {bad.index(b'agent-') + 6}"
    assert frame["src_ip"][1] == "1.2.3.4"
    assert frame["parse_error"][2] is None


# ---------------------------------------------------------------------------------------------------- sniffing


@pytest.mark.samples
def test_sniffer_rejects_every_other_sample() -> None:
    root = sample()
    others = sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name != GCP and p.parent != root)
    assert len(others) >= 10
    assert [p.name for p in others if gcp_audit.sniff(p.read_bytes()[:65536])] == []
    assert gcp_audit.sniff(sample(GCP, PLASO).read_bytes()[:65536])


def test_sniffer_edge_cases() -> None:
    assert gcp_audit.sniff(b'[\n  {\n    "insertId": "x",\n    "logName": "folders/12/logs/cloudaudit.googleapis.com'
                           b'%2Fdata_access"')
    assert gcp_audit.sniff(b'{"entries": [{"logName": "billingAccounts/0-1/logs/x"}]}')
    assert gcp_audit.sniff(b'{"protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog"}}')
    assert not gcp_audit.sniff(b'{"logName": "projects/p"}')  # not a log's name
    assert not gcp_audit.sniff(b'{"message": "logName: projects/p/logs/x"}')
    assert not gcp_audit.sniff(b'logName "projects/p/logs/x"')  # not JSON


def test_fields_agree_with_a_plain_walk_of_the_paths() -> None:
    chain = [{"firstPartyPrincipal": {"principalEmail": "a"}, "principalSubject": "s"}]
    full = entry(authenticationInfo={"principalEmail": "e", "serviceAccountDelegationInfo": chain},
                 resourceLocation={"currentLocations": ["l"]}, request={"account_id": "x"})
    for rec in [full, {"protoPayload": "no", "resource": [1]}, {}]:
        assert gcp_audit._RECORD.row(rec) == tuple(walk(rec, p) for p in gcp_audit._FIELDS.values())


# ------------------------------------------------------------------------------------------ damage properties
#
# The record accounting (tests/_damage.py): in JSON lines, one row per non-blank line, with its number, offset and
# text, and a clean row only for a line that parses into an object with a logName and a timestamp; in a gcloud
# array, every entry before the damage unchanged and at most one more row, holding the rest of the file.


def is_entry(value: Any) -> bool:
    return isinstance(value, dict) and "logName" in value and "timestamp" in value


@pytest.mark.samples
@given(mutation=mutations())
def test_property_json_lines_one_row_per_non_blank_line(
    mutation: Mutation, tmp_path_factory: pytest.TempPathFactory
) -> None:
    original = sample(GCP, PLASO).read_bytes()
    check_damaged_lines(original, mutation, tmp_path_factory.mktemp("lines"), "gcp_audit", is_entry)


@pytest.mark.samples
@given(mutation=mutations())
def test_property_gcloud_arrays_keep_every_entry_before_the_damage(
    mutation: Mutation, tmp_path_factory: pytest.TempPathFactory
) -> None:
    text = json.dumps(sample_entries(), indent=2)  # ASCII: json.dumps escapes
    check_damaged_array(text.encode(), "insertId", mutation, tmp_path_factory.mktemp("docs"), "gcp_audit")
