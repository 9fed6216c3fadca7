"""The Windows renderer of the mock generator (auditlab.mock.windows): Event XML and OTRF-style JSON lines that load
back as their truth says, for the events an investigation of a Windows domain turns on."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import auditlab as al
from auditlab.mock._model import Event
from auditlab.mock.render import Log, render_records
from tests._mock import assert_round_trip

FORMATS = ("windows-xml", "windows-json")
SECURITY = ("Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-a5ba-3e3b0328c30d}")
EVENTLOG = ("Microsoft-Windows-Eventlog", "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}")
SCM = ("Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}")
DC = "dc1.corp.example.com"
WS = "ws1.corp.example.com"
DOMAIN_SID = "S-1-5-21-3940915590-64593676-1414006259"
ALICE, BOB, ADMIN = f"{DOMAIN_SID}-1104", f"{DOMAIN_SID}-1105", f"{DOMAIN_SID}-500"
T0 = 1_714_390_000_000_000  # 2024-04-29T11:26:40Z
SECOND = 1_000_000


def event(t: int, event_id: int, data: dict[str, Any] | None = None, *, host: str = DC,
          provider: tuple[str, str] = SECURITY, channel: str = "Security", success: bool = True,
          user_data: tuple[str, dict[str, str]] | None = None, **fields: Any) -> Event:
    f: dict[str, Any] = {"event_id": event_id, "provider": provider[0], "provider_guid": provider[1],
                         "channel": channel}
    if user_data is not None:
        f["user_data"] = user_data
    else:
        f["data"] = data or {}
    f.update(fields)
    return Event(t, "windows", "event", host, f, success=success)


def subject(name: str = "DC1$", sid: str = "S-1-5-18", logon_id: str = "0x3e7", domain: str = "CORP") -> dict:
    return {"SubjectUserSid": sid, "SubjectUserName": name, "SubjectDomainName": domain, "SubjectLogonId": logon_id}


def logon(t: int, user: str, sid: str, logon_id: str, logon_type: int, ip: str, port: int, workstation: str,
          host: str = DC) -> Event:
    local = logon_type in (2, 10)
    return event(t, 4624, {
        **subject(), "TargetUserSid": sid, "TargetUserName": user, "TargetDomainName": "CORP",
        "TargetLogonId": logon_id, "LogonType": str(logon_type), "LogonProcessName": "User32 " if local else "NtLmSsp ",
        "AuthenticationPackageName": "Negotiate" if local else "NTLM", "WorkstationName": workstation,
        "LogonGuid": "{00000000-0000-0000-0000-000000000000}", "TransmittedServices": "-",
        "LmPackageName": "-" if local else "NTLM V2", "KeyLength": "0", "ProcessId": "0x2cc" if local else "0x0",
        "ProcessName": "C:\\Windows\\System32\\svchost.exe" if local else "-", "IpAddress": ip, "IpPort": str(port),
        "ImpersonationLevel": "%%1833", "RestrictedAdminMode": "-", "TargetOutboundUserName": "-",
        "TargetOutboundDomainName": "-", "VirtualAccount": "%%1843", "TargetLinkedLogonId": "0x0",
        "ElevatedToken": "%%1842",
    }, host=host)  # fmt: skip


def failed(t: int, user: str, ip: str, port: int, sid: str = "S-1-0-0", sub_status: str = "0xc000006a") -> Event:
    return event(t, 4625, {
        "SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-", "SubjectLogonId": "0x0",
        "TargetUserSid": sid, "TargetUserName": user, "TargetDomainName": "CORP", "Status": "0xc000006d",
        "FailureReason": "%%2313", "SubStatus": sub_status, "LogonType": "3", "LogonProcessName": "NtLmSsp ",
        "AuthenticationPackageName": "NTLM", "WorkstationName": "KALI", "TransmittedServices": "-",
        "LmPackageName": "-", "KeyLength": "0", "ProcessId": "0x0", "ProcessName": "-", "IpAddress": ip,
        "IpPort": str(port),
    }, success=False)  # fmt: skip


def process(t: int, cmdline: str, name: str = "alice", sid: str = ALICE, logon_id: str = "0x5a3c1",
            host: str = WS) -> Event:
    return event(t, 4688, {
        **subject(name, sid, logon_id), "NewProcessId": "0x1a2c", "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
        "TokenElevationType": "%%1936", "ProcessId": "0x17d4", "CommandLine": cmdline, "TargetUserSid": "S-1-0-0",
        "TargetUserName": "-", "TargetDomainName": "-", "TargetLogonId": "0x0",
        "ParentProcessName": "C:\\Windows\\explorer.exe", "MandatoryLabel": "S-1-16-12288",
    }, host=host)  # fmt: skip


def incident() -> list[Event]:
    """Every event kind the renderer is expected to carry, out of time order (the renderer sorts)."""
    spray = [failed(T0 + 60 * SECOND + i * 250_000, user, "203.0.113.66", 50100 + i,
                    sid="S-1-0-0" if user == "nosuch" else sid, sub_status="0xc0000064" if user == "nosuch"
                    else "0xc000006a")
             for i, (user, sid) in enumerate((("alice", ALICE), ("bob", BOB), ("administrator", ADMIN),
                                              ("nosuch", "")))]  # fmt: skip
    return [
        logon(T0 + 5 * SECOND, "alice", ALICE, "0x5a3c1", 2, "127.0.0.1", 0, "WS1", host=WS),
        logon(T0 + 120 * SECOND, "bob", BOB, "0x7f001", 3, "10.0.2.50", 49732, "WS2"),
        logon(T0 + 300 * SECOND + 123_456, "administrator", ADMIN, "0x9c0de", 10, "203.0.113.66", 51234, "KALI"),
        *spray,
        event(T0 + 301 * SECOND, 4672, {
            **subject("administrator", ADMIN, "0x9c0de"),
            "PrivilegeList": "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeDebugPrivilege"}),
        event(T0 + 302 * SECOND, 4648, {
            **subject("administrator", ADMIN, "0x9c0de"), "LogonGuid": "{64b4aedd-47c8-c360-ddb7-5d7b77226ddc}",
            "TargetUserName": "svc_backup", "TargetDomainName": "CORP",
            "TargetLogonGuid": "{4babbe7b-f9b1-d738-99c3-c3388f497347}", "TargetServerName": "localhost",
            "TargetInfo": "localhost", "ProcessId": "0x2f0", "ProcessName": "C:\\Windows\\System32\\svchost.exe",
            "IpAddress": "::1", "IpPort": "0"}),
        process(T0 + 303 * SECOND, 'cmd.exe /c "whoami /all & net group \\"Domain Admins\\" /domain"'),
        event(T0 + 304 * SECOND, 4720, {
            "TargetUserName": "backdoor", "TargetDomainName": "CORP", "TargetSid": f"{DOMAIN_SID}-1337",
            **subject("administrator", ADMIN, "0x9c0de"), "PrivilegeList": "-", "SamAccountName": "backdoor",
            "DisplayName": "%%1793", "UserPrincipalName": "-", "HomeDirectory": "%%1793", "PasswordLastSet": "%%1794",
            "AccountExpires": "%%1794", "PrimaryGroupId": "513", "OldUacValue": "0x0", "NewUacValue": "0x15",
            "UserAccountControl": "\n\t\t%%2080\n\t\t%%2082\n\t\t%%2084"}),
        event(T0 + 305 * SECOND, 4732, {
            "MemberName": "-", "MemberSid": f"{DOMAIN_SID}-1337", "TargetUserName": "Administrators",
            "TargetDomainName": "Builtin", "TargetSid": "S-1-5-32-544", **subject("administrator", ADMIN, "0x9c0de"),
            "PrivilegeList": "-"}),
        event(T0 + 306 * SECOND, 7045, {
            "ServiceName": "PSEXESVC", "ImagePath": "%SystemRoot%\\PSEXESVC.exe", "ServiceType": "user mode service",
            "StartType": "demand start", "AccountName": "LocalSystem"},
            provider=SCM, channel="System", user_id=ADMIN),
        event(T0 + 307 * SECOND, 4719, {
            **subject(), "CategoryId": "%%8274", "SubcategoryId": "%%12801",
            "SubcategoryGuid": "{0cce921d-69ae-11d9-bed3-505054503030}", "AuditPolicyChanges": "%%8448, %%8450"}),
        event(T0 + 308 * SECOND, 1102, provider=EVENTLOG, user_data=("LogFileCleared", subject(
            "administrator", ADMIN, "0x9c0de"))),
        event(T0 + 900 * SECOND, 4634, {
            "TargetUserSid": BOB, "TargetUserName": "bob", "TargetDomainName": "CORP", "TargetLogonId": "0x7f001",
            "LogonType": "3"}),
    ]  # fmt: skip


def rows(frame: pl.DataFrame, code: str) -> list[dict[str, Any]]:
    return frame.filter(pl.col("event_code") == code).sort("time_us").to_dicts()


# --------------------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_event_loads_back_as_its_truth(fmt: str) -> None:
    loaded = assert_round_trip(Log(incident(), fmt))
    assert loaded.height == 16
    assert loaded["parse_error"].null_count() == 16


@pytest.mark.parametrize("fmt", FORMATS)
def test_what_an_investigation_reads(fmt: str) -> None:
    """The values an analyst turns on, stated by hand (not through the truth)."""
    loaded = Log(incident(), fmt).load()
    interactive, network, rdp = rows(loaded, "4624")
    assert (interactive["actor_user_name"], interactive["host_name"], interactive["src_ip"]) == (
        "alice", WS, "127.0.0.1")
    assert interactive["src_port"] is None  # port 0 is no port
    assert (network["actor_user_uid"], network["actor_session_uid"], network["src_port"]) == (BOB, "0x7f001", 49732)
    assert (rdp["actor_user_name"], rdp["actor_user_domain"], rdp["src_ip"], rdp["src_hostname"]) == (
        "administrator", "CORP", "203.0.113.66", "KALI")
    assert {r["class_uid"] for r in (interactive, network, rdp)} == {3002}
    spray = rows(loaded, "4625")
    assert [r["target_user_name"] for r in spray] == ["alice", "bob", "administrator", "nosuch"]
    assert {r["src_ip"] for r in spray} == {"203.0.113.66"}
    assert {r["status_id"] for r in spray} == {2}
    assert [r["actor_user_uid"] for r in spray] == [ALICE, BOB, ADMIN, None]
    assert [r["status_code"] for r in spray] == ["0xc000006d"] * 4
    [privileges] = rows(loaded, "4672")
    assert (privileges["class_uid"], privileges["actor_user_name"], privileges["target_session_uid"]) == (
        3005, "administrator", "0x9c0de")
    [explicit] = rows(loaded, "4648")
    assert (explicit["actor_orig_name"], explicit["actor_orig_uid"], explicit["actor_user_name"]) == (
        "administrator", ADMIN, "svc_backup")
    assert explicit["actor_user_uid"] is None
    assert explicit["src_ip"] == "::1"
    [created] = rows(loaded, "4688")
    assert created["process_cmdline"] == 'cmd.exe /c "whoami /all & net group \\"Domain Admins\\" /domain"'
    assert (created["actor_process_name"], created["actor_process_pid"], created["file_path"]) == (
        "C:\\Windows\\explorer.exe", 0x17D4, "C:\\Windows\\System32\\cmd.exe")
    assert created["target_user_uid"] is None
    assert created["target_session_uid"] is None
    [account] = rows(loaded, "4720")
    assert (account["class_uid"], account["target_user_name"], account["actor_user_name"]) == (
        3001, "backdoor", "administrator")
    [member] = rows(loaded, "4732")
    assert (member["class_uid"], member["resource_uid"], member["resource_type"]) == (3006, "S-1-5-32-544", "group")
    assert (member["target_user_uid"], member["target_user_name"]) == (f"{DOMAIN_SID}-1337", None)
    [service] = rows(loaded, "7045")
    assert (service["class_uid"], service["api_service"], service["actor_user_uid"]) == (
        201004, "Service Control Manager", ADMIN)
    assert (service["resource_uid"], service["file_path"], service["source_stream"]) == (
        "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe", f"{DC}/System")
    [policy] = rows(loaded, "4719")
    assert (policy["class_uid"], policy["activity_id"], policy["resource_uid"]) == (
        1008, 99, "{0cce921d-69ae-11d9-bed3-505054503030}")
    [cleared] = rows(loaded, "1102")
    assert (cleared["class_uid"], cleared["activity_id"], cleared["api_service"]) == (
        1008, 1, "Microsoft-Windows-Eventlog")
    assert (cleared["actor_user_name"], cleared["actor_session_uid"], cleared["status_id"]) == (
        "administrator", "0x9c0de", 1)
    [logoff] = rows(loaded, "4634")
    assert (logoff["activity_id"], logoff["actor_user_name"], logoff["target_session_uid"]) == (2, "bob", "0x7f001")


def test_the_truth_states_the_documented_columns() -> None:
    records = {r.event: r for r in render_records(incident(), "windows-xml")}
    events = incident()
    by_id = {e.fields["event_id"]: i for i, e in enumerate(events)}
    runas = records[by_id[4648]].expect
    assert (runas["actor_orig_name"], runas["actor_user_name"], runas["actor_session_uid"]) == (
        "administrator", "svc_backup", "0x9c0de")
    member = records[by_id[4732]].expect
    assert (member["resource_uid"], member["class_uid"], member["target_user_name"]) == ("S-1-5-32-544", 3006, None)
    command = records[by_id[4688]].expect
    assert command["process_cmdline"].startswith("cmd.exe /c")
    assert command["actor_process_pid"] == 0x17D4
    for record in records.values():
        assert {"time_us", "event_code", "api_service", "class_uid", "status_id", "actor_user_uid",
                "actor_user_name", "actor_user_domain", "actor_session_uid", "target_user_uid", "target_user_name",
                "actor_orig_uid", "actor_orig_name", "src_ip", "src_port", "src_hostname", "process_cmdline",
                "actor_process_name", "resource_uid", "host_name", "source_seq", "source_stream",
                "source_record_uid"} <= set(record.expect)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_actor_can_be_stripped(fmt: str) -> None:
    events = [e.but(stripped=True) for e in incident()]
    loaded = assert_round_trip(Log(events, fmt))
    assert loaded["actor_user_uid"].null_count() == loaded.height
    assert loaded["actor_user_name"].null_count() == loaded.height
    assert loaded["actor_orig_name"].null_count() == loaded.height
    assert loaded["actor_session_uid"].null_count() == loaded.height
    [member] = rows(loaded, "4732")
    assert member["resource_uid"] == "S-1-5-32-544"  # the group is not the actor: it stays
    text = b"".join(Log(events, fmt).files.values()).decode()
    assert "administrator" not in text
    assert ADMIN not in text.replace(f"{DOMAIN_SID}-1337", "")


# ------------------------------------------------------------------------------------------------- shape


def test_xml_is_what_get_winevent_to_xml_writes() -> None:
    log = Log(incident(), "windows-xml")
    assert sorted(log.files) == [f"{DC}/Security.xml", f"{DC}/System.xml", f"{WS}/Security.xml"]
    lines = log.files[f"{DC}/Security.xml"].decode().split("\n")
    first = next(line for line in lines if "<EventID>4624<" in line)  # bob's network logon
    assert first.startswith(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider "
        "Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>"
        "<EventID>4624</EventID><Version>2</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode>"
        "<Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2024-04-29T11:28:40.0000000Z'/>"
        "<EventRecordID>")
    assert re.search(r"</EventRecordID><Correlation ActivityID='\{[0-9a-f-]{36}\}'/><Execution ProcessID='\d+' "
                     r"ThreadID='\d+'/><Channel>Security</Channel><Computer>dc1.corp.example.com</Computer>"
                     r"<Security/></System><EventData><Data Name='SubjectUserSid'>S-1-5-18</Data>", first)
    assert first.endswith("<Data Name='ElevatedToken'>%%1842</Data></EventData></Event>")
    assert lines[-1] == ""  # a final newline
    service = log.files[f"{DC}/System.xml"].decode()
    assert ("<Provider Name='Service Control Manager' Guid='{555908d1-a6d7-4695-8e1e-26931d2012f4}' "
            "EventSourceName='Service Control Manager'/><EventID Qualifiers='16384'>7045</EventID>") in service
    assert "<Keywords>0x8080000000000000</Keywords>" in service
    assert f"<Security UserID='{ADMIN}'/>" in service
    cleared = next(line for line in lines if "<EventID>1102<" in line)
    assert ("<UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'>"
            f"<SubjectUserSid>{ADMIN}</SubjectUserSid><SubjectUserName>administrator</SubjectUserName>") in cleared
    assert "<Keywords>0x4020000000000000</Keywords>" in cleared
    assert "<Level>4</Level><Task>104</Task>" in cleared
    spray = [line for line in lines if "<EventID>4625<" in line]
    assert len(spray) == 4
    assert all("<Keywords>0x8010000000000000</Keywords>" in line for line in spray)
    assert "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege" in log.files[f"{DC}/Security.xml"].decode()  # raw LF


def test_json_is_the_otrf_flattened_shape() -> None:
    log = Log(incident(), "windows-json")
    assert sorted(log.files) == [f"{DC}/Security.json", f"{DC}/System.json", f"{WS}/Security.json"]
    data = log.files[f"{DC}/Security.json"]
    assert data.endswith(b"}\n")
    assert data.count(b"\n") == 13
    records = [json.loads(line) for line in data.splitlines()]
    rdp = next(r for r in records if r["EventID"] == 4624 and r["LogonType"] == "10")
    assert rdp["TimeCreated"] == "2024-04-29 11:31:40.123"  # OTRF keeps milliseconds, no zone
    assert (rdp["Hostname"], rdp["SourceName"], rdp["Channel"], rdp["Task"]) == (
        DC, "Microsoft-Windows-Security-Auditing", "Security", "12544")
    assert rdp["Keywords"] == -9214364837600034816
    assert rdp["EventType"] == "AUDIT_SUCCESS"
    assert rdp["TargetUserName"] == "administrator"
    assert rdp["Message"] == "An account was successfully logged on."
    assert isinstance(rdp["RecordNumber"], int)
    cleared = next(r for r in records if r["EventID"] == 1102)
    assert cleared["SubjectUserName"] == "administrator"
    assert "UserData" not in cleared
    [service] = [json.loads(line) for line in log.files[f"{DC}/System.json"].splitlines()]
    assert service["UserID"] == ADMIN
    assert service["ServiceName"] == "PSEXESVC"


def test_otrf_times_keep_milliseconds_and_xml_times_microseconds() -> None:
    events = [event(T0 + 999_999, 4634, {"TargetUserName": "bob", "TargetLogonId": "0x1"})]
    [xml] = render_records(events, "windows-xml")
    [otrf] = render_records(events, "windows-json")
    assert b"SystemTime='2024-04-29T11:26:40.9999990Z'" in xml.text
    assert xml.expect["time_us"] == T0 + 999_999
    assert b'"TimeCreated":"2024-04-29 11:26:40.999"' in otrf.text
    assert otrf.expect["time_us"] == T0 + 999_000
    for fmt in FORMATS:
        assert_round_trip(Log(events, fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_record_ids_count_up_per_computer_and_channel(fmt: str) -> None:
    events = incident()
    records = render_records(events, fmt)
    streams: dict[str, list[int]] = {}
    for record in records:
        streams.setdefault(record.expect["source_stream"], []).append(record.expect["source_seq"])
    assert sorted(streams) == [f"{DC}/Security", f"{DC}/System", f"{WS}/Security"]
    for ids in streams.values():
        assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert len({ids[0] for ids in streams.values()}) == 3  # each stream starts at its own number
    again = render_records([*events, event(T0 + 10_000 * SECOND, 4634, {"TargetUserName": "x"})], fmt)
    assert [r.expect["source_seq"] for r in again[:-1]] == [r.expect["source_seq"] for r in records]
    assert again[-1].expect["source_seq"] == streams[f"{DC}/Security"][-1] + 1


def test_a_channel_with_a_slash_gets_a_file_name_without_one() -> None:
    sysmon = event(T0, 1, {"UtcTime": "2024-04-29 11:26:40.000", "Image": "C:\\x.exe", "User": "CORP\\alice"},
                   provider=("Microsoft-Windows-Sysmon", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"),
                   channel="Microsoft-Windows-Sysmon/Operational", host=WS)
    for fmt, ext in zip(FORMATS, ("xml", "json"), strict=True):
        log = Log([sysmon], fmt)
        assert list(log.files) == [f"{WS}/Microsoft-Windows-Sysmon-Operational.{ext}"]
        loaded = assert_round_trip(log)
        assert loaded["source_stream"].to_list() == [f"{WS}/Microsoft-Windows-Sysmon/Operational"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_events_give_the_same_bytes(fmt: str) -> None:
    events = incident()
    first = Log(events, fmt).files
    assert Log(list(reversed(events)), fmt).files == first  # the order given does not matter, only the events
    assert Log([e.but() for e in events], fmt).files == first


def test_the_bytes_do_not_depend_on_the_process() -> None:
    """No salted ``hash()``: interpreters with different hash seeds write the same files."""
    script = ("import hashlib, sys; sys.path[:0] = [sys.argv[1]]; "
              "from tests.test_mock_windows import FORMATS, incident; from auditlab.mock.render import Log; "
              "print([hashlib.sha256(repr(sorted(Log(incident(), f).files.items())).encode()).hexdigest() "
              "for f in FORMATS])")
    root = str(Path(__file__).resolve().parents[1])
    here = [hashlib.sha256(repr(sorted(Log(incident(), f).files.items())).encode()).hexdigest() for f in FORMATS]
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script, root], env=env, capture_output=True, text=True,
                             check=True, cwd=root)
        assert out.stdout.strip() == repr(here)


# ----------------------------------------------------------------------------------------- awkward values

_awkward_char = st.one_of(
    st.characters(codec="utf-8"),  # any character a UTF-8 file can hold (no lone surrogates)
    st.sampled_from("<>&'\"\r\n\t\x00\x01\x1b\x1e\x7f\x85\u2028\ufeff\ufffe\uffff]]>-%;=\\é中𝄞"),
)
awkward = st.one_of(
    st.text(_awkward_char, max_size=40),
    st.text(_awkward_char, min_size=2000, max_size=5000),
    st.sampled_from(["-", "", " ", "S-1-0-0", "0x0", "]]>", "&amp;", "<Event>", "</Data>", "'", '"']),
)
times = st.integers(min_value=631_152_000_000_000, max_value=4_102_444_799_999_999)  # 1990 to 2099


def awkward_events(name: str, cmdline: str, workstation: str, host_user: str, t: int) -> list[Event]:
    return [
        failed(t, name, "198.51.100.7", 40000),
        logon(t + 1, name, ALICE, "0xabc", 3, "10.0.2.50", 49732, workstation),
        process(t + 2, cmdline, name=host_user),
        event(t + 3, 1102, provider=EVENTLOG, user_data=("LogFileCleared", subject(host_user, ADMIN, "0x1"))),
        event(t + 4, 4732, {"MemberName": name, "MemberSid": ALICE, "TargetUserName": "Administrators",
                            "TargetDomainName": "Builtin", "TargetSid": "S-1-5-32-544", **subject(host_user)}),
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@given(name=awkward, cmdline=awkward, workstation=awkward, host_user=awkward, t=times)
def test_awkward_names_and_times_round_trip(fmt: str, name: str, cmdline: str, workstation: str, host_user: str,
                                            t: int) -> None:
    log = Log(awkward_events(name, cmdline, workstation, host_user, t), fmt)
    loaded = assert_round_trip(log)
    [created] = rows(loaded, "4688")
    assert created["process_cmdline"] == (cmdline if cmdline not in ("-", "") else None)


def test_an_attacker_chosen_name_is_written_as_windows_writes_it() -> None:
    """Markup is escaped, a CR is a reference, and controls XML cannot hold are raw (as EvtRender writes them)."""
    [record] = render_records([failed(T0, "a<b>&'\"\r\n\t\x1e$", "198.51.100.7", 1)], "windows-xml")
    assert b"<Data Name='TargetUserName'>a&lt;b&gt;&amp;'\"&#xD;\n\t\x1e$</Data>" in record.text
    assert record.expect["actor_user_name"] == "a<b>&'\"\r\n\t\x1e$"


# -------------------------------------------------------------------------- loader regressions (windows_xml)


def test_xml_loader_reads_control_characters_windows_writes_raw(tmp_path: Path) -> None:
    """Regression: EvtRender writes C0 controls raw in values (Winlogbeat had to cope with an account name
    ``MS4\\x1e$``, elastic/beats#11006); the loader made such an event a parse_error, so a failed logon whose
    user name an attacker salted with one lost its actor and source. It now reads the values as they are."""
    line = ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider "
            "Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID><Keywords>0x8010000000000000"
            "</Keywords><TimeCreated SystemTime='2024-04-29T11:26:40.0000000Z'/><EventRecordID>7</EventRecordID>"
            "<Channel>Security</Channel><Computer>dc1</Computer><Security/></System><EventData>"
            "<Data Name='TargetUserName'>MS4\x1e$\x01\x00</Data><Data Name='IpAddress'>203.0.113.9</Data>"
            "<Data Name='Note\x1b'>x</Data></EventData></Event>\n")
    path = tmp_path / "control.xml"
    path.write_bytes(line.encode())
    [row] = al.load(path, progress=False).to_dicts()
    assert row["parse_error"] is None
    assert (row["actor_user_name"], row["src_ip"], row["status_id"]) == ("MS4\x1e$\x01\x00", "203.0.113.9", 2)
    assert json.loads(row["unmapped"])["EventData"] == {"Note\x1b": "x"}
    assert row["raw"] == line[:-1]


def test_xml_loader_still_refuses_broken_events_with_control_characters(tmp_path: Path) -> None:
    head = ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>4625</EventID>"
            "<Channel>Security</Channel><TimeCreated SystemTime='2024-04-29T11:26:40.0000000Z'/></System>"
            "<EventData><Data Name='TargetUserName'>")
    broken = head + "MS4\x1e$</Dat></EventData></Event>\n"
    private = head + "MS4\x1e$\U000f0000\U000f0001</Data></EventData></Event>\n"  # the first stand-ins, held
    path = tmp_path / "broken.xml"
    path.write_bytes((broken + private).encode())
    frame = al.load(path, progress=False)
    assert frame["parse_error"][0].startswith("not well-formed XML: mismatched tag")
    assert frame["parse_error"][1] is None
    assert frame["actor_user_name"][1] == "MS4\x1e$\U000f0000\U000f0001"


def test_writing_a_log_does_not_state_its_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    """The expected values are worked out when a record's ``expect`` is read, not when its log is written."""
    from auditlab.mock import windows

    stated: list[int] = []
    status = windows._status
    monkeypatch.setattr(windows, "_status", lambda *args: (stated.append(1), status(*args))[1])
    for fmt in FORMATS:
        log = Log(incident(), fmt)
        assert log.files
        assert stated == []
        assert log.records[0].expect["status_id"] == 1
        assert stated == [1]
        stated.clear()
