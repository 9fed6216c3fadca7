"""The bundled dataset: reproducible byte for byte, standard library only, small, and true to its README."""

from __future__ import annotations

import ast
import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOUNDATION = ROOT / "datasets" / "foundation"
SCRIPT = ROOT / "datasets" / "make_foundation.py"
AUDIT_LOG = FOUNDATION / "linux" / "audit.log"
TRAIL = FOUNDATION / "aws" / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2026" / "11" / "30"
HEADER = re.compile(r"^type=([A-Z_]+) msg=audit\((\d+)\.(\d{3}):(\d+)\): ")


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def audit_events() -> list[tuple[str, int, int, list[str]]]:
    """(first record type, epoch ms, serial, lines) per event, in file order."""
    events: list[tuple[str, int, int, list[str]]] = []
    for line in AUDIT_LOG.read_text(encoding="utf-8").splitlines():
        m = HEADER.match(line)
        assert m, line
        kind, ms, serial = m.group(1), int(m.group(2)) * 1000 + int(m.group(3)), int(m.group(4))
        if events and events[-1][1:3] == (ms, serial):
            events[-1][3].append(line)
        else:
            events.append((kind, ms, serial, [line]))
    return events


def trail_records() -> list[dict[str, Any]]:
    return [r for p in sorted(TRAIL.glob("*.json.gz")) for r in json.loads(gzip.decompress(p.read_bytes()))["Records"]]


def test_the_script_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], check=True, capture_output=True, timeout=300)
    made, committed = files_under(tmp_path), files_under(FOUNDATION)
    assert sorted(made) == sorted(committed)
    for name, data in committed.items():
        assert made[name] == data, f"{name} differs: run python datasets/make_foundation.py and commit the result"


def test_the_script_uses_the_standard_library_only() -> None:
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported - sys.stdlib_module_names == set()


def test_the_dataset_is_small() -> None:
    total = sum(len(data) for data in files_under(FOUNDATION).values())
    assert 100_000 < total < 1_000_000


def test_auditd_log_starts_with_daemon_start_and_serials_restart_once_at_a_reboot() -> None:
    events = audit_events()
    assert events[0][0] == "DAEMON_START"
    assert events[0][2] == 1
    resets = [i for i in range(1, len(events)) if events[i][2] <= events[i - 1][2]]
    assert len(resets) == 1
    [i] = resets
    assert events[i - 1][0] == "DAEMON_END"
    assert events[i][0] == "DAEMON_START"
    assert events[i][2] == 1
    assert all(events[j][2] == events[j - 1][2] + 1 for j in range(1, len(events)) if j != i)
    assert all(events[j][1] >= events[j - 1][1] for j in range(1, len(events)))
    span_hours = (events[-1][1] - events[0][1]) / 3_600_000
    assert 40 < span_hours < 56


def test_auditd_log_holds_the_record_kinds_its_readme_promises() -> None:
    events = audit_events()
    kinds = Counter(kind for kind, *_ in events)
    for kind in ("USER_AUTH", "USER_ACCT", "CRED_ACQ", "LOGIN", "USER_START", "USER_CMD", "ADD_USER", "DEL_USER",
                 "CONFIG_CHANGE", "USER_LOGIN", "USER_END", "DAEMON_END"):
        assert kinds[kind] > 0, kind
    commands = [lines for kind, _, _, lines in events if kind == "SYSCALL" and "syscall=59 " in lines[0]]
    assert len(commands) > 50
    for lines in commands:
        assert [line.split(" ", 1)[0] for line in lines] == [
            "type=SYSCALL", "type=EXECVE", "type=CWD", "type=PATH", "type=PATH", "type=PROCTITLE"]
    # a proctitle of more than one argument holds NULs, so the kernel writes it in hex
    multi = [lines[-1] for lines in commands if "argc=1 " not in lines[1]]
    assert multi
    assert all(re.search(r"proctitle=[0-9A-F]+$", line) for line in multi)
    disabled = [lines for kind, _, _, lines in events if kind == "CONFIG_CHANGE" and "audit_enabled=0" in lines[0]]
    assert len(disabled) == 1


def test_auditd_log_has_a_failed_login_burst_from_one_address() -> None:
    failed = [(ms, re.search(r"addr=(\S+)", lines[0]).group(1))  # type: ignore[union-attr]
              for kind, ms, _, lines in audit_events() if kind == "USER_AUTH" and "res=failed" in lines[0]]
    assert len(failed) >= 20
    assert len({addr for _, addr in failed}) == 1
    assert failed[-1][0] - failed[0][0] < 5 * 60_000


