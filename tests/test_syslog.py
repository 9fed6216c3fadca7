"""The syslog loader: real samples (accounting and golden lines), the message parsers, time, bad input, properties."""

from __future__ import annotations

import dataclasses
import gzip
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import auditlab as al
from auditlab import InvalidArgument, schema
from auditlab.load import _authlog, journald, syslog
from auditlab.load._batch import decode_text
from auditlab.load._io import expand
from tests.conftest import SAMPLES, sample

SSHD = "crowdsec_sshd-logs.log"
SUDO = "crowdsec_pam-sudo-logs.log"
SAMPLE_FILES = [SSHD, SUDO]


def parse(path: Path, *, chunk_bytes: int | None = None, **options: Any) -> pl.DataFrame:
    """The loader's rows for a file, through parse() (whose options load() does not necessarily pass yet)."""
    extra = {} if chunk_bytes is None else {"chunk_bytes": chunk_bytes}
    frames = list(syslog.parse(expand(path)[0], batch_rows=7, **options, **extra))
    return pl.concat(frames) if frames else schema.empty()


def write(tmp_path: Path, *lines: str | bytes, name: str = "auth.log", end: bytes = b"\n") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join((line if isinstance(line, bytes) else line.encode()) + end for line in lines))
    return path


def rows(tmp_path: Path, *lines: str | bytes, **options: Any) -> list[dict[str, Any]]:
    options.setdefault("year", 2024)
    return parse(write(tmp_path, *lines), **options).to_dicts()


def one(tmp_path: Path, line: str | bytes, **options: Any) -> dict[str, Any]:
    out = rows(tmp_path, line, **options)
    assert len(out) == 1
    return out[0]


