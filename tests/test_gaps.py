"""Gap detection: every kind on hand-built frames with known gaps, on every backend; the real samples; properties."""

from __future__ import annotations

import itertools
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import narwhals as nw
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import auditlab as al
from auditlab import InvalidArgument, SchemaError, schema
from auditlab.gaps import CLOCK_MARKERS, GAP_COLUMNS, KINDS, TAMPER_MARKERS, Regex, gaps
from tests.conftest import SAMPLES, sample, to_polars

S = 1_000_000  # microseconds in a second
H = 3600 * S
T0 = int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()) * S  # a Monday, 00:00 UTC
POLARS_SCHEMA = nw.from_dict({k: [] for k in GAP_COLUMNS}, schema=GAP_COLUMNS, backend="polars").to_native().schema


def events(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Canonical events from partial rows; ``time`` follows ``time_us``."""
    frame = pl.DataFrame(rows, infer_schema_length=None)
    if "time_us" in frame.columns:
        frame = frame.with_columns(time=pl.from_epoch("time_us", time_unit="us").dt.replace_time_zone("UTC"))
    return schema.conform(frame)


def utc(result: pl.DataFrame) -> pl.DataFrame:
    """DuckDB hands UTC back as ``Etc/UTC``: the same instants, another name."""
    return result.with_columns(pl.col("start", "end").dt.convert_time_zone("UTC"))


def run(constructor, frame: pl.DataFrame, **kwargs: Any) -> pl.DataFrame:
    """``gaps`` on the backend under test: the caller's type back, and exactly what polars finds."""
    native = constructor(frame)
    result = gaps(native, **kwargs)
    assert nw.from_native(result).implementation == nw.from_native(native).implementation
    assert isinstance(result, pl.LazyFrame) == isinstance(native, pl.LazyFrame)
    got = utc(to_polars(result))
    expected = gaps(frame, **kwargs)
    assert expected.schema == POLARS_SCHEMA
    assert_frame_equal(got, expected)
    return got


def one(found: pl.DataFrame, **where: Any) -> dict[str, Any]:
    rows = found.filter(**where).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


# --- sequence ------------------------------------------------------------------------------------------------------


def sequence_frame() -> pl.DataFrame:
    rows = []

    def add(stream: str, seq: int | None, file: str, line: int, **extra: Any) -> None:
        uid = f"{stream}:{seq}" if seq is not None else None
        rows.append({"time_us": T0 + line * S, "source_type": "auditd", "source_stream": stream, "source_seq": seq,
                     "source_file": file, "source_line": line, "source_record_uid": uid, "host_name": "web1",
                     **extra})

    # within audit.log.1: 10 11 12 12 (a duplicate) 16, so 13..15 are lost
    for line, seq in enumerate([10, 11, 12, 12, 16], start=1):
        add("web1/boot0", seq, "audit.log.1", line)
    # the next file starts at 120: 17..119 (103 records) are missing across the rotation
    for line, seq in enumerate([120, 121], start=6):
        add("web1/boot0", seq, "audit.log", line)
    # a damaged record that kept its serial is present: no gap around 3
    add("web2/boot0", 1, "w2.log", 1)
    add("web2/boot0", 2, "w2.log", 2)
    rows.append({"source_type": "auditd", "source_stream": "web2/boot0", "source_seq": 3, "source_file": "w2.log",
                 "source_line": 3, "raw": "type=SYSCALL msg=audit(1.0:3): cut", "parse_error": "unbalanced quote"})
    add("web2/boot0", 4, "w2.log", 4)
    return events(rows)


def test_sequence_gaps_within_and_between_files(constructor) -> None:
    found = run(constructor, sequence_frame(), kinds="sequence")
    # two gaps: not the repeated 12, and not around the damaged record 3 of web2
    assert found["kind"].to_list() == ["sequence", "sequence"]
    inside = one(found, seq_from=13)
    assert (inside["missing"], inside["seq_to"], inside["severity"], inside["score"]) == (3, 15, "medium", 1.0)
    assert inside["evidence"] == "after web1/boot0:12; before web1/boot0:16"
    assert (inside["start_us"], inside["end_us"]) == (T0 + 4 * S, T0 + 5 * S)
    assert inside["start"] == datetime(2024, 1, 1, 0, 0, 4, tzinfo=timezone.utc)
    assert "within file audit.log.1" in inside["detail"]
    assert (inside["source_stream"], inside["source_type"], inside["host_name"]) == ("web1/boot0", "auditd", "web1")
    across = one(found, seq_from=17)
    assert (across["missing"], across["seq_to"], across["severity"]) == (103, 119, "high")
    assert "between files audit.log.1 and audit.log: a rotated file is missing or was cut" in across["detail"]
    assert across["evidence"] == "after web1/boot0:16; before web1/boot0:120"


def test_sequence_evidence_falls_back_to_file_and_line() -> None:
    frame = events([
        {"time_us": T0, "source_type": "evtx", "source_stream": "pc/Security", "source_seq": 5, "source_file": "s.evtx",
         "source_line": 1},
        {"time_us": T0 + S, "source_type": "evtx", "source_stream": "pc/Security", "source_seq": 7,
         "source_file": "s.evtx", "source_line": 2},
    ])
    found = gaps(frame, kinds=["sequence"])
    assert found.select("missing", "seq_from", "seq_to").row(0) == (1, 6, 6)
    assert found["evidence"][0] == "after s.evtx:1; before s.evtx:2"
    assert found["detail"][0] == "1 record missing from stream pc/Security: sequence number 6, within file s.evtx"


def removed_runs(n: int, removed: set[int]) -> list[tuple[int, int]]:
    """The maximal runs of removed numbers strictly between the smallest and largest kept number."""
    kept = [i for i in range(1, n + 1) if i not in removed]
    runs: list[tuple[int, int]] = []
    for i in range(kept[0] + 1, kept[-1]):
        if i in removed:
            if runs and runs[-1][1] == i - 1:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((i, i))
    return runs


@given(st.integers(1, 80).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(1, n), max_size=n - 1))))
def test_sequence_gaps_are_exactly_the_removed_runs(case: tuple[int, set[int]]) -> None:
    n, removed = case
    kept = [i for i in range(1, n + 1) if i not in removed]
    frame = pl.DataFrame({
        "time_us": [T0 + i * S for i in kept],
        "source_type": "auditd",
        "source_stream": "h/boot0",
        "source_seq": kept,
    })
    found = gaps(frame, kinds="sequence")
    assert list(found.select("seq_from", "seq_to").iter_rows()) == removed_runs(n, removed)
    assert found["missing"].to_list() == [b - a + 1 for a, b in removed_runs(n, removed)]


