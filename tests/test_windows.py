"""Windows event logs: EVTX, Event XML and JSON exports. Every sample record accounted for, golden mappings, edge
cases (corrupt EVTX chunks, entity bombs, cut events, invalid UTF-8), sniffing, and damage properties."""

from __future__ import annotations

import gzip
import json
import re
import struct
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from evtx import PyEvtxParser
from hypothesis import given
from hypothesis import strategies as st

import auditlab as al
from auditlab import schema
from auditlab.load import _formats, _windows, evtx, windows_json, windows_xml
from auditlab.load._batch import decode_text
from auditlab.load._io import expand
from tests.conftest import SAMPLES, sample

EVTX_DIR = "windows_evtx"
TEXT_DIR = "windows_json_xml"
CLEARED = "E2M__ID104-1102-Event_log_cleared.evtx"
FAILED = "E2M__ID4625-failed_login_with_denied_access_due_to_account_restriction.evtx"
RUNAS = "E2M__ID4688_4648_4624-Runas_execution_with_different_user.evtx"
SELECTED = "omerbenamram_Security_short_selected.evtx"
SECURITY = "omerbenamram_security.evtx"
EVTX_FILES = [CLEARED, FAILED, RUNAS, SELECTED, SECURITY]
XML_LINES = "crowdsec_windows-bf_4625_xml_per_line.xml"
OTRF = "otrf_psh_lsass_memory_dump_comsvcs.jsonl"
NS = "http://schemas.microsoft.com/win/2004/08/events/event"
ADMMIG = "S-1-5-21-4230534742-2542757381-3142984815-1111"
HACK1 = "S-1-5-21-4230534742-2542757381-3142984815-1234"


def load(path: Path | str, **kwargs: Any) -> pl.DataFrame:
    frame = al.load(path, progress=False, **kwargs)
    schema.validate(frame)
    return frame


def by_seq(frame: pl.DataFrame, seq: int) -> dict[str, Any]:
    rows = frame.filter(pl.col("source_seq") == seq).to_dicts()
    assert len(rows) == 1, f"{len(rows)} rows with EventRecordID {seq}"
    return rows[0]


def by_line(frame: pl.DataFrame, line: int) -> dict[str, Any]:
    rows = frame.filter(pl.col("source_line") == line).to_dicts()
    assert len(rows) == 1, f"{len(rows)} rows on line {line}"
    return rows[0]


def bare_records(path: Path) -> list[str]:
    """The JSON of every record the bare parser yields, errors skipped (the parser raises per bad record/chunk)."""
    out: list[str] = []
    try:
        records = PyEvtxParser(str(path)).records_json()
    except (RuntimeError, OSError, ValueError):
        return out
    for _ in range(1_000_000):
        try:
            item = next(records)
        except StopIteration:
            return out
        except (RuntimeError, OSError, ValueError):
            continue
        out.append(item["data"])
    raise AssertionError("the bare parser did not stop")


