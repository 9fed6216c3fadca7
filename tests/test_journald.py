"""The journald loader: a journal export modelled on real ``journalctl -o json`` output, damage, and properties."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import auditlab as al
from auditlab.load import journald, syslog
from tests._damage import check_damaged_lines, mutations
from tests.conftest import sample

if TYPE_CHECKING:
    import polars as pl

BOOT = "6c7c6013a8674a6fb0d23f3d2ac0e6a4"
SEQNUM_ID = "739ad463348b4ceca5a9e69c95a3c93f"
MACHINE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def entry(seqnum: int, realtime: int, fields: dict[str, Any], *, seqnum_fields: bool = True) -> dict[str, Any]:
    """A journal entry as ``journalctl -o json`` writes it (systemd 255): its address fields, then its own fields."""
    out: dict[str, Any] = {
        "__CURSOR": f"s={SEQNUM_ID};i={seqnum:x};b={BOOT};m={realtime % 10**9:x};t={realtime:x};x=8c8a4b0b6a1f5d1e",
        "__REALTIME_TIMESTAMP": str(realtime),
        "__MONOTONIC_TIMESTAMP": str(realtime % 10**9),
    }
    if seqnum_fields:
        out |= {"__SEQNUM": str(seqnum), "__SEQNUM_ID": SEQNUM_ID}
    out |= {"_BOOT_ID": BOOT, "_MACHINE_ID": MACHINE, "_HOSTNAME": "web1"}
    return out | fields


def sshd(pid: str, message: str | list[int], **more: str) -> dict[str, Any]:
    return {"_TRANSPORT": "syslog", "PRIORITY": "6", "SYSLOG_FACILITY": "4", "SYSLOG_IDENTIFIER": "sshd",
            "SYSLOG_PID": pid, "_PID": pid, "_UID": "0", "_GID": "0", "_COMM": "sshd", "_EXE": "/usr/sbin/sshd",
            "_CMDLINE": "sshd: alice [priv]", "_CAP_EFFECTIVE": "1ffffffffff",
            "_SYSTEMD_CGROUP": "/system.slice/ssh.service", "_SYSTEMD_UNIT": "ssh.service",
            "_SYSTEMD_SLICE": "system.slice", "SYSLOG_TIMESTAMP": "Mar  3 10:00:01 ", "MESSAGE": message, **more}


T0 = 1709460001123456  # 2024-03-03T10:00:01.123456Z

JOURNAL = [
    entry(322791, T0, sshd("2456", "Accepted publickey for alice from 10.0.0.5 port 50022 ssh2: ED25519 "
                                   "SHA256:Zm9vYmFyYmF6")),
    entry(322792, T0 + 20_000, sshd("2456", "pam_unix(sshd:session): session opened for user alice(uid=1000) by "
                                            "(uid=0)", _AUDIT_LOGINUID="1000", _AUDIT_SESSION="7")),
    entry(322793, T0 + 40_000, {
        "PRIORITY": "6", "SYSLOG_FACILITY": "4", "SYSLOG_IDENTIFIER": "systemd-logind", "_TRANSPORT": "journal",
        "CODE_FILE": "src/login/logind-session.c", "CODE_LINE": "803", "CODE_FUNC": "session_start",
        "MESSAGE_ID": "8d45620c1a4348dbb17410da57c60c66", "SESSION_ID": "7", "USER_ID": "alice", "LEADER": "2456",
        "_PID": "612", "_UID": "0", "_GID": "0", "_COMM": "systemd-logind", "_EXE": "/usr/lib/systemd/systemd-logind",
        "_SYSTEMD_UNIT": "systemd-logind.service", "MESSAGE": "New session 7 of user alice.",
        "_SOURCE_REALTIME_TIMESTAMP": str(T0 + 39_000)}),
    entry(322794, T0 + 5_000_000, {
        "_TRANSPORT": "syslog", "PRIORITY": "5", "SYSLOG_FACILITY": "10", "SYSLOG_IDENTIFIER": "sudo",
        "SYSLOG_TIMESTAMP": "Mar  3 10:00:06 ", "_PID": "3001", "_UID": "0", "_GID": "1000", "_COMM": "sudo",
        "_EXE": "/usr/bin/sudo", "_CMDLINE": "sudo useradd -m bob", "_AUDIT_SESSION": "7", "_AUDIT_LOGINUID": "1000",
        "MESSAGE": "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/sbin/useradd -m bob"}),
    entry(322795, T0 + 5_100_000, {
        "_TRANSPORT": "syslog", "PRIORITY": "6", "SYSLOG_FACILITY": "10", "SYSLOG_IDENTIFIER": "useradd",
        "_PID": "3002", "_UID": "0", "_GID": "0", "_COMM": "useradd", "_EXE": "/usr/sbin/useradd",
        "_AUDIT_SESSION": "7", "_AUDIT_LOGINUID": "1000",
        "MESSAGE": "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/sh, from=/dev/pts/0"}),
    entry(322796, T0 + 6_000_000, {
        "_TRANSPORT": "kernel", "PRIORITY": "5", "SYSLOG_FACILITY": "0", "SYSLOG_IDENTIFIER": "kernel",
        "_SOURCE_MONOTONIC_TIMESTAMP": "4021338223",
        "MESSAGE": "audit: type=1400 audit(1709460007.1:412): apparmor=\"DENIED\" operation=\"open\""}),
    entry(322797, T0 + 7_000_000, sshd("4100", list(b"Failed password for invalid user \xff\xfe from 203.0.113.9 "
                                                    b"port 4242 ssh2"))),
    entry(322798, T0 + 8_000_000, sshd("4101", list(b"Connection closed by 203.0.113.9 port 4243 \x1b[2J [preauth]"))),
    entry(322799, T0 + 60_000_000, {
        "PRIORITY": "6", "SYSLOG_IDENTIFIER": "systemd-logind", "_TRANSPORT": "journal", "_PID": "612", "_UID": "0",
        "_COMM": "systemd-logind", "MESSAGE_ID": "3354939424b4456d9802ca8333ed424a", "SESSION_ID": "7",
        "USER_ID": "alice", "MESSAGE": "Removed session 7."}),
]


def write_journal(path: Path, entries: list[Any], *, blank_after: tuple[int, ...] = ()) -> Path:
    lines = []
    for i, item in enumerate(entries):
        lines.append(item if isinstance(item, str) else json.dumps(item, separators=(",", ":")))
        if i in blank_after:
            lines.extend(["", "   "])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load(path: Path, **kwargs: Any) -> pl.DataFrame:
    return al.load(path, progress=False, **kwargs)


def unmapped(row: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(row["unmapped"]) if row["unmapped"] is not None else {}


@pytest.fixture
def journal(tmp_path: Path) -> pl.DataFrame:
    path = write_journal(tmp_path / "journal.json", JOURNAL, blank_after=(2, 5))
    return load(path)  # sniffed


def test_every_entry_is_one_row_in_order(journal: pl.DataFrame) -> None:
    assert journal.height == len(JOURNAL)
    assert journal["source_type"].unique().to_list() == ["journald"]
    assert journal["source_seq"].to_list() == list(range(322791, 322800))
    assert journal["source_line"].to_list() == [1, 2, 3, 6, 7, 8, 11, 12, 13]  # blank lines are not records
    assert journal["source_stream"].unique().to_list() == [SEQNUM_ID]
    assert journal["source_record_uid"].to_list() == [e["__CURSOR"] for e in JOURNAL]
    assert journal["raw"].to_list() == [json.dumps(e, separators=(",", ":")) for e in JOURNAL]
    assert journal["parse_error"].null_count() == len(JOURNAL)
    assert journal["host_name"].unique().to_list() == ["web1"]
    assert journal["time_us"].to_list() == [int(e["__REALTIME_TIMESTAMP"]) for e in JOURNAL]


def test_golden_login_session_and_sudo(journal: pl.DataFrame) -> None:
    accepted, opened, logind, sudo, useradd, kernel, failed, closed, removed = journal.to_dicts()
    assert accepted["time"] == datetime(2024, 3, 3, 10, 0, 1, 123456, tzinfo=timezone.utc)
    assert accepted["time_original"] == "1709460001123456"
    assert (accepted["event_code"], accepted["class_uid"], accepted["activity_id"], accepted["status_id"]) == (
        "sshd.accepted", 3002, 1, 1)
    assert (accepted["actor_user_name"], accepted["target_user_name"]) == ("alice", "alice")
    assert accepted["actor_user_uid"] is None  # the message names alice; _UID 0 is sshd's own
    assert accepted["actor_credential_uid"] == "SHA256:Zm9vYmFyYmF6"
    assert (accepted["src_ip"], accepted["src_port"]) == ("10.0.0.5", 50022)
    assert (accepted["api_service"], accepted["actor_process_name"], accepted["actor_process_pid"]) == (
        "sshd", "sshd", 2456)
    native = unmapped(accepted)
    assert native["_UID"] == "0"
    assert (native["_SYSTEMD_UNIT"], native["SYSLOG_PID"], native["auth_method"]) == ("ssh.service", "2456",
                                                                                      "publickey")
    for held in ("MESSAGE", "__CURSOR", "__REALTIME_TIMESTAMP", "__SEQNUM", "_HOSTNAME", "_PID", "_COMM"):
        assert held not in native

    assert (opened["event_code"], opened["actor_user_name"], opened["actor_user_uid"]) == (
        "pam.session_opened", "alice", "1000")
    assert opened["actor_orig_uid"] is None  # the message names the actor: _AUDIT_LOGINUID stays in unmapped
    assert unmapped(opened)["_AUDIT_LOGINUID"] == "1000"

    assert (logind["event_code"], logind["target_session_uid"], logind["target_user_name"]) == (
        "logind.new_session", "7", "alice")
    assert unmapped(logind)["MESSAGE_ID"] == "8d45620c1a4348dbb17410da57c60c66"

    assert (sudo["event_code"], sudo["class_uid"], sudo["activity_id"], sudo["status_id"]) == (
        "sudo.command", 1007, 1, 1)
    assert (sudo["actor_orig_name"], sudo["actor_user_name"], sudo["target_user_name"]) == ("alice", "root", "root")
    assert sudo["process_cmdline"] == "/usr/sbin/useradd -m bob"
    assert sudo["actor_session_uid"] is None
    assert unmapped(sudo)["_AUDIT_SESSION"] == "7"

    # useradd's message names no actor: the process's identity is the actor (root, logged in as uid 1000)
    assert (useradd["event_code"], useradd["class_uid"], useradd["activity_id"]) == ("useradd.new_user", 3001, 1)
    assert (useradd["target_user_name"], useradd["target_user_uid"]) == ("bob", "1001")
    assert (useradd["actor_user_uid"], useradd["actor_orig_uid"], useradd["actor_session_uid"]) == ("0", "1000", "7")
    assert "_UID" not in unmapped(useradd)

    assert (kernel["class_uid"], kernel["event_code"], kernel["api_service"], kernel["actor_process_pid"]) == (
        0, None, "kernel", None)
    assert unmapped(kernel)["MESSAGE"] == 'audit: type=1400 audit(1709460007.1:412): apparmor="DENIED" operation="open"'
    assert (kernel["actor_user_uid"], kernel["actor_orig_uid"]) == (None, None)

    # MESSAGE exported as bytes (not UTF-8, or with control characters): decoded, invalid bytes as \xNN
    assert (failed["event_code"], failed["status_detail"], failed["actor_user_name"]) == (
        "sshd.failed", "invalid user", "\\xff\\xfe")
    assert (failed["src_ip"], failed["src_port"]) == ("203.0.113.9", 4242)
    assert closed["source_seq"] == 322798  # read in test_a_binary_message_with_escape_sequences
    assert (removed["event_code"], removed["activity_id"], removed["target_session_uid"]) == (
        "logind.session_removed", 2, "7")


def test_a_binary_message_with_escape_sequences(journal: pl.DataFrame) -> None:
    closed = journal.row(7, named=True)
    # "Connection closed by 203.0.113.9 port 4243 \x1b[2J [preauth]": no known shape, a generic sshd row
    assert closed["class_uid"] == 0
    assert unmapped(closed)["MESSAGE"] == "Connection closed by 203.0.113.9 port 4243 \x1b[2J [preauth]"
    assert "\\u001b[2J" in closed["unmapped"]  # escaped in the JSON text
    assert (closed["src_ip"], closed["src_port"]) == ("203.0.113.9", 4243)


def test_older_exports_without_seqnum_fields(tmp_path: Path) -> None:
    old = [entry(0x4ece7 + i, T0 + i, {"_PID": "1", "MESSAGE": f"m{i}", "SYSLOG_IDENTIFIER": "x"},
                 seqnum_fields=False) for i in range(3)]
    frame = load(write_journal(tmp_path / "old.json", old))
    assert frame["source_seq"].to_list() == [0x4ece7, 0x4ece8, 0x4ece9]  # the cursor's i=, in hex
    assert frame["source_stream"].unique().to_list() == [SEQNUM_ID]  # the cursor's s=
    bare = {"__REALTIME_TIMESTAMP": str(T0), "_BOOT_ID": BOOT, "_HOSTNAME": "db2", "MESSAGE": "x"}
    lone = {"__REALTIME_TIMESTAMP": str(T0), "MESSAGE": "y"}
    path = write_journal(tmp_path / "bare.json", [bare, lone])
    frame = load(path, format="journald")  # no __CURSOR: not sniffed as a journal
    assert frame["source_stream"].to_list() == [f"db2/{BOOT}", None]
    assert frame["source_seq"].to_list() == [None, None]
    assert frame["source_record_uid"].to_list() == [None, None]


def test_repeated_null_and_odd_fields(tmp_path: Path) -> None:
    entries = [
        entry(1, T0, {"SYSLOG_IDENTIFIER": "app", "MESSAGE": ["first value", "second value"], "TAG": ["a", "b"]}),
        entry(2, T0, {"SYSLOG_IDENTIFIER": "app", "MESSAGE": None, "_PID": "7"}),  # longer than 4096: null
        entry(3, T0, {"SYSLOG_IDENTIFIER": "app", "SYSLOG_PID": "99", "MESSAGE": [[104, 105], [255]],
                      "BLOB": list(b"\x00\x01binary")}),
        entry(4, T0, {"SYSLOG_IDENTIFIER": "sshd", "_UID": ["0", "0"],
                      "MESSAGE": "Accepted password for eve from 10.9.9.9 port 22 ssh2"}),
    ]
    repeated, null, nested, uid = load(write_journal(tmp_path / "odd.json", entries)).to_dicts()
    assert unmapped(repeated)["MESSAGE"] == ["first value", "second value"]  # all values kept
    assert unmapped(repeated)["TAG"] == ["a", "b"]
    assert (repeated["class_uid"], repeated["parse_error"]) == (0, None)
    assert unmapped(null)["MESSAGE"] is None
    assert null["actor_process_pid"] == 7
    assert unmapped(nested)["MESSAGE"] == ["hi", "\\xff"]
    assert unmapped(nested)["BLOB"] == "\x00\x01binary"
    assert (nested["actor_process_pid"], "SYSLOG_PID" in unmapped(nested)) == (99, False)
    assert (uid["actor_user_name"], unmapped(uid)["_UID"]) == ("eve", ["0", "0"])


def test_damaged_entries_become_parse_error_rows(tmp_path: Path) -> None:
    good = entry(5, T0, {"SYSLOG_IDENTIFIER": "x", "MESSAGE": "ok"})
    lines = [good, '{"__REALTIME_TIMESTAMP": "1709460001123456", "MESSAGE": "cut', "[1, 2]",
             {"MESSAGE": "no time", "__CURSOR": "s=1;i=2"}, {"__REALTIME_TIMESTAMP": "yesterday", "MESSAGE": "x"},
             good]
    frame = load(write_journal(tmp_path / "bad.json", lines), format="journald")
    assert frame.height == 6
    errors = frame["parse_error"].to_list()
    assert (errors[0], errors[5]) == (None, None)
    assert errors[1].startswith("invalid JSON")
    assert errors[2] == "not a JSON object: list"
    assert errors[3] == "no __REALTIME_TIMESTAMP: not a journal entry"
    assert errors[4] == "__REALTIME_TIMESTAMP is not a number: yesterday"
    assert frame["raw"][1] == lines[1]
    assert (frame["source_seq"][3], unmapped(frame.row(3, named=True))["MESSAGE"]) == (2, "no time")


def test_pretty_printed_and_gzip(tmp_path: Path) -> None:
    pretty = tmp_path / "journal-pretty.json"
    pretty.write_text("".join(json.dumps(e, indent=8) + "\n" for e in JOURNAL[:3]), encoding="utf-8")
    frame = load(pretty)  # journalctl -o json-pretty, sniffed
    assert frame["source_seq"].to_list() == [322791, 322792, 322793]
    assert frame["source_line"].to_list() == [1, 2, 3]  # the record's index in a document
    assert frame["event_code"].to_list() == ["sshd.accepted", "pam.session_opened", "logind.new_session"]
    packed = tmp_path / "journal.json.gz"
    packed.write_bytes(gzip.compress(write_journal(tmp_path / "j.json", JOURNAL).read_bytes()))
    assert load(packed)["source_seq"].to_list() == list(range(322791, 322800))


def test_sniffer(tmp_path: Path) -> None:
    data = write_journal(tmp_path / "j.json", JOURNAL).read_bytes()
    assert journald.sniff(data[: 64 * 1024])
    assert journald.sniff(json.dumps(JOURNAL[0], indent=8).encode())
    assert not syslog.sniff(data)
    assert not journald.sniff(b'{"MESSAGE": "x", "__REALTIME_TIMESTAMP": "1"}')  # no __CURSOR
    assert not journald.sniff(b'Mar  3 10:00:01 web1 sshd[1]: "__CURSOR": "__REALTIME_TIMESTAMP": "1"')
    assert not journald.sniff(b"")


@pytest.mark.samples
def test_sniffer_rejects_the_syslog_samples() -> None:
    for path in sorted(sample("linux_syslog").iterdir()):
        assert not journald.sniff(path.read_bytes())


# ---------------------------------------------------------------------------------------------------- properties

_VALUE = st.one_of(
    st.text(max_size=30),
    st.lists(st.integers(0, 255), max_size=20),  # a binary value
    st.lists(st.text(max_size=5), min_size=2, max_size=3),  # a repeated field
)
_MESSAGES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["Accepted password for bob from 10.0.0.1 port 22 ssh2", "Removed session 3.",
                     "pam_unix(sshd:session): session closed for user bob", "  bob : TTY=pts/1 ; PWD=/ ; USER=root ; "
                     "COMMAND=/bin/id"]),
    st.lists(st.integers(0, 255), max_size=60),
)


@st.composite
def journals(draw: st.DrawFn) -> list[dict[str, Any]]:
    entries = []
    for i in range(draw(st.integers(1, 8))):
        fields = draw(st.dictionaries(st.sampled_from(["_UID", "_PID", "_COMM", "SYSLOG_IDENTIFIER", "PRIORITY",
                                                       "_AUDIT_LOGINUID", "CUSTOM_FIELD", "_HOSTNAME"]), _VALUE,
                                      max_size=5))
        fields["MESSAGE"] = draw(_MESSAGES)
        entries.append(entry(i + 1, T0 + i, fields))
    return entries


@given(entries=journals(), blank=st.booleans())
def test_random_entries_keep_their_message_and_fields(tmp_path_factory: pytest.TempPathFactory,
                                                      entries: list[dict[str, Any]], blank: bool) -> None:
    path = write_journal(tmp_path_factory.mktemp("journal") / "j.json", entries,
                         blank_after=(0,) if blank else ())
    frame = load(path, format="journald")
    assert frame.height == len(entries)
    assert frame["source_seq"].to_list() == list(range(1, len(entries) + 1))
    assert frame["parse_error"].null_count() == frame.height
    for row, item in zip(frame.to_dicts(), entries, strict=True):
        native = unmapped(row)
        message = item["MESSAGE"]
        text = bytes(message).decode("utf-8", "backslashreplace") if isinstance(message, list) else message
        if row["class_uid"] == 0:
            assert native["MESSAGE"] == text
        else:
            assert "MESSAGE" not in native
        if "CUSTOM_FIELD" in item:
            assert native["CUSTOM_FIELD"] == journald._text(item["CUSTOM_FIELD"])


@given(mutation=mutations())
def test_damaged_journal_lines_are_accounted_for(tmp_path_factory: pytest.TempPathFactory,
                                                 mutation: tuple[str, float, int]) -> None:
    original = "".join(json.dumps(e) + "\n" for e in JOURNAL).encode()
    check_damaged_lines(original, mutation, tmp_path_factory.mktemp("damaged"), "journald",
                        lambda value: isinstance(value, dict) and str(value.get("__REALTIME_TIMESTAMP", "x"))
                        .isdigit())