# --- silence -------------------------------------------------------------------------------------------------------


def working_hours_frame() -> tuple[pl.DataFrame, int, int]:
    """Three weeks of one event every 10 minutes, 09:00-17:00 on weekdays, with Wednesday 2024-01-10 silent from
    13:00. Returns the frame, the last event before the silence and the first after it."""
    times = []
    for day in range(21):
        if day % 7 >= 5:  # the weekend is quiet
            continue
        for minute in range(9 * 60, 17 * 60, 10):
            if day == 9 and minute >= 13 * 60:  # the afternoon that went silent
                continue
            times.append(T0 + day * 24 * H + minute * 60 * S)
    frame = events([
        {"time_us": t, "source_type": "syslog", "source_stream": "office", "host_name": "office",
         "source_record_uid": f"r{i}"} for i, t in enumerate(times)
    ])
    before = T0 + 9 * 24 * H + (12 * 60 + 50) * 60 * S
    after = T0 + 10 * 24 * H + 9 * H
    return frame, before, after


def test_silence_judges_each_hour_against_the_streams_own_rhythm(constructor) -> None:
    frame, before, after = working_hours_frame()
    found = run(constructor, frame, kinds="silence")
    assert len(found) == 1, found  # no night and no weekend is a gap
    row = found.row(0, named=True)
    assert (row["kind"], row["source_stream"], row["host_name"]) == ("silence", "office", "office")
    assert (row["start_us"], row["end_us"]) == (before, after)
    assert row["start"] == datetime(2024, 1, 10, 12, 50, tzinfo=timezone.utc)
    assert row["end"] == datetime(2024, 1, 11, 9, 0, tzinfo=timezone.utc)
    # r_hod * r_dow / r over 13:00-16:59, in a span of 440 hours from Monday 1st 09:00 to Friday 19th 16:59:
    # 14 of the span's 19 13:00 hours hold 6 events, its 3 Wednesdays 120 events in 72 hours, 696 events in all
    expected = 4 * (14 * 6 / 19) * (120 / 72) / (696 / 440)
    assert f"about {expected:.1f} events" in row["detail"]
    assert row["score"] == pytest.approx(1 - math.exp(-expected))
    assert row["severity"] == "high"
    times = frame.sort("time_us")["source_record_uid"].to_list()
    index = frame.sort("time_us")["time_us"].to_list().index(before)
    assert row["evidence"] == f"after {times[index]}; before {times[index + 1]}"


