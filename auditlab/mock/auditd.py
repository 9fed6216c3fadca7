"""Render ``linux`` events as raw Linux audit logs (``auditd``): ``HOST/var/log/audit/audit.log``.

Each event becomes one or more auditd *events*, each one :class:`~auditlab.mock._model.Record` whose ``text`` is its
lines (records); the records of one auditd event share ``msg=audit(SEC.MS:SERIAL)``. Lines start with ``node=HOST``
(auditd's ``name_format = hostname``), so the host travels with the file. Serials count up by one per auditd event
and host, in time order, from a start drawn from the host name (stable across runs); every auditd event of one
linux event is stamped with that event's time, to the millisecond.

The records are those of a RHEL-style host (SELinux ``subj=``, sshd with the RHEL audit patch), written as the kernel
and libaudit write them:

=============== ======================================================================================================
kind            auditd events (one per item; records of one event joined by ``+``)
=============== ======================================================================================================
ssh_auth        password: USER_AUTH ``op=PAM:authentication`` (``acct="?"`` for an unknown user, as libpam writes);
                publickey: USER_AUTH ``op=pubkey_auth rport=PORT`` (none for an unknown user); failed: then
                USER_LOGIN ``op=login acct=NAME`` ``res=failed`` (``acct="(invalid user)"``, hex, as sshd writes)
session_open    USER_ACCT, CRED_ACQ (auid unset), LOGIN (``old-auid``/``auid``, ``old-ses``/``ses``), USER_START,
                USER_LOGIN ``id=UID terminal=/dev/pts/N``
session_close   USER_END ``op=PAM:session_close``, USER_LOGOUT, CRED_DISP
command         SYSCALL (execve, ``arch=c000003e syscall=59``) + EXECVE (``a0``..; arguments split and hex-encoded
                as the kernel's ``audit_log_execve_info``) + CWD + PATH (the program, ld.so) + PROCTITLE (128 bytes);
                failed: SYSCALL ``success=no exit=-13`` from the calling shell + CWD + PATH + PROCTITLE ``-bash``
sudo            USER_AUTH, USER_ACCT (acct = the invoker), USER_CMD (``cwd``, ``cmd``), CRED_REFR, USER_START,
                USER_END, CRED_DISP (acct = the target); failed: three USER_AUTH ``res=failed``, USER_CMD ``res=failed``
su              USER_AUTH, USER_ACCT, CRED_ACQ, USER_START, acct = the target, ``exe="/usr/bin/su"``; failed: USER_AUTH
useradd         ADD_GROUP ``op=add-group``, ADD_USER ``op=add-user``, USER_MGMT ``op=add-home-dir`` (``acct`` = the new
                user, as shadow-utils 4.6+ writes: no ``id=``)
audit_disable   the ``auditctl`` execve (as ``command``), then CONFIG_CHANGE ``op=set audit_enabled=0 old=1``
daemon_stop     auditd: DAEMON_END ``op=terminate auid=AUID pid=PID`` (who sent the signal); another daemon:
                SERVICE_STOP from systemd
service         SERVICE_START or SERVICE_STOP (``pid=1``, ``unit=UNIT``); starting auditd: DAEMON_START first
cron            USER_ACCT, CRED_ACQ, LOGIN, USER_START, CRED_REFR (crond), the job's ``/bin/sh -c COMMAND``
                execve, CRED_DISP, USER_END
=============== ======================================================================================================

Values are written as the kernel and libaudit write them: a value holding a space, a double quote, a control or
non-ASCII byte is hex (upper case), others are quoted; ``acct`` is cut to 32 bytes (``UT_NAMESIZE``), a user message
to 8560 bytes (``AUDIT_MESSAGE_TEXT_MAX``), a USER_CMD ``cmd`` to 4096 bytes; a NUL ends a value, as in C. Unset ids
are ``4294967295``. Login sessions of cron jobs are the event's ``ses``, else the serial of their LOGIN record
(unique on the host and above any ssh session number).

A ``stripped`` event (the ``strip_actor`` fault) names no actor: its uid, euid, suid, fsuid, auid and ses (LOGIN:
old-auid, old-ses and uid) are written unset, and where ``acct``/``id`` name the user who acts (ssh, logins, cron,
the sudo invoker) they become ``acct="?"``. What is acted upon (LOGIN's new auid and ses, sudo's and su's target,
the new user, the command) stays.

Each record's ``expect`` is stated from the field map documented in :mod:`auditlab.load.auditd`, applied to the
fields as written.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from types import MethodType
from typing import Any

from auditlab.mock._model import Event, Record

__all__ = ["render"]

UNSET = "4294967295"
ARCH = "c000003e"  # x86_64
MAX_EXECVE = 7500  # the kernel's MAX_EXECVE_AUDIT_LEN
MAX_PROCTITLE = 128  # MAX_PROCTITLE_AUDIT_LEN
MAX_USER_TEXT = 8560  # AUDIT_MESSAGE_TEXT_MAX: the kernel cuts msg='...' of user records there
UT_NAMESIZE = 32  # libaudit cuts acct= there
PATH_MAX = 4096

SUBJ = {
    "sshd": "system_u:system_r:sshd_t:s0-s0:c0.c1023",
    "user": "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023",
    "crond": "system_u:system_r:crond_t:s0-s0:c0.c1023",
    "init": "system_u:system_r:init_t:s0",
    "auditd": "system_u:system_r:auditd_t:s0",
}
EXE = {
    "sshd": "/usr/sbin/sshd", "sudo": "/usr/bin/sudo", "su": "/usr/bin/su", "crond": "/usr/sbin/crond",
    "systemd": "/usr/lib/systemd/systemd", "useradd": "/usr/sbin/useradd", "shell": "/usr/bin/bash",
}
GRANTORS = {  # PAM modules that granted each step, per service, as a stock RHEL 9 stack lists them
    "sshd": {"accounting": "pam_unix,pam_localuser", "setcred": "pam_env,pam_unix",
             "session": "pam_selinux,pam_loginuid,pam_selinux,pam_namespace,pam_keyinit,pam_keyinit,pam_limits,"
                        "pam_systemd,pam_unix,pam_lastlog", "authentication": "pam_unix"},
    "sudo": {"authentication": "pam_unix", "accounting": "pam_unix,pam_localuser", "setcred": "pam_env,pam_unix",
             "session": "pam_keyinit,pam_limits,pam_keyinit,pam_limits,pam_systemd,pam_unix"},
    "su": {"authentication": "pam_unix", "accounting": "pam_unix,pam_localuser", "setcred": "pam_unix",
           "session": "pam_keyinit,pam_keyinit,pam_limits,pam_systemd,pam_unix,pam_xauth"},
    "crond": {"accounting": "pam_access,pam_unix,pam_localuser", "setcred": "pam_env,pam_unix",
              "session": "pam_loginuid,pam_keyinit,pam_limits,pam_systemd,pam_unix"},
}

# The loader's documented classes (auditlab.load.auditd CLASS_OF_TYPE, CLASS_OF_SYSCALL), restated for the record
# types written here, so that the truth does not come from the code it checks.
CLASSES: dict[str, tuple[int, int]] = {
    "USER_AUTH": (3002, 1), "USER_ACCT": (3002, 99), "CRED_ACQ": (3002, 99), "CRED_DISP": (3002, 99),
    "CRED_REFR": (3002, 99), "LOGIN": (3002, 99), "USER_START": (3002, 1), "USER_END": (3002, 2),
    "USER_LOGIN": (3002, 1), "USER_LOGOUT": (3002, 2), "USER_CMD": (1007, 1), "ADD_USER": (3001, 1),
    "ADD_GROUP": (3006, 6), "USER_MGMT": (3001, 99), "DAEMON_START": (1008, 6), "DAEMON_END": (1008, 7),
    "CONFIG_CHANGE": (1008, 99), "SERVICE_START": (0, 0), "SERVICE_STOP": (0, 0),
}  # fmt: skip
SYSCALLS = {"59": ("execve", 1007, 1)}
_NULL_TEXT = ("?", "(none)", "(null)", "", "unset")
_UNSET_IDS = ("4294967295", "-1", "unset", "?", "", "(none)")

Body = tuple[str, str]  # (record type, text after "msg=audit(...): ")


# ---------------------------------------------------------------------------------------------------- rendering


class _Host:
    """What the records of one host share: its file's records so far, the ``node=HOST type=`` that starts each line,
    and the next serial."""

    __slots__ = ("file", "node", "records", "serial")

    def __init__(self, host: str, files: dict[str, list[Record]]) -> None:
        self.file = f"{_component(host)}/var/log/audit/audit.log"
        self.records = files.setdefault(self.file, [])  # two host names may share a file name
        self.node = f"node={host} type="
        self.serial = first_serial(host)


def render(chosen: list[tuple[int, Event]], format: str) -> list[Record]:  # noqa: A002
    """The records of the ``linux`` events ``chosen`` ((index, event) pairs, in time order), in file order."""
    if format != "auditd":
        raise ValueError(f"not an auditd format: {format!r}")
    hosts: dict[str, _Host] = {}
    files: dict[str, list[Record]] = {}
    for index, event in chosen:
        builders = KINDS.get(event.kind, _nothing)(event)
        if not builders:
            continue
        host = event.host
        state = hosts.get(host)
        if state is None:
            state = hosts[host] = _Host(host, files)
        file, node, records = state.file, state.node, state.records
        time_us = event.time_us
        stamp = f"{time_us // 1_000_000}.{time_us // 1000 % 1000:03d}"
        for build in builders:
            serial = state.serial
            state.serial = serial + 1
            bodies = build if type(build) is tuple else build(serial)
            head = f" msg=audit({stamp}:{serial}): "
            if len(bodies) == 1:
                (kind, body), = bodies
                text = f"{node}{kind}{head}{body}".encode()
                values: tuple[Any, ...] = (host, stamp, serial, time_us, kind, body)
            else:
                text = "\n".join([node + kind + head + body for kind, body in bodies]).encode()
                values = (host, stamp, serial, time_us, *[part for record in bodies for part in record])
            # the truth is worked out only when asked for (a bound method is the cheapest callable), from values
            # nothing changes afterwards; they are text and numbers in one flat tuple, which the garbage collector
            # soon stops looking at (it keeps looking at every container that holds another)
            records.append(Record(file, text, index, MethodType(_expect, values)))
    # each file keeps its events in time order, the files in name order (as a stable sort by file would)
    return [record for name in sorted(files) for record in files[name]]


@lru_cache(maxsize=4096)
def first_serial(host: str) -> int:
    """The serial of a host's first event: 100 000 to 999 999, from a hash of the host name."""
    return 100_000 + int.from_bytes(hashlib.blake2b(host.encode(), digest_size=8).digest(), "big") % 900_000