def unmapped(row: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(row["unmapped"]) if row["unmapped"] is not None else {}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def assert_accounted(events: pl.DataFrame, data: bytes) -> None:
    """One row per non-blank line, in order, with the line's number, offset and text (a CRLF's CR cut)."""
    lines, offsets, at = data.split(b"\n"), [], 0
    for line in lines:
        offsets.append(at)
        at += len(line) + 1
    kept = [(i, line) for i, line in enumerate(lines) if line.strip(b" \t\r\x0b\x0c")]
    assert events.height == len(kept)
    assert events["source_line"].to_list() == [i + 1 for i, _ in kept]
    assert events["source_offset"].to_list() == [offsets[i] for i, _ in kept]
    assert events["raw"].to_list() == [decode_text(line.removesuffix(b"\r"))[0] for _, line in kept]
    assert events["source_type"].unique().to_list() in ([], ["syslog"])
    for text in events["unmapped"].drop_nulls().to_list():
        assert isinstance(orjson.loads(text), dict)


# ---------------------------------------------------------------------------------------------------- real samples


@pytest.mark.samples
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_samples_load_with_every_line_accounted_for(name: str) -> None:
    path = sample("linux_syslog", name)
    events = al.load(path, progress=False)  # sniffed
    assert_accounted(events, path.read_bytes())
    assert events["parse_error"].null_count() == events.height
    assert events["time_us"].null_count() == 0
    assert events["source_stream"].to_list() == events["host_name"].to_list()
    assert events["source_seq"].null_count() == events.height


@pytest.mark.samples
def test_golden_sshd_lines() -> None:
    events = parse(sample("linux_syslog", SSHD), year=2024, tz="UTC")
    by_line = {row["source_line"]: row for row in events.to_dicts()}
    assert len(by_line) == 24

    invalid = by_line[1]  # Feb 12 14:10:21 sd-126005 sshd[16378]: Invalid user pascal from 35.188.49.176 port 53502
    assert invalid["time"] == utc("2024-02-12T14:10:21")
    assert invalid["time_original"] == "Feb 12 14:10:21"
    assert (invalid["host_name"], invalid["source_stream"]) == ("sd-126005", "sd-126005")
    assert (invalid["api_service"], invalid["actor_process_name"], invalid["actor_process_pid"]) == (
        "sshd", "sshd", 16378)
    assert (invalid["event_code"], invalid["class_uid"], invalid["activity_id"]) == ("sshd.invalid_user", 3002, 1)
    assert (invalid["status_id"], invalid["status_detail"]) == (2, "invalid user")
    assert (invalid["actor_user_name"], invalid["target_user_name"], invalid["actor_orig_name"]) == (
        "pascal", "pascal", None)
    assert (invalid["src_ip"], invalid["src_port"], invalid["src_hostname"]) == ("35.188.49.176", 53502, None)
    assert unmapped(invalid) == {"year_assumed": 2024, "tz_assumed": "UTC"}
    for row in by_line.values():  # no line of this file names a session
        assert (row["actor_session_uid"], row["target_session_uid"]) == (None, None)

    pam = by_line[4]  # Nov 2 15:40:14 workshop sshd[28179]: pam_unix(sshd:auth): authentication failure; ...
    assert pam["time"] == utc("2024-11-02T15:40:14")  # "Nov 2": a day without padding
    assert (pam["event_code"], pam["class_uid"], pam["activity_id"], pam["status_id"]) == (
        "pam.auth_failure", 3002, 1, 2)
    assert (pam["actor_user_name"], pam["actor_user_uid"], pam["target_user_name"]) == ("workshop", None, "workshop")
    assert pam["actor_orig_name"] is None  # logname= is empty
    assert (pam["src_ip"], pam["status_detail"]) == ("5.33.63.160", "authentication failure")
    assert unmapped(pam) == {"year_assumed": 2024, "tz_assumed": "UTC", "pam_module": "pam_unix",
                             "pam_service": "sshd", "tty": "ssh", "euid": "0", "uid": "0"}
    no_user = by_line[5]  # the same without user=
    assert (no_user["actor_user_name"], no_user["target_user_name"], no_user["src_ip"]) == (None, None, "5.33.63.161")

    closed = by_line[6]  # Dec 22: Connection closed by authenticating user root 206.81.24.125 port 45362 [preauth]
    assert closed["time"] == utc("2024-12-22T14:53:37")
    assert (closed["event_code"], closed["class_uid"], closed["activity_id"], closed["status_id"]) == (
        "sshd.connection_closed", 3002, 99, 2)
    assert (closed["actor_user_name"], closed["src_ip"], closed["src_port"]) == ("root", "206.81.24.125", 45362)

    invalid_ftp = by_line[7]  # Feb 19 after Dec 22: the year rolls over
    assert invalid_ftp["time"] == utc("2025-02-19T10:38:14")
    assert unmapped(invalid_ftp)["year_assumed"] == 2025
    assert (invalid_ftp["event_code"], invalid_ftp["status_id"], invalid_ftp["status_detail"]) == (
        "sshd.disconnected", 2, "invalid user")
    assert by_line[8]["status_detail"] == "disconnected before authentication"  # authenticating user ftp

    odd = by_line[9]  # "Disconnected from totobad user ftp ...": no known shape, a generic row
    assert (odd["class_uid"], odd["activity_id"], odd["status_id"], odd["event_code"]) == (0, 0, 0, None)
    assert unmapped(odd)["message"] == "Disconnected from totobad user ftp 92.255.85.135 port 26138 [preauth]"
    assert (odd["actor_user_name"], odd["src_ip"]) == (None, None)
    magic = by_line[10]  # generic, but the address is read
    assert (magic["class_uid"], magic["src_ip"], magic["src_port"]) == (0, "94.232.46.213", 62730)

    negotiate = by_line[13]  # its line ends with a space, kept in raw
    assert negotiate["raw"].endswith("[preauth] ")
    assert (negotiate["event_code"], negotiate["activity_id"], negotiate["status_id"]) == (
        "sshd.negotiation_failed", 99, 2)
    assert negotiate["status_detail"] == "no matching key exchange method found"
    assert unmapped(negotiate)["offer"] == "diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1," \
                                           "diffie-hellman-group1-sha1"

    iso = by_line[17]  # 2023-11-14T00:20:42.738197+01:00 myserver sshd[1112652]: User root from ... AllowUsers
    assert iso["time"] == utc("2023-11-13T23:20:42.738197")
    assert iso["time_original"] == "2023-11-14T00:20:42.738197+01:00"
    assert iso["unmapped"] is None  # a full timestamp: nothing assumed
    assert (iso["event_code"], iso["status_id"], iso["actor_user_name"], iso["src_ip"]) == (
        "sshd.not_allowed", 2, "root", "192.168.1.1")
    assert iso["status_detail"] == "not allowed because not listed in AllowUsers"

    failed = by_line[18]  # Failed password for invalid user root from 192.168.1.2 port 51182 ssh2
    assert (failed["event_code"], failed["activity_id"], failed["status_id"], failed["status_detail"]) == (
        "sshd.failed", 1, 2, "invalid user")
    assert (failed["actor_user_name"], failed["target_user_name"]) == ("root", "root")
    assert unmapped(failed)["auth_method"] == "password"
    timeout = by_line[19]  # fatal: Timeout before authentication for 192.168.9.212 port 47056
    assert (timeout["event_code"], timeout["src_ip"], timeout["status_id"]) == ("sshd.timeout", "192.168.9.212", 2)
    session = by_line[21]  # OpenSSH 9.8's sshd-session
    assert (session["api_service"], session["event_code"], session["actor_user_name"]) == (
        "sshd-session", "sshd.invalid_user", "pascal5")
    scanner = by_line[22]  # Connection closed by 118.27.24.104 port 33594 [preauth]: nobody named, outcome unknown
    assert (scanner["activity_id"], scanner["status_id"], scanner["actor_user_name"]) == (99, 0, None)
    refused = by_line[23]  # tcp wrappers: refused connect from _U2Fs...=_@::ffff:192.168.1.1 (::ffff:192.168.1.1)
    assert (refused["class_uid"], refused["activity_id"], refused["status_id"]) == (4001, 5, 2)
    assert (refused["src_ip"], refused["src_hostname"]) == ("::ffff:192.168.1.1", None)
    assert unmapped(refused)["client_user"] == "_U2FsdGVkX19P3BCJmFBHhjLza8BcMH06WCUVwttMHpE=_"
    assert (by_line[24]["src_ip"], by_line[24]["src_hostname"]) == ("192.168.1.1", "example.com")


@pytest.mark.samples
def test_golden_sudo_pam_lines() -> None:
    events = parse(sample("linux_syslog", SUDO), year=2024, tz="Europe/Berlin")
    tally, failure = events.to_dicts()
    assert [(r["actor_session_uid"], r["target_session_uid"]) for r in (tally, failure)] == [(None, None)] * 2
    # Dec  7 14:53:04 vskub1master01p sudo: pam_tally2(sudo:auth): user zbadguy (4001) tally 6, deny 5
    assert tally["time"] == utc("2024-12-07T13:53:04")  # 14:53:04 in Berlin (UTC+1 in December)
    assert unmapped(tally)["tz_assumed"] == "Europe/Berlin"
    assert (tally["api_service"], tally["actor_process_pid"]) == ("sudo", None)  # "sudo:" carries no pid
    assert (tally["event_code"], tally["class_uid"], tally["activity_id"], tally["status_id"]) == (
        "pam.tally", 3002, 99, 2)
    assert (tally["actor_user_name"], tally["actor_user_uid"]) == ("zbadguy", "4001")
    assert (tally["target_user_name"], tally["target_user_uid"]) == ("zbadguy", "4001")
    assert tally["status_detail"] == "tally 6, deny 5"
    # pam_unix(sudo:auth): authentication failure; logname=zbadguy uid=4001 euid=0 tty=/dev/pts/12 ruser=zbadguy
    # rhost=  user=zbadguy
    assert failure["time"] == utc("2024-12-07T13:52:59")
    assert (failure["event_code"], failure["status_id"]) == ("pam.auth_failure", 2)
    assert (failure["actor_user_name"], failure["actor_user_uid"]) == ("zbadguy", "4001")  # ruser, with its uid
    assert (failure["actor_orig_name"], failure["target_user_name"]) == ("zbadguy", "zbadguy")  # logname, user
    assert (failure["src_ip"], failure["src_hostname"]) == (None, None)  # rhost= is empty
    assert unmapped(failure)["tty"] == "/dev/pts/12"
    assert "uid" not in unmapped(failure)  # it is the actor's uid


# ---------------------------------------------------------------------------------------------- message parsers

LINE = "Mar  3 10:00:01 web1 {tag}: {message}"


def msg(tmp_path: Path, tag: str, message: str) -> dict[str, Any]:
    return one(tmp_path, LINE.format(tag=tag, message=message))


def test_sshd_logins(tmp_path: Path) -> None:
    key = msg(tmp_path, "sshd[2456]", "Accepted publickey for alice from 10.0.0.5 port 50022 ssh2: ED25519 "
                                       "SHA256:Zm9vYmFyYmF6")
    assert (key["event_code"], key["class_uid"], key["activity_id"], key["status_id"]) == (
        "sshd.accepted", 3002, 1, 1)
    assert (key["actor_user_name"], key["target_user_name"], key["actor_credential_uid"]) == (
        "alice", "alice", "SHA256:Zm9vYmFyYmF6")
    assert (key["src_ip"], key["src_port"]) == ("10.0.0.5", 50022)
    assert {k: v for k, v in unmapped(key).items() if k not in ("year_assumed", "tz_assumed")} == {
        "auth_method": "publickey", "protocol": "ssh2", "key_type": "ED25519"}
    cert = msg(tmp_path, "sshd[2]", "Accepted publickey for bob from 10.0.0.6 port 1 ssh2: ED25519-CERT SHA256:abc "
                                    "ID bob@corp (serial 7) CA ED25519 SHA256:def")
    assert (cert["actor_user_name"], cert["actor_credential_uid"]) == ("bob", "SHA256:abc")
    assert unmapped(cert)["key_info"] == "ID bob@corp (serial 7) CA ED25519 SHA256:def"
    dns = msg(tmp_path, "sshd[2]", "Accepted password for carol from gw.example.com port 2222 ssh2")
    assert (dns["src_ip"], dns["src_hostname"], dns["src_port"]) == (None, "gw.example.com", 2222)
    v6 = msg(tmp_path, "sshd[2]", "Failed password for root from 2001:db8::7 port 2222 ssh2")
    assert (v6["src_ip"], v6["status_id"], v6["status_detail"]) == ("2001:db8::7", 2, None)


def test_sshd_user_names_with_spaces_cannot_forge_the_address(tmp_path: Path) -> None:
    forged = msg(tmp_path, "sshd[9]", "Failed password for invalid user a from 6.6.6.6 port 1 from 1.2.3.4 port "
                                      "22 ssh2")
    assert (forged["actor_user_name"], forged["src_ip"], forged["src_port"]) == (
        "a from 6.6.6.6 port 1", "1.2.3.4", 22)
    empty = msg(tmp_path, "sshd[9]", "Invalid user  from 1.2.3.4 port 22")
    assert (empty["event_code"], empty["actor_user_name"], empty["src_ip"]) == ("sshd.invalid_user", None, "1.2.3.4")


@pytest.mark.parametrize(("message", "code", "activity", "status", "user", "detail"), [
    ("Disconnected from user alice 10.0.0.5 port 50022", "sshd.disconnected", 2, 1, "alice", None),
    ("Received disconnect from 10.0.0.5 port 50022:11: disconnected by user", "sshd.received_disconnect", 2, 1, None,
     "disconnected by user"),
    ("Received disconnect from 1.2.3.4 port 5:11: Bye Bye [preauth]", "sshd.received_disconnect", 99, 0, None,
     "Bye Bye"),
    ("error: maximum authentication attempts exceeded for invalid user admin from 1.2.3.4 port 5 ssh2 [preauth]",
     "sshd.max_auth_attempts", 1, 2, "admin", "maximum authentication attempts exceeded"),
    ("Disconnecting authenticating user root 1.2.3.4 port 5: Too many authentication failures [preauth]",
     "sshd.max_auth_attempts", 1, 2, "root", "too many authentication failures"),
    ("error: PAM: Authentication failure for illegal user oracle from 1.2.3.4", "sshd.pam_failure", 1, 2, "oracle",
     "authentication failure"),
    ("PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root",
     "pam.auth_failure", 1, 2, "root", "2 more authentication failures"),
    ("input_userauth_request: invalid user test [preauth]", "sshd.invalid_user", 1, 2, "test", "invalid user"),
    ("Connection reset by invalid user admin 1.2.3.4 port 5 [preauth]", "sshd.connection_closed", 99, 2, "admin",
     "invalid user"),
    ("pam_unix(sshd:auth): check pass; user unknown", "pam.user_unknown", 1, 2, None, "user unknown"),
])
def test_sshd_and_pam_outcomes(tmp_path: Path, message: str, code: str, activity: int, status: int, user: str | None,
                               detail: str | None) -> None:
    row = msg(tmp_path, "sshd[77]", message)
    assert (row["event_code"], row["class_uid"], row["activity_id"], row["status_id"]) == (code, 3002, activity,
                                                                                           status)
    assert (row["actor_user_name"], row["status_detail"]) == (user, detail)


def test_received_disconnect_code_and_connection_open(tmp_path: Path) -> None:
    bye = msg(tmp_path, "sshd[1]", "Received disconnect from 10.0.0.5 port 50022:11: disconnected by user")
    assert (bye["status_code"], bye["src_ip"], bye["src_port"]) == ("11", "10.0.0.5", 50022)
    open_ = msg(tmp_path, "sshd[1]", "Connection from 10.0.0.5 port 50022 on 10.0.0.1 port 22 rdomain \"\"")
    assert (open_["class_uid"], open_["activity_id"], open_["src_port"]) == (4001, 1, 50022)
    assert unmapped(open_)["local_port"] == "22"


def test_pam_sessions(tmp_path: Path) -> None:
    sshd = msg(tmp_path, "sshd[2460]", "pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)")
    assert (sshd["event_code"], sshd["class_uid"], sshd["activity_id"], sshd["status_id"]) == (
        "pam.session_opened", 3002, 1, 1)
    assert (sshd["actor_user_name"], sshd["actor_user_uid"], sshd["target_user_uid"]) == ("alice", "1000", "1000")
    assert (sshd["actor_orig_name"], sshd["actor_orig_uid"]) == (None, None)  # by (uid=0) is sshd, not a person
    assert unmapped(sshd)["by_uid"] == "0"
    sudo = msg(tmp_path, "sudo", "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)")
    assert (sudo["actor_orig_name"], sudo["actor_orig_uid"]) == ("alice", "1000")
    assert (sudo["actor_user_name"], sudo["actor_user_uid"], sudo["target_user_name"]) == ("root", "0", "root")
    assert unmapped(sudo)["pam_service"] == "sudo"
    su = msg(tmp_path, "su[812]", "pam_unix(su-l:session): session opened for user root by alice(uid=1000)")
    assert (su["actor_orig_name"], su["actor_orig_uid"], su["target_user_name"]) == ("alice", "1000", "root")
    closed = msg(tmp_path, "sshd[2460]", "pam_unix(sshd:session): session closed for user alice")
    assert (closed["event_code"], closed["activity_id"], closed["target_user_name"]) == (
        "pam.session_closed", 2, "alice")
    cron = msg(tmp_path, "CRON[5]", "pam_unix(cron:session): session opened for user root(uid=0) by root(uid=0)")
    assert (cron["api_service"], cron["actor_orig_name"], cron["target_user_name"]) == ("CRON", "root", "root")


def test_sudo(tmp_path: Path) -> None:
    ok = msg(tmp_path, "sudo", "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls -l /root")
    assert (ok["event_code"], ok["class_uid"], ok["activity_id"], ok["status_id"]) == ("sudo.command", 1007, 1, 1)
    assert (ok["actor_orig_name"], ok["actor_user_name"], ok["target_user_name"]) == ("alice", "root", "root")
    assert ok["process_cmdline"] == "/bin/ls -l /root"
    assert {k: unmapped(ok)[k] for k in ("tty", "pwd")} == {"tty": "pts/0", "pwd": "/home/alice"}
    group = msg(tmp_path, "sudo[4242]", "bob : TTY=pts/1 ; PWD=/srv ; USER=postgres ; GROUP=postgres ; "
                                        "ENV=PGDATA=/srv/pg ; COMMAND=/usr/bin/psql -c 'a ; b'")
    assert (group["actor_user_name"], group["process_cmdline"], group["actor_process_pid"]) == (
        "postgres", "/usr/bin/psql -c 'a ; b'", 4242)
    assert {k: unmapped(group)[k] for k in ("group", "env")} == {"group": "postgres", "env": "PGDATA=/srv/pg"}
    for reason in ("3 incorrect password attempts", "command not allowed", "user NOT in sudoers"):
        refused = msg(tmp_path, "sudo", f"  mallory : {reason} ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh")
        assert (refused["status_id"], refused["status_detail"]) == (2, reason)
        assert (refused["actor_orig_name"], refused["actor_user_name"], refused["target_user_name"]) == (
            "mallory", "mallory", "root")  # the switch did not happen: the invoker stays the actor


def test_su(tmp_path: Path) -> None:
    ok = msg(tmp_path, "su[812]", "(to root) alice on pts/0")
    assert (ok["event_code"], ok["class_uid"], ok["activity_id"], ok["status_id"]) == ("su.switch", 3002, 1, 1)
    assert (ok["actor_orig_name"], ok["actor_user_name"], ok["target_user_name"]) == ("alice", "root", "root")
    bad = msg(tmp_path, "su[813]", "FAILED SU (to root) mallory on pts/3")
    assert (bad["status_id"], bad["actor_user_name"], bad["target_user_name"]) == (2, "mallory", "root")
    shadow = msg(tmp_path, "su[814]", "Successful su for postgres by alice")
    assert (shadow["status_id"], shadow["actor_orig_name"], shadow["target_user_name"]) == (1, "alice", "postgres")
    summary = msg(tmp_path, "su[815]", "- pts/4 mallory:root")
    assert (summary["status_id"], summary["actor_orig_name"]) == (2, "mallory")


def test_systemd_logind_sessions(tmp_path: Path) -> None:
    new = msg(tmp_path, "systemd-logind[612]", "New session 7 of user alice.")
    assert (new["event_code"], new["class_uid"], new["activity_id"], new["status_id"]) == (
        "logind.new_session", 3002, 1, 1)
    assert (new["target_session_uid"], new["actor_user_name"], new["target_user_name"]) == ("7", "alice", "alice")
    quoted = msg(tmp_path, "systemd-logind[612]", "New session 'c12' of user 'john.doe' with class 'user' and type "
                                                  "'tty'.")
    assert (quoted["target_session_uid"], quoted["actor_user_name"]) == ("c12", "john.doe")
    assert {k: unmapped(quoted)[k] for k in ("session_class", "session_type")} == {"session_class": "user",
                                                                                     "session_type": "tty"}
    removed = msg(tmp_path, "systemd-logind[612]", "Removed session 7.")
    assert (removed["event_code"], removed["activity_id"], removed["target_session_uid"]) == (
        "logind.session_removed", 2, "7")
    out = msg(tmp_path, "systemd-logind[612]", "Session 7 logged out. Waiting for processes to exit.")
    assert (out["activity_id"], out["target_session_uid"]) == (99, "7")


@pytest.mark.parametrize(("tag", "message", "code", "klass", "activity", "status", "target", "resource"), [
    ("useradd[3001]", "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0",
     "useradd.new_user", 3001, 1, 1, "bob", None),
    ("useradd[3001]", "failed adding user 'bob', data deleted", "useradd.failed", 3001, 1, 2, "bob", None),
    ("groupadd[3002]", "group added to /etc/group: name=devs, GID=1002", "groupadd.new_group", 3006, 6, 1, None,
     "devs"),
    ("useradd[3001]", "new group: name=bob, GID=1001", "groupadd.new_group", 3006, 6, 1, None, "bob"),
    ("usermod[3003]", "add 'bob' to group 'sudo'", "usermod.add_to_group", 3006, 3, 1, "bob", "sudo"),
    ("usermod[3003]", "add 'bob' to shadow group 'sudo'", "usermod.add_to_group", 3006, 3, 1, "bob", "sudo"),
    ("usermod[3003]", "lock user 'bob' password", "usermod.lock", 3001, 9, 1, "bob", None),
    ("usermod[3003]", "unlock user 'bob' password", "usermod.unlock", 3001, 12, 1, "bob", None),
    ("usermod[3003]", "change user 'bob' shell from '/bin/sh' to '/bin/bash'", "usermod.change", 3001, 99, 1, "bob",
     None),
    ("userdel[3004]", "delete user 'bob'", "userdel.delete_user", 3001, 6, 1, "bob", None),
    ("userdel[3004]", "delete 'bob' from group 'sudo'", "userdel.remove_from_group", 3006, 4, 1, "bob", "sudo"),
    ("userdel[3004]", "removed group 'bob' owned by 'bob'", "groupdel.delete_group", 3006, 5, 1, None, "bob"),
    ("groupdel[3005]", "group 'devs' removed", "groupdel.delete_group", 3006, 5, 1, None, "devs"),
    ("passwd[3006]", "pam_unix(passwd:chauthtok): password changed for bob", "pam.password_changed", 3001, 3, 1,
     "bob", None),
    ("chpasswd[3007]", "pam_unix(chpasswd:chauthtok): password changed for carol", "pam.password_changed", 3001, 3, 1,
     "carol", None),
    ("passwd[3006]", "password for 'bob' changed by 'root'", "passwd.password_changed", 3001, 3, 1, "bob", None),
    ("gpasswd[3008]", "user bob added by root to group docker", "gpasswd.added", 3006, 3, 1, "bob", "docker"),
    ("gpasswd[3008]", "user bob removed by root from group docker", "gpasswd.removed", 3006, 4, 1, "bob", "docker"),
    ("chage[3009]", "changed password expiry for bob", "chage.change_expiry", 3001, 99, 1, "bob", None),
    ("sshd[1]", "pam_faillock(sshd:auth): Consecutive login failures for user bob account temporarily locked",
     "pam.account_locked", 3001, 9, 1, "bob", None),
])
def test_account_and_group_changes(tmp_path: Path, tag: str, message: str, code: str, klass: int, activity: int,
                                   status: int, target: str | None, resource: str | None) -> None:
    row = msg(tmp_path, tag, message)
    assert (row["event_code"], row["class_uid"], row["activity_id"], row["status_id"]) == (code, klass, activity,
                                                                                           status)
    assert (row["target_user_name"], row["resource_uid"]) == (target, resource)
    assert row["resource_type"] == ("group" if resource else None)


def test_account_change_details(tmp_path: Path) -> None:
    new = msg(tmp_path, "useradd[3001]", "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, "
                                         "from=/dev/pts/0")
    assert new["target_user_uid"] == "1001"
    assert {k: unmapped(new)[k] for k in ("gid", "home", "shell", "from")} == {
        "gid": "1001", "home": "/home/bob", "shell": "/bin/bash", "from": "/dev/pts/0"}
    assert msg(tmp_path, "passwd[1]", "password for 'bob' changed by 'root'")["actor_user_name"] == "root"
    assert msg(tmp_path, "gpasswd[1]", "user bob added by alice to group docker")["actor_user_name"] == "alice"
    assert unmapped(msg(tmp_path, "usermod[1]", "change user name 'bob' to 'robert'"))["new_name"] == "robert"


def test_cron_and_programs_given_by_path(tmp_path: Path) -> None:
    cron = msg(tmp_path, "/usr/sbin/CRON[4001]", "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)")
    assert (cron["event_code"], cron["class_uid"], cron["actor_user_name"]) == ("cron.command", 1007, "root")
    assert cron["process_cmdline"] == "   cd / && run-parts --report /etc/cron.hourly"
    assert (cron["api_service"], cron["actor_process_pid"]) == ("/usr/sbin/CRON", 4001)


def test_messages_of_other_programs_are_generic_rows(tmp_path: Path) -> None:
    kernel = msg(tmp_path, "kernel", "[ 12.345] usb 1-1: new high-speed USB device number 2")
    assert (kernel["class_uid"], kernel["activity_id"], kernel["status_id"], kernel["event_code"]) == (0, 0, 0, None)
    assert kernel["api_service"] == "kernel"
    assert unmapped(kernel)["message"] == "[ 12.345] usb 1-1: new high-speed USB device number 2"
    assert kernel["parse_error"] is None
    # the same text from another program is not an sshd login
    other = msg(tmp_path, "myapp[1]", "Accepted password for alice from 10.0.0.5 port 22 ssh2")
    assert (other["class_uid"], other["actor_user_name"]) == (0, None)
    untagged = one(tmp_path, "Mar  3 10:00:01 web1 last message repeated 3 times")
    assert (untagged["api_service"], untagged["host_name"], untagged["parse_error"]) == (None, "web1", None)
    assert unmapped(untagged)["message"] == "last message repeated 3 times"


@st.composite
def shaped_messages(draw: st.DrawFn) -> tuple[str, str]:
    """A message in one of the fast-path shapes, with arbitrary tokens (no spaces) where the shape has groups."""
    rules = [rule for rule in _authlog.RULES if rule.shapes]
    rule = draw(st.sampled_from(rules))
    shape = draw(st.sampled_from(rule.shapes))
    token = st.text(st.characters(blacklist_characters=" \n\r", blacklist_categories=["Cs"]), min_size=1, max_size=8)
    words = []
    for word in shape.template.split(" "):
        if word.startswith("{") and ":" in word:
            options = word[word.index(":") + 1 : -1].replace("ssh[0-9]?", "ssh2|ssh|ssh1").split("|")
            words.append(draw(st.sampled_from(options)))
        elif word.startswith("{"):
            words.append(draw(st.one_of(token, st.sampled_from(["1.2.3.4", "::1", "22", "root", "invalid", "user",
                                                                "from", "port"]))))
        else:
            words.append(word)
    return rule.programs[0], " ".join(words)


@given(st.lists(shaped_messages(), min_size=1, max_size=20))
def test_fast_paths_read_messages_as_the_regexes_do(messages: list[tuple[str, str]]) -> None:
    programs = pl.Series([p for p, _ in messages], dtype=pl.String)
    texts = pl.Series([m for _, m in messages], dtype=pl.String)
    fast = _authlog.parse(programs, texts)
    original = _authlog.RULES
    try:
        _authlog.RULES = tuple(dataclasses.replace(rule, shapes=()) for rule in original)
        slow = _authlog.parse(programs, texts)
    finally:
        _authlog.RULES = original
    assert fast.to_dicts() == slow.to_dicts()


# ------------------------------------------------------------------------------------------------------------ time


def test_year_from_the_file_time_rolls_back_over_january(tmp_path: Path) -> None:
    path = write(tmp_path, "Dec 30 23:59:59 h sshd[1]: a", "Jan  2 00:00:01 h sshd[1]: b",
                 "Jan  5 20:00:00 h sshd[1]: c", "Jan  7 00:00:00 h sshd[1]: d")
    modified = datetime(2025, 1, 5, 10, 0, tzinfo=timezone.utc).timestamp()
    os.utime(path, (modified, modified))
    events = parse(path)
    # c is later than the file time but within a day (clock skew, zones); d is two days later: last year's
    assert events["time"].to_list() == [utc("2024-12-30T23:59:59"), utc("2025-01-02T00:00:01"),
                                        utc("2025-01-05T20:00:00"), utc("2024-01-07T00:00:00")]
    assert [unmapped(r) for r in events.to_dicts()] == [
        {"message": m, "year_assumed": y, "tz_assumed": "UTC"} for m, y in
        (("a", 2024), ("b", 2025), ("c", 2025), ("d", 2024))]


def test_year_from_the_file_time_is_read_in_the_zone(tmp_path: Path) -> None:
    path = write(tmp_path, "Dec 31 21:00:00 h sshd[1]: a")
    modified = datetime(2025, 1, 1, 3, 0, tzinfo=timezone.utc).timestamp()  # 22:00 on 31 December in New York
    os.utime(path, (modified, modified))
    assert parse(path, tz="America/New_York")["time"].to_list() == [utc("2025-01-01T02:00:00")]
    assert parse(path)["time"].to_list() == [utc("2024-12-31T21:00:00")]  # in UTC the file is from 2025


@pytest.mark.parametrize("chunk_bytes", [None, 40, 100])
def test_given_year_rolls_over_in_file_order(tmp_path: Path, chunk_bytes: int | None) -> None:
    path = write(tmp_path, "Nov 30 10:00:00 h a: x", "Dec 31 23:59:59 h a: x", "Jan  1 00:00:00 h a: x",
                 "Feb  1 00:00:00 h a: x", "Jan 31 23:59:59 h a: x", "Dec  1 00:00:00 h a: x",
                 "Jan  1 00:00:00 h a: x")
    events = parse(path, year=2023, chunk_bytes=chunk_bytes)
    years = [t.year for t in events["time"].to_list()]
    assert years == [2023, 2023, 2024, 2024, 2024, 2024, 2025]  # Feb -> Jan is a late line, not a new year


def test_time_zones_and_impossible_times(tmp_path: Path) -> None:
    def time_of(line: str, year: int = 2024) -> dict[str, Any]:
        return one(tmp_path, f"{line} h a: x", tz="Europe/Paris", year=year)

    assert time_of("Jul  1 12:00:00")["time"] == utc("2024-07-01T10:00:00")  # summer time, UTC+2
    assert time_of("Jan  1 12:00:00")["time"] == utc("2024-01-01T11:00:00")
    assert time_of("Oct 27 02:30:00")["time"] == utc("2024-10-27T00:30:00")  # a repeated hour: its first time
    assert time_of("Feb 29 10:00:00")["time"] == utc("2024-02-29T09:00:00")
    for line, year in (("Mar 31 02:30:00", 2024), ("Feb 30 10:00:00", 2024), ("Jun  1 24:00:00", 2024),
                       ("Feb 29 10:00:00", 2023)):  # a skipped hour, no such day, no such hour, not a leap year
        bad = time_of(line, year)
        assert bad["time"] is None
        assert bad["parse_error"] == f"timestamp does not parse: {line}"
        assert bad["api_service"] == "a"  # the rest of the line is read


def test_fractions_pri_and_iso_forms(tmp_path: Path) -> None:
    out = rows(tmp_path, "<86>Mar  3 10:00:01.5 h sshd[1]: x", "2024-03-03T10:00:01Z h sshd[1]: x",
               "2024-03-03T10:00:01.123456789-0530 h sshd[1]: x", "2024-03-03T10:00:01.25 h sshd[1]: x",
               tz="Asia/Tokyo")
    assert [r["time_us"] for r in out] == [
        int(utc("2024-03-03T01:00:01.5").timestamp() * 1e6), int(utc("2024-03-03T10:00:01").timestamp() * 1e6),
        int(utc("2024-03-03T15:30:01.123456").timestamp() * 1e6), int(utc("2024-03-03T01:00:01.25").timestamp() * 1e6)]
    assert {k: unmapped(out[0])[k] for k in ("facility", "severity")} == {"facility": "authpriv", "severity": "info"}
    assert unmapped(out[1]) == {"message": "x"}  # nothing assumed
    assert unmapped(out[3])["tz_assumed"] == "Asia/Tokyo"  # an ISO time without offset
    assert "year_assumed" not in unmapped(out[3])


# -------------------------------------------------------------------------------------------------------- RFC 5424


def test_rfc5424(tmp_path: Path) -> None:
    bom = "\ufeff"
    out = rows(
        tmp_path,
        f"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - {bom}'su root' failed for lonvick on "
        "/dev/pts/8",
        "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" '
        'eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
        '<38>1 2024-03-03T10:00:01.123456+01:00 web1 sshd 4242 - [meta a="x\\"y\\\\z\\]w"][meta b="2"] '
        "Accepted password for bob from 10.1.2.3 port 2222 ssh2",
        "<38>1 - web1 sshd 4243 - - Invalid user x from 10.1.2.3 port 2",
    )
    su, proc, events, sshd, untimed = out
    assert su["time"] == utc("2003-10-11T22:14:15.003")
    assert (su["host_name"], su["api_service"], su["actor_process_pid"]) == ("mymachine.example.com", "su", None)
    assert unmapped(su) == {"message": "'su root' failed for lonvick on /dev/pts/8", "facility": "auth",
                            "severity": "crit", "msgid": "ID47"}
    assert (proc["time"], proc["host_name"], proc["actor_process_pid"]) == (
        utc("2003-08-24T12:14:15.000003"), "192.0.2.1", 8710)
    assert unmapped(proc)["facility"] == "local4"
    assert unmapped(events)["structured_data"] == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
        "examplePriority@32473": {"class": "high"}}
    assert "message" not in unmapped(events)  # no MSG
    assert (sshd["event_code"], sshd["actor_user_name"], sshd["src_port"]) == ("sshd.accepted", "bob", 2222)
    assert sshd["time"] == utc("2024-03-03T09:00:01.123456")
    assert unmapped(sshd)["structured_data"] == {"meta": [{"a": 'x"y\\z]w'}, {"b": "2"}]}  # unescaped; repeated
    assert (untimed["time"], untimed["parse_error"]) == (None, "no timestamp (RFC 5424 '-')")
    assert (untimed["event_code"], untimed["actor_process_pid"]) == ("sshd.invalid_user", 4243)
    assert all(r["time_original"] for r in out)