def test_silence_needs_a_baseline_and_an_improbable_silence() -> None:
    frame, _, _ = working_hours_frame()
    assert gaps(frame, kinds="silence", min_baseline_hours=1000).is_empty()  # the span is 440 hours
    assert gaps(frame, kinds="silence", silence_p=1e-12).is_empty()  # p ~ 8e-9
    steady = events([{"time_us": T0 + i * 60 * S, "source_type": "k8s_audit", "source_stream": "k"}
                     for i in range(600)])  # ten busy hours: less than a day of baseline
    assert gaps(steady.filter(pl.col("time_us") // H != T0 // H + 5), kinds="silence").is_empty()
    assert len(gaps(steady.filter(pl.col("time_us") // H != T0 // H + 5), kinds="silence",
                    min_baseline_hours=5)) == 0  # the silent hour of the day is seen once: no baseline for it


# --- tamper --------------------------------------------------------------------------------------------------------

TAMPER_CASES: list[tuple[str, dict[str, Any], bool]] = [
    # (record uid, fields, is a marker)
    ("win-1102", {"source_type": "evtx", "event_code": "1102", "api_service": "Microsoft-Windows-Eventlog"}, True),
    ("win-104", {"source_type": "evtx", "event_code": "104", "api_service": "Microsoft-Windows-Eventlog",
                 "resource_uid": "System"}, True),
    ("win-1100", {"source_type": "evtx", "event_code": "1100", "api_service": "Microsoft-Windows-Eventlog"}, True),
    ("win-4719", {"source_type": "evtx", "event_code": "4719", "api_service": "Microsoft-Windows-Security-Auditing"},
     True),
    ("win-104-other", {"source_type": "evtx", "event_code": "104", "api_service": "Microsoft-Windows-Kernel-Power"},
     False),
    ("win-wevtutil", {"source_type": "evtx", "event_code": "4688", "process_cmdline": "wevtutil.exe cl Security"},
     True),
    ("win-ps", {"source_type": "evtx", "event_code": "1", "process_cmdline": "powershell Clear-EventLog -LogName "
                "Application"}, True),
    ("win-wevtutil-query", {"source_type": "evtx", "event_code": "4688", "process_cmdline": "wevtutil qe Security"},
     False),
    ("ad-end", {"source_type": "auditd", "event_code": "DAEMON_END"}, True),
    ("ad-abort", {"source_type": "auditd", "event_code": "DAEMON_ABORT"}, True),
    ("ad-disabled", {"source_type": "auditd", "event_code": "CONFIG_CHANGE", "activity_id": 10}, True),
    ("ad-enabled", {"source_type": "auditd", "event_code": "CONFIG_CHANGE", "activity_id": 9}, False),
    ("ad-rule", {"source_type": "auditd", "event_code": "CONFIG_CHANGE", "activity_id": 99}, False),
    ("cmd-e0", {"source_type": "auditd", "process_cmdline": "auditctl -e 0"}, True),
    ("cmd-e1", {"source_type": "auditd", "process_cmdline": "auditctl -e 1"}, False),
    ("cmd-D", {"source_type": "auditd", "process_cmdline": "/sbin/auditctl -D"}, True),
    ("cmd-l", {"source_type": "auditd", "process_cmdline": "auditctl -l"}, False),
    ("cmd-systemctl", {"source_type": "auditd", "process_cmdline": "systemctl stop auditd.service"}, True),
    ("cmd-service", {"source_type": "auditd", "process_cmdline": "service auditd stop"}, True),
    ("cmd-status", {"source_type": "auditd", "process_cmdline": "systemctl status auditd"}, False),
    ("hist-c", {"source_type": "auditd", "process_cmdline": "history -c"}, True),
    ("hist-unset", {"source_type": "auditd", "process_cmdline": "unset HISTFILE"}, True),
    ("hist-size", {"source_type": "auditd", "process_cmdline": "export HISTSIZE=0"}, True),
    ("hist-rm", {"source_type": "auditd", "process_cmdline": "rm -f /root/.bash_history"}, True),
    ("hist-shred", {"source_type": "auditd", "process_cmdline": "shred -u ~/.zsh_history"}, True),
    ("hist-redirect", {"source_type": "auditd", "process_cmdline": "cat /dev/null > ~/.bash_history"}, True),
    ("hist-link", {"source_type": "auditd", "process_cmdline": "ln -sf /dev/null /home/bob/.bash_history"}, True),
    ("hist-read", {"source_type": "auditd", "process_cmdline": "cat ~/.bash_history"}, False),
    ("hist-size-big", {"source_type": "auditd", "process_cmdline": "export HISTSIZE=10000"}, False),
    ("hist-unlink", {"source_type": "auditd", "api_operation": "unlinkat", "file_path": "/root/.bash_history"}, True),
    ("hist-open", {"source_type": "auditd", "api_operation": "openat", "file_path": "/root/.bash_history"}, False),
    ("ct-stop", {"source_type": "cloudtrail", "api_operation": "StopLogging"}, True),
    ("ct-stop-failed", {"source_type": "cloudtrail", "api_operation": "StopLogging", "status_id": 2,
                        "status_code": "AccessDenied"}, True),
    ("ct-delete", {"source_type": "cloudtrail", "api_operation": "DeleteTrail"}, True),
    ("ct-update", {"source_type": "cloudtrail", "api_operation": "UpdateTrail"}, True),
    ("ct-selectors", {"source_type": "cloudtrail", "api_operation": "PutEventSelectors"}, True),
    ("ct-lake", {"source_type": "cloudtrail", "api_operation": "DeleteEventDataStore"}, True),
    ("ct-ingest", {"source_type": "cloudtrail", "api_operation": "StopEventDataStoreIngestion"}, True),
    ("ct-loggroup", {"source_type": "cloudtrail", "api_operation": "DeleteLogGroup"}, True),
    ("ct-flowlogs", {"source_type": "cloudtrail", "api_operation": "DeleteFlowLogs"}, True),
    ("ct-start", {"source_type": "cloudtrail", "api_operation": "StartLogging"}, False),
    ("ct-describe", {"source_type": "cloudtrail", "api_operation": "DescribeTrails"}, False),
    ("gcp-sink", {"source_type": "gcp_audit", "api_operation": "google.logging.v2.ConfigServiceV2.DeleteSink"}, True),
    ("gcp-exclusion", {"source_type": "gcp_audit",
                       "api_operation": "google.logging.v2.ConfigServiceV2.CreateExclusion"}, True),
    ("gcp-log", {"source_type": "gcp_audit", "api_operation": "google.logging.v2.LoggingServiceV2.DeleteLog"}, True),
    ("gcp-list", {"source_type": "gcp_audit", "api_operation": "google.logging.v2.ConfigServiceV2.ListSinks"},
     False),
    ("sys-rsyslog", {"source_type": "syslog", "raw": "Mar  1 10:00:00 web1 rsyslogd: [origin software=\"rsyslogd\"] "
                     "exiting on signal 15."}, True),
    ("sys-systemd", {"source_type": "journald", "raw": "Stopped System Logging Service."}, True),
    ("sys-auditd", {"source_type": "syslog", "raw": "Mar  1 10:00:00 web1 auditd[812]: The audit daemon is exiting."},
     True),
    ("sys-sshd", {"source_type": "syslog", "raw": "Mar  1 10:00:00 web1 sshd[1]: Accepted publickey for bob"}, False),
]


def tamper_frame() -> pl.DataFrame:
    rows = []
    for i, (uid, fields, _) in enumerate(TAMPER_CASES):
        stream = f"s{i % 3}"
        rows.append({"time_us": T0 + i * S, "source_stream": stream, "source_record_uid": uid, **fields})
    rows.append({"time_us": T0 + 1000 * S, "source_type": "auditd", "source_stream": "s0",
                 "source_record_uid": "last0"})
    # a damaged record is skipped even if it reads like a marker
    rows.append({"time_us": None, "source_type": "auditd", "source_stream": "s1", "source_record_uid": "broken",
                 "event_code": "DAEMON_END", "parse_error": "cut"})
    return events(rows)


def test_tamper_markers_of_every_source_family(constructor) -> None:
    frame = tamper_frame()
    found = run(constructor, frame, kinds="tamper")
    expected = [uid for uid, _, marker in TAMPER_CASES if marker]
    assert found["evidence"].to_list() == expected  # sorted by time: the cases' order
    assert set(found["kind"]) == {"tamper"}
    assert set(found["events"]) == {1}
    failed = one(found, evidence="ct-stop-failed")
    assert failed["severity"] == "medium"
    assert "the attempt failed (AccessDenied)" in failed["detail"]
    assert set(found.filter(pl.col("evidence") != "ct-stop-failed")["severity"]) == {"high"}
    cleared = one(found, evidence="win-1102")
    assert cleared["detail"].startswith("the Security audit log was cleared")
    assert "on System" in one(found, evidence="win-104")["detail"]
    # end: the next event of the same stream (streams take turns: the next one is 3 records later), or null
    ends = dict(frame.select("source_record_uid", "time_us").iter_rows())
    assert (cleared["start_us"], cleared["end_us"]) == (ends["win-1102"], ends["win-1102"] + 3 * S)
    clean = frame.filter(pl.col("parse_error").is_null())
    for row in found.iter_rows(named=True):
        later = clean.filter(pl.col("source_stream") == row["source_stream"], pl.col("time_us") > row["start_us"])
        assert row["end_us"] == later["time_us"].min(), row
        assert ("no later event in the stream" in row["detail"]) == later.is_empty()
    assert found["end_us"].null_count() == 1  # the last marker of s2 (the last record of s1 is no marker)
    assert "cmd-e0" in found["evidence"].to_list()
    assert "auditctl -e 0" in one(found, evidence="cmd-e0")["detail"]


def test_marker_tables_are_readable() -> None:
    assert all(m.condition and m.meaning and m.severity in {"low", "medium", "high"}
               for m in TAMPER_MARKERS + CLOCK_MARKERS)
    assert TAMPER_MARKERS[0].condition == "event_code = '1102' and api_service = 'Microsoft-Windows-Eventlog'"
    assert any("auditctl" in m.condition for m in TAMPER_MARKERS)
    for marker in TAMPER_MARKERS + CLOCK_MARKERS:  # patterns every backend's regex engine reads alike
        for value in marker.where.values():
            if isinstance(value, Regex):
                assert "(?=" not in value, "no lookahead"
                assert "(?<" not in value, "no lookbehind"
                assert not re.search(r"\\\d", value), "no backreferences"
                assert not re.search(r"\((?!\?)", value), "capturing groups make pandas warn"


# --- clock ---------------------------------------------------------------------------------------------------------


def clock_frame() -> pl.DataFrame:
    rows = []
    # seq 1..6 a minute apart, except: seq 3 is 30 s behind seq 2 (within tolerance), seq 5 two hours behind seq 4
    times = {1: 0, 2: 60, 3: 30, 4: 180, 5: 180 - 7200, 6: 300}
    for seq, second in times.items():
        rows.append({"time_us": T0 + 10 * H + second * S, "source_type": "evtx", "source_stream": "pc/Security",
                     "host_name": "pc", "source_seq": seq, "source_record_uid": f"pc:{seq}"})
    rows[4].update(event_code="4616", api_service="Microsoft-Windows-Security-Auditing")  # seq 5 says why
    # another stream: five minutes back (medium); a damaged record in between is not compared
    for seq, second, error in [(1, 1000, None), (2, 700, None), (3, 0, "cut"), (4, 1100, None)]:
        rows.append({"time_us": T0 + 10 * H + second * S, "source_type": "auditd", "source_stream": "h/boot0",
                     "source_seq": seq, "source_record_uid": f"h:{seq}", "parse_error": error})
    rows.append({"time_us": T0 + 11 * H, "source_type": "auditd", "source_stream": "h/boot1", "source_seq": 9,
                 "source_record_uid": "settime", "api_operation": "settimeofday", "class_uid": 1007})
    rows.append({"time_us": T0 + 11 * H + S, "source_type": "auditd", "source_stream": "h/boot1", "source_seq": 10,
                 "source_record_uid": "ntp", "api_operation": "adjtimex", "class_uid": 1007})
    rows.append({"time_us": T0 + 11 * H + 2 * S, "source_type": "auditd", "source_stream": "h/boot1",
                 "source_seq": 11, "source_record_uid": "inj", "event_code": "TIME_INJOFFSET"})
    return events(rows)


def test_clock_backwards_and_time_changes(constructor) -> None:
    found = run(constructor, clock_frame(), kinds="clock")
    by = {row["evidence"]: row for row in found.to_dicts()}
    assert set(by) == {"after pc:4; at pc:5", "pc:5", "after h:1; at h:2", "settime", "ntp", "inj"}
    back = by["after pc:4; at pc:5"]
    assert (back["start_us"], back["end_us"]) == (T0 + 10 * H + (180 - 7200) * S, T0 + 10 * H + 180 * S)
    assert back["severity"] == "high"
    assert "time goes back 2 h from sequence number 4" in back["detail"]
    assert by["after h:1; at h:2"]["severity"] == "medium"
    assert "5 min" in by["after h:1; at h:2"]["detail"]
    assert (by["pc:5"]["severity"], by["settime"]["severity"], by["ntp"]["severity"], by["inj"]["severity"]) == (
        "medium", "medium", "low", "medium")
    assert by["pc:5"]["detail"].startswith("the system time was changed")
    assert set(found["kind"]) == {"clock"}


def test_clock_tolerance() -> None:
    frame = clock_frame()
    strict = gaps(frame, kinds="clock", clock_tolerance=timedelta(seconds=10))
    assert "after pc:2; at pc:3" in strict["evidence"].to_list()
    assert strict.height == gaps(frame, kinds="clock").height + 1
    lenient = gaps(frame, kinds="clock", clock_tolerance=3 * H)  # microseconds
    assert "after pc:4; at pc:5" not in lenient["evidence"].to_list()


# --- unattributed --------------------------------------------------------------------------------------------------


def test_unattributed_runs(constructor) -> None:
    rows = []

    def add(uid: str, class_uid: int, status_id: int = 1, **actor: str) -> None:
        rows.append({"time_us": T0 + len(rows) * S, "source_type": "cloudtrail", "source_stream": "acct/eu",
                     "class_uid": class_uid, "status_id": status_id, "source_record_uid": uid, **actor})

    for i in range(3):
        add(f"a{i}", 3002)  # a successful authentication must say who
        if i == 0:
            add("preauth", 3002, status_id=2)  # a failed one may not (sshd's [preauth] lines): neither counts nor ends
    add("bob", 3002, actor_user_name="bob")  # ends the run
    for i in range(12):
        add(f"b{i}", 6003)
        if i == 5:
            add("noise", 0)  # a class that needs no actor neither counts nor ends the run
    add("alice", 6003, actor_orig_uid="alice")
    add("c0", 1007)
    add("orig", 1001, actor_orig_name="carol")
    found = run(constructor, events(rows), kinds="unattributed")
    assert found.select("events", "severity", "evidence").rows() == [
        (3, "low", "first a0; last a2"),
        (12, "medium", "first b0; last b11"),
        (1, "low", "c0"),
    ]
    first = found.row(0, named=True)
    assert (first["start_us"], first["end_us"]) == (T0, T0 + 3 * S)
    assert "(Authentication)" in first["detail"]
    assert "API Activity" in found.row(1, named=True)["detail"]


# --- source_silent -------------------------------------------------------------------------------------------------


def test_source_silent_streams_and_hosts(constructor) -> None:
    rows = []
    for stream, host, minutes in [("a", "h1", 360), ("b", "h1", 360), ("c", "h2", 120), ("d1", "h3", 180),
                                  ("d2", "h3", 180)]:
        for minute in range(minutes):
            rows.append({"time_us": T0 + minute * 60 * S, "source_type": "syslog", "source_stream": stream,
                         "host_name": host, "source_record_uid": f"{stream}{minute}", "source_file": "messages",
                         "source_line": len(rows) + 1})
    found = run(constructor, events(rows), kinds="source_silent")
    end = T0 + 359 * 60 * S
    assert found.select("source_stream", "host_name", "start_us", "end_us", "evidence").rows() == [
        ("c", "h2", T0 + 119 * 60 * S, end, "last c119"),
        ("d1", "h3", T0 + 179 * 60 * S, end, "last d1179"),
        ("d2", "h3", T0 + 179 * 60 * S, end, "last d2179"),
        (None, "h3", T0 + 179 * 60 * S, end, "last d2179"),
    ]
    assert set(found["severity"]) == {"high"}
    assert found["score"].to_list() == [1.0] * 4  # one a minute, silent for hours: p underflows
    assert "stream c falls silent 4 h before the last event" in found["detail"][0]
    assert "host h3" in found["detail"][3]


def test_source_silent_judges_by_the_streams_own_rate() -> None:
    rows = [{"time_us": T0 + i * H, "source_type": "syslog", "source_stream": "slow"} for i in range(12)]
    rows += [{"time_us": T0 + i * 60 * S, "source_type": "syslog", "source_stream": "busy"}
             for i in range(11 * 60 + 90)]
    frame = events(rows)  # slow: one an hour, last at 11 h; the frame goes on to 12.5 h: p = exp(-1.5) ~ 0.22
    assert gaps(frame, kinds="source_silent").is_empty()
    assert gaps(frame, kinds="source_silent", silence_p=0.25)["source_stream"].to_list() == ["slow"]


# --- untimed, empty, errors ----------------------------------------------------------------------------------------


def test_untimed_records_are_counted_per_stream(constructor) -> None:
    rows = [{"time_us": T0, "source_type": "auditd", "source_stream": "x", "source_record_uid": "timed"}]
    rows += [{"time_us": None, "source_type": "auditd", "source_stream": "x", "source_file": "a.log",
              "source_line": line} for line in (7, 3, 5)]
    rows += [{"time_us": None, "source_type": "syslog", "source_stream": None, "source_record_uid": "nostream"}]
    rows += [{"time_us": None, "source_type": "auditd", "source_stream": "x", "parse_error": "junk", "raw": "junk"}]
    found = run(constructor, events(rows), kinds="untimed")
    assert found.select("kind", "source_stream", "events", "missing", "start_us", "evidence").rows() == [
        ("untimed", "x", 3, None, None, "first a.log:3; last a.log:7"),
        ("untimed", None, 1, None, None, "nostream"),
    ]
    assert found["detail"][0].startswith("3 record(s) of stream x have no time")


@pytest.mark.parametrize("which", ["empty", "parse_errors"])
def test_nothing_to_judge_gives_an_empty_result_with_every_column(constructor, which: str) -> None:
    frame = schema.empty()
    if which == "parse_errors":
        frame = events([{"source_type": "auditd", "source_stream": "x", "raw": "garbage", "parse_error": "no header",
                         "source_file": "a.log", "source_line": i} for i in range(3)])
    found = run(constructor, frame)
    assert found.is_empty()
    assert found.schema == POLARS_SCHEMA


def test_missing_required_column_names_it_and_lists_the_present_ones(constructor) -> None:
    frame = pl.DataFrame({"time_us": [T0], "source_type": ["auditd"], "source_seq": [1]})
    with pytest.raises(SchemaError) as caught:
        gaps(constructor(frame))
    assert caught.value.columns == ["source_stream"]
    assert set(caught.value.present) == {"time_us", "source_type", "source_seq"}
    assert "gaps() needs" in str(caught.value)


def test_partial_frames_work_and_time_alone_gives_time_us() -> None:
    frame = pl.DataFrame({
        "time": [datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 1, 1, 0, 1, tzinfo=timezone.utc)],
        "source_type": ["auditd", "auditd"], "source_stream": ["h", "h"], "source_seq": [1, 3],
    })
    found = gaps(frame)
    assert found.select("kind", "seq_from", "start_us").rows() == [("sequence", 2, T0)]
    assert found["evidence"][0] is None  # no record id, file or line: nothing to name the records by


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("silence_p", 0), ("silence_p", 1.5), ("silence_p", -0.1), ("silence_p", float("nan")), ("silence_p", "0.1"),
        ("clock_tolerance", -1), ("clock_tolerance", timedelta(seconds=-5)), ("clock_tolerance", 1.5),
        ("min_baseline_hours", 0), ("min_baseline_hours", True), ("kinds", ["sequence", "gremlins"]), ("kinds", []),
    ],
)
def test_bad_keywords_name_the_argument_and_echo_the_value(keyword: str, value: Any) -> None:
    with pytest.raises(InvalidArgument) as caught:
        gaps(schema.empty(), **{keyword: value})
    assert keyword in str(caught.value)
    assert repr(value) in str(caught.value)


