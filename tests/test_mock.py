"""The mock generator: world, rhythm, scenarios, round trips through the loaders, faults and their truth."""

from __future__ import annotations

import collections
import datetime as dt
import os
import subprocess
import sys

import polars as pl
import pytest
from _mock import assert_round_trip, mismatches
from hypothesis import given, settings
from hypothesis import strategies as st

import auditlab as al
from auditlab.mock import FORMATS, SCENARIOS
from auditlab.testing import strategies as als

HOUR = 3_600_000_000


@pytest.fixture(scope="module")
def incident() -> al.mock.Story:
    return al.mock.incident(seed=11)


def test_one_identity_per_person_across_sources(incident):
    alice = incident.world.actor("alice")
    seen = collections.defaultdict(set)
    for e in incident.events:
        if e.actor != "alice":
            continue
        if e.source == "linux":
            seen["linux"].add((e.fields.get("user"), e.fields.get("uid")))
        elif e.source == "windows":
            data = e.fields.get("data", {})
            sid = data.get("TargetUserSid") or data.get("SubjectUserSid")
            if sid != "S-1-0-0":  # a failed logon names the account, with the NULL SID, as Windows writes it
                seen["windows"].add(sid)
        elif e.source == "aws":
            seen["aws"].add(e.fields["userIdentity"].get("userName"))
        elif e.source == "k8s":
            seen["k8s"].add(e.fields["user"]["username"])
        else:
            seen["gcp"].add(e.fields["protoPayload"]["authenticationInfo"]["principalEmail"])
    assert seen["aws"] == {"alice"}
    assert seen["k8s"] == seen["gcp"] == {"alice@example.com"}
    assert seen["windows"] == {alice.sid}
    assert seen["linux"] <= {("alice", alice.uid)}


def test_baseline_has_daily_and_weekly_rhythm():
    w = al.mock.world(seed=5, people=8, services=1)
    story = al.mock.baseline(w, days=14, sources=["aws"], seed=5)
    people = {a.key for a in w.people()}
    by_slot = collections.Counter()
    for e in story.events:
        if e.actor in people:
            when = dt.datetime.fromtimestamp(e.time_us / 1e6, dt.timezone.utc)
            if when.weekday() >= 5:
                by_slot["weekend"] += 1
            elif 9 <= when.hour < 16:
                by_slot["work"] += 1
            elif when.hour < 5 or when.hour >= 20:
                by_slot["night"] += 1
    # per hour of each kind of slot: weekday working hours are far busier than nights and weekends
    work, night, weekend = by_slot["work"] / (10 * 7), by_slot["night"] / (10 * 9), by_slot["weekend"] / (4 * 24)
    assert work > 20 * max(night, 0.01)
    assert work > 10 * max(weekend, 0.01)
    services = [e for e in story.events if e.actor == w.services()[0].key]
    night_share = sum(1 for e in services if dt.datetime.fromtimestamp(e.time_us / 1e6).hour < 6) / len(services)
    assert 0.15 < night_share < 0.35  # services work around the clock


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_labels_follow_its_steps(name):
    story = al.mock.scenario(name, seed=3)
    spec = SCENARIOS[name]
    assert {e.scenario for e in story.events} == {name}
    labelled = sorted({(e.step, e.technique) for e in story.events})
    assert labelled == sorted({(i + 1, t) for i, (t, _) in enumerate(spec.steps)})
    assert {e.source for e in story.events} == set(spec.sources)
    first = {}
    for e in story.events:
        first.setdefault(e.step, e.time_us)
    assert list(first) == sorted(first), "steps happen in order"


def test_same_seed_same_bytes_and_other_seed_other_bytes():
    for fmt in ("cloudtrail", "k8s-audit", "gcp-audit"):
        a = al.mock.incident(seed=4, days=1).render(fmt).files
        b = al.mock.incident(seed=4, days=1).render(fmt).files
        c = al.mock.incident(seed=5, days=1).render(fmt).files
        assert a == b
        assert a != c