@lru_cache(maxsize=4096)
def _component(text: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text)
    return safe if safe.strip(".") else "_" + safe


# ------------------------------------------------------------------------------------------------------ values


def _c(value: Any) -> bytes:
    """A value as the C string a program holds: UTF-8, ending at the first NUL."""
    return str(value).encode("utf-8", "surrogateescape").partition(b"\x00")[0]


_HEX_BYTES = re.compile(rb'[\x00-\x20"\x7f-\xff]')
CACHED = 256  # values up to this long have their written form cached (they repeat: names, programs, paths)


def _needs_hex(data: bytes) -> bool:
    """The kernel's ``audit_string_contains_control`` (libaudit's ``audit_value_needs_encoding`` is the same set):
    a double quote, a byte below ``!`` or above ``~``."""
    return _HEX_BYTES.search(data) is not None


def _encoded(data: bytes) -> str:
    return data.hex().upper() if _HEX_BYTES.search(data) else f'"{data.decode("ascii")}"'


_encoded_cached = lru_cache(maxsize=16384)(_encoded)


@lru_cache(maxsize=16384)
def _enc_text(value: str) -> str:
    return _encoded(_c(value))


def _enc(value: Any) -> str:
    """An untrusted value as written: hex (upper case) when it needs encoding, else in double quotes."""
    if type(value) is str:
        return _enc_text(value) if len(value) <= CACHED else _encoded(_c(value))
    data = value if isinstance(value, bytes) else _c(value)
    return _encoded_cached(data) if len(data) <= CACHED else _encoded(data)