def test_numpy_backed_pandas_works_too() -> None:
    """``frame.to_pandas()`` without Arrow dtypes: integers with nulls come back as floats, results do not."""
    for frame in (sequence_frame(), clock_frame()):
        assert_frame_equal(utc(to_polars(gaps(frame.to_pandas()))), gaps(frame))


def test_not_a_frame() -> None:
    with pytest.raises(InvalidArgument, match="gaps"):
        gaps([1, 2, 3])


# --- real samples --------------------------------------------------------------------------------------------------


def test_cleared_event_logs_are_tamper_rows() -> None:
    frame = al.load(sample("windows_evtx", "E2M__ID104-1102-Event_log_cleared.evtx"))
    found = gaps(frame, kinds="tamper")
    cleared = frame.filter(pl.col("event_code").is_in(["1102", "104"]))
    assert sorted(found["evidence"]) == sorted(cleared["source_record_uid"])
    assert one(found, evidence="FS03.offsec.lan/Security:109054")["detail"].startswith(
        "the Security audit log was cleared")
    assert found.filter(pl.col("detail").str.starts_with("an event log was cleared")).height == 90
    assert found.filter(pl.col("detail").str.contains("by admmig")).height == 91


def test_stopped_trail_and_stopped_event_log_service() -> None:
    trail = gaps(al.load(sample("aws_cloudtrail", "stratus_detonation_aws.defense-evasion.cloudtrail-stop.json")),
                 kinds="tamper")
    assert trail.select("kind", "severity").rows() == [("tamper", "high")]
    assert trail["detail"][0].startswith("a CloudTrail trail stopped logging")
    security = al.load(sample("windows_evtx", "omerbenamram_security.evtx"))
    found = gaps(security, kinds=["tamper", "clock"])
    shutdowns = security.filter(pl.col("event_code") == "1100")["source_record_uid"]
    changes = security.filter(pl.col("event_code") == "4616")["source_record_uid"]
    assert (shutdowns.len(), changes.len()) == (36, 26)
    logging_stopped = found.filter(pl.col("detail").str.starts_with("the event logging service shut down"))
    assert sorted(logging_stopped["evidence"]) == sorted(shutdowns)
    assert set(logging_stopped["kind"]) == {"tamper"}
    time_changed = found.filter(pl.col("detail").str.starts_with("the system time was changed"))
    assert sorted(time_changed["evidence"]) == sorted(changes)
    assert set(time_changed.select("kind", "severity").rows()) == {("clock", "medium")}