def test_cloudtrail_uses_the_s3_delivery_layout(incident):
    log = incident.render("cloudtrail")
    pattern = (r"^AWSLogs/\d{12}/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/\d{12}_CloudTrail_[a-z0-9-]+_"
               r"\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$")
    assert all(pl.Series([name]).str.contains(pattern).item() for name in log.files)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_scenario_round_trips_in_every_format_of_its_source(fmt):
    source = FORMATS[fmt].source
    for name, spec in SCENARIOS.items():
        if source in spec.sources:
            log = al.mock.scenario(name, seed=2).render(fmt)
            assert log.records, (name, fmt)
            loaded = assert_round_trip(log)
            labels = set(loaded["synthetic_label"].drop_nulls())
            assert {e.label for e in log.events if e.source == source} >= labels
            assert all(label.startswith(name) for label in labels)


@pytest.mark.parametrize("fmt", list(FORMATS))
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_round_trip_property(fmt, data):
    story = data.draw(als.stories([FORMATS[fmt].source], max_hours=12))
    log = story.render(fmt)
    assert_round_trip(log)


def test_incident_is_labelled_after_loading(incident):
    log = incident.render("k8s-audit")
    loaded = log.load()
    attack = loaded.filter(pl.col("synthetic_label").str.starts_with("k8s-cluster-takeover"))
    assert attack.height == sum(1 for e in incident.events if e.scenario == "k8s-cluster-takeover")
    assert loaded["is_synthetic"].all()


# --- bad input ---------------------------------------------------------------------------------------------------


def test_unknown_names_list_what_is_available():
    with pytest.raises(al.InvalidArgument, match="available: ssh-bruteforce-sudo, aws-account-takeover"):
        al.mock.scenario("ssh-brute")
    with pytest.raises(al.InvalidArgument, match="format: unknown format 'evtx'; available: auditd, syslog"):
        al.mock.scenario("ssh-bruteforce-sudo").render("evtx")
    log = al.mock.scenario("k8s-cluster-takeover").render("k8s-audit")
    with pytest.raises(al.InvalidArgument, match="fault: unknown fault 'drop'; available: drop_records, drop_range"):
        log.inject("drop")
    with pytest.raises(al.InvalidArgument, match="sources: unknown source 'azure'"):
        al.mock.baseline(sources=["azure"])


def test_impossible_parameters_name_the_argument_and_value():
    with pytest.raises(al.InvalidArgument, match=r"end: must be after start, got end='2026-01-01'"):
        al.mock.baseline(start="2026-02-01", end="2026-01-01")
    with pytest.raises(al.InvalidArgument, match=r"rate: expected a number >= 0, got -1"):
        al.mock.baseline(rate=-1)
    with pytest.raises(al.InvalidArgument, match=r"days: expected a number of days > 0, got 0"):
        al.mock.baseline(days=0)
    with pytest.raises(al.InvalidArgument, match=r"start: not an ISO 8601 time: 'yesterday'"):
        al.mock.scenario("ssh-bruteforce-sudo", start="yesterday")
    log = al.mock.scenario("k8s-cluster-takeover").render("k8s-audit")
    with pytest.raises(al.InvalidArgument, match=rf"n: cannot drop 99 records, the log has {len(log.records)}"):
        log.inject("drop_records", n=99)
    with pytest.raises(al.InvalidArgument, match=r"minutes: not a parameter of fault 'drop_records'; parameters: n"):
        log.inject("drop_records", minutes=3)
    with pytest.raises(al.InvalidArgument, match=r"fraction: expected a number between 0 and 1, got 1.5"):
        log.inject("duplicate", fraction=1.5)
    with pytest.raises(al.InvalidArgument, match=r"people: expected a count >= 0, got -2"):
        al.mock.world(people=-2)
    with pytest.raises(al.InvalidArgument, match=r"actor: no actor 'zed' in this world"):
        al.mock.scenario("ssh-bruteforce-sudo", victim="zed")