def test_cloudtrail_files_are_s3_deliveries_gzipped_without_a_timestamp() -> None:
    files = sorted(TRAIL.glob("*.json.gz"))
    assert len(files) > 10
    for path in files:
        data = path.read_bytes()
        assert data[:2] == b"\x1f\x8b"
        assert data[4:8] == b"\0\0\0\0"
        m = re.fullmatch(r"111122223333_CloudTrail_us-east-1_20261130T(\d{2})(\d{2})Z_[A-Za-z0-9]{16}\.json\.gz",
                         path.name)
        assert m, path.name
        body = json.loads(gzip.decompress(data))
        assert list(body) == ["Records"]
        assert body["Records"]
        delivered = int(m.group(1)) * 60 + int(m.group(2))
        for record in body["Records"]:
            hh, mm = map(int, record["eventTime"][11:16].split(":"))
            assert 0 < delivered - (hh * 60 + mm) <= 5 or (delivered == 0 and hh == 23)


def test_cloudtrail_holds_the_identities_and_events_its_readme_promises() -> None:
    records = trail_records()
    types = Counter(r["userIdentity"]["type"] for r in records)
    assert types["IAMUser"]
    assert types["AssumedRole"]
    assert types["AWSService"]
    assert any(r["userIdentity"].get("sessionContext", {}).get("sourceIdentity") for r in records)
    assert any(r["eventName"] == "ConsoleLogin" and r.get("additionalEventData", {}).get("MFAUsed") == "No"
               and r["responseElements"] == {"ConsoleLogin": "Success"} for r in records)
    assert any(r.get("errorCode") == "AccessDenied" for r in records)
    assert [r["eventName"] for r in records].count("StopLogging") == 1
    assert all(r["eventTime"].startswith("2026-11-30T") for r in records)
    assert len({r["eventID"] for r in records}) == len(records)


@pytest.mark.parametrize("path", ["linux/audit.log", "aws"])
def test_every_record_loads_without_a_parse_error(path: str) -> None:
    import auditlab as al

    events = al.load(FOUNDATION / path)
    expected = len(audit_events()) if path.startswith("linux") else len(trail_records())
    assert events.height == expected
    assert events["parse_error"].null_count() == events.height


# --- datasets/incident: generated by auditlab.mock -----------------------------------------------------------------

INCIDENT = ROOT / "datasets" / "incident"


def test_the_incident_is_regenerated_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "datasets" / "make_incident.py"), str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    made, committed = files_under(tmp_path), files_under(INCIDENT)
    assert sorted(made) == sorted(committed)
    for name, data in committed.items():
        assert made[name] == data, f"{name} differs: run python datasets/make_incident.py and commit the result"


def test_the_incident_is_small_and_covers_every_source() -> None:
    sizes = [p.stat().st_size for p in INCIDENT.rglob("*") if p.is_file()]
    assert sum(sizes) < 5 * 2**20
    logs = INCIDENT / "logs"
    assert sorted(p.name for p in logs.iterdir()) == ["aws", "gcp", "k8s", "linux", "windows"]
    assert list((logs / "aws").glob("AWSLogs/*/CloudTrail/*/2026/11/*/*_CloudTrail_*.json.gz"))


def test_the_incident_truth_matches_what_loads() -> None:
    import polars as pl

    import auditlab as al

    records = pl.read_csv(INCIDENT / "truth" / "records.csv")
    events = pl.read_csv(INCIDENT / "truth" / "events.csv")
    faults = pl.read_csv(INCIDENT / "truth" / "faults.csv")
    linux = al.load(INCIDENT / "logs" / "linux", year=2026, progress=False)
    for fmt, source_type in (("auditd", "auditd"), ("syslog", "syslog")):
        assert records.filter(pl.col("format") == fmt).height == linux.filter(
            pl.col("source_type") == source_type).height
    # every attack step of every scenario is in the truth, and the intrusion reaches every source
    attack = events.filter(pl.col("scenario") != "")
    assert set(attack["scenario"]) == set(al.mock.SCENARIOS)
    assert set(attack["source"]) == {"linux", "aws", "windows", "k8s", "gcp"}
    # the intruder emptied web1's auth.log: the truth lists the lines that took with it
    cleared = faults.filter(pl.col("fault") == "clear_log")
    assert cleared.height > 100
    assert set(cleared["effect"]) == {"dropped"}
    # the auditd records of the attack, labelled through the truth, carry its techniques in order
    log_rows = records.filter((pl.col("format") == "auditd") & pl.col("synthetic_label").str.starts_with("ssh-"))
    steps = [int(label.split("/")[1]) for label in log_rows.sort("file", "line")["synthetic_label"]]
    assert steps == sorted(steps)
    assert max(steps) == len(al.mock.SCENARIOS["ssh-bruteforce-sudo"].steps)