def plain_sequence_gaps(frame: pl.DataFrame) -> list[tuple[str, int | None, int | None]]:
    """Sequence gaps computed the obvious way: per stream, in time order, a new part where the numbering drops by
    more than 1,000 and below half (a restart: one row with no range); per part, sorted distinct numbers, each jump
    above one."""
    numbers: dict[tuple[str, int], set[int]] = {}
    out: list[tuple[str, int | None, int | None]] = []
    part: dict[str, int] = {}
    last: dict[str, int] = {}
    ordered_rows = frame.filter(pl.col("source_seq").is_not_null()).sort(
        "time_us", "source_seq", "source_file", "source_line", "source_offset", nulls_last=True)
    for stream, seq in ordered_rows.select("source_stream", "source_seq").iter_rows():
        before = last.get(stream)
        if before is not None and before - seq > 1000 and seq * 2 < before:
            part[stream] = part.get(stream, 0) + 1
            out.append((stream, None, None))
        last[stream] = seq
        numbers.setdefault((stream, part.get(stream, 0)), set()).add(seq)
    for (stream, _), seqs in numbers.items():
        ordered = sorted(seqs)
        out += [(stream, a + 1, b - 1) for a, b in itertools.pairwise(ordered) if b - a > 1]
    return sorted(out, key=_gap_key)


