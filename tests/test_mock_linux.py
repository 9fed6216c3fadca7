"""The Linux renderers of the mock generator (auditd, auth syslog in RFC 3164 and RFC 5424): every event kind, success,
failure and stripped, loads back as its truth says; the text has the shape real auditd, sshd, sudo and rsyslog give
it; and a property test over awkward names, commands and times."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditlab.mock import auditd as render_auditd
from auditlab.mock import syslog as render_syslog
from auditlab.mock._model import Event
from auditlab.mock.render import Log
from tests._mock import assert_round_trip

FORMATS = ("auditd", "syslog", "syslog-5424")
T0 = 1_700_000_000_123_456  # 2023-11-14 22:13:20.123456 UTC
SECOND = 1_000_000


def linux(kind: str, t: int = 0, host: str = "web1", success: bool = True, stripped: bool = False,
          **fields: object) -> Event:
    return Event(T0 + t * SECOND, "linux", kind, host, fields, success=success, stripped=stripped)


ALICE = {"user": "alice", "uid": 1000, "auid": 1000, "ses": 4, "tty": "pts/0"}
ROOT_AS_ALICE = {"user": "root", "uid": 0, "euid": 0, "auid": 1000, "ses": 4, "tty": "pts/0", "cwd": "/root"}
SSH = {"src_ip": "203.0.113.10", "src_port": 50000, "pid": 920}


def every_kind(stripped: bool = False) -> list[Event]:
    """One event of every linux kind, and the failures each kind can have, on two hosts."""
    s = {"stripped": stripped}
    return [
        linux("ssh_auth", 0, user="alice", uid=1000, auid=None, method="publickey", invalid_user=False, **SSH, **s),
        linux("ssh_auth", 1, success=False, user="alice", uid=1000, auid=None, method="publickey",
              invalid_user=False, **SSH, **s),
        linux("ssh_auth", 2, user="alice", uid=1000, auid=None, method="password", invalid_user=False, **SSH, **s),
        linux("ssh_auth", 3, success=False, user="root", method="password", invalid_user=False,
              src_ip="198.51.100.7", src_port=41000, pid=3001, **s),
        linux("ssh_auth", 4, success=False, user="oracle", method="password", invalid_user=True,
              src_ip="2001:db8::7", src_port=41001, pid=3002, **s),
        linux("ssh_auth", 5, success=False, user="admin", method="publickey", invalid_user=True,
              src_ip="198.51.100.8", src_port=41002, pid=3003, **s),
        linux("session_open", 6, **ALICE, **SSH, **s),
        linux("command", 7, **ALICE, pid=1501, ppid=921, exe="/usr/bin/id", argv=["id"], cwd="/home/alice",
              euid=1000, **s),
        linux("command", 8, success=False, **ALICE, pid=1502, ppid=921, exe="/usr/sbin/visudo", argv=["visudo"],
              cwd="/home/alice", euid=1000, **s),
        linux("sudo", 9, **ALICE, pid=1503, command="/bin/bash", cwd="/home/alice", target="root", target_uid=0,
              **s),
        linux("sudo", 10, success=False, **ALICE, pid=1504, command="/usr/bin/cat /etc/shadow", cwd="/home/alice",
              target="root", target_uid=0, **s),
        linux("su", 11, **ALICE, pid=1505, target="root", target_uid=0, **s),
        linux("su", 12, success=False, **ALICE, pid=1506, target="root", target_uid=0, **s),
        linux("useradd", 13, **ROOT_AS_ALICE, pid=1507, new_user="sysupdate", new_uid=1099,  # noqa: S604
              home="/home/sysupdate", shell="/bin/bash", **s),
        linux("cron", 14, host="db1", user="backup", uid=34, auid=34, pid=7001,
              command="/usr/local/bin/backup.sh --incremental", **s),
        linux("service", 15, host="db1", pid=1, unit="nginx", action="stop", **s),
        linux("service", 16, host="db1", pid=1, unit="nginx", action="start", **s),
        linux("daemon_stop", 17, host="db1", pid=1, service="rsyslog", **s),
        linux("service", 18, host="db1", pid=1, unit="auditd", action="start", **s),
        linux("session_close", 19, **ALICE, **SSH, **s),
        linux("audit_disable", 20, **ROOT_AS_ALICE, pid=1508, ppid=1503, argv=["auditctl", "-e", "0"], **s),
        linux("command", 21, **ROOT_AS_ALICE, pid=1509, ppid=1503, exe="/usr/bin/rm", argv=["rm", "-f", "x"], **s),
        linux("daemon_stop", 22, host="db1", **{**ALICE, "user": "root", "uid": 0}, pid=7100, service="auditd",
              **s),
    ]


# ------------------------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stripped", [False, True], ids=["plain", "stripped"])
def test_every_kind_round_trips(fmt: str, stripped: bool) -> None:
    log = Log(every_kind(stripped), fmt)
    loaded = assert_round_trip(log)
    assert loaded.height == len(log.records) > 20
    assert set(loaded["host_name"]) == {"web1", "db1"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_stripped_events_name_no_actor(fmt: str) -> None:
    log = Log(every_kind(stripped=True), fmt)
    loaded = assert_round_trip(log)
    actors = loaded.filter(loaded["actor_user_name"].is_in(["alice", "backup"])
                           | loaded["actor_orig_uid"].is_in(["1000", "34"])
                           | loaded["actor_session_uid"].is_in(["4"]))
    assert actors.is_empty(), actors.select("raw").to_series().to_list()


@pytest.mark.parametrize("fmt", FORMATS)
def test_deterministic(fmt: str) -> None:
    events = every_kind()
    assert Log(events, fmt).files == Log(list(events), fmt).files


def test_auditd_silenced_after_audit_is_disabled() -> None:
    events = [
        linux("audit_disable", 0, **ROOT_AS_ALICE, pid=1508, ppid=1503, argv=["auditctl", "-e", "0"]),
        linux("command", 1, **ROOT_AS_ALICE, pid=1509, ppid=1503, exe="/usr/bin/id", argv=["id"]),
        linux("service", 2, pid=1, unit="auditd", action="start"),
        linux("command", 3, **ROOT_AS_ALICE, pid=1510, ppid=1503, exe="/usr/bin/id", argv=["id"]),
    ]
    log = Log(events, "auditd")
    assert sorted({r.event for r in log.records}) == [0, 2, 3]
    loaded = assert_round_trip(log)
    assert loaded["event_code"].to_list() == ["SYSCALL", "CONFIG_CHANGE", "DAEMON_START", "SERVICE_START",
                                              "SYSCALL"]
    assert loaded["source_seq"].diff().drop_nulls().to_list() == [1, 1, 1, 1]


# ----------------------------------------------------------------------------------------- the text, as real


def auditd_text(*events: Event) -> str:
    return b"".join(Log(events, "auditd").files.values()).decode()


def syslog_text(*events: Event, fmt: str = "syslog") -> str:
    return b"".join(Log(events, fmt).files.values()).decode()


def test_auditd_lines_have_node_serial_and_time() -> None:
    text = auditd_text(linux("session_open", 0, **ALICE, **SSH))
    lines = text.splitlines()
    first = render_auditd.first_serial("web1")
    assert first == render_auditd.first_serial("web1")
    assert 100_000 <= first < 1_000_000
    assert [line.split(" ", 2)[1] for line in lines] == [
        "type=USER_ACCT", "type=CRED_ACQ", "type=LOGIN", "type=USER_START", "type=USER_LOGIN"]
    assert all(line.startswith("node=web1 type=") and f"msg=audit(1700000000.123:{first + i}): " in line
               for i, line in enumerate(lines))
    assert ("old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=4 res=1") in lines[2]
    assert "op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=203.0.113.10 addr=203.0.113.10 " \
           "terminal=/dev/pts/0 res=success'" in lines[4]


def test_auditd_invalid_user_is_written_as_sshd_and_pam_write_it() -> None:
    text = auditd_text(linux("ssh_auth", success=False, user="oracle", method="password", invalid_user=True,
                             src_ip="198.51.100.7", src_port=41000, pid=3001))
    auth, login = text.splitlines()
    assert "op=PAM:authentication grantors=? acct=\"?\" exe=\"/usr/sbin/sshd\" hostname=198.51.100.7 " \
           "addr=198.51.100.7 terminal=ssh res=failed'" in auth
    # as in the go-libaudit ubuntu16 sample: "(invalid user)", hex because of its space
    assert "op=login acct=28696E76616C6964207573657229 exe=\"/usr/sbin/sshd\" hostname=? addr=198.51.100.7 " \
           "terminal=sshd res=failed'" in login


def test_auditd_execve_encoding_matches_the_kernel() -> None:
    # the plaso sample's /bin/sh -c call, record for record
    assert render_auditd.execve_bodies([b"/bin/sh", b"-c", b"grep -c . /etc/hostname"]) == [
        'argc=3 a0="/bin/sh" a1="-c" a2=67726570202D63202E202F6574632F686F73746E616D65']
    text = auditd_text(linux("command", **ALICE, pid=1, ppid=1, exe="/bin/sh", argv=["/bin/sh", "-c",
                                                                                     "grep -c . /etc/hostname"]))
    assert "proctitle=2F62696E2F7368002D630067726570202D63202E202F6574632F686F73746E616D65" in text
    assert 'a0="it\'s" a1=C3A9 a2=610962 a3=2261' in render_auditd.execve_bodies(
        [b"it's", "é".encode(), b"a\tb", b'"a'])[0]


def test_auditd_long_arguments_are_split_as_the_kernel_splits_them() -> None:
    long_arg = b"x" * 20_000
    bodies = render_auditd.execve_bodies([b"echo", long_arg, b"tail"])
    assert len(bodies) > 2
    assert all(len(b) <= 7600 for b in bodies)
    assert bodies[0].startswith('argc=3 a0="echo" a1_len=40000 a1[0]=7878')
    assert bodies[1].startswith(" a1[1]=7878")  # a continuation record: two spaces after "msg=audit(...):"
    assert bodies[-1].endswith(' a2="tail"')
    joined = b"".join(bytes.fromhex(part.split("=", 1)[1]) for body in bodies for part in body.split()
                      if part.startswith("a1["))
    assert joined == long_arg
    event = linux("command", **ALICE, pid=1, ppid=1, exe="/bin/echo", argv=["echo", long_arg.decode(), "tail"])
    loaded = assert_round_trip(Log([event], "auditd"))
    assert loaded["process_cmdline"].item() == f"echo {long_arg.decode()} tail"


def test_auditd_sudo_command_and_user_cmd() -> None:
    text = auditd_text(linux("sudo", **ALICE, pid=1503, command="/bin/bash -c 'id'", cwd="/home/alice",
                             target="root", target_uid=0))
    types = [line.split(" ")[1] for line in text.splitlines()]
    assert types == ["type=USER_AUTH", "type=USER_ACCT", "type=USER_CMD", "type=CRED_REFR", "type=USER_START",
                     "type=USER_END", "type=CRED_DISP"]
    assert "uid=1000 auid=1000 ses=4" in text.splitlines()[2]
    assert "msg='cwd=\"/home/alice\" cmd=2F62696E2F62617368202D632027696427 exe=\"/usr/bin/sudo\" " \
           "terminal=pts/0 res=success'" in text
    assert "pid=1503 uid=0 auid=1000 ses=4" in text.splitlines()[4]


def test_syslog_lines_are_what_sshd_and_pam_write() -> None:
    text = syslog_text(
        linux("ssh_auth", success=False, user="oracle\ttest", method="password", invalid_user=True,
              src_ip="198.51.100.7", src_port=41000, pid=3001),
        linux("session_open", 1, **ALICE, **SSH),
    )
    assert text.splitlines() == [
        "Nov 14 22:13:20 web1 sshd[3001]: Invalid user oracle\\ttest from 198.51.100.7 port 41000",
        "Nov 14 22:13:20 web1 sshd[3001]: pam_unix(sshd:auth): check pass; user unknown",
        "Nov 14 22:13:20 web1 sshd[3001]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
        "tty=ssh ruser= rhost=198.51.100.7",
        "Nov 14 22:13:20 web1 sshd[3001]: Failed password for invalid user oracle\\ttest from 198.51.100.7 port "
        "41000 ssh2",
        "Nov 14 22:13:21 web1 sshd[920]: pam_unix(sshd:session): session opened for user alice(uid=1000) by "
        "(uid=0)",
        f"Nov 14 22:13:21 web1 systemd-logind[{render_syslog._logind_pid('web1')}]: New session 4 of user alice.",
    ]


def test_syslog_5424_keeps_microseconds_and_pri() -> None:
    line = syslog_text(linux("sudo", **ALICE, pid=1503, command="/bin/bash", cwd="/home/alice", target="root",
                             target_uid=0), fmt="syslog-5424").splitlines()[0]
    assert line == ("<85>1 2023-11-14T22:13:20.123456+00:00 web1 sudo - - -    alice : TTY=pts/0 ; "
                    "PWD=/home/alice ; USER=root ; COMMAND=/bin/bash")


def test_syslog_escapes_control_characters_as_rsyslog_does() -> None:
    event = linux("sudo", **ALICE, pid=1503, command="/bin/echo a\nb\x1b[0m\n", cwd="/home/alice", target="root",
                  target_uid=0)
    line = syslog_text(event).splitlines()[0]
    assert line.endswith("COMMAND=/bin/echo a#012b#033[0m")  # the final newline dropped, as rsyslog does
    assert assert_round_trip(Log([event], "syslog"))["process_cmdline"][0] == "/bin/echo a#012b#033[0m"


def test_sudo_splits_long_commands_as_sudo_does() -> None:
    command = "/usr/bin/printf " + " ".join(["word"] * 400)
    event = linux("sudo", **ALICE, pid=1503, command=command, cwd="/home/alice", target="root", target_uid=0)
    lines = syslog_text(event).splitlines()
    sudo = [line.split("sudo: ", 1)[1] for line in lines if "COMMAND=" in line or "(command continued)" in line]
    assert len(sudo) == 3
    assert all(len(s.encode()) <= 980 + 8 for s in sudo)
    assert sudo[1].startswith("   alice : (command continued) word")
    rebuilt = " ".join([sudo[0].split("COMMAND=", 1)[1]] + [s.split("(command continued) ", 1)[1] for s in sudo[1:]])
    assert rebuilt == command
    loaded = assert_round_trip(Log([event], "syslog"))
    assert loaded["event_code"].to_list()[:3] == ["sudo.command", None, None]


def test_commands_and_services_write_no_auth_log_lines() -> None:
    events = [e for e in every_kind() if e.kind in ("command", "audit_disable", "daemon_stop", "service")]
    assert Log(events, "syslog").records == []


# --------------------------------------------------------------------------------------- the generator's stories


@pytest.mark.parametrize("fmt", FORMATS)
def test_scenario_and_baseline_round_trip(fmt: str) -> None:
    import auditlab as al

    story = al.mock.baseline(days=1, sources=["linux"], seed=5) + al.mock.scenario(
        "ssh-bruteforce-sudo", world=al.mock.world(5), seed=5)
    assert_round_trip(story.render(fmt))


# ---------------------------------------------------------------------------------------------- property tests

_C = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
QUOTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30)
"""Printable ASCII without blanks: what the kernel and libaudit write in double quotes rather than hex."""
AWKWARD = st.one_of(
    st.text(_C, min_size=1, max_size=40),
    QUOTABLE,
    st.sampled_from(["o'brien", 'say "hi"', "a=b c=d", "x'exe=/bin/fake", "(invalid user)", "tab\there", "é ü",
                     "new\nline", "\x1b[31mred", "back\\slash", "?", "-", "#012", "日本語", "a;b", "trail "]),
    st.text(_C, min_size=100, max_size=400),
)
"""Text an attacker chooses: names tried over ssh, commands, arguments."""
ACCOUNT_FREE = st.one_of(st.text(_C, min_size=1, max_size=40), QUOTABLE)
"""Account names for auditd, which encodes anything."""
ACCOUNT_SYSLOG = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp"),
                                       blacklist_characters="\x00\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85 ();',:"),
                         min_size=1, max_size=32)
"""Account names the auth log's messages can carry unambiguously: no blanks, parentheses, ';', apostrophe, ',' or ':'
(``USER(uid=N)``, ``USER=U ;``, ``of user 'U'``, ``name=U,``)."""
PATHS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00;"), max_size=60).map(
    lambda s: "/" + s)
YEAR_2000, YEAR_2037 = 946_684_800 * SECOND, 2_114_380_800 * SECOND
DAY = 86_400 * SECOND


@st.composite
def linux_events(draw: st.DrawFn, account: st.SearchStrategy[str]) -> list[Event]:
    """Events of every kind on one host, within 120 days, with awkward names, commands and times."""
    host = draw(st.sampled_from(["web1", "db-2", "bastion.example.com"]))
    start = draw(st.integers(YEAR_2000, YEAR_2037))
    events = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(list(render_auditd.KINDS)))
        t = start + draw(st.integers(0, 120 * DAY))
        success, stripped = draw(st.booleans()), draw(st.sampled_from([False, False, False, True]))
        user, uid = draw(account), draw(st.integers(0, 60_000))
        who = {"user": user, "uid": uid, "auid": uid, "ses": draw(st.integers(1, 5000)),
               "tty": draw(st.sampled_from(["pts/0", "pts/17", None])), "pid": draw(st.integers(2, 4_000_000))}
        ssh = {"src_ip": str(draw(st.ip_addresses())), "src_port": draw(st.integers(1, 65_535))}
        if kind == "ssh_auth":
            invalid = draw(st.booleans()) and not success
            fields = {**who, **ssh, "auid": None, "invalid_user": invalid,
                      "user": draw(AWKWARD) if invalid else user,
                      "method": draw(st.sampled_from(["password", "publickey"]))}
        elif kind in ("session_open", "session_close"):
            fields, success = {**who, **ssh}, True
        elif kind in ("command", "audit_disable"):
            argv = draw(st.lists(st.one_of(AWKWARD, st.text(_C, min_size=7000, max_size=9000)), min_size=1,
                                 max_size=5))
            exe = draw(PATHS)
            fields = {**who, "exe": exe, "argv": argv, "cwd": draw(PATHS), "ppid": draw(st.integers(1, 99_999)),
                      "euid": draw(st.sampled_from([uid, 0]))}
        elif kind == "sudo":
            fields = {**who, "command": draw(st.one_of(AWKWARD, st.text(_C, max_size=5000))), "cwd": draw(PATHS),
                      "target": draw(st.sampled_from(["root", "postgres", user])), "target_uid": 0}
        elif kind == "su":
            fields = {**who, "target": draw(st.sampled_from(["root", user])), "target_uid": 0}
        elif kind == "useradd":
            safe = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00,"), max_size=60)
            fields = {**who, "new_user": draw(account), "new_uid": draw(st.integers(1000, 60_000)),
                      "home": "/home/" + draw(safe), "shell": "/bin/" + draw(safe)}
            success = True
        elif kind == "cron":
            fields, success = {**who, "tty": None, "command": draw(AWKWARD)}, True
        elif kind == "service":
            fields = {"pid": 1, "unit": draw(st.sampled_from(["nginx", "auditd", "cron.service"])),
                      "action": draw(st.sampled_from(["start", "stop"]))}
        else:  # daemon_stop
            fields = {**who, "service": draw(st.sampled_from(["auditd", "rsyslog"]))}
        events.append(Event(t, "linux", kind, host, fields, success=success, stripped=stripped))
    return events


@given(linux_events(ACCOUNT_FREE))
def test_auditd_round_trips_any_text(events: list[Event]) -> None:
    assert_round_trip(Log(events, "auditd"))


def assert_rfc3164_round_trip(log: Log) -> None:
    """:func:`assert_round_trip` of an RFC 3164 log: ``Log.load`` reads each file with the year of its first record,
    not of the first event (a command in December, which writes no auth log line, before a login in January)."""
    assert_round_trip(log)


@given(linux_events(ACCOUNT_SYSLOG))
def test_syslog_round_trips_any_text(events: list[Event]) -> None:
    assert_rfc3164_round_trip(Log(events, "syslog"))


@given(linux_events(ACCOUNT_SYSLOG))
def test_syslog_5424_round_trips_any_text(events: list[Event]) -> None:
    assert_round_trip(Log(events, "syslog-5424"))


def test_rfc3164_year_rolls_over() -> None:
    new_year = int(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp()) * SECOND
    events = [Event(new_year - 3 * SECOND + i * 2 * SECOND, "linux", "session_open", "web1", {**ALICE, **SSH})
              for i in range(3)]
    loaded = assert_round_trip(Log(events, "syslog"))
    assert sorted({t.year for t in loaded["time"]}) == [2023, 2024]