def unmapped(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(row["unmapped"]) if row["unmapped"] else {}


# --------------------------------------------------------------------------------------- every sample record


@pytest.mark.samples
@pytest.mark.parametrize("name", EVTX_FILES)
def test_every_evtx_record_loads_once_in_parser_order(name: str) -> None:
    path = sample(EVTX_DIR, name)
    records = bare_records(path)
    frame = load(path)  # sniffed
    assert frame.height == len(records) > 0
    assert frame["parse_error"].null_count() == frame.height
    assert frame["raw"].to_list() == records  # raw is the parser's JSON, in its order
    assert frame["source_line"].to_list() == list(range(1, frame.height + 1))
    assert frame["source_offset"].null_count() == frame.height
    assert frame["source_type"].unique().to_list() == ["evtx"]
    seqs = [json.loads(r)["Event"]["System"]["EventRecordID"] for r in records]
    assert frame["source_seq"].to_list() == seqs
    assert frame["time"].null_count() == 0
    assert frame["event_code"].null_count() == 0
    assert frame["raw_sha256"].to_list() == _windows_sha(records)


def _windows_sha(texts: list[str]) -> list[str]:
    import hashlib

    return [hashlib.sha256(t.encode()).hexdigest() for t in texts]


@pytest.mark.samples
def test_every_xml_line_is_one_event() -> None:
    path = sample(TEXT_DIR, XML_LINES)
    data = path.read_bytes()
    lines = data.split(b"\n")
    frame = load(path)
    assert frame.height == sum(1 for line in lines if line.strip()) == 6
    assert frame["parse_error"].null_count() == frame.height
    assert frame["raw"].to_list() == [line.decode() for line in lines if line.strip()]
    starts = [sum(len(line) + 1 for line in lines[:i]) for i in range(len(lines)) if lines[i].strip()]
    assert frame["source_offset"].to_list() == starts
    assert frame["source_line"].to_list() == list(range(1, 7))


@pytest.mark.samples
def test_every_otrf_line_is_one_event() -> None:
    path = sample(TEXT_DIR, OTRF)
    lines = path.read_bytes().split(b"\n")
    frame = load(path)
    assert frame.height == sum(1 for line in lines if line.strip()) == 184
    assert frame["parse_error"].null_count() == frame.height
    assert frame["raw"].to_list() == [line.removesuffix(b"\r").decode() for line in lines if line.strip()]  # CRLF
    assert frame["time"].null_count() == 0
    assert frame["host_name"].unique().to_list() == ["WORKSTATION5"]


@pytest.mark.samples
def test_the_windows_folders_load_each_file_with_its_format() -> None:
    expected = {**dict.fromkeys(EVTX_FILES, "evtx"), XML_LINES: "windows_xml", OTRF: "windows_json"}
    chosen = {s.path.name: _formats.resolve(s, None).NAME for s in expand([sample(EVTX_DIR), sample(TEXT_DIR)])}
    assert chosen == expected
    frame = load([sample(EVTX_DIR), sample(TEXT_DIR)])
    assert frame.height == sum(len(bare_records(sample(EVTX_DIR, n))) for n in EVTX_FILES) + 6 + 184


# ------------------------------------------------------------------------------------------------ golden: EVTX


@pytest.mark.samples
def test_golden_runas_explicit_credentials_link_two_accounts() -> None:
    frame = load(sample(EVTX_DIR, RUNAS))
    runas = by_seq(frame, 469346)  # 4688: admmig starts runas.exe
    assert (runas["event_code"], runas["class_uid"], runas["activity_id"]) == ("4688", 1007, 1)
    assert runas["api_operation"] == "created-process"
    assert (runas["actor_user_uid"], runas["actor_user_name"], runas["actor_user_domain"]) == (ADMMIG, "admmig",
                                                                                                "OFFSEC")
    assert runas["actor_session_uid"] == "0x123550"
    assert runas["actor_process_pid"] == 0x408
    assert runas["file_path"] == r"C:\Windows\System32\runas.exe"
    assert runas["process_cmdline"] == r"runas  /user:offsec\hack1 cmd.exe "
    assert (runas["target_user_uid"], runas["target_user_name"], runas["target_session_uid"]) == (None, None, None)
    assert unmapped(runas)["EventData"]["NewProcessId"] == "0x85c"

    explicit = by_seq(frame, 469347)  # 4648: admmig uses hack1's credentials
    assert (explicit["event_code"], explicit["class_uid"], explicit["activity_id"]) == ("4648", 3002, 1)
    assert (explicit["actor_orig_uid"], explicit["actor_orig_name"]) == (ADMMIG, "admmig")
    assert (explicit["actor_user_name"], explicit["actor_user_domain"]) == ("hack1", "OFFSEC")
    assert explicit["actor_user_uid"] is None  # 4648 names no SID for the credentials used
    assert explicit["actor_session_uid"] == "0x123550"
    assert explicit["target_user_name"] == "hack1"
    assert (explicit["src_ip"], explicit["src_port"]) == ("::1", None)  # IpPort 0: no port
    assert (explicit["actor_process_name"], explicit["actor_process_pid"]) == (r"C:\Windows\System32\svchost.exe",
                                                                                0x2F0)
    assert explicit["status_id"] == 1
    assert unmapped(explicit)["EventData"]["TargetServerName"] == "localhost"

    logon = by_seq(frame, 469348)  # 4624: hack1 logs on; the subject (admmig's runas) stays in unmapped
    assert (logon["class_uid"], logon["activity_id"], logon["status_id"]) == (3002, 1, 1)
    assert (logon["actor_user_uid"], logon["actor_user_name"], logon["actor_user_domain"]) == (HACK1, "hack1",
                                                                                                "OFFSEC")
    assert logon["actor_session_uid"] == logon["target_session_uid"] == "0xa6f5fa4"
    assert (logon["target_user_uid"], logon["target_user_name"]) == (HACK1, "hack1")
    assert logon["actor_orig_uid"] is None
    assert logon["src_hostname"] == "FS03"
    data = unmapped(logon)["EventData"]
    assert (data["SubjectUserName"], data["SubjectLogonId"], data["LogonType"]) == ("admmig", "0x123550", 2)

    privileges = by_seq(frame, 469350)  # 4672: the new logon gets special privileges
    assert (privileges["class_uid"], privileges["activity_id"]) == (3005, 1)
    assert privileges["actor_user_name"] == privileges["target_user_name"] == "hack1"
    assert privileges["target_session_uid"] == "0xa6f5fa4"
    assert "SeDebugPrivilege" in unmapped(privileges)["EventData"]["PrivilegeList"]

    cmd = by_seq(frame, 469351)  # 4688 by the machine account, for hack1's new process
    assert (cmd["actor_user_uid"], cmd["actor_user_name"], cmd["actor_session_uid"]) == ("S-1-5-18", "FS03$",
                                                                                          "0x3e7")
    assert (cmd["target_user_uid"], cmd["target_session_uid"]) == (HACK1, "0xa6f5fc2")

    cleared = by_seq(frame, 469345)
    assert (cleared["event_code"], cleared["class_uid"], cleared["activity_id"]) == ("1102", 1008, 1)
    for row in (runas, explicit, logon, privileges, cleared):
        assert row["host_name"] == "FS03.offsec.lan"
        assert row["source_stream"] == "FS03.offsec.lan/Security"
    assert runas["time"].isoformat() == "2021-11-13T14:30:56.099105+00:00"
    assert explicit["source_record_uid"] == "FS03.offsec.lan/Security:469347"


@pytest.mark.samples
def test_golden_log_cleared() -> None:
    frame = load(sample(EVTX_DIR, CLEARED))
    security = by_seq(frame, 109054)  # 1102: the Security log was cleared by admmig
    assert (security["event_code"], security["api_service"]) == ("1102", "Microsoft-Windows-Eventlog")
    assert (security["class_uid"], security["activity_id"], security["status_id"]) == (1008, 1, 1)
    assert security["api_operation"] == "audit-log-cleared"
    assert (security["actor_user_uid"], security["actor_user_name"], security["actor_user_domain"]) == (
        ADMMIG, "admmig", "OFFSEC")
    assert security["actor_session_uid"] == "0x123550"
    assert "UserData" not in unmapped(security)  # every LogFileCleared field has its column
    system = by_seq(frame, 5073)  # 104: the System log was cleared; the SID comes from System/Security/@UserID
    assert (system["event_code"], system["class_uid"], system["activity_id"]) == ("104", 1008, 1)
    assert (system["actor_user_uid"], system["actor_user_name"]) == (ADMMIG, "admmig")
    assert (system["resource_uid"], system["resource_type"]) == ("System", "event log")
    assert system["status_id"] == 0  # System-channel keywords say neither success nor failure
    assert system["source_stream"] == "FS03.offsec.lan/System"
    assert "Security" not in unmapped(system)["System"]  # UserID became the actor: held
    assert unmapped(system)["UserData"]["LogFileCleared"] == {"BackupPath": None}
    assert frame.filter(pl.col("event_code") == "104").height == 90


@pytest.mark.samples
def test_golden_failed_logons() -> None:
    frame = load(sample(EVTX_DIR, FAILED))
    first = by_seq(frame, 90907)
    assert (first["class_uid"], first["activity_id"], first["status_id"]) == (3002, 1, 2)
    assert (first["status_code"], first["status_detail"]) == ("0xc000006e", "Unknown user name or bad password.")
    assert (first["actor_user_uid"], first["actor_user_name"]) == (None, None)  # "-" and the NULL SID: unset
    assert first["src_ip"] == "10.23.23.9"
    assert (first["actor_process_name"], first["actor_process_pid"]) == (r"C:\Windows\System32\winlogon.exe", 0x1310)
    data = unmapped(first)["EventData"]
    assert (data["SubjectUserName"], data["LogonType"]) == ("FS03$", 10)
    assert "SubStatus" not in data  # 0x0: held, and unset

    selected = load(sample(EVTX_DIR, SELECTED))
    rdp = by_seq(selected, 319457832)  # 4625 over RDP from the internet
    assert (rdp["actor_user_name"], rdp["actor_user_domain"], rdp["status_id"]) == ("Administrator", "TEMPORAL", 2)
    assert (rdp["src_ip"], rdp["src_port"], rdp["src_hostname"]) == ("23.94.153.202", 60167, "TEMPORAL")
    assert rdp["status_code"] == "0xc000006d"
    assert rdp["status_detail"] == ("Unknown user name or bad password. (SubStatus 0xc000006a: the user name is "
                                    "correct but the password is wrong)")
    ntlm = by_seq(selected, 319457831)  # 4776: NTLM validation failed on the DC
    assert (ntlm["class_uid"], ntlm["activity_id"], ntlm["status_id"]) == (3002, 99, 2)
    assert (ntlm["actor_user_name"], ntlm["src_hostname"], ntlm["status_code"]) == ("Administrator", "TEMPORAL",
                                                                                     "0xc000006a")
    unknown = by_seq(selected, 319457858)  # 4673 is not in the table: class 0, every field kept
    assert (unknown["class_uid"], unknown["activity_id"], unknown["api_operation"]) == (0, 0, None)
    assert unknown["actor_user_name"] == "TEMPORAL$"  # the default profile still finds the subject
    assert unmapped(unknown)["EventData"]["Service"] == "Security Account Manager"


@pytest.mark.samples
def test_golden_account_and_group_changes() -> None:
    frame = load(sample(EVTX_DIR, SECURITY))
    member = by_seq(frame, 50)  # 4728: a user added to the group "None"
    assert (member["class_uid"], member["activity_id"]) == (3006, 3)
    assert member["target_user_uid"] == "S-1-5-21-2603537626-3982775912-406486804-1000"
    assert member["target_user_name"] is None  # MemberName "-"
    assert (member["resource_uid"], member["resource_type"]) == ("S-1-5-21-2603537626-3982775912-406486804-513",
                                                                 "group")
    assert unmapped(member)["EventData"]["TargetUserName"] == "None"  # the group's name
    created = by_seq(frame, 51)  # 4720: user fsir created by the machine account
    assert (created["class_uid"], created["activity_id"]) == (3001, 1)
    assert (created["target_user_name"], created["target_user_uid"]) == (
        "fsir", "S-1-5-21-2603537626-3982775912-406486804-1000")
    assert created["actor_user_name"] == "WIN-03DLIIOFRRA$"
    clock = by_seq(frame, 143)  # 4616: the system time changed
    assert (clock["class_uid"], clock["activity_id"], clock["api_operation"]) == (0, 99, "system-time-changed")
    assert clock["actor_process_name"].endswith("vmtoolsd.exe")
    assert unmapped(clock)["EventData"]["PreviousTime"] == "2016-07-08T18:16:31.108103Z"
    stops = frame.filter(pl.col("event_code") == "1100")
    assert stops.height == 36
    assert stops.select("class_uid", "activity_id").unique().rows() == [(1008, 7)]
    assert frame["source_seq"].to_list() == list(range(1, 2262))


# ---------------------------------------------------------------------------------------- golden: XML and JSON


@pytest.mark.samples
def test_golden_xml_failed_logon() -> None:
    frame = load(sample(TEXT_DIR, XML_LINES))
    row = by_line(frame, 1)
    assert (row["event_code"], row["class_uid"], row["activity_id"], row["status_id"]) == ("4625", 3002, 1, 2)
    assert (row["actor_user_name"], row["actor_user_domain"], row["actor_user_uid"]) == ("asdfasdf", "MYDOMAIN",
                                                                                         None)
    assert row["status_code"] == "0xc000006d"
    assert row["status_detail"] == ("Unknown user name or bad password. (SubStatus 0xc0000064: the user name does "
                                    "not exist)")
    assert (row["src_ip"], row["src_hostname"]) == ("192.168.9.212", "DESKTOP-7QD9TN3")
    assert (row["source_seq"], row["host_name"]) == (2559, "exchange-1.mydomain.test")
    assert row["time"].isoformat() == "2022-04-29T12:36:01.902791+00:00"
    assert row["time_original"] == "2022-04-29T12:36:01.9027913Z"
    system = unmapped(row)["System"]
    assert system["Correlation"] == {"#attributes": {"ActivityID": "{31491fb2-5b07-0001-4d20-4931075bd801}"}}
    assert frame["source_seq"].to_list() == [2559, 2560, 2561, 2562, 2563, 2563]  # the sample repeats one event


@pytest.mark.samples
def test_golden_otrf_sysmon_and_security() -> None:
    frame = load(sample(TEXT_DIR, OTRF))
    lines = sample(TEXT_DIR, OTRF).read_text(encoding="utf-8").splitlines()
    line_of = {json.loads(text)["EventID"]: i + 1 for i, text in reversed(list(enumerate(lines)))}
    launch = by_line(frame, line_of[1])  # Sysmon 1: rundll32 comsvcs.dll MiniDump of lsass
    assert (launch["class_uid"], launch["activity_id"], launch["api_service"]) == (1007, 1, "Microsoft-Windows-Sysmon")
    assert (launch["actor_user_domain"], launch["actor_user_name"]) == ("WORKSTATION5", "wardog")
    assert launch["actor_session_uid"] == "0xc61d9"
    assert (launch["actor_process_pid"], launch["actor_process_name"]) == (
        6100, r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe")
    assert launch["file_path"] == r"C:\Windows\System32\rundll32.exe"
    assert "comsvcs.dll MiniDump 756" in launch["process_cmdline"]
    assert launch["source_stream"] == "WORKSTATION5/Microsoft-Windows-Sysmon/Operational"
    assert launch["time_original"] == "2020-10-18 07:50:05.917"  # no zone: taken as UTC
    assert unmapped(launch)["Hashes"].startswith("SHA1=")
    assert "User" not in unmapped(launch)
    access = by_line(frame, line_of[10])  # Sysmon 10: a process opens another
    assert (access["class_uid"], access["activity_id"], access["resource_type"]) == (1007, 3, "process")
    assert access["resource_uid"] == json.loads(lines[line_of[10] - 1])["TargetImage"]
    registry = by_line(frame, line_of[13])
    assert (registry["class_uid"], registry["activity_id"], registry["resource_type"]) == (201002, 2,
                                                                                           "registry value")
    exited = by_line(frame, line_of[4689])  # Security 4689: ProcessId in hex
    assert (exited["class_uid"], exited["activity_id"], exited["actor_process_pid"]) == (1007, 2, 0x12D8)
    assert exited["actor_session_uid"] == "0xc61d9"
    cleared = by_line(frame, line_of[1102])
    assert (cleared["class_uid"], cleared["activity_id"]) == (1008, 1)
    created = by_line(frame, line_of[4688])
    assert (created["class_uid"], created["actor_user_name"]) == (1007, "wardog")
    untabled = by_line(frame, line_of[12])  # Sysmon 12 (registry key) is not in the table: class 0, fields kept
    record = json.loads(lines[line_of[12] - 1])
    assert (untabled["class_uid"], untabled["actor_process_name"]) == (0, record["Image"])
    assert unmapped(untabled)["TargetObject"] == record["TargetObject"]


# -------------------------------------------------------------------------------------------- mapping rules


def one_event(system: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    rows = _windows.Rows()
    base = {"TimeCreated": "2024-01-02T03:04:05Z", "Channel": "Security", "Computer": "pc1",
            "Provider": _windows.SECURITY}
    rows.add("{}", 1, 0, _windows.event_values({**base, **system}, data))
    return rows.frame("test").row(0, named=True)


def test_sysmon_ids_only_for_the_sysmon_provider() -> None:
    sysmon = one_event({"EventID": 1, "Provider": "Microsoft-Windows-Sysmon", "Channel": _windows.SYSMON_CHANNEL},
                       {"Image": "a.exe", "ParentImage": "b.exe"})
    other = one_event({"EventID": 1, "Provider": "Microsoft-Windows-Kernel-General", "Channel": "System"},
                      {"Image": "a.exe"})
    assert (sysmon["class_uid"], sysmon["file_path"], sysmon["actor_process_name"]) == (1007, "a.exe", "b.exe")
    assert (other["class_uid"], other["activity_id"], other["file_path"]) == (0, 0, None)
    assert unmapped(other)["EventData"] == {"Image": "a.exe"}
    log = one_event({"EventID": 104, "Provider": "SomeApp"}, {})
    assert log["class_uid"] == 0  # 104 is a cleared log only from the Eventlog provider


def test_kerberos_status_rules_and_keywords() -> None:
    ok = one_event({"EventID": 4768, "Keywords": "0x8020000000000000"}, {"TargetUserName": "bob", "Status": "0x0",
                                                                        "ServiceName": "krbtgt"})
    bad = one_event({"EventID": 4768}, {"TargetUserName": "bob", "Status": "0x6"})
    assert (ok["status_id"], ok["class_uid"], ok["activity_id"]) == (1, 3002, 3)
    assert (ok["actor_user_name"], ok["resource_uid"], ok["resource_type"]) == ("bob", "krbtgt", "service")
    assert (bad["status_id"], bad["status_code"]) == (2, "0x6")
    assert one_event({"EventID": 4624, "Keywords": "0x8010000000000000"}, {})["status_id"] == 2
    assert one_event({"EventID": 4624, "Keywords": -9214364837600034816}, {})["status_id"] == 1  # int64 mask
    assert one_event({"EventID": 4625}, {})["status_id"] == 2  # a failure whatever the keywords


def test_unset_values_are_null_and_ids_stay_text() -> None:
    row = one_event({"EventID": 4624}, {"TargetUserSid": "S-1-0-0", "TargetUserName": "-", "TargetLogonId": "0x0",
                                        "IpAddress": "-", "IpPort": "-", "ProcessId": "0x0",
                                        "WorkstationName": ""})
    assert [row[c] for c in ("actor_user_uid", "actor_user_name", "actor_session_uid", "src_ip", "src_port",
                             "actor_process_pid", "src_hostname")] == [None] * 7
    assert "EventData" not in unmapped(row)  # the unset fields were held by their (null) columns
    ids = one_event({"EventID": 4624}, {"TargetUserSid": "S-1-5-18", "TargetLogonId": "0x3E7", "ProcessId": 412})
    assert (ids["actor_user_uid"], ids["actor_session_uid"], ids["actor_process_pid"]) == ("S-1-5-18", "0x3E7", 412)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-01-02T03:04:05.1234567Z", "2024-01-02T03:04:05.123456+00:00"),
        ("2024-01-02T03:04:05.5+02:00", "2024-01-02T01:04:05.500000+00:00"),
        ("2024-01-02 03:04:05", "2024-01-02T03:04:05+00:00"),  # no zone: taken as UTC
        ("/Date(1700000000123)/", "2023-11-14T22:13:20.123000+00:00"),
        ("yesterday", None),
    ],
)
def test_time_forms(text: str, iso: str | None) -> None:
    row = one_event({"EventID": 4624, "TimeCreated": text}, {})
    assert (row["time"].isoformat() if row["time"] else None) == iso
    assert row["time_original"] == text
    assert row["parse_error"] == (None if iso else f"TimeCreated does not parse: {text}")


def test_an_alternative_field_not_used_stays_unmapped() -> None:
    row = one_event({"EventID": 4720}, {"TargetSid": "S-1-5-21-1", "TargetUserSid": "S-1-5-21-2"})
    assert row["target_user_uid"] == "S-1-5-21-1"
    assert unmapped(row)["EventData"] == {"TargetUserSid": "S-1-5-21-2"}


def test_sysmon_network_endpoint_and_user() -> None:
    row = one_event({"EventID": 3, "Provider": "Microsoft-Windows-Sysmon", "Channel": _windows.SYSMON_CHANNEL,
                     "UserID": "S-1-5-18"},
                    {"User": r"CORP\alice", "Image": "curl.exe", "ProcessId": "99", "SourceIp": "10.0.0.5",
                     "SourcePort": "50000", "DestinationIp": "2001:db8::1", "DestinationPort": "443"})
    assert (row["class_uid"], row["activity_id"]) == (4001, 1)
    assert (row["actor_user_domain"], row["actor_user_name"]) == ("CORP", "alice")
    assert row["actor_user_uid"] is None  # Sysmon's own UserID (SYSTEM) is not the actor
    assert unmapped(row)["System"]["UserID"] == "S-1-5-18"
    assert (row["resource_uid"], row["resource_type"]) == ("[2001:db8::1]:443", "network endpoint")
    assert (row["src_ip"], row["src_port"], row["actor_process_pid"]) == ("10.0.0.5", 50000, 99)


def test_every_listed_event_id_has_a_class() -> None:
    required = [4624, 4625, 4634, 4647, 4648, 4672, 4688, 4689, 4697, 4698, 4720, 4722, 4723, 4724, 4725, 4726, 4728,
                4732, 4738, 4740, 4756, 4768, 4769, 4771, 4776, 4798, 1102, 104, 4616, 4719, 7045, 7036, 5140, 5145]
    for code in required:
        event = _windows.EVENTS[code]
        assert event.action, code
        assert (event.class_uid, event.activity_id) != (0, 0) or code == 4616, code
    assert {c: _windows.EVENTS[c].class_uid for c in (4728, 4732, 4756)} == dict.fromkeys((4728, 4732, 4756), 3006)
    assert {c: _windows.SYSMON_EVENTS[c].class_uid for c in (1, 3, 10, 11, 13)} == {1: 1007, 3: 4001, 10: 1007,
                                                                                    11: 1001, 13: 201002}


# --------------------------------------------------------------------------------------------------- EVTX damage


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def security_bytes() -> bytes:
    return sample(EVTX_DIR, SECURITY).read_bytes()


def chunk_at(index: int) -> int:
    return evtx.HEADER_SIZE + index * evtx.CHUNK_SIZE


@pytest.mark.samples
def test_bad_chunk_magic_is_restored_and_flagged(tmp_path: Path, security_bytes: bytes) -> None:
    data = bytearray(security_bytes)
    data[chunk_at(2) : chunk_at(2) + 8] = b"XXXXXXXX"
    frame = load(write(tmp_path, "magic.evtx", bytes(data)))
    assert frame.height == 2261  # chunk 2's 83 records read again with the signature restored
    flagged = frame.filter(pl.col("parse_error").is_not_null())
    assert flagged.height == 83
    assert flagged["source_seq"].to_list() == list(range(178, 261))
    assert all("chunk 2 (byte 135168)" in e and "signature is damaged" in e for e in flagged["parse_error"])


@pytest.mark.samples
@pytest.mark.parametrize("where", [100, 1000], ids=["header-checksum", "data-checksum"])
def test_checksum_mismatch_flags_the_chunk(tmp_path: Path, security_bytes: bytes, where: int) -> None:
    data = bytearray(security_bytes)
    data[chunk_at(3) + where] ^= 0xFF
    frame = load(write(tmp_path, "crc.evtx", bytes(data)))
    assert frame.height == len(bare_records(tmp_path / "crc.evtx")) == 2261
    flagged = frame.filter(pl.col("parse_error").is_not_null())
    assert flagged.height == 89  # chunk 3 holds records 261-349
    assert flagged["parse_error"].str.contains("checksum does not match").all()


@pytest.mark.samples
def test_unreadable_records_are_rows(tmp_path: Path, security_bytes: bytes) -> None:
    data = bytearray(security_bytes)
    data[chunk_at(2) + 600 : chunk_at(2) + 700] = bytes(100)
    path = write(tmp_path, "records.evtx", bytes(data))
    frame = load(path)
    errors = frame.filter(pl.col("raw") == "")
    assert frame.height == 2261
    assert errors.height > 0
    assert errors["parse_error"].str.starts_with("unreadable record: Failed to parse record number").all()
    assert errors["source_offset"].is_between(chunk_at(2), chunk_at(3)).all()
    assert set(bare_records(path)) <= set(frame["raw"].to_list())


@pytest.mark.samples
def test_a_truncated_file_keeps_the_complete_records_of_its_last_chunk(tmp_path: Path, security_bytes: bytes) -> None:
    cut = chunk_at(5) + 30_000
    path = write(tmp_path, "cut.evtx", security_bytes[:cut])
    frame = load(path)
    bare = bare_records(path)
    assert len(bare) == 441  # the bare parser silently drops the partial chunk
    assert frame["raw"].head(441).to_list() == bare
    recovered = frame.filter(pl.col("parse_error").str.contains("the file ends 30000 bytes into it"))
    seqs = recovered["source_seq"].drop_nulls().to_list()
    assert len(seqs) > 30
    assert seqs == list(range(442, 442 + len(seqs)))  # (the record cut in two renders as zeros: flagged too)
    missing = frame.filter(pl.col("raw") == "")
    assert missing.height == 1
    assert f"records 442-530 (89) but {recovered.height} were read" in missing["parse_error"][0]
    assert missing["source_offset"][0] == chunk_at(5)


@pytest.mark.samples
def test_a_zeroed_chunk_is_reported_not_dropped(tmp_path: Path, security_bytes: bytes) -> None:
    data = bytearray(security_bytes)
    data[chunk_at(2) : chunk_at(3)] = bytes(evtx.CHUNK_SIZE)
    frame = load(write(tmp_path, "zero.evtx", bytes(data)))
    assert frame.height == 2261 - 83 + 1
    assert frame.filter(pl.col("raw") == "")["parse_error"].to_list() == [
        "chunk 2 (byte 135168) holds no chunk, but the file header counts 26 chunks in use"]
    data[chunk_at(2) : chunk_at(3)] = security_bytes[chunk_at(2) : chunk_at(3)]
    data[chunk_at(2) + 512 : chunk_at(2) + 700] = bytes(188)  # the first record header wiped: the parser sees none
    frame = load(write(tmp_path, "wiped.evtx", bytes(data)))
    errors = frame.filter(pl.col("raw") == "")["parse_error"].to_list()
    assert errors == ["chunk 2 (byte 135168): its header lists records 178-260 (83) but 0 were read or reported; "
                      "83 missing"]


@pytest.mark.samples
def test_a_damaged_file_header_or_a_carved_chunk_still_reads(tmp_path: Path, security_bytes: bytes) -> None:
    data = bytearray(security_bytes)
    data[:8] = b"YYYYYYYY"
    frame = load(write(tmp_path, "header.evtx", bytes(data)), format="evtx")
    assert frame.height == 2262
    assert frame["parse_error"].drop_nulls().to_list() == [
        "the EVTX file header is missing or damaged (no ElfFile signature): the chunks were read without it"]
    carved = load(write(tmp_path, "chunk.bin", security_bytes[chunk_at(0) : chunk_at(1)]))  # sniffed by ElfChnk
    assert carved.height == 92
    assert carved.filter(pl.col("parse_error").is_null())["source_seq"].to_list() == list(range(1, 92))


@pytest.mark.parametrize("data", [b"", b"ElfFile\x00" + bytes(100)], ids=["empty", "header-only"])
def test_not_an_evtx_file_is_one_error_row(tmp_path: Path, data: bytes) -> None:
    frame = load(write(tmp_path, "x.evtx", data), format="evtx")
    assert frame.height == 1
    assert frame["parse_error"][0] == f"not an EVTX file: {len(data)} bytes, no chunk"


@pytest.mark.samples
def test_a_wrapped_log_reads_in_record_order(tmp_path: Path, security_bytes: bytes) -> None:
    chunks = [security_bytes[chunk_at(i) : chunk_at(i + 1)] for i in range(33)]
    rotated = security_bytes[: evtx.HEADER_SIZE] + b"".join(chunks[13:26] + chunks[:13] + chunks[26:])
    path = write(tmp_path, "wrapped.evtx", rotated)
    frame = load(path)
    assert frame["source_seq"].to_list() == list(range(1, 2262))
    assert frame["parse_error"].null_count() == 2261
    assert sorted(frame["raw"].to_list()) == sorted(bare_records(path))


@pytest.mark.samples
def test_compressed_evtx_and_corrupt_compression(tmp_path: Path, security_bytes: bytes) -> None:
    packed = gzip.compress(security_bytes)
    frame = load(write(tmp_path, "security.evtx.gz", packed))
    assert frame.height == 2261
    assert frame["raw"].to_list() == bare_records(sample(EVTX_DIR, SECURITY))
    broken = load(write(tmp_path, "broken.evtx.gz", packed[: len(packed) // 2]))
    errors = broken["parse_error"].drop_nulls().to_list()
    assert any(e.startswith("gzip error in ") for e in errors)
    clean = broken.filter(pl.col("parse_error").is_null())
    assert clean["raw"].to_list() == bare_records(sample(EVTX_DIR, SECURITY))[: clean.height]
    assert clean.height > 500


def hanging_copy(tmp_path: Path, *, checksums: bool) -> Path:
    """The short Security sample with one byte changed (found by fuzzing) on which ``evtx`` 0.14 loops forever;
    with ``checksums`` the chunk's checksums are recomputed, so that the checked pass meets the loop too."""
    data = bytearray(sample(EVTX_DIR, SELECTED).read_bytes())
    data[5148] = 0x94
    if checksums:
        import zlib

        start = chunk_at(0)
        free = struct.unpack_from("<I", data, start + 48)[0]
        struct.pack_into("<I", data, start + 52, zlib.crc32(bytes(data[start + 512 : start + free])))
        header = zlib.crc32(bytes(data[start + 128 : start + 512]), zlib.crc32(bytes(data[start : start + 120])))
        struct.pack_into("<I", data, start + 124, header)
    return write(tmp_path, f"hang_{checksums}.evtx", bytes(data))


@pytest.mark.samples
@pytest.mark.parametrize("checksums", [False, True], ids=["damaged", "damaged-with-valid-checksums"])
def test_a_chunk_that_hangs_the_parser_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  checksums: bool) -> None:
    import time

    monkeypatch.setattr(evtx, "STALL_SECONDS", 1.0)
    path = hanging_copy(tmp_path, checksums=checksums)
    start = time.monotonic()
    frame = load(path, format="evtx")
    assert time.monotonic() - start < 20
    assert frame["parse_error"].to_list() == [
        "chunk 0 (byte 4096): the parser made no progress for 1.0 s and was stopped (7 of the 7 records its header "
        "lists are missing)"]
    again = load(sample(EVTX_DIR, RUNAS))  # the pool's workers still serve
    assert again.height == 9


@pytest.mark.samples
def test_a_worker_that_dies_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    script = write(tmp_path, "dead_worker.py", b"import sys\nsys.exit(3)\n")
    monkeypatch.setattr(evtx, "_evtx_worker", SimpleNamespace(__file__=str(script)))
    monkeypatch.setattr(evtx, "_WORKERS", evtx._Pool())
    frame = load(sample(EVTX_DIR, RUNAS))
    assert frame["raw"].to_list() == [""]
    assert frame["parse_error"].to_list() == [
        "chunk 0 (byte 4096): the parser's process ended in it (exit status 3) (9 of the 9 records its header lists "
        "are missing)"]


@pytest.mark.samples
def test_control_characters_in_the_parsers_json_are_read_leniently(tmp_path: Path) -> None:
    data = bytearray(sample(EVTX_DIR, SELECTED).read_bytes())
    data[5596] = 0x0A  # the "c" of the template's "ProcessID" becomes a newline, which the parser writes raw
    path = write(tmp_path, "newline.evtx", bytes(data))
    bare = bare_records(path)
    assert sum("\n" in record for record in bare) == 7  # not valid JSON: a raw control character in a string
    frame = load(path, format="evtx")
    assert sorted(frame.filter(pl.col("raw") != "")["raw"].to_list()) == sorted(bare)  # framed by size, not lines
    lenient = frame.filter(pl.col("parse_error").str.contains("read leniently"))
    assert lenient.height == frame.height == 7
    assert lenient["event_code"].to_list() == ["5152", "4611", "4776", "4625", "5152", "5157", "4673"]
    assert lenient["parse_error"].str.starts_with("read from a damaged chunk 0 (byte 4096)").all()


@pytest.mark.samples
def test_stopping_early_stops_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = evtx._Pool()
    monkeypatch.setattr(evtx, "_WORKERS", pool)
    batches = evtx.parse(expand(sample(EVTX_DIR, SECURITY))[0], batch_rows=100)
    assert next(batches).height == 100
    batches.close()  # the worker was mid-answer: it is stopped, not returned to the pool
    assert pool._idle == []
    assert next(iter(evtx.parse(expand(sample(EVTX_DIR, RUNAS))[0], batch_rows=100))).height == 9
    assert len(pool._idle) == 1
    pool.close()


def test_the_parser_accepts_a_file_object(tmp_path: Path) -> None:
    data = sample(EVTX_DIR, RUNAS).read_bytes()
    with gzip.open(write(tmp_path, "r.evtx.gz", gzip.compress(data)), "rb") as stream:
        records = [r["data"] for r in PyEvtxParser(stream).records_json()]
    assert records == bare_records(sample(EVTX_DIR, RUNAS))


@pytest.mark.samples
def test_batches_split_a_file(security_bytes: bytes) -> None:
    frames = list(evtx.parse(expand(sample(EVTX_DIR, SECURITY))[0], batch_rows=1000))
    assert [f.height for f in frames] == [1000, 1000, 261]
    assert pl.concat(frames)["source_line"].to_list() == list(range(1, 2262))


# ------------------------------------------------------------------------------------------------- XML edge cases


@pytest.fixture(scope="module")
def xml_line() -> bytes:
    return sample(TEXT_DIR, XML_LINES).read_bytes().split(b"\n")[0]


def test_a_wrapped_pretty_printed_file(tmp_path: Path, xml_line: bytes) -> None:
    pretty = xml_line.replace(b"><", b">\n  <")
    data = b'<?xml version="1.0" encoding="utf-8"?>\n<!-- saved -->\n<Events>\n' + xml_line + b"\n" + pretty
    data += b"\n</Events>\n"
    frame = load(write(tmp_path, "events.xml", data))
    assert frame.height == 2
    assert frame["parse_error"].null_count() == 2
    assert frame["source_line"].to_list() == [4, 5]
    assert frame["raw"][1] == pretty.decode()
    first = data.index(b"<Event ")
    assert frame["source_offset"].to_list() == [first, data.index(b"<Event ", first + 1)]
    assert frame["actor_user_name"].to_list() == ["asdfasdf", "asdfasdf"]


EVENT_VIEWER = """- <Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
- <System>
  <Provider Name="Microsoft-Windows-Security-Auditing" Guid="{54849625-5478-4994-A5BA-3E3B0328C30D}" />
  <EventID>4624</EventID>
  <Version>2</Version>
  <Keywords>0x8020000000000000</Keywords>
  <TimeCreated SystemTime="2015-11-12T00:24:35.079785200Z" />
  <EventRecordID>211</EventRecordID>
  <Channel>Security</Channel>
  <Computer>WIN-GG82ULGC9GO</Computer>
  <Security />
  </System>
- <EventData>
  <Data Name="SubjectUserSid">S-1-5-18</Data>
  <Data Name="TargetUserSid">S-1-5-21-1377283216-344919071-3415362939-500</Data>
  <Data Name="TargetUserName">Administrator</Data>
  <Data Name="TargetLogonId">0x8dcdc</Data>
  <Data Name="LogonType">2</Data>
  <Data Name="IpAddress">127.0.0.1</Data>
  </EventData>
  </Event>
"""


def test_the_event_viewer_copy(tmp_path: Path) -> None:
    frame = load(write(tmp_path, "copy.xml", EVENT_VIEWER.encode()))
    row = frame.row(0, named=True)
    assert frame.height == 1
    assert row["parse_error"] is None
    assert (row["actor_user_name"], row["actor_session_uid"], row["src_ip"]) == ("Administrator", "0x8dcdc",
                                                                                 "127.0.0.1")
    assert (row["source_seq"], row["source_offset"]) == (211, 2)
    assert row["raw"] == EVENT_VIEWER[2:].rstrip("\n")
    assert unmapped(row)["EventData"] == {"SubjectUserSid": "S-1-5-18", "LogonType": "2"}


def test_utf16_files(tmp_path: Path, xml_line: bytes) -> None:
    text = '<?xml version="1.0" encoding="utf-16"?>\r\n<Events>' + xml_line.decode() + "</Events>"
    data = b"\xff\xfe" + text.encode("utf-16-le")
    frame = load(write(tmp_path, "saved.xml", data))
    assert frame.height == 1
    assert frame["parse_error"][0] is None
    assert frame["source_offset"][0] == data.index("<Event ".encode("utf-16-le"))
    assert frame["raw"][0] == xml_line.decode()


def test_an_entity_bomb_is_never_expanded(tmp_path: Path, xml_line: bytes) -> None:
    lols = "".join(f'<!ENTITY lol{i} "{"&lol" + str(i - 1) + ";" * 1}' * 10 + '">' for i in range(1, 10))
    doctype = f'<!DOCTYPE lolz [\n<!ENTITY lol0 "lol">\n{lols}\n]>\n'
    data = doctype.encode() + xml_line.replace(b"asdfasdf", b"&lol9;") + b"\n" + xml_line + b"\n"
    frame = load(write(tmp_path, "bomb.xml", data), format="windows_xml")
    assert frame.height == 3
    dtd, bomb, fine = frame.rows(named=True)
    assert dtd["parse_error"].startswith("a DTD (<!DOCTYPE ...>) was refused")
    assert dtd["raw"] == doctype.rstrip("\n")
    assert bomb["parse_error"].startswith("not well-formed XML: undefined entity")
    assert len(bomb["raw"]) < 2000  # raw is the verbatim event, never an expansion
    assert (fine["parse_error"], fine["actor_user_name"]) == (None, "asdfasdf")


def test_external_entities_on_the_event_line_are_refused(tmp_path: Path, xml_line: bytes) -> None:
    line = b'<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + xml_line.replace(b"asdfasdf", b"&x;")
    frame = load(write(tmp_path, "xxe.xml", line + b"\n" + xml_line + b"\n"), format="windows_xml")
    assert frame.height == 2  # one record per line: the DTD belongs to the event of its line
    assert frame["raw"][0] == line.decode()
    assert frame["parse_error"][0].startswith("XML with a DTD was refused")
    assert "root:" not in frame["raw"][0] + (frame["unmapped"][0] or "")


def test_cut_events_junk_and_invalid_utf8(tmp_path: Path, xml_line: bytes) -> None:
    bad = xml_line.replace(b"asdfasdf", b"asdf\xff\xfeasdf")
    data = xml_line + b"\n" + xml_line[:500] + b"\nnot xml at all\n" + bad + b"\n" + xml_line[:300]
    frame = load(write(tmp_path, "damaged.xml", data))
    errors = frame["parse_error"].to_list()
    assert frame.height == 4
    assert errors[0] is None
    assert errors[1] == "the event is cut short: no </Event> before the next <Event>"
    assert frame["raw"][1] == (xml_line[:500] + b"\nnot xml at all").decode()  # what follows the cut is in it
    assert errors[2] == "invalid UTF-8 at byte 911"
    assert frame["actor_user_name"][2] == "asdf\ufffd\ufffdasdf"
    assert "\\xff\\xfe" in frame["raw"][2]
    assert errors[3] == "the event is cut short: the file ends before </Event>"
    assert frame["source_line"].to_list() == [1, 2, 4, 5]


def test_text_between_events_is_a_row(tmp_path: Path, xml_line: bytes) -> None:
    data = xml_line + b"\nhello world\n\n" + xml_line + b"\n"
    frame = load(write(tmp_path, "junk.xml", data))
    assert frame["raw"].to_list() == [xml_line.decode(), "hello world", xml_line.decode()]
    assert frame["parse_error"].to_list() == [None, "text outside any <Event> element", None]
    assert frame["source_line"].to_list() == [1, 2, 4]


def test_an_event_that_is_not_an_event(tmp_path: Path, xml_line: bytes) -> None:
    data = f'<Event xmlns="{NS}"/>\n<Event xmlns="{NS}"><System></Event>\n'.encode() + xml_line + b"\n"
    frame = load(write(tmp_path, "odd.xml", data), format="windows_xml")
    assert frame["parse_error"][0] == "not a Windows event: it has no EventID"
    assert frame["parse_error"][1].startswith("not well-formed XML: mismatched tag: line 1, column ")
    assert frame["parse_error"][2] is None


def test_deep_nesting_is_an_error_row(tmp_path: Path) -> None:
    deep = "<a>" * 5000 + "x" + "</a>" * 5000
    data = f'<Event xmlns="{NS}"><System><EventID>1</EventID></System><UserData>{deep}</UserData></Event>\n'
    frame = load(write(tmp_path, "deep.xml", data.encode()), format="windows_xml")
    assert frame.height == 1
    assert frame["parse_error"][0] in ("the event nests too deep to read", None) or "nest" in frame["parse_error"][0]


def test_compressed_xml(tmp_path: Path, xml_line: bytes) -> None:
    frame = load(write(tmp_path, "x.xml.gz", gzip.compress((xml_line + b"\n") * 3)))
    assert frame.height == 3
    assert frame["source_offset"].to_list() == [0, len(xml_line) + 1, 2 * len(xml_line) + 2]


# ------------------------------------------------------------------------------------------------ JSON edge cases


WINLOGBEAT = {
    "@timestamp": "2019-11-07T10:37:04.226Z",
    "event": {"code": 4624, "kind": "event", "provider": "Microsoft-Windows-Security-Auditing",
              "action": "logged-in", "outcome": "success"},
    "winlog": {"channel": "Security", "computer_name": "DC_TEST2k12.TEST.SAAS", "event_id": 4624,
               "provider_name": "Microsoft-Windows-Security-Auditing", "record_id": 5007, "keywords": ["Audit Success"],
               "process": {"pid": 496, "thread": {"id": 2868}},
               "event_data": {"SubjectUserSid": "S-1-0-0", "SubjectUserName": "-",
                              "TargetUserSid": "S-1-5-21-1-500", "TargetUserName": "Administrator",
                              "TargetDomainName": "TEST", "TargetLogonId": "0x2e67800", "LogonType": "3",
                              "IpAddress": "192.168.5.44", "IpPort": "49581", "WorkstationName": "-"}},
    "host": {"name": "DC_TEST2k12.TEST.SAAS"},
    "message": "An account was successfully logged on.",
}

SENTINEL = {
    "TenantId": "00000000-0000-0000-0000-000000000000", "TimeGenerated": "2024-03-05T06:07:08.123Z",
    "SourceSystem": "OpsManager", "Account": r"CONTOSO\bob", "AccountType": "User", "Computer": "web01.contoso.com",
    "EventSourceName": "Microsoft-Windows-Security-Auditing", "Channel": "Security", "Task": 12544, "Level": "8",
    "EventID": 4625, "Activity": "4625 - An account failed to log on.", "SubjectUserSid": "S-1-5-18",
    "SubjectUserName": "WEB01$", "SubjectDomainName": "CONTOSO", "SubjectLogonId": "0x3e7", "TargetUserSid": "S-1-0-0",
    "TargetUserName": "bob", "TargetDomainName": "CONTOSO", "Status": "0xc000006d", "FailureReason": "%%2313",
    "SubStatus": "0xc000006a", "LogonType": 3, "IpAddress": "198.51.100.7", "IpPort": "51515", "WorkstationName": "",
    "EventData": "<EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"></EventData>",
    "Type": "SecurityEvent", "_ResourceId": "",
}


def jsonl(tmp_path: Path, *records: Any, name: str = "events.jsonl") -> Path:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)
    return write(tmp_path, name, text.encode())


def test_winlogbeat_records(tmp_path: Path) -> None:
    row = load(jsonl(tmp_path, WINLOGBEAT)).row(0, named=True)
    assert (row["event_code"], row["class_uid"], row["status_id"], row["api_operation"]) == ("4624", 3002, 1,
                                                                                               "logged-in")
    assert (row["actor_user_uid"], row["actor_user_name"], row["actor_user_domain"]) == ("S-1-5-21-1-500",
                                                                                         "Administrator", "TEST")
    assert (row["src_ip"], row["src_port"], row["src_hostname"]) == ("192.168.5.44", 49581, None)
    assert (row["source_seq"], row["source_stream"]) == (5007, "DC_TEST2k12.TEST.SAAS/Security")
    assert row["time"].isoformat() == "2019-11-07T10:37:04.226000+00:00"
    rest = unmapped(row)
    assert rest["winlog"]["event_data"] == {"SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "LogonType": "3"}
    assert rest["winlog"]["process"]["pid"] == 496
    assert rest["message"] == "An account was successfully logged on."
    assert "channel" not in rest["winlog"]


def test_sentinel_security_event_rows(tmp_path: Path) -> None:
    row = load(jsonl(tmp_path, SENTINEL)).row(0, named=True)
    assert (row["event_code"], row["status_id"], row["status_code"]) == ("4625", 2, "0xc000006d")
    assert (row["actor_user_name"], row["actor_user_domain"], row["actor_user_uid"]) == ("bob", "CONTOSO", None)
    assert (row["src_ip"], row["src_port"], row["host_name"]) == ("198.51.100.7", 51515, "web01.contoso.com")
    assert row["api_service"] == "Microsoft-Windows-Security-Auditing"
    assert row["time"].isoformat() == "2024-03-05T06:07:08.123000+00:00"
    rest = unmapped(row)
    assert (rest["Account"], rest["SubjectUserName"]) == (r"CONTOSO\bob", "WEB01$")
    assert row["status_detail"].endswith("(SubStatus 0xc000006a: the user name is correct but the password is wrong)")
    assert "_ResourceId" not in rest  # empty values are left out


def test_evtx_dump_json_and_powershell_shapes(tmp_path: Path) -> None:
    record = json.loads(bare_records(sample(EVTX_DIR, RUNAS))[2])  # the 4648, as `evtx_dump -o jsonl` writes it
    powershell = {"Id": 4624, "ProviderName": "Microsoft-Windows-Security-Auditing", "LogName": "Security",
                  "MachineName": "pc1", "RecordId": 77, "TimeCreated": "/Date(1700000000123)/",
                  "KeywordsDisplayNames": ["Audit Success"], "Properties": [{"Value": "S-1-5-18"}]}
    frame = load(jsonl(tmp_path, record, powershell), format="windows_json")
    explicit, ps = frame.rows(named=True)
    evtx_row = by_seq(load(sample(EVTX_DIR, RUNAS)), 469347)
    same = [c for c in schema.COLUMNS if c not in ("raw", "raw_sha256", "source_file", "source_line",
                                                    "source_offset")]
    assert {c: explicit[c] for c in same} == {c: evtx_row[c] for c in same}
    assert (ps["event_code"], ps["host_name"], ps["source_seq"], ps["status_id"]) == ("4624", "pc1", 77, 1)
    assert ps["time"].isoformat() == "2023-11-14T22:13:20.123000+00:00"
    assert unmapped(ps)["Properties"] == [{"Value": "S-1-5-18"}]


def test_json_blank_lines_invalid_lines_and_invalid_utf8(tmp_path: Path) -> None:
    good = json.dumps(SENTINEL)
    data = (good + "\n\n   \n" + "{not json\n").encode() + good.replace("bob", "b\\u00f6b").encode() + b"\n"
    data += good.replace("bob", "bo").encode().replace(b'"bo"', b'"b\xffo"') + b"\n" + b'{"hello": 1}\n'
    frame = load(write(tmp_path, "mixed.jsonl", data), format="windows_json")
    assert frame.height == 5  # blank lines are not records
    assert frame["source_line"].to_list() == [1, 4, 5, 6, 7]
    errors = frame["parse_error"].to_list()
    assert errors[0] is None
    assert errors[2] is None
    assert errors[1].startswith("invalid JSON")
    assert errors[3].startswith("invalid UTF-8 at byte")
    assert frame["actor_user_name"][3] == "b\ufffdo"
    assert errors[4] == "not a Windows event: it has no EventID"
    assert frame["actor_user_name"][2] == "böb"


def test_json_arrays_and_wrapped_documents(tmp_path: Path) -> None:
    for name, doc in (("a.json", [SENTINEL, WINLOGBEAT]), ("b.json", {"value": [SENTINEL, WINLOGBEAT]})):
        frame = load(write(tmp_path, name, json.dumps(doc, indent=2).encode()))
        assert frame["event_code"].to_list() == ["4625", "4624"]
        assert frame["source_line"].to_list() == [1, 2]


# ------------------------------------------------------------------------------------------------------ sniffing


def other_files(mine: set[str]) -> list[Path]:
    if not SAMPLES.exists():
        pytest.skip("the shared samples are not here")
    return [p for p in sorted(SAMPLES.rglob("*")) if p.is_file() and p.suffix != ".md" and p.parent.name not in mine]


@pytest.mark.samples
@pytest.mark.parametrize("module", [evtx, windows_xml, windows_json], ids=lambda m: m.NAME)
def test_sniffers_reject_every_other_format(module: Any) -> None:
    others = other_files({EVTX_DIR, TEXT_DIR})
    assert len(others) >= 10
    for path in others:
        assert not module.sniff(path.read_bytes()[: _formats.SNIFF_BYTES]), path.name
    own = {"evtx": EVTX_FILES, "windows_xml": [XML_LINES], "windows_json": [OTRF]}[module.NAME]
    for path in [*sample(EVTX_DIR).iterdir(), *sample(TEXT_DIR).iterdir()]:
        assert module.sniff(path.read_bytes()[: _formats.SNIFF_BYTES]) == (path.name in own), path.name


def test_sniffers_on_small_inputs() -> None:
    assert windows_json.sniff(json.dumps(WINLOGBEAT).encode())
    assert windows_json.sniff(json.dumps(SENTINEL).encode())
    assert not windows_json.sniff(b'{"eventVersion":"1.08","eventID":"1","eventSource":"s3.amazonaws.com"}')
    assert windows_xml.sniff(EVENT_VIEWER.encode())
    assert windows_xml.sniff(b"\xff\xfe" + f'<Event xmlns="{NS}"><System>'.encode("utf-16-le"))
    assert not windows_xml.sniff(b"<?xml version='1.0'?><rss><channel><Event>x</Event></channel></rss>")
    assert not evtx.sniff(b"ElfFil")


# ---------------------------------------------------------------------------------------------------- properties


HARMLESS_ONLY = re.compile(rb"(?:\s|-[ \t]+|<\?xml[^<>]*\?>|<!--.*?-->|<Events(?:\s[^<>]*)?>|</Events\s*>)*\Z",
                           re.DOTALL)  # the Event Viewer's "- " markers stand before a tag: the next row's


def assert_xml_accounted(data: bytes, frame: pl.DataFrame) -> None:
    """Every byte that is not whitespace or wrapper markup is in exactly one row's raw, verbatim, at its offset."""
    offsets = frame["source_offset"].to_list()
    assert offsets == sorted(offsets)
    assert len(set(offsets)) == len(offsets)
    assert HARMLESS_ONLY.match(data, 0, offsets[0] if offsets else len(data))
    for i, (raw, offset) in enumerate(frame.select("raw", "source_offset").iter_rows()):
        end = offsets[i + 1] if i + 1 < len(offsets) else len(data)
        span = data[offset:end]
        text = decode_text(span)[0]
        assert text.startswith(raw), (raw[:80], text[:80])
        rest = span[len(decode_text_bytes_prefix(span, raw)) :]
        assert HARMLESS_ONLY.match(rest), rest[:80]
    assert (frame["raw"] != "").all()
    assert frame.filter(pl.col("event_code").is_null())["parse_error"].null_count() == 0


def decode_text_bytes_prefix(span: bytes, raw: str) -> bytes:
    """The prefix of ``span`` whose decode_text is ``raw``."""
    for end in range(len(span) + 1):
        if decode_text(span[:end])[0] == raw:
            return span[:end]
    raise AssertionError("raw is not a prefix of the input at its offset")


@st.composite
def mutations(draw: st.DrawFn, size: int, keep: int) -> list[tuple[str, int, bytes]]:
    kinds = st.sampled_from(["flip", "delete", "insert"])
    junk = st.sampled_from([b"<", b">", b"</Event>", b"<Event>", b"<Event ", b"\n", b"\xff", b"&x;", b"<!DOCTYPE a>",
                            b"- ", b"\x00", b"]]>", b"<![CDATA[", b"\xc3"])
    out = []
    for _ in range(draw(st.integers(1, 6))):
        out.append((draw(kinds), draw(st.integers(keep, size - 1)), draw(junk)))
    return out


def apply(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for kind, at, piece in sorted(edits, key=lambda e: -e[1]):
        at = min(at, len(buf))
        if kind == "flip" and at < len(buf):
            buf[at] ^= piece[0] | 1
        elif kind == "delete":
            del buf[at : at + len(piece) * 7]
        else:
            buf[at:at] = piece
    return bytes(buf)


@pytest.mark.samples
@given(edits=mutations(9439, 0))
def test_property_every_xml_byte_is_accounted_for(edits: list[tuple[str, int, bytes]],
                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    original = sample(TEXT_DIR, XML_LINES).read_bytes()
    data = apply(original, edits)
    path = tmp_path_factory.mktemp("xml") / "events.xml"
    path.write_bytes(data)
    frame = load(path, format="windows_xml")
    assert_xml_accounted(data, frame)


@pytest.mark.samples
@given(edits=mutations(286839, 0), blank=st.integers(0, 183))
def test_property_json_lines_one_row_per_non_blank_line(edits: list[tuple[str, int, bytes]], blank: int,
                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    original = sample(TEXT_DIR, OTRF).read_bytes()
    first = original.index(b"\n") + 1  # the first line stays: so does the layout (JSON lines)
    lines = original[first:].split(b"\n")
    lines.insert(blank, b"   ")  # a blank line in the middle
    data = original[:first] + apply(b"\n".join(lines), [(k, max(0, a - first), p) for k, a, p in edits])
    path = tmp_path_factory.mktemp("jsonl") / "events.jsonl"
    path.write_bytes(data)
    frame = load(path, format="windows_json")
    split = data.split(b"\n")
    expected, at = [], 0
    for number, line in enumerate(split, 1):
        if line.strip():
            expected.append((number, at, decode_text(line.removesuffix(b"\r"))[0]))
        at += len(line) + 1
    assert list(frame.select("source_line", "source_offset", "raw").iter_rows()) == expected
    clean = frame.filter(pl.col("parse_error").is_null())
    assert clean["event_code"].null_count() == 0


@pytest.fixture(scope="module")
def small_evtx() -> bytes:
    return sample(EVTX_DIR, RUNAS).read_bytes()


@pytest.mark.samples
@given(flips=st.lists(st.tuples(st.integers(0, 69631), st.integers(1, 255)), min_size=1, max_size=12),
       cut=st.one_of(st.none(), st.integers(0, 69632)))
def test_property_evtx_damage_keeps_every_record_the_parser_yields(
    flips: list[tuple[int, int]], cut: int | None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = bytearray(sample(EVTX_DIR, RUNAS).read_bytes())
    for at, mask in flips:
        data[at] ^= mask
    if cut is not None:
        del data[cut:]
    path = tmp_path_factory.mktemp("evtx") / "damaged.evtx"
    path.write_bytes(bytes(data))
    frame = load(path, format="evtx")  # never an exception
    bare = bare_records(path)
    raws = frame["raw"].to_list()
    for record in bare:  # the rows hold every record the bare parser yields (multiset)
        raws.remove(record)
    assert frame.height >= len(bare)
    # a clean row the bare parser did not yield is a record it dropped silently (a cut last chunk, a lost file
    # header) and whose chunk checksums held: it must be a genuine record of the undamaged file
    genuine = set(bare_records(sample(EVTX_DIR, RUNAS)))
    extra_clean = frame.filter(pl.col("parse_error").is_null() & ~pl.col("raw").is_in(bare))["raw"].to_list()
    assert set(extra_clean) <= genuine
    assert frame["source_line"].to_list() == list(range(1, frame.height + 1))
    if frame.height:
        assert frame.filter(pl.col("raw") == "")["parse_error"].null_count() == 0


@pytest.mark.samples
@given(chunk=st.integers(0, 25), offset=st.integers(0, 511), mask=st.integers(1, 255))
def test_property_a_damaged_chunk_header_of_a_long_file(chunk: int, offset: int, mask: int,
                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    data = bytearray(sample(EVTX_DIR, SECURITY).read_bytes())
    data[chunk_at(chunk) + offset] ^= mask
    path = tmp_path_factory.mktemp("evtx") / "header.evtx"
    path.write_bytes(bytes(data))
    frame = load(path, format="evtx")
    bare = bare_records(path)
    clean = frame.filter(pl.col("parse_error").is_null())["raw"].to_list()
    assert set(clean) <= set(bare)
    assert frame.height >= len(bare)
    first, last = struct.unpack_from("<QQ", sample(EVTX_DIR, SECURITY).read_bytes(), chunk_at(chunk) + 24)
    others = frame.filter(~pl.col("source_seq").is_between(first, last) & pl.col("source_seq").is_not_null())
    assert others.height == 2261 - (last - first + 1)  # the other chunks are untouched
    assert others["parse_error"].null_count() == others.height


def test_orjson_is_what_unmapped_is_written_with() -> None:
    row = _windows.event_values({"EventID": "4624"}, {"LogonType": 2, "Weird": {"a": [1, "ü"]}})
    assert orjson.loads(row[_windows.ROW.index("unmapped")]) == {"EventData": {"LogonType": 2,
                                                                               "Weird": {"a": [1, "ü"]}}}