def _gap_key(row: tuple) -> tuple:
    return (row[0], row[1] is None, row[1] or 0)


@pytest.mark.parametrize("name", ["go-libaudit_audit-rhel7.log", "go-libaudit_audit-ubuntu16.log",
                                  "go-libaudit_normal.log"])
def test_auditd_samples_sequence_gaps_match_the_serials(name: str) -> None:
    path = sample("linux_auditd", name)
    frame = al.load(path)
    serials = {int(s) for s in re.findall(r"msg=audit\(\d+\.\d+:(\d+)\)", path.read_text(errors="replace"))}
    assert set(frame["source_seq"].drop_nulls()) == serials
    found = gaps(frame, kinds="sequence")
    rows = found.select("source_stream", "seq_from", "seq_to").iter_rows()
    assert sorted(rows, key=_gap_key) == plain_sequence_gaps(frame)
    counted = found.filter(pl.col("missing").is_not_null())
    assert (counted["missing"] == counted["seq_to"] - counted["seq_from"] + 1).all()
    assert found.filter(pl.col("missing").is_null())["detail"].str.contains("restarts").all()


def sample_folders() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()) if SAMPLES.exists() else ["(absent)"]


@pytest.mark.samples
@pytest.mark.parametrize("folder", sample_folders())
def test_every_sample_folder(folder: str) -> None:
    frame = al.load(sample(folder))
    found = gaps(frame)
    assert found.schema == POLARS_SCHEMA
    assert set(found["kind"]) <= set(KINDS)
    assert set(found["severity"]) <= {"low", "medium", "high"}
    assert found["score"].is_between(0, 1).all()
    assert found["detail"].null_count() == 0
    assert found.filter(pl.col("kind") != "untimed")["evidence"].null_count() == 0
    assert found["start_us"].drop_nulls().is_sorted()
    sequence = found.filter(pl.col("kind") == "sequence")
    rows = sequence.select("source_stream", "seq_from", "seq_to").iter_rows()
    assert sorted(rows, key=_gap_key) == plain_sequence_gaps(frame)
    clean = frame.filter(pl.col("parse_error").is_null())
    untimed = clean.filter(pl.col("time_us").is_null()).group_by("source_stream").len()
    assert sorted(found.filter(pl.col("kind") == "untimed").select("source_stream", "events").rows(),
                  key=str) == sorted(untimed.rows(), key=str)
    tampered = found.filter(pl.col("kind") == "tamper")["evidence"].to_list()
    assert set(tampered) <= set(frame.select(al_id=pl.coalesce("source_record_uid", pl.format(
        "{}:{}", "source_file", "source_line")))["al_id"])