# ------------------------------------------------------------------------------------------------------- bad input


def test_bad_lines_each_become_one_row(tmp_path: Path) -> None:
    huge_ok = b"Mar  3 10:00:01 h sshd[1]: Invalid user " + b"a" * (2 << 20) + b" from 1.2.3.4 port 5"
    huge_bad = b"x" * (3 << 20)
    data = b"\n".join([
        b"Mar  3 10:00:01 h sshd[1]: Invalid user \x1b[31mred\x07 from 1.2.3.4 port 5",  # escapes stay in raw
        b"no timestamp at all",
        b"",
        b"   \t ",
        b"Mar  3 10:00:01 h sshd[1]: Failed password for b\xffob from 1.2.3.4 port 5 ssh2",
        b"Mar  3 10:00:01 h sshd[1]: Invalid user ali\x00ce from 1.2.3.4 port 5",
        b"\x00\x00\x00\x00Mar  3 10:00:01 h sshd[1]: after a crash",
        huge_ok,
        huge_bad,
        b"Mar  3 10:00:01 h kernel: ctl \x01\x02\x7f chars",
        b"Mar  3 10:00:0",  # cut, and no final newline
    ])
    path = tmp_path / "bad.log"
    path.write_bytes(data)
    events = parse(path, year=2024)
    assert_accounted(events, data)
    by_line = {r["source_line"]: r for r in events.to_dicts()}
    assert by_line[1]["raw"].endswith("\x1b[31mred\x07 from 1.2.3.4 port 5")
    assert by_line[1]["actor_user_name"] == "\x1b[31mred\x07"
    assert by_line[1]["parse_error"] is None
    assert by_line[2]["parse_error"].startswith("not a syslog line")
    assert by_line[2]["class_uid"] is None
    bad_utf8 = by_line[5]
    bad_at = data.split(b"\n")[4].index(b"\xff")
    assert bad_utf8["parse_error"] == f"invalid UTF-8 at byte {bad_at}"
    assert bad_utf8["raw"].endswith("b\\xffob from 1.2.3.4 port 5 ssh2")
    assert (bad_utf8["event_code"], bad_utf8["actor_user_name"]) == ("sshd.failed", "b\\xffob")  # read all the same
    nul = by_line[6]
    assert (nul["parse_error"], nul["actor_user_name"]) == ("NUL byte in line", "ali\x00ce")
    assert "\x00" in nul["raw"]
    crashed = by_line[7]
    assert crashed["parse_error"].startswith("NUL byte in line; not a syslog line")
    assert (by_line[8]["event_code"], len(by_line[8]["actor_user_name"])) == ("sshd.invalid_user", 2 << 20)
    assert by_line[8]["parse_error"] is None
    assert by_line[9]["parse_error"].startswith("not a syslog line")
    assert len(by_line[9]["raw"]) == 3 << 20
    ctl = by_line[10]
    assert orjson.loads(ctl["unmapped"])["message"] == "ctl \x01\x02\x7f chars"
    assert "\\u0001\\u0002" in ctl["unmapped"]  # escaped in the JSON text
    assert by_line[11]["parse_error"].startswith("not a syslog line")


