"""Identity stitching, timelines and sessions: real samples, a hand-written intrusion, every backend, properties."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import auditlab as al
from auditlab import InvalidArgument, SchemaError, schema
from auditlab.identity import STITCH_COLUMNS
from auditlab.timeline import SESSION_COLUMNS, TIMELINE_COLUMNS
from tests import _incident
from tests.conftest import sample, to_polars

RUNAS = ("windows_evtx", "E2M__ID4688_4648_4624-Runas_execution_with_different_user.evtx")


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    return _incident.load(tmp_path_factory.mktemp("incident"))


@pytest.fixture(scope="module")
def mixed(incident: pl.DataFrame) -> pl.DataFrame:
    """The intrusion plus real samples of every stitched source, in one frame (mixed sources are the normal case)."""
    return pl.concat([
        incident,
        al.load(sample(*RUNAS)),
        al.load(sample("aws_cloudtrail")),
        al.load(sample("kubernetes_audit")),
        al.load(sample("linux_syslog")),
    ])


def by_operation(frame: pl.DataFrame, source: str, operation: str) -> dict:
    rows = frame.filter((pl.col("source_type") == source) & (pl.col("api_operation") == operation)).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


# --- stitching -----------------------------------------------------------------------------------------------------


def test_cloudtrail_role_chains_resolve_across_hops_and_honour_source_identity(incident: pl.DataFrame) -> None:
    stitched = al.stitch(incident)
    read = by_operation(stitched, "cloudtrail", "GetObject")
    assert (read["actor"], read["actor_key"]) == ("bob", "bob")
    assert read["attribution"] == "bob -> AssumeRole ops-admin -> AssumeRole audit"
    assert read["privileged"] is True
    assert read["session_id"] == "cloudtrail:222222222222:ASIA2"
    # the same session name issued again, to carol: the later session is hers, not bob's
    listed = by_operation(stitched, "cloudtrail", "ListBuckets")
    assert (listed["actor"], listed["attribution"]) == ("carol", "carol -> AssumeRole ops-admin")
    # a sourceIdentity on the record stays the accountable actor; the chain still shows who issued the session
    users = by_operation(stitched, "cloudtrail", "ListUsers")
    assert (users["actor"], users["actor_key"]) == ("dave@example.com", "dave")
    assert users["attribution"] == "carol -> AssumeRole ops-admin"
    # the first hop's own AssumeRole (made inside bob's ops-admin session) is bob's too
    hop = stitched.filter(pl.col("actor_credential_uid") == "ASIA1").row(0, named=True)
    assert (hop["actor"], hop["attribution"]) == ("bob", "bob -> AssumeRole ops-admin")


def test_cloudtrail_sample_role_sessions_resolve_to_their_role_and_key() -> None:
    stitched = al.stitch(al.load(sample("aws_cloudtrail")))
    roles = stitched.filter(pl.col("actor_user_type") == "AssumedRole")
    assert roles.height == 2
    assert roles["actor"].unique().to_list() == ["stratus-red-team-ec2-steal-credentials-role"]
    assert roles["attribution"].unique().to_list() == [
        "stratus-red-team-ec2-steal-credentials-role -> i-786a3A8B5C0d92eF4"
    ]
    assert roles["session_id"].unique().to_list() == ["cloudtrail:017622104382:ASIAP5CT9NN8EYVU1FXV"]
    assert roles["privileged"].all()


def test_windows_runas_links_the_two_accounts_and_logons_are_inherited() -> None:
    stitched = al.stitch(al.load(sample(*RUNAS)))
    explicit = stitched.filter(pl.col("event_code") == "4648").row(0, named=True)
    assert explicit["attribution"] == "admmig -> explicit credentials -> hack1"
    # the process started in hack1's new logon session is credited to admmig, with the logon's details
    session = stitched.filter(pl.col("session_id") == "evtx:FS03.offsec.lan:0xa6f5fc2")
    assert session.height == 3  # the 4624 that opened it, and the two processes hack1 ran in it
    assert session["actor"].unique().to_list() == ["admmig"]
    assert session["attribution"].unique().to_list() == ["admmig -> explicit credentials -> hack1"]
    assert session["logon_user"].unique().to_list() == ["OFFSEC\\hack1"]
    assert session["logon_type"].unique().to_list() == ["2 Interactive"]
    assert session["logon_src_ip"].unique().to_list() == ["::1"]
    assert session["privileged"].all()
    # the machine account's process creation (SYSTEM logon 0x3e7) is not a session of its own
    machine = stitched.filter(pl.col("actor") == "FS03$").row(0, named=True)
    assert machine["session_id"].startswith("idle:evtx:")
    assert machine["logon_user"] is None


def test_sshd_login_joins_the_auditd_session_and_sudo_names_the_invoker(incident: pl.DataFrame) -> None:
    stitched = al.stitch(incident, identities={"1000": "alice"})
    sshd = stitched.filter((pl.col("source_type") == "syslog") & (pl.col("actor_process_name") == "sshd"))
    assert sshd.height == 2
    audit_session = stitched.filter(
        (pl.col("source_type") == "auditd") & (pl.col("event_code") == "SYSCALL"))["session_id"].item()
    assert audit_session.endswith(":ses4")
    assert sshd["session_id"].unique().to_list() == [audit_session]
    sudo = stitched.filter(pl.col("event_code") == "sudo.command").row(0, named=True)
    assert (sudo["actor"], sudo["attribution"], sudo["privileged"]) == ("alice", "alice -> sudo -> root", True)
    # auid survives sudo: the root shell is still uid 1000's, and the identity map makes it alice everywhere
    shell = stitched.filter(pl.col("event_code") == "SYSCALL").row(0, named=True)
    assert (shell["actor_uid"], shell["attribution"], shell["privileged"]) == ("1000", "1000 -> 0", True)
    keys = stitched.filter(pl.col("source_type").is_in(["auditd", "syslog"]) & (pl.col("actor_uid") != "0"))
    assert keys["actor_key"].unique().to_list() == ["alice"]


def test_kubernetes_impersonation_is_an_attribution() -> None:
    stitched = al.stitch(al.load(sample("kubernetes_audit")))
    impersonated = stitched.filter(~pl.col("actor_orig_name").is_null())
    for row in impersonated.iter_rows(named=True):
        assert row["attribution"] == f"{row['actor_orig_name']} -> impersonate -> {row['actor_user_name']}"
    plain = stitched.filter(pl.col("actor_orig_name").is_null() & pl.col("actor_orig_uid").is_null())
    assert (plain["attribution"] == plain["actor"]).all()


@pytest.mark.parametrize(
    "name",
    ["alice", "ALICE", "CORP\\alice", "corp.example\\Alice", "alice@example.com", " Alice@Corp.Example ",
     "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/team/ops/alice",
     "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_1/alice@example.com"],
)
def test_actor_keys_meet_across_sources(name: str) -> None:
    frame = pl.DataFrame({"time_us": [1], "source_type": ["x"], "actor_user_name": [name]})
    assert al.stitch(frame)["actor_key"].item() == "alice"


def test_identity_map_overrides_the_key_by_uid_name_or_key() -> None:
    frame = pl.DataFrame({
        "time_us": [1, 2, 3, 4], "source_type": ["evtx", "cloudtrail", "auditd", "syslog"],
        "actor_user_uid": ["S-1-5-21-1-2-3-1104", "AIDAXYZ", "1000", None],
        "actor_user_name": ["asmith", "a.smith@corp.example", None, "ANNA"],
    })
    identities = pl.DataFrame({"alias": ["s-1-5-21-1-2-3-1104", "A.Smith@corp.example", "1000", "anna"],
                               "actor_key": ["anna", "anna", "anna", "anna"]})
    assert al.stitch(frame, identities=identities)["actor_key"].to_list() == ["anna"] * 4
    assert al.stitch(frame)["actor_key"].to_list() == ["asmith", "a.smith", "1000", "anna"]
    with pytest.raises(InvalidArgument, match="identities"):
        al.stitch(frame, identities=pl.DataFrame({"name": ["x"]}))


# --- timeline ------------------------------------------------------------------------------------------------------


def test_timeline_for_one_actor_across_sources(incident: pl.DataFrame) -> None:
    line = al.timeline(incident, "alice", identities={"1000": "alice"})
    assert line["actor_key"].unique().to_list() == ["alice"]
    assert line["time_us"].is_sorted()
    assert line.columns[-len(TIMELINE_COLUMNS):] == list(TIMELINE_COLUMNS)
    assert set(STITCH_COLUMNS) <= set(line.columns)
    # the first event has no predecessor, the others count from the previous one
    assert line["since_prev_us"][0] is None
    assert (line["since_prev_us"][1:] == line["time_us"].diff()[1:]).all()
    # the root shell is where alice starts acting as another identity
    changes = line.filter(pl.col("privilege_change"))
    assert changes["event_code"].to_list()[0] == "USER_START"
    assert line.filter(pl.col("first_host"))["host_name"].to_list() == ["web1"]
    assert line.filter(pl.col("first_src_ip"))["src_ip"].to_list() == ["203.0.113.10"]


def test_timeline_actor_filter_matches_names_uids_and_keys(incident: pl.DataFrame) -> None:
    assert al.timeline(incident, "BOB")["actor"].unique().to_list() == ["bob"]
    assert al.timeline(incident, "arn:aws:iam::111111111111:user/bob").height == al.timeline(incident, "bob").height
    assert set(al.timeline(incident, ["bob", "carol"])["actor"]) == {"bob", "carol"}
    assert al.timeline(incident, "nobody").height == 0


def test_untimed_events_are_kept_last_in_their_actor_run() -> None:
    frame = pl.DataFrame({"time_us": [5, None, 1], "source_type": "syslog", "actor_user_name": "eve"})
    line = al.timeline(frame)
    assert line["time_us"].to_list() == [1, 5, None]
    assert line["since_prev_us"].to_list() == [None, 4, None]
    assert line["session_id"].to_list()[-1].endswith("#untimed")


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "C\\a", None]), st.one_of(st.none(), st.integers(0, 10**7)),
                  st.sampled_from(["h1", "h2", None])),
        max_size=40,
    )
)
def test_timeline_is_sorted_per_actor_and_keeps_every_event(rows: list) -> None:
    frame = pl.DataFrame(rows, schema={"actor_user_name": pl.String, "time_us": pl.Int64, "host_name": pl.String},
                         orient="row").with_columns(source_type=pl.lit("syslog"), source_line=pl.int_range(pl.len()))
    line = al.timeline(frame)
    assert line.height == frame.height
    assert sorted(line["source_line"].to_list()) == list(range(frame.height))
    keys = line["actor_key"].to_list()
    seen = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert len(seen) == len(set(seen)), "each actor's events are contiguous"
    for key, group in line.group_by("actor_key", maintain_order=True):
        times = group["time_us"]
        timed = times.drop_nulls()
        assert timed.is_sorted()
        assert times[: timed.len()].null_count() == 0, "untimed events come after the timed ones"
        if key[0] is not None:
            assert group["first_host"].sum() == group["host_name"].drop_nulls().n_unique()


# --- sessions ------------------------------------------------------------------------------------------------------


def test_sessions_of_the_intrusion(incident: pl.DataFrame) -> None:
    table = al.sessions(incident, identities={"1000": "alice"})
    assert list(table.columns) == list(SESSION_COLUMNS)
    ssh = table.filter(pl.col("session_id").str.ends_with(":ses4")).row(0, named=True)
    # 5 auditd records of session 4 (the LOGIN that opened it included; not the USER_AUTH before it) and the two
    # sshd lines
    assert (ssh["event_count"], ssh["native"], ssh["actor_key"]) == (7, True, "alice")
    assert (ssh["source_count"], ssh["src_ip"], ssh["src_ip_count"]) == (2, "203.0.113.10", 1)
    assert ssh["privileged_count"] == 3
    hop = table.filter(pl.col("session_id") == "cloudtrail:222222222222:ASIA2").row(0, named=True)
    assert (hop["actor"], hop["opening_event"], hop["event_count"]) == ("bob", "GetObject", 1)
    assert hop["opening_record"] == "00000000-0000-0000-0000-000000000003"
    assert table["start_us"].is_sorted()


def test_idle_gap_sessions_split_on_the_pause() -> None:
    minute = 60_000_000
    frame = pl.DataFrame({
        "time_us": [0, 10 * minute, 50 * minute, 51 * minute, None], "source_type": "k8s_audit",
        "actor_user_name": "bob", "status_id": [1, 2, 2, 1, 1],
    })
    table = al.sessions(frame, idle=timedelta(minutes=30))
    assert table.select("event_count", "failure_count", "untimed_count", "duration_us").rows() == [
        (2, 1, 0, 10 * minute), (2, 1, 0, minute), (1, 0, 1, None)]
    assert al.sessions(frame, idle=timedelta(hours=1))["event_count"].to_list() == [4, 1]


def test_sessions_on_real_samples_have_consistent_counts(mixed: pl.DataFrame) -> None:
    table = al.sessions(mixed)
    stitched = al.stitch(mixed)
    assert table["event_count"].sum() == stitched["session_id"].drop_nulls().len()
    assert table["session_id"].n_unique() == table.height
    assert (table["failure_count"] <= table["event_count"]).all()
    assert (table.filter(pl.col("untimed_count") == 0)["duration_us"] >= 0).all()
    # the brute-forced sshd connections in the crowdsec sample are sessions that only failed
    only_failed = pl.col("failure_count") == pl.col("event_count")
    failed = table.filter(pl.col("session_id").str.contains("sshd") & only_failed)
    assert failed.height > 0


# --- every backend -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("analysis", ["stitch", "timeline", "sessions"])
def test_backends_agree(constructor, mixed: pl.DataFrame, analysis: str) -> None:
    frame = mixed.drop("raw", "unmapped").with_columns(unmapped=mixed["unmapped"])
    run = getattr(al, analysis)
    expected = run(frame)
    got = to_polars(run(constructor(frame)))
    assert got.columns == expected.columns
    assert_frame_equal(got, expected, check_dtypes=False)


def test_results_come_back_in_the_callers_type(constructor, incident: pl.DataFrame) -> None:
    native = constructor(incident)
    for result in (al.stitch(native), al.timeline(native), al.sessions(native)):
        assert type(result) is type(native)


# --- bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("analysis", ["stitch", "timeline", "sessions"])
def test_missing_columns_are_named_with_what_is_present(analysis: str) -> None:
    with pytest.raises(SchemaError) as caught:
        getattr(al, analysis)(pl.DataFrame({"time_us": [1], "actor_user_name": ["x"]}))
    assert caught.value.columns == ["source_type"]
    assert caught.value.present == ["time_us", "actor_user_name"]
    assert "source_type" in str(caught.value)


@pytest.mark.parametrize("analysis", ["stitch", "timeline", "sessions"])
def test_empty_and_error_only_frames_give_empty_results_with_the_columns(analysis: str, tmp_path: Path) -> None:
    run = getattr(al, analysis)
    bad = tmp_path / "bad.log"
    bad.write_text("type=SYSCALL msg=audit(garbage\n")
    errors = al.load(bad, format="auditd")
    assert errors["parse_error"].is_not_null().all()
    for frame in (schema.empty(), errors):
        result = run(frame)
        assert result.height == 0
        expected = list(SESSION_COLUMNS) if analysis == "sessions" else None
        if expected:
            assert result.columns == expected
        else:
            assert set(STITCH_COLUMNS) <= set(result.columns)
    assert run(errors, include_errors=True).height == (0 if analysis == "sessions" else errors.height)


def test_bad_arguments_name_themselves() -> None:
    frame = pl.DataFrame({"time_us": [1], "source_type": ["x"]})
    with pytest.raises(InvalidArgument, match="idle"):
        al.sessions(frame, idle=timedelta(0))
    with pytest.raises(InvalidArgument, match="idle"):
        al.timeline(frame, idle=30)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="expected a polars"):
        al.timeline([1, 2, 3])


def test_permanent_windows_logons_are_not_sessions() -> None:
    frame = pl.DataFrame({
        "time_us": [1, 2, 3], "source_type": "evtx", "host_name": "WS1", "event_code": ["4624", "4624", "4688"],
        "actor_user_name": ["SYSTEM", "alice", "alice"], "target_session_uid": ["0x3e7", "0x1a2b", None],
        "actor_session_uid": ["0x3e7", "0x1a2b", "0x1a2b"],
    })
    sessions = al.stitch(frame)["session_id"].to_list()
    assert sessions == ["idle:evtx:WS1:system#1", "evtx:WS1:0x1a2b", "evtx:WS1:0x1a2b"]


def test_a_reused_sshd_pid_is_one_session_per_connection(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(
        "Nov 14 22:13:20 web1 sshd[920]: Accepted password for alice from 203.0.113.10 port 50000 ssh2\n"
        "Nov 14 22:20:00 web1 sshd[920]: Received disconnect from 203.0.113.10 port 50000:11: disconnected by user\n"
        "Nov 14 22:20:00 web1 sshd[920]: Disconnected from user alice 203.0.113.10 port 50000\n"
        "Nov 14 23:00:00 web1 sshd[920]: Accepted publickey for bob from 198.51.100.9 port 40000 ssh2\n"
        "Nov 14 23:05:00 web1 sshd[920]: Disconnected from user bob 198.51.100.9 port 40000\n"
    )
    table = al.sessions(al.load(log, format="syslog", year=2023, tz="UTC"))
    assert table.select("session_id", "actor", "event_count", "src_ip").rows() == [
        ("syslog:web1:sshd[920]", "alice", 3, "203.0.113.10"),
        ("syslog:web1:sshd[920]#2", "bob", 2, "198.51.100.9"),
    ]