# --- backends agree ------------------------------------------------------------------------------------------------

MARKER_ROWS = [
    {"event_code": "1102", "api_service": "Microsoft-Windows-Eventlog"},
    {"event_code": "4616", "api_service": "Microsoft-Windows-Security-Auditing"},
    {"process_cmdline": "history -c"},
    {"process_cmdline": "ls -la"},
    {"api_operation": "StopLogging", "source_type": "cloudtrail"},
    {"api_operation": "adjtimex", "source_type": "auditd"},
    {},
]


@st.composite
def random_events(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(0, 60))
    rows = []
    for line in range(n):
        row = {
            "time_us": draw(st.none() | st.integers(T0, T0 + 4 * 24 * H)),
            "source_type": "auditd",
            "source_stream": draw(st.sampled_from(["a", "b", None])),
            "host_name": draw(st.sampled_from(["h1", "h2", None])),
            "source_seq": draw(st.none() | st.integers(1, 40)),
            "source_file": draw(st.sampled_from(["x.log", "y.log"])),
            "source_line": line + 1,
            "class_uid": draw(st.sampled_from([3002, 6003, 0, None])),
            "actor_user_uid": draw(st.sampled_from(["0", None])),
            "parse_error": draw(st.sampled_from([None, None, None, "bad"])),
            "status_id": draw(st.sampled_from([1, 2, None])),
        }
        row.update(draw(st.sampled_from(MARKER_ROWS)))
        rows.append(row)
    return events(rows) if rows else schema.empty()