def test_line_breaks_bom_and_empty_files(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfMar  3 10:00:01 h a: one\r\nMar  3 10:00:02 h a: two\r\n\r\nMar  3 10:00:03 h a: three"
    path = tmp_path / "crlf.log"
    path.write_bytes(data)
    events = parse(path, year=2024)
    assert events["raw"].to_list() == ["Mar  3 10:00:01 h a: one", "Mar  3 10:00:02 h a: two",
                                       "Mar  3 10:00:03 h a: three"]
    assert events["source_offset"].to_list() == [3, 29, 57]
    assert events["source_line"].to_list() == [1, 2, 4]
    assert events["parse_error"].null_count() == 3
    for content in (b"", b"\n\n  \n"):
        path.write_bytes(content)
        assert parse(path, year=2024).height == 0


@pytest.mark.samples
@pytest.mark.filterwarnings("ignore::ResourceWarning")  # _io.Source.open leaves the file of a gzip stream open
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_gzip_and_corrupt_gzip(tmp_path: Path) -> None:
    data = sample("linux_syslog", SSHD).read_bytes() * 200
    packed = gzip.compress(data)
    path = tmp_path / "auth.log.1.gz"
    path.write_bytes(packed)
    assert_accounted(al.load(path, progress=False), data)  # sniffed through gzip
    path.write_bytes(packed[: len(packed) // 2])
    events = parse(path, year=2024, chunk_bytes=4096)
    last = events.row(-1, named=True)
    assert (last["raw"], last["source_line"]) == ("", None)
    assert "gzip error in" in last["parse_error"]
    assert events.height > 1000


def test_invalid_options_fail_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "Mar  3 10:00:01 h a: x")
    source = expand(path)[0]
    for year in (0, 10_000, 2024.0, "2024", True):
        with pytest.raises(InvalidArgument, match="year: expected a year"):
            next(syslog.parse(source, batch_rows=10, year=year))
    for tz in ("Mars/Olympus", "", "../etc/passwd"):
        with pytest.raises(InvalidArgument, match="tz: expected an IANA time zone"):
            next(syslog.parse(source, batch_rows=10, tz=tz))


def test_load_passes_year_and_tz_to_the_loader(tmp_path: Path) -> None:
    path = write(tmp_path, "Mar  3 10:00:01 web1 sshd[1]: Invalid user x from 10.0.0.1 port 2")
    events = al.load(path, year=2021, tz="Asia/Kolkata", progress=False)
    assert events["time"].to_list() == [utc("2021-03-03T04:30:01")]
    assert unmapped(events.row(0, named=True)) == {"year_assumed": 2021, "tz_assumed": "Asia/Kolkata"}
    assert al.load(path, year=2021, progress=False)["time"].to_list() == [utc("2021-03-03T10:00:01")]
    assert "syslog" in al.formats()
    assert "journald" in al.formats()


def test_batches_and_chunks(tmp_path: Path) -> None:
    lines = [f"Mar  3 10:{i // 60:02d}:{i % 60:02d} h sshd[{i}]: Invalid user u{i} from 10.0.0.{i % 250} port {i}"
             for i in range(500)]
    path = write(tmp_path, *lines)
    frames = list(syslog.parse(expand(path)[0], batch_rows=64, year=2024, chunk_bytes=1000))
    assert max(f.height for f in frames) <= 64
    events = pl.concat(frames)
    assert events["actor_process_pid"].to_list() == list(range(500))
    assert events["actor_user_name"].to_list() == [f"u{i}" for i in range(500)]


# ------------------------------------------------------------------------------------------------------- sniffing


def other_sample_files() -> list[Path]:
    sample()
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.parent.name != "linux_syslog"
                  and p.name != "README.md")


@pytest.mark.samples
def test_sniffers_reject_every_other_sample() -> None:
    files = other_sample_files()
    assert len(files) >= 15
    for path in files:
        head = expand(path)[0].head(64 * 1024)
        assert not syslog.sniff(head), path.name
        assert not journald.sniff(head), path.name


@pytest.mark.samples
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sniffer_accepts_the_samples(name: str) -> None:
    head = sample("linux_syslog", name).read_bytes()
    assert syslog.sniff(head)
    assert not journald.sniff(head)


def test_sniffer_edge_cases() -> None:
    assert syslog.sniff(b"\xef\xbb\xbfJan  1 00:00:00 h sshd[1]: x\n")
    assert syslog.sniff(b"Jan  1 00:00:00 h sshd[1]: x\ngarbage\n")  # half of the lines
    assert not syslog.sniff(b"Jan  1 00:00:00 h sshd[1]: x\ngarbage\nmore garbage\n")
    assert not syslog.sniff(b"")
    assert not syslog.sniff(b'{"MESSAGE": "Jan  1 00:00:00 h sshd[1]: x"}\n')
    assert not syslog.sniff(b'[{"__REALTIME_TIMESTAMP": "1"}]')
    assert not syslog.sniff(b"type=USER_LOGIN msg=audit(1700000000.000:1): pid=1 uid=0 msg='op=login'\n")
    assert not syslog.sniff(b'<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>')
    assert not syslog.sniff(b"Jan  1 00:00:00 hostonly\n")  # no tag
    long_head = b"Jan  1 00:00:00 h sshd[1]: x\n" * 3000
    assert syslog.sniff(long_head[: 64 * 1024])  # a line cut by the window does not count


# ------------------------------------------------------------------------------------------- mutated real samples

_SAMPLE_BYTES: list[bytes] = []


def _samples() -> list[bytes]:
    if not _SAMPLE_BYTES:
        _SAMPLE_BYTES.extend(sample("linux_syslog", name).read_bytes() for name in SAMPLE_FILES)
    return _SAMPLE_BYTES


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(_samples()))
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "flip", "cut", "insert", "blank", "crlf"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "blank":
            lines.insert(i, draw(st.sampled_from([b"", b" ", b"\t \r", b"\r"])))
        elif op == "crlf":
            lines[i] += b"\r"
        elif lines[i]:
            pos = draw(st.integers(0, len(lines[i]) - 1))
            if op == "flip":
                lines[i] = lines[i][:pos] + bytes([lines[i][pos] ^ draw(st.integers(1, 255))]) + lines[i][pos + 1:]
            elif op == "cut":
                lines[i] = lines[i][:pos]
            else:
                lines[i] = lines[i][:pos] + draw(st.sampled_from([b"\x00", b"\x1b[2J", b"\xff\xfe", b'"\\'])) + (
                    lines[i][pos:])
    out = b"\n".join(lines)
    return out[: draw(st.integers(0, len(out)))] if draw(st.booleans()) else out


@pytest.mark.samples
@given(data=mutated(), small_chunks=st.booleans(), year=st.sampled_from([None, 1999]))
def test_mutated_samples_keep_every_line(tmp_path_factory: pytest.TempPathFactory, data: bytes, small_chunks: bool,
                                         year: int | None) -> None:
    path = tmp_path_factory.mktemp("mutated") / "auth.log"
    path.write_bytes(data)
    events = parse(path, chunk_bytes=300 if small_chunks else None, year=year)
    assert_accounted(events, data)
    errors = events.filter(pl.col("parse_error").is_null())
    assert errors["time_us"].null_count() == 0  # a clean row has a time
    assert errors["class_uid"].null_count() == 0