# --- faults ------------------------------------------------------------------------------------------------------


LINE_FORMATS = [f for f, spec in FORMATS.items() if spec.lines]


def _loaded_rids(log: al.mock.Log) -> collections.Counter:
    return collections.Counter(log.load()["rid"].drop_nulls().to_list())


class _Logs(dict):
    def __init__(self, story: al.mock.Story) -> None:
        super().__init__()
        self.story = story

    def __missing__(self, fmt: str) -> al.mock.Log:
        self[fmt] = self.story.render(fmt)
        return self[fmt]


@pytest.fixture(scope="module")
def logs(incident) -> dict[str, al.mock.Log]:
    return _Logs(incident)


@pytest.mark.parametrize("fmt", LINE_FORMATS)
@pytest.mark.parametrize(("fault", "params"), [
    ("drop_records", {"n": 7}), ("drop_range", {"minutes": 90}), ("clear_log", {"with_event": False}),
    ("rotate", {"lost": True}),
])
def test_removing_faults_remove_exactly_their_truth(logs, fmt, fault, params):
    log = logs[fmt]
    hit = log.inject(fault, seed=3, **params)
    gone = set(hit.fault_truth.filter(pl.col("effect") == "dropped")["rid"])
    assert gone, "the fault removed something"
    before = {r.rid: r for r in log.records}
    after = {r.rid: r for r in hit.records}
    assert set(before) - set(after) == gone
    assert all(before[rid].text == after[rid].text for rid in after)
    loaded = hit.load()
    assert loaded.height == len(hit.records)
    assert set(loaded["rid"]) == set(after)
    assert not mismatches(hit, loaded)


@pytest.mark.parametrize("fmt", LINE_FORMATS)
def test_clear_with_event_leaves_its_record_first(logs, fmt):
    hit = logs[fmt].inject("clear_log", seed=8, with_event=True)
    inserted = hit.fault_truth.filter(pl.col("effect") == "inserted")
    assert inserted.height >= 1
    truth = hit.truth
    new = truth.filter(pl.col("rid").is_in(inserted["rid"].implode()))
    assert set(new["synthetic_label"]) == {"fault/0/clear_log"}
    cleared_file = new["file"][0]
    first = truth.filter(pl.col("file") == cleared_file).sort("line")["rid"][0]
    assert first in set(inserted["rid"])
    assert_round_trip(hit)


@pytest.mark.parametrize("fmt", LINE_FORMATS)
def test_duplicates_and_reorders_keep_every_record(logs, fmt):
    log = logs[fmt]
    dup = log.inject("duplicate", n=5, seed=1)
    copies = dup.fault_truth.filter(pl.col("effect") == "duplicated")
    assert copies.height == 5
    assert len(dup.records) == len(log.records) + 5
    if fmt == "auditd":
        # auditd events are keyed by their msg=audit(time:serial): the loader joins a repeated record to its event
        # (documented), so a duplicate shows as the event's lines twice in its raw, not as a row of its own
        loaded = dup.load()
        assert loaded.height == len(log.records)
        originals = {int(d.split()[-1]) for d in copies["detail"]}
        for row in loaded.filter(pl.col("rid").is_in(list(originals))).iter_rows(named=True):
            text = next(r.text for r in log.records if r.rid == row["rid"]).decode()
            assert row["raw"] == f"{text}\n{text}"
    else:
        assert_round_trip(dup)
    moved = log.inject("reorder", seconds=30, seed=2)
    assert sorted(r.rid for r in moved.records) == sorted(r.rid for r in log.records)
    listed = set(moved.fault_truth["rid"])
    positions = {f: [r.rid for r in log.records if r.file == f] for f in log.files}
    shuffled = {f: [r.rid for r in moved.records if r.file == f] for f in log.files}
    changed = {rid for f in positions for a, b in zip(positions[f], shuffled[f], strict=True) if a != b
               for rid in (a, b)}
    assert changed == listed
    assert_round_trip(moved)


