"""The pytest plugin's fixtures and the hypothesis strategies of auditlab.testing."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings

import auditlab as al
from auditlab.mock import SCENARIOS
from auditlab.testing import strategies as als

pytest_plugins = ["pytester"]


def test_fixtures_are_seeded_by_the_test_id(request, auditlab_seed, mock_world):
    digest = hashlib.blake2b(request.node.nodeid.encode(), digest_size=4).digest()
    assert auditlab_seed == int.from_bytes(digest, "big")
    assert mock_world == al.mock.world(seed=auditlab_seed)


def test_mock_log_builds_a_labelled_log_with_faults(mock_log):
    log = mock_log("k8s-audit", "k8s-cluster-takeover", faults=[("drop_records", {"n": 2})])
    assert log.faults[0][0] == "drop_records"
    assert log.fault_truth.height == 2
    labels = set(log.truth["scenario"])
    assert "k8s-cluster-takeover" in labels
    assert mock_log("k8s-audit", "k8s-cluster-takeover", faults=[("drop_records", {"n": 2})]).files == log.files


def test_a_failure_reports_the_seed_and_the_option_replays_it(pytester):
    pytester.makepyfile("""
        def test_seeded(auditlab_seed, mock_log):
            log = mock_log("gcp-audit")
            assert auditlab_seed == 424242
            assert log.records

        def test_fails(auditlab_seed):
            assert auditlab_seed < 0
    """)
    result = pytester.runpytest("--auditlab-seed=424242", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*mock data seed 424242: replay with --auditlab-seed=424242*"])


@settings(max_examples=20, deadline=None)
@given(actor=als.actors())
def test_actors_are_people_or_services(actor):
    assert actor.role in {"user", "admin", "service"}
    assert actor.email.startswith(actor.key)


@settings(max_examples=15, deadline=None)
@given(story=als.scenarios())
def test_scenarios_are_labelled_with_their_techniques(story):
    (name,) = {e.scenario for e in story.events}
    techniques = {t for t, _ in SCENARIOS[name].steps}
    assert {e.technique for e in story.events} == techniques


@settings(max_examples=20, deadline=None)
@given(event=als.events("windows"))
def test_events_come_from_the_asked_source(event):
    assert event.source == "windows"
    assert event.fields["event_id"] > 0


@settings(max_examples=30, deadline=None)
@given(fault=als.faults())
def test_drawn_faults_apply(fault):
    name, params = fault
    log = al.mock.scenario("k8s-cluster-takeover", seed=1).render("k8s-audit")
    hit = log.inject(name, **params)
    assert hit.faults[-1] == (name, params)
    if name in ("drop_records", "duplicate", "corrupt_bytes"):
        assert hit.fault_truth["rid"].n_unique() == params["n"]
    assert set(hit.fault_truth["fault"]) <= {name}


@settings(max_examples=5, deadline=None)
@given(log=als.audit_logs(format="windows-xml", max_faults=1))
def test_audit_logs_are_native_text_with_their_truth(log):
    assert log.format == "windows-xml"
    assert all(name.endswith((".xml", ".xml.1")) for name in log.files)  # .1: a rotated file
    loaded = log.load()
    damaged = set(log.fault_truth["rid"])
    assert set(loaded["rid"].drop_nulls()) | damaged >= {r.rid for r in log.records}


def test_strategies_reject_unknown_names():
    with pytest.raises(al.InvalidArgument, match="unknown source 'mainframe'"):
        als.events("mainframe")
    with pytest.raises(al.InvalidArgument, match="unknown scenario"):
        als.scenarios(["nope"])
    with pytest.raises(al.InvalidArgument, match="unknown fault"):
        als.faults(["nope"])
    with pytest.raises(al.InvalidArgument, match="unknown format"):
        als.audit_logs(format="csv")