def _acct_text(name: str) -> str:
    return f"acct={_encoded(_c(name)[:UT_NAMESIZE])}"


_acct_cached = lru_cache(maxsize=16384)(_acct_text)


def _acct(name: Any) -> str:
    text = name if type(name) is str else str(name)  # _c(name) is _c(str(name))
    return _acct_cached(text) if len(text) <= CACHED else _acct_text(text)


def _addr_text(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return "?"


_addr_cached = lru_cache(maxsize=16384)(_addr_text)


def _addr(ip: Any) -> str:
    """libaudit's ``addr=``: the address resolved from the host given (an IP), in its canonical form."""
    text = ip if type(ip) is str else str(ip)
    return _addr_cached(text) if len(text) <= CACHED else _addr_text(text)


def _num(value: Any, unset: bool = False) -> str:
    return UNSET if unset or value is None else str(int(value))


_SHORT_TEXT = MAX_USER_TEXT // 4  # text of at most this many characters is at most 8560 bytes in UTF-8


class _Ids:
    """The acting process's ids as written (unset when the event is stripped); ``fields`` instead of the event's."""

    __slots__ = ("auid", "euid", "pid", "ses", "uid")

    def __init__(self, event: Event, uid: Any = None, fields: dict[str, Any] | None = None) -> None:
        f = event.fields if fields is None else fields
        pid = f.get("pid", 0)
        self.pid = UNSET if pid is None else str(int(pid))
        if event.stripped:
            self.uid = self.euid = self.auid = self.ses = UNSET
            return
        if uid is None:
            uid = f.get("uid")
            euid = f.get("euid", uid)
        else:
            euid = uid
        auid, ses = f.get("auid"), f.get("ses")
        self.uid = UNSET if uid is None else str(int(uid))
        self.euid = UNSET if euid is None else str(int(euid))
        self.auid = UNSET if auid is None else str(int(auid))
        self.ses = UNSET if ses is None else str(int(ses))

    def user(self, kind: str, subj: str, text: str, *, uid: str | None = None, auid: str | None = None,
             ses: str | None = None) -> Body:
        """A user-space record: the kernel's header of the sender, then ``msg='TEXT'`` (cut to 8560 bytes)."""
        data = text if len(text) <= _SHORT_TEXT else text.encode()[:MAX_USER_TEXT].decode("utf-8", "ignore")
        return kind, (f"pid={self.pid} uid={uid or self.uid} auid={auid or self.auid} ses={ses or self.ses} "
                      f"subj={SUBJ[subj]} msg='{data}'")


def _libaudit(op: str, exe: str, *, acct: Any = None, uid: Any = None, host: Any = None, addr: str | None = None,
              tty: Any = None, ok: bool = True, local: str | None = None) -> str:
    """libaudit's ``audit_log_acct_message``: ``op=OP acct=NAME|id=UID exe=... hostname=... addr=... terminal=...``.

    With no host and a tty that is a terminal (``pts``/``tty``), libaudit writes the local host name (``local``).
    """
    try:  # the same few messages come back again and again (a user's sudo, a cron job's PAM steps)
        return _libaudit_cached(op, exe, acct, uid, host, addr, tty, ok, local)
    except TypeError:  # an unhashable value
        return _libaudit_text(op, exe, acct, uid, host, addr, tty, ok, local)


def _libaudit_text(op: str, exe: str, acct: Any, uid: Any, host: Any, addr: str | None, tty: Any, ok: bool,
                   local: str | None) -> str:
    who = _acct(acct) if acct is not None else f"id={uid}"
    tty_text = None if tty is None else str(tty)
    if host is None and tty_text is not None and tty_text.startswith(("pts", "tty", "/dev/tty")):
        host = local
    return (f"op={op} {who} exe={_enc(exe)} hostname={host if host is not None else '?'} addr={addr or '?'} "
            f"terminal={tty_text if tty_text is not None else '?'} res={'success' if ok else 'failed'}")


_libaudit_cached = lru_cache(maxsize=4096, typed=True)(_libaudit_text)


@lru_cache(maxsize=256)
def _pam(service: str, step: str, ok: bool) -> str:
    return f"PAM:{step} grantors={GRANTORS[service][step.split('_')[0]] if ok else '?'}"


# --------------------------------------------------------------------------------------------- events by kind

Builder = Callable[[int], Sequence[Body]] | tuple[Body, ...]
"""An auditd event: a function of its serial giving its records, or (when they do not depend on it) the records."""


def _one(*records: Body) -> Builder:
    return records


def _ssh_auth(e: Event) -> list[Builder]:
    f, ids = e.fields, _Ids(e, uid=0)
    ip, port, invalid = f.get("src_ip"), f.get("src_port"), bool(f.get("invalid_user"))
    user = "?" if e.stripped else f.get("user")
    out = []
    if f.get("method") == "publickey":
        if not invalid:
            text = _libaudit(f"pubkey_auth rport={port}", EXE["sshd"], acct=user, addr=_addr(ip), ok=e.success)
            out.append(_one(ids.user("USER_AUTH", "sshd", text)))
    else:
        text = _libaudit(_pam("sshd", "authentication", e.success), EXE["sshd"], acct="?" if invalid else user,
                         host=ip, addr=_addr(ip), tty="ssh", ok=e.success)
        out.append(_one(ids.user("USER_AUTH", "sshd", text)))
    if not e.success:
        name = user if e.stripped or not invalid else "(invalid user)"
        text = _libaudit("login", EXE["sshd"], acct=name, addr=_addr(ip), tty="sshd", ok=False)
        out.append(_one(ids.user("USER_LOGIN", "sshd", text)))
    return out


def _login_records(e: Event, service: str, tty: str, host: Any, addr: str,
                   ids: _Ids | None = None) -> tuple[Body, Body]:
    """USER_ACCT and CRED_ACQ of a login by ``service`` (sshd, crond), before the login uid is set (``ids``: the
    event's as root, if at hand)."""
    ids = ids or _Ids(e, uid=0)
    user = "?" if e.stripped else e.fields.get("user")
    subj, exe = ("sshd" if service == "sshd" else "crond"), EXE[service]
    return (
        ids.user("USER_ACCT", subj, _libaudit(_pam(service, "accounting", e.success), exe, acct=user, host=host,
                                              addr=addr, tty=tty, ok=e.success), auid=UNSET, ses=UNSET),
        ids.user("CRED_ACQ", subj, _libaudit(_pam(service, "setcred", e.success), exe, acct=user, host=host,
                                             addr=addr, tty=tty, ok=e.success), auid=UNSET, ses=UNSET),
    )


def _login(e: Event, subj: str, auid: str, ses: str, ids: _Ids | None = None) -> Body:
    """The kernel's LOGIN record: the login uid and session set (old ones unset)."""
    ids = ids or _Ids(e, uid=0)
    return ("LOGIN", f"pid={ids.pid} uid={ids.uid} subj={SUBJ[subj]} old-auid={UNSET} auid={auid} tty=(none) "
                     f"old-ses={UNSET} ses={ses} res={1 if e.success else 0}")


def _session_open(e: Event) -> list[Builder]:
    f, ids = e.fields, _Ids(e, uid=0)
    ip, addr = f.get("src_ip"), _addr(f.get("src_ip"))
    auid, ses = _num(f.get("uid")), _num(f.get("ses"))
    user = "?" if e.stripped else f.get("user")
    after = {"auid": ids.auid if e.stripped else auid, "ses": ids.ses if e.stripped else ses}
    who: dict[str, Any] = {"acct": "?"} if e.stripped else {"uid": auid}
    records = [
        *_login_records(e, "sshd", "ssh", ip, addr, ids),
        _login(e, "sshd", auid, ses, ids),
        ids.user("USER_START", "sshd", _libaudit(_pam("sshd", "session_open", e.success), EXE["sshd"], acct=user,
                                                 host=ip, addr=addr, tty="ssh", ok=e.success), **after),
        ids.user("USER_LOGIN", "sshd", _libaudit("login", EXE["sshd"], host=ip, addr=addr, tty=_dev(f.get("tty")),
                                                 ok=e.success, **who), **after),
    ]
    return [_one(r) for r in records]


def _dev(tty: Any) -> str | None:
    return None if tty is None else f"/dev/{tty}"


def _session_close(e: Event) -> list[Builder]:
    f, ids = e.fields, _Ids(e, uid=0)
    ip, addr = f.get("src_ip"), _addr(f.get("src_ip"))
    user = "?" if e.stripped else f.get("user")
    who: dict[str, Any] = {"acct": "?"} if e.stripped else {"uid": _num(f.get("uid"))}
    records = [
        ids.user("USER_END", "sshd", _libaudit(_pam("sshd", "session_close", e.success), EXE["sshd"], acct=user,
                                               host=ip, addr=addr, tty="ssh", ok=e.success)),
        ids.user("USER_LOGOUT", "sshd", _libaudit("login", EXE["sshd"], tty=_dev(f.get("tty")), ok=e.success, **who)),
        ids.user("CRED_DISP", "sshd", _libaudit(_pam("sshd", "setcred", e.success), EXE["sshd"], acct=user, host=ip,
                                                addr=addr, tty="ssh", ok=e.success)),
    ]
    return [_one(r) for r in records]


def _command(e: Event) -> list[Builder]:
    f = e.fields
    return [_exec(e, f.get("exe", ""), f.get("argv") or [f.get("exe", "")], f.get("cwd", "/"), f.get("ppid", 1))]


def _exec(e: Event, exe: Any, argv: list[Any], cwd: Any, ppid: Any, pid: Any = None,
          session: Callable[[], str] | None = None, fields: dict[str, Any] | None = None) -> Builder:
    """One execve: SYSCALL, EXECVE, CWD, PATH, PROCTITLE (a failed one: from the calling shell, no EXECVE).

    ``session`` gives the login session when it is known only at rendering (a cron job's); ``fields`` stand for the
    event's (a cron job's own)."""
    f = e.fields if fields is None else fields
    ids = _Ids(e, fields=f)
    pid = ids.pid if pid is None else str(pid)
    tty = f.get("tty")
    ok = e.success
    gid = _gid(f)
    # what the program, its arguments and cwd make of the records depends on their text alone (``_c`` of each)
    key = (str(exe), str(cwd), *map(str, argv))
    if sum(map(len, key)) <= CACHED * 4:
        start, rest, after = _exec_static(ok, *key)
    else:
        start, rest, after = _exec_text(ok, *key)
    fixed = (f"items={2 if ok else 1} ppid={_num(ppid)} pid={pid} auid={ids.auid} uid={ids.uid} gid={gid} "
             f"euid={ids.euid} suid={ids.euid} fsuid={ids.euid} egid={gid} sgid={gid} fsgid={gid} "
             f"tty={str(tty).replace('/', '') if tty else '(none)'} ses=")

    def build(serial: int) -> tuple[Body, ...]:
        ses = ids.ses if session is None or e.stripped else session()
        base = int.from_bytes(hashlib.blake2b(f"{pid}:{serial}".encode(), digest_size=6).digest(), "big")
        pointers = (f"a0={0x550000000000 + base % 0xFFFFFFFF:x} a1={0x550000000000 + (base >> 1) % 0xFFFFFFFF:x} "
                    f"a2={0x550000000000 + (base >> 2) % 0xFFFFFFFF:x}")
        return ("SYSCALL", f"{start}{pointers} a3=21 {fixed}{ses}{rest}"), *after

    return build


def _exec_text(ok: bool, exe: str, cwd: str, *argv: str) -> tuple[str, str, tuple[Body, ...]]:
    """What an execve's records owe to the program, its arguments and cwd alone: the start of the SYSCALL record (up
    to its pointers), its end (from ``comm=``), and the records after it."""
    args = [_c(a) for a in argv]
    program = _c(exe)
    comm = _enc(program.rsplit(b"/", 1)[-1][:15] if ok else b"bash")
    running = _enc(program if ok else _c(EXE["shell"]))
    title = b"\x00".join(args)[:MAX_PROCTITLE].rstrip(b"\x00") if ok else b"-bash"
    after = (
        *([("EXECVE", body) for body in execve_bodies(args)] if ok else []),
        ("CWD", f"cwd={_enc(_c(cwd))}"),
        ("PATH", _path(program, ok)),
        *([("PATH", LD_SO)] if ok else []),
        ("PROCTITLE", f"proctitle={_enc(title) if title else '(null)'}"),
    )
    start = f"arch={ARCH} syscall=59 success={'yes' if ok else 'no'} exit={0 if ok else -13} "
    return start, f" comm={comm} exe={running} subj={SUBJ['user']} key=\"exec\"", after


_exec_static = lru_cache(maxsize=4096)(_exec_text)


LD_SO = ("item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=27086311 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 "
         "obj=system_u:object_r:ld_so_t:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0")


def _path(program: bytes, ok: bool) -> str:
    """The PATH record of the program run (item 0), its inode drawn from its name."""
    return _path_cached(program, ok) if len(program) <= CACHED else _path_text(program, ok)


def _path_text(program: bytes, ok: bool) -> str:
    inode = 100_000 + int.from_bytes(hashlib.blake2b(program, digest_size=4).digest(), "big") % 30_000_000
    return (f"item=0 name={_enc(program)} inode={inode} dev=fd:00 mode={'0100755' if ok else '0100640'} "
            "ouid=0 ogid=0 rdev=00:00 obj=system_u:object_r:bin_t:s0 nametype=NORMAL cap_fp=0 cap_fi=0 "
            "cap_fe=0 cap_fver=0 cap_frootid=0")


_path_cached = lru_cache(maxsize=4096)(_path_text)


def _gid(f: dict[str, Any]) -> str:
    return _num(f.get("gid", f.get("euid", f.get("uid"))))


def execve_bodies(args: list[bytes]) -> list[str]:
    """The EXECVE record texts for ``args``, as the kernel's ``audit_log_execve_info`` writes them (Linux 4.8+).

    An argument is quoted, or hex when it holds a control character, a space, a quote or a non-ASCII byte; one that
    does not fit in what is left of a record (7500 bytes each) is written in pieces ``aN_len=`` ``aN[0]=`` ...
    (always hex when it spans reads), and a full record is followed by another EXECVE record.
    """
    if len(args) < 1000 and sum(len(a) for a in args) * 2 + len(args) * 9 + 200 <= MAX_EXECVE:
        # every argument fits whole with room to spare (at most " aNNN=" and twice its length each, 96 + 104 bytes
        # left at the end): one record, every argument quoted or hex
        return [f"argc={len(args)}" + "".join([f" a{i}={_enc(a)}" for i, a in enumerate(args)])]
    bodies: list[str] = []
    body = f"argc={len(args)}"
    len_rem, len_buf, len_full, len_abuf = MAX_EXECVE, 0, 0, 0
    require, encode, piece, arg, pos = True, False, 0, 0, 0
    buf = b""
    while arg < len(args):
        data = args[arg]
        if len_full == 0:
            len_full = len(data)
        if require:  # read as much of the argument as the buffer holds
            room = MAX_EXECVE - len_buf
            chunk = data[pos:pos + room]
            if len(chunk) == room:  # the buffer is not large enough: more to read, and hex from here on
                encode, len_full = True, len_full * 2
                pos += room
            else:
                require = False
                if not encode:
                    encode = _needs_hex(chunk)
                if len_full < MAX_EXECVE:
                    len_full = len(chunk) * 2 if encode else len(chunk)
                pos += len(chunk) + 1
            buf += chunk
            len_buf += len(chunk)
            len_abuf = len_buf * 2 if encode else len_buf + 2
        if len_rem < 96 + 8:  # too little room left (the kernel's sizeof(abuf) + 8): a new record
            bodies.append(body)
            body, len_rem = "", MAX_EXECVE
        if require or piece > 0 or len_abuf + 96 > len_rem:
            name = (f" a{arg}_len={len_full}" if piece == 0 else "") + f" a{arg}[{piece}]="
            piece += 1
        else:
            name = f" a{arg}="
        body += name
        len_rem -= len(name)
        take = len_buf
        if encode:
            if len_abuf > len_rem:
                take = len_rem // 2
            body += buf[:take].hex().upper()
            len_rem -= take * 2
            len_abuf -= take * 2
        else:
            if len_abuf > len_rem:
                take = len_rem - 2
            body += '"' + buf[:take].decode("ascii") + '"'
            len_rem -= take + 2
            len_abuf -= take
        len_buf -= take
        buf = buf[take:]
        if len_buf == 0 and not require:  # the next argument
            arg, piece, len_full, require, encode, pos = arg + 1, 0, 0, True, False, 0
    bodies.append(body)
    return bodies


def _sudo(e: Event) -> list[Builder]:
    f, ids = e.fields, _Ids(e)
    root = _Ids(e, uid=0)
    invoker = "?" if e.stripped else f.get("user")
    target = f.get("target", "root")
    tty = f.get("tty")
    pam = {"tty": _dev(tty), "ok": e.success}
    if not e.success:
        auth = ids.user("USER_AUTH", "user", _libaudit(_pam("sudo", "authentication", False), EXE["sudo"],
                                                       acct=invoker, **pam))
        return [_one(auth), _one(auth), _one(auth), _one(_user_cmd(e, ids))]
    records = [
        ids.user("USER_AUTH", "user", _libaudit(_pam("sudo", "authentication", True), EXE["sudo"], acct=invoker,
                                                **pam)),
        ids.user("USER_ACCT", "user", _libaudit(_pam("sudo", "accounting", True), EXE["sudo"], acct=invoker, **pam)),
        _user_cmd(e, ids),
        root.user("CRED_REFR", "user", _libaudit(_pam("sudo", "setcred", True), EXE["sudo"], acct=target, **pam)),
        root.user("USER_START", "user", _libaudit(_pam("sudo", "session_open", True), EXE["sudo"], acct=target,
                                                  **pam)),
        root.user("USER_END", "user", _libaudit(_pam("sudo", "session_close", True), EXE["sudo"], acct=target,
                                                **pam)),
        root.user("CRED_DISP", "user", _libaudit(_pam("sudo", "setcred", True), EXE["sudo"], acct=target, **pam)),
    ]
    return [_one(r) for r in records]


def _user_cmd(e: Event, ids: _Ids) -> Body:
    """sudo's USER_CMD, as libaudit's ``audit_log_user_command`` writes it (leading spaces and trailing newlines and
    spaces trimmed; the command cut to 4096 bytes, 4095 when hex)."""
    cmd = _c(e.fields.get("command", "")).lstrip(b" ").rstrip(b"\n ")
    cmd = cmd[:PATH_MAX - 1] if _needs_hex(cmd[:PATH_MAX - 1]) else cmd[:PATH_MAX]
    cwd = _c(e.fields.get("cwd", "/"))
    tty = e.fields.get("tty")
    text = (f"cwd={_enc(cwd)} cmd={_enc(cmd)} exe={_enc(EXE['sudo'])} terminal={tty if tty else '?'} "
            f"res={'success' if e.success else 'failed'}")
    return ids.user("USER_CMD", "user", text)


def _su(e: Event) -> list[Builder]:
    f, ids = e.fields, _Ids(e)
    target, tty = f.get("target", "root"), f.get("tty")
    pam = {"acct": target, "tty": tty, "local": e.host}
    steps = (("USER_AUTH", "authentication"), ("USER_ACCT", "accounting"), ("CRED_ACQ", "setcred"),
             ("USER_START", "session_open"))
    if not e.success:
        steps = steps[:1]
    return [_one(ids.user(kind, "user", _libaudit(_pam("su", step, e.success), EXE["su"], ok=e.success, **pam)))
            for kind, step in steps]


def _useradd(e: Event) -> list[Builder]:
    f, ids = e.fields, _Ids(e)
    new, tty = f.get("new_user"), f.get("tty")
    ops = (("ADD_GROUP", "add-group"), ("ADD_USER", "add-user"), ("USER_MGMT", "add-home-dir"))
    if not e.success:
        ops = ops[1:2]
    elif not f.get("home"):
        ops = ops[:2]
    return [_one(ids.user(kind, "user", _libaudit(op, EXE["useradd"], acct=new, tty=tty, ok=e.success,
                                                  local=e.host))) for kind, op in ops]


def _audit_disable(e: Event) -> list[Builder]:
    f, ids = e.fields, _Ids(e)
    argv = f.get("argv") or ["auditctl", "-e", "0"]
    change = ("CONFIG_CHANGE", f"op=set audit_enabled=0 old=1 auid={ids.auid} ses={ids.ses} subj={SUBJ['user']} "
                               f"res={1 if e.success else 0}")
    return [_exec(e, f.get("exe", "/usr/sbin/auditctl"), argv, f.get("cwd", "/root"), f.get("ppid", 1)),
            _one(change)]


def _systemd(e: Event, unit: Any, start: bool) -> Body:
    ids = _Ids(e, uid=0)
    ids.pid = "1"
    name = str(unit).removesuffix(".service")
    text = (f"unit={name} comm=\"systemd\" exe={_enc(EXE['systemd'])} hostname=? addr=? terminal=? "
            f"res={'success' if e.success else 'failed'}")
    return ids.user("SERVICE_START" if start else "SERVICE_STOP", "init", text, auid=UNSET, ses=UNSET)


def _daemon_stop(e: Event) -> list[Builder]:
    service = e.fields.get("service", "auditd")
    if service != "auditd":
        return [_one(_systemd(e, service, False))]
    ids = _Ids(e)
    return [_one(("DAEMON_END", f"op=terminate auid={ids.auid} pid={ids.pid} subj={SUBJ['user']} res=success"))]


def _service(e: Event) -> list[Builder]:
    unit, start = e.fields.get("unit", ""), e.fields.get("action") == "start"
    out = []
    if start and str(unit).removesuffix(".service") == "auditd":
        pid = 500 + int.from_bytes(hashlib.blake2b(f"{e.host}:{e.time_us}".encode(), digest_size=4).digest(),
                                   "big") % 3000
        out.append(_one(("DAEMON_START", f"op=start ver=3.1.2 format=raw kernel=5.14.0-427.13.1.el9_4.x86_64 "
                                         f"auid={UNSET} pid={pid} uid=0 ses={UNSET} subj={SUBJ['auditd']} "
                                         "res=success")))
    out.append(_one(_systemd(e, unit, start)))
    return out


def _cron(e: Event) -> list[Builder]:
    f, ids = e.fields, _Ids(e, uid=0)
    user = "?" if e.stripped else f.get("user")
    uid = _num(f.get("uid"))
    ses: list[str] = []  # the login session, known once the LOGIN record has its serial

    def login(serial: int) -> tuple[Body, ...]:
        ses.append(_num(f.get("ses", serial)))
        return (_login(e, "crond", uid, ses[0], ids),)

    def step(kind: str, name: str) -> Builder:
        text = _libaudit(_pam("crond", name, e.success), EXE["crond"], acct=user, tty="cron", ok=e.success)
        return lambda serial: (ids.user(kind, "crond", text, auid=ids.auid if e.stripped else uid,
                                        ses=ids.ses if e.stripped else ses[0]),)

    builders: list[Builder] = [_one(r) for r in _login_records(e, "crond", "cron", None, "?", ids)]
    builders += [login, step("USER_START", "session_open"), step("CRED_REFR", "setcred")]
    if e.success:
        job = {**f, "tty": None, "euid": f.get("uid"), "auid": f.get("uid")}
        builders.append(_exec(e, "/usr/bin/bash", ["/bin/sh", "-c", f.get("command", "")], f.get("cwd", "/"),
                              f.get("pid", 1), pid=int(f.get("pid", 0)) + 1, session=lambda: ses[0], fields=job))
        builders += [step("CRED_DISP", "setcred"), step("USER_END", "session_close")]
    return builders


def _nothing(e: Event) -> list[Builder]:
    return []


KINDS: dict[str, Callable[[Event], list[Builder]]] = {
    "ssh_auth": _ssh_auth, "session_open": _session_open, "session_close": _session_close, "command": _command,
    "sudo": _sudo, "su": _su, "useradd": _useradd, "audit_disable": _audit_disable, "daemon_stop": _daemon_stop,
    "service": _service, "cron": _cron,
}
"""The auditd events of each ``linux`` event kind (each builder takes its serial and returns its records)."""


# ------------------------------------------------------------------------------------------------------- truth

_FIELD = re.compile(r'([A-Za-z0-9_\[\]-]+)=("[^"]*"|[^ ]*)')


def _fields(body: str) -> dict[str, str]:
    """The native fields of a record as written, the inner ``msg='...'`` of user records flattened (first wins)."""
    outer, _, inner = body.partition(" msg='")
    out: dict[str, str] = {}
    for part in (outer, inner[:-1] if inner.endswith("'") else inner):
        for key, value in _FIELD.findall(part):
            out.setdefault(key, value)
    return out


def _decoded(value: str | None) -> str | None:
    """An encoded field's text: unquoted, or hex decoded (UTF-8, invalid bytes as ``\\xNN``)."""
    if value is None:
        return None
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", value):
        return bytes.fromhex(value).decode("utf-8", "backslashreplace")
    return value


def _text(value: str | None) -> str | None:
    return None if value is None or value in _NULL_TEXT else value


def _plain(value: str | None) -> str | None:
    return _text(value[1:-1] if value and len(value) >= 2 and value[0] == value[-1] == '"' else value)


def _id(value: str | None) -> str | None:
    return None if value is None or value in _UNSET_IDS else value


def _args(bodies: list[str]) -> str | None:
    """EXECVE arguments joined by spaces (``aN_len``/``aN[i]`` pieces rejoined)."""
    fields: dict[str, str] = {}
    for body in bodies:
        for key, value in _FIELD.findall(body):
            fields.setdefault(key, value)
    if not fields:
        return None
    out = []
    for i in range(int(fields["argc"])):
        pieces = [fields[f"a{i}"]] if f"a{i}" in fields else [
            fields[k] for j in range(len(fields)) if (k := f"a{i}[{j}]") in fields]
        data = b"".join(p[1:-1].encode() if p.startswith('"') else bytes.fromhex(p) for p in pieces)
        out.append(data.decode("utf-8", "backslashreplace"))
    return " ".join(out)


def _expect(values: tuple[Any, ...]) -> dict[str, Any]:
    """:func:`expect` of ``values``: host, stamp, serial, time, then the type and text of each record in turn."""
    host, stamp, serial, time_us = values[:4]
    return expect(host, stamp, serial, list(zip(values[4::2], values[5::2], strict=True)), time_us)


def expect(host: str, stamp: str, serial: int, records: Sequence[Body], time_us: int) -> dict[str, Any]:
    """The canonical values :mod:`auditlab.load.auditd` documents for an auditd event written as ``records``."""
    types = [kind for kind, _ in records]
    primary = records[types.index("SYSCALL")] if "SYSCALL" in types else records[0]
    kind, f = primary[0], _fields(primary[1])
    login = kind == "LOGIN"
    if kind == "SYSCALL":
        operation, class_uid, activity = SYSCALLS[f["syscall"]]
        status = {"yes": 1, "no": 2}[f["success"]]
        code = f["exit"]
    else:
        operation = _plain(f.get("op"))
        class_uid, activity = CLASSES[kind]
        if kind == "CONFIG_CHANGE":
            activity = {"0": 10, "1": 9}.get(f.get("audit_enabled", ""), activity)
        res = _plain(f.get("res"))
        status = 1 if res in ("success", "1", "yes") else 2 if res in ("failed", "0", "no", "failure") else 0
        code = res
    cmdline = _args([body for k, body in records if k == "EXECVE"])
    if cmdline is None and "PROCTITLE" in types:
        title = _decoded(_fields(records[types.index("PROCTITLE")][1]).get("proctitle"))
        cmdline = title.replace("\x00", " ").rstrip(" ") if title is not None else None
    if cmdline is None:
        cmdline = _text(_decoded(f.get("cmd")))
    path = None
    if "PATH" in types:
        path = _decoded(_fields(records[types.index("PATH")][1]).get("name"))
        cwd = _decoded(_fields(records[types.index("CWD")][1]).get("cwd")) if "CWD" in types else None
        if path is not None and not path.startswith("/") and cwd is not None:
            path = cwd.rstrip("/") + "/" + path
    return {
        "time_us": time_us // 1000 * 1000,
        "event_code": kind,
        "api_operation": operation,
        "class_uid": class_uid,
        "activity_id": activity,
        "status_id": status,
        "status_code": _text(code),
        "actor_user_uid": _id(f.get("euid")) or _id(f.get("uid")),
        "actor_user_name": None,
        "actor_orig_uid": _id(f.get("old-auid" if login else "auid")),
        "actor_orig_name": None,
        "actor_session_uid": _id(f.get("old-ses" if login else "ses")),
        "actor_process_pid": int(f["pid"]) if f.get("pid", "").lstrip("-").isdigit() else None,
        "actor_process_name": _text(_decoded(f.get("exe"))) or _text(_decoded(f.get("comm"))),
        "target_user_uid": _id(f.get("auid" if login else "id")),
        "target_user_name": _text(_decoded(f.get("acct"))),
        "target_session_uid": _id(f.get("ses")) if login else None,
        "process_cmdline": cmdline,
        "file_path": path,
        "src_ip": _plain(f.get("addr")),
        "src_port": int(f["rport"]) if f.get("rport", "").isdigit() else None,
        "src_hostname": _plain(f.get("hostname")),
        "resource_uid": None,
        "host_name": host,
        "source_type": "auditd",
        "source_seq": serial,
        "source_record_uid": f"{host}/{stamp}:{serial}",
    }