@pytest.mark.parametrize("fmt", LINE_FORMATS)
def test_clock_faults_change_only_the_written_time(logs, fmt):
    log = logs[fmt]
    for fault, params in (("clock_skew", {"seconds": -5400}), ("clock_jump", {"seconds": 7200})):
        hit = log.inject(fault, seed=4, **params)
        shifted = set(hit.fault_truth["rid"])
        assert shifted
        for a, b in zip(log.records, hit.records, strict=True):
            assert a.rid == b.rid
            moved = b.expect["time_us"] - a.expect["time_us"]
            if a.rid in shifted:
                assert abs(moved - params["seconds"] * 1_000_000) < 1_000_000
            else:
                assert moved == 0
        assert_round_trip(hit)


@pytest.mark.parametrize("fmt", LINE_FORMATS)
def test_strip_actor_blanks_the_actor_of_exactly_the_listed_records(logs, fmt):
    hit = logs[fmt].inject("strip_actor", n=6, seed=5)
    stripped = set(hit.fault_truth["rid"])
    assert stripped
    loaded = assert_round_trip(hit)
    before = {row["rid"]: row for row in logs[fmt].load().iter_rows(named=True)}
    actor = ("actor_user_name", "actor_user_uid", "actor_orig_name", "actor_orig_uid", "actor_credential_uid")
    lost = 0
    for row in loaded.iter_rows(named=True):
        had = {c for c in actor if before[row["rid"]][c] is not None}
        has = {c for c in actor if row[c] is not None}
        if row["rid"] in stripped:  # the actor's fields go (the account acted upon, root for sudo, stays)
            assert has <= had, (row["raw"], had, has)
            lost += has < had
        else:
            assert has == had
    assert lost >= 1


@pytest.mark.parametrize("fmt", LINE_FORMATS)
@pytest.mark.parametrize("fault", ["truncate_lines", "corrupt_bytes"])
def test_damage_touches_only_the_listed_records(logs, fmt, fault):
    hit = logs[fmt].inject(fault, n=6, seed=6)
    damaged = set(hit.fault_truth["rid"])
    assert len(damaged) == 6
    loaded = hit.load()
    problems = {p["rid"] for p in mismatches(hit, loaded)}
    assert problems <= damaged
    intact = set(loaded.filter(pl.col("parse_error").is_null())["rid"].drop_nulls())
    assert {r.rid for r in hit.records} - damaged <= intact


def test_faults_are_deterministic_and_compose(logs):
    log = logs["k8s-audit"]
    a = log.inject("clock_skew", seconds=60, seed=1).inject("drop_records", n=3, seed=2)
    b = log.inject("clock_skew", seconds=60, seed=1).inject("drop_records", n=3, seed=2)
    assert a.files == b.files
    assert a.faults == (("clock_skew", {"seconds": 60, "seed": 1}), ("drop_records", {"n": 3, "seed": 2}))
    assert set(a.fault_truth["fault"]) == {"clock_skew", "drop_records"}


@settings(max_examples=10, deadline=None)
@given(als.audit_logs(max_faults=2))
def test_every_record_is_accounted_for_after_any_faults(log):
    loaded = log.load()
    damaged = set(log.fault_truth.filter(pl.col("effect").is_in(["truncated", "corrupted"]))["rid"])
    if log.format == "auditd":  # a repeated auditd record joins its event's row (see the duplicate test above)
        damaged |= set(log.fault_truth.filter(pl.col("effect") == "duplicated")["rid"])
    found = collections.Counter(loaded["rid"].drop_nulls())
    for record in log.records:
        if record.rid not in damaged:
            assert found[record.rid] == 1, record


# --- the analysis finds what the faults did ---------------------------------------------------------------------