@settings(max_examples=15)  # pandas runs each window eagerly: a few dozen frames cover the shapes
@given(random_events())
def test_pandas_and_polars_agree(frame: pl.DataFrame) -> None:
    expected = gaps(frame, silence_p=0.5, min_baseline_hours=2)
    got = to_polars(gaps(frame.to_pandas(use_pyarrow_extension_array=True), silence_p=0.5, min_baseline_hours=2))
    assert_frame_equal(utc(got), expected)
    assert_frame_equal(to_polars(gaps(frame.lazy(), silence_p=0.5, min_baseline_hours=2)), expected)


def test_a_numbering_that_restarts_is_one_row_not_millions_missing(constructor) -> None:
    before = [5_000_000 + i for i in range(5)]  # a long-running host ...
    after = [1, 2, 3, 5, 6]  # ... rebooted without the loader noticing; record 4 of the new boot is lost
    rows = [{"time_us": T0 + i * S, "source_type": "auditd", "source_stream": "web1/boot0", "source_seq": seq,
             "source_record_uid": f"r{seq}"} for i, seq in enumerate(before + after)]
    found = run(constructor, events(rows), kinds=["sequence", "clock"])
    assert found.select("kind", "missing", "seq_from", "seq_to").rows() == [
        ("sequence", None, None, None), ("sequence", 1, 4, 4)]
    restart = found.row(0, named=True)
    assert "restarts from 5000004 to 1" in restart["detail"]
    assert restart["evidence"] == "after r5000004; before r1"
    assert (restart["start_us"], restart["end_us"]) == (T0 + 4 * S, T0 + 5 * S)


def test_source_silent_follows_the_streams_rhythm() -> None:
    hour = 3600 * S
    rows = []
    for day in range(21):  # three weeks from a Monday; office hours on weekdays only
        if day % 7 >= 5:
            continue
        for h in range(9, 18):
            for minute in (5, 25, 45):
                at = T0 + day * 24 * hour + h * hour + minute * 60 * S
                for stream in ("office", "stopped"):
                    if stream == "stopped" and day >= 14:
                        continue  # falls silent on the third Monday
                    rows.append({"time_us": at, "source_type": "syslog", "source_stream": stream})
    last = T0 + 19 * 24 * hour + 8 * hour  # the frame ends on the third Saturday morning, in another stream
    rows.append({"time_us": last, "source_type": "syslog", "source_stream": "night-shift"})
    rows.append({"time_us": last - 30 * 24 * hour, "source_type": "syslog", "source_stream": "night-shift"})
    found = gaps(events(rows), kinds="source_silent")
    # "office" stops at 17:45 on Friday and the frame ends 14 hours later: at its mean rate (about one event an
    # hour) that would be improbable (p ~ 1e-6), but its rhythm expects nothing on a Friday night
    assert found["source_stream"].to_list() == ["stopped"]
    assert "its own rhythm" in found["detail"][0]