def test_gaps_finds_exactly_the_records_dropped_from_auditd(logs):
    log = logs["auditd"]
    hit = log.inject("drop_records", n=6, seed=9)
    dropped = set(hit.fault_truth["rid"])
    want = {(r.expect["host_name"], r.expect["source_seq"]) for r in log.records if r.rid in dropped}
    found = al.gaps(hit.load(), kinds=["sequence"])
    got = {(row["host_name"], seq) for row in found.iter_rows(named=True)
           for seq in range(row["seq_from"], row["seq_to"] + 1)}
    assert got == want


def test_gaps_sees_the_clear_and_the_clock_jump(logs):
    cleared = logs["windows-xml"].inject("clear_log", file="dc1.corp.example.com/Security.xml", with_event=True,
                                         seed=1)
    tamper = al.gaps(cleared.load(), kinds=["tamper"])
    assert "1102" in set(tamper["detail"].str.extract(r"event_code (\w+)").drop_nulls())
    jumped = logs["auditd"].inject("clock_jump", seconds=-3600, host="web1", seed=2)
    clock = al.gaps(jumped.load(), kinds=["clock"])
    assert clock.filter(pl.col("host_name") == "web1").height >= 1
    assert al.gaps(logs["auditd"].load(), kinds=["clock"]).height == 0


# --- CloudTrail delivery files: one gzipped document per five minutes ----------------------------------------------


def test_cloudtrail_files_take_record_faults_with_exact_truth(logs):
    log = logs["cloudtrail"]
    for fault, params in (("drop_records", {"n": 9}), ("duplicate", {"n": 4}), ("reorder", {"seconds": 120}),
                          ("strip_actor", {"n": 5}), ("clock_skew", {"seconds": 900})):
        hit = log.inject(fault, seed=3, **params)
        loaded = assert_round_trip(hit)
        assert collections.Counter(loaded["rid"]) == collections.Counter(r.rid for r in hit.records)
        if fault == "drop_records":
            assert {r.rid for r in log.records} - set(loaded["rid"]) == set(hit.fault_truth["rid"])


def test_clearing_a_trail_deletes_its_earlier_delivery_files(logs):
    log = logs["cloudtrail"]
    for with_event in (True, False):
        hit = log.inject("clear_log", seed=4, with_event=with_event)
        truth = hit.fault_truth
        dropped = set(truth.filter(pl.col("effect") == "dropped")["rid"])
        prefix = truth["file"][0].rsplit("/", 4)[0]  # AWSLogs/<account>/CloudTrail/<region>
        cut = max(r.time_us for r in log.records if r.rid in dropped)
        assert dropped == {r.rid for r in log.records if r.file.startswith(prefix) and r.time_us <= cut}
        assert (truth["effect"] == "inserted").sum() == with_event
        loaded = assert_round_trip(hit)
        assert not dropped & set(loaded["rid"])


def test_line_damage_is_refused_for_delivery_files(logs):
    for fault in ("truncate_lines", "corrupt_bytes", "rotate"):
        with pytest.raises(al.InvalidArgument, match=rf"format: {fault} damages records of line formats"):
            logs["cloudtrail"].inject(fault, seed=1)


def test_rids_name_the_same_record_after_a_fault_adds_an_event(logs):
    log = logs["k8s-audit"]
    hit = log.inject("clear_log", seed=2, with_event=True)
    before = {r.rid: r.text for r in log.records}
    for r in hit.records:
        if r.rid in before:
            assert r.text == before[r.rid]
    added = set(hit.fault_truth.filter(pl.col("effect") == "inserted")["rid"])
    assert min(added) > max(before)
    assert hit.truth.filter(pl.col("rid").is_in(list(added)))["event"].is_null().all()


def test_the_same_seed_gives_the_same_bytes_in_other_processes():
    code = ("import hashlib, auditlab as al; s = al.mock.incident(seed=9, days=1); "
            "print(hashlib.sha256(b''.join(b for f in al.mock.FORMATS for b in s.render(f).files.values()))"
            ".hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300,
                              env={**os.environ, "PYTHONHASHSEED": str(h)}).stdout for h in (1, 77)}
    assert len(digests) == 1
