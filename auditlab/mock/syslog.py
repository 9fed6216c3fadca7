"""Render ``linux`` events as the auth log rsyslog writes (``HOST/var/log/auth.log``): RFC 3164 lines
(``syslog``: ``Mmm dd hh:mm:ss HOST TAG[PID]: MESSAGE``, rsyslog's traditional file format) or RFC 5424 lines
(``syslog-5424``: ``<PRI>1 2024-01-02T03:04:05.123456+00:00 HOST TAG PID - - MESSAGE``).

Each event becomes the lines its programs write to the ``auth`` and ``authpriv`` facilities of a Debian host, one
:class:`~auditlab.mock._model.Record` per line, all at the event's time (RFC 3164 to the second):

=============== ======================================================================================================
kind            lines (program)
=============== ======================================================================================================
ssh_auth        ``Accepted METHOD for USER from IP port N ssh2[: ED25519 SHA256:...]`` (sshd); failed: ``Invalid user
                USER from IP port N`` (unknown users), for a password ``pam_unix(sshd:auth): check pass; user unknown``
                (unknown users) and ``pam_unix(sshd:auth): authentication failure; ... rhost=IP[  user=USER]``, then
                ``Failed METHOD for [invalid user ]USER from IP port N ssh2``
session_open    ``pam_unix(sshd:session): session opened for user USER(uid=N) by (uid=0)`` (sshd), ``New session SES
                of user USER.`` (systemd-logind)
session_close   ``Received disconnect from IP port N:11: disconnected by user``, ``Disconnected from user USER IP port
                N``, ``pam_unix(sshd:session): session closed for user USER`` (sshd); ``Session SES logged out. Waiting
                for processes to exit.``, ``Removed session SES.`` (systemd-logind)
sudo            ``   USER : TTY=pts/0 ; PWD=CWD ; USER=TARGET ; COMMAND=CMD`` (cut into ``(command continued)`` lines
                past 980 bytes, as sudo does), ``pam_unix(sudo:session): session opened|closed ...`` (sudo, no pid);
                failed: ``pam_unix(sudo:auth): authentication failure; ...``, ``USER : 3 incorrect password attempts ;
                TTY=...``
su              ``(to TARGET) USER on pts/0`` and ``pam_unix(su:session): session opened ...``; failed:
                ``pam_unix(su:auth): authentication failure; ...`` and ``FAILED SU (to TARGET) USER on pts/0``
useradd         ``new group: name=U, GID=N``, ``new user: name=U, UID=N, GID=N, home=H, shell=S, from=/dev/pts/0``
cron            ``pam_unix(cron:session): session opened for user USER(uid=N) by (uid=0)`` and ``... closed ...`` (CRON)
command, audit_disable, daemon_stop, service: nothing (execs are not logged to syslog; systemd and the daemons log
                to the daemon facility, which is not the auth log)
=============== ======================================================================================================

Text is written as the programs write it: sshd passes its messages through ``strnvis`` (C-style escapes ``\\n``,
``\\t``, octal ``\\303`` for control and non-ASCII bytes, ``\\\\`` for a backslash), cuts user names to 100 bytes and
messages to 500; sudo pads the user to 8 bytes (``%8s``) and splits long lines at a space before 980 bytes (never
inside a UTF-8 character, where sudo counts bytes); then rsyslog drops one trailing newline and writes every other
control character as ``#`` and three octal digits (``#012``), so that one record stays one line. A NUL ends a value,
as in C.

A ``stripped`` event (the ``strip_actor`` fault) has the name and uid of the user who acts blanked out of its lines
(the login user; the sudo and su invoker); a line whose pattern needs them then reads as a generic row.

Each record's ``expect`` is stated from the tables documented in :mod:`auditlab.load.syslog` and
:mod:`auditlab.load._authlog`, applied to the text as written.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from types import MethodType
from typing import Any

from auditlab.mock._model import Event, Record

__all__ = ["render"]

AUTH, AUTHPRIV = 4, 10
INFO, NOTICE, ALERT = 6, 5, 1
SUDO_MAXLEN = 980  # sudoers' syslog_maxlen
SSHD_USER_MAX, SSHD_MESSAGE_MAX = 100, 500  # sshd's "%.100s" for user names, "%.500s" for the whole message
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
IDENTITY = ("actor_user_name", "actor_user_uid", "actor_orig_name", "actor_orig_uid", "actor_credential_uid",
            "target_user_name", "target_user_uid", "target_session_uid", "process_cmdline", "src_ip", "src_port",
            "src_hostname", "resource_uid", "resource_type")
"""Columns every line states: null unless its message gives them."""
CACHED = 256  # values up to this long have their written form cached (they repeat: names, addresses)

Columns = dict[str, Any] | tuple[Any, ...]
"""A line's columns, or (so that writing the line does not pay for its truth) the values they are worked out from
when asked for: see :func:`_resolved`."""


@dataclass(slots=True)
class Line:
    """One line a program writes: its tag, pid, priority, message, and the columns the loader reads from it (or the
    values they are worked out from: :data:`Columns`)."""

    program: str
    pid: int | None
    pri: int
    message: str
    columns: Columns = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------- rendering


def render(chosen: list[tuple[int, Event]], format: str) -> list[Record]:  # noqa: A002
    """The records of the ``linux`` events ``chosen`` ((index, event) pairs, in time order), in file order."""
    if format not in ("syslog", "syslog-5424"):
        raise ValueError(f"not a syslog format: {format!r}")
    rfc3164 = format == "syslog"
    files: dict[str, list[Record]] = {}
    hosts: dict[str, tuple[str, list[Record]]] = {}
    second, clock = None, ""
    for index, event in chosen:
        lines = KINDS.get(event.kind, _nothing)(event)
        if not lines:
            continue
        host, time_us = event.host, event.time_us
        place = hosts.get(host)
        if place is None:
            file = f"{_component(host)}/var/log/auth.log"
            place = hosts[host] = (file, files.setdefault(file, []))  # two host names may share a file name
        file, records = place
        sec = time_us // 1_000_000
        if sec != second:  # the events of one second (a burst) share its time of day
            second, clock = sec, _clock(sec, rfc3164)
        if rfc3164:
            head, t = f"{clock} {host} ", sec * 1_000_000
        else:
            head, t = f"{clock}.{time_us % 1_000_000:06d}+00:00 {host} ", time_us
        for line in lines:
            program, pid = line.program, line.pid
            if not rfc3164:
                text = f"<{line.pri}>1 {head}{program} {pid if pid is not None else '-'} - - {line.message}"
            elif pid is None:
                text = f"{head}{program}: {line.message}"
            else:
                text = f"{head}{program}[{pid}]: {line.message}"
            # the truth is worked out only when asked for (a bound method is the cheapest callable), from values
            # nothing changes afterwards
            records.append(Record(file, text.encode(), index, MethodType(_expect, (t, host, program, pid,
                                                                                   line.columns))))
    # each file keeps its lines in time order, the files in name order (as a stable sort by file would)
    return [record for name in sorted(files) for record in files[name]]


def _clock(sec: int, rfc3164: bool) -> str:
    """The time of second ``sec``: ``Mmm dd hh:mm:ss`` (RFC 3164), or ``YYYY-MM-DDThh:mm:ss`` (RFC 5424, UTC)."""
    days, rest = divmod(sec, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{_day(days, rfc3164)}{hours:02d}:{minutes:02d}:{seconds:02d}"


@lru_cache(maxsize=4096)
def _day(days: int, rfc3164: bool) -> str:
    """The date ``days`` after 1970-01-01: ``Mmm dd `` (the day padded with a space), or ``YYYY-MM-DDT``."""
    d = dt.date(1970, 1, 1) + dt.timedelta(days=days)
    return f"{_MONTHS[d.month - 1]} {d.day:2d} " if rfc3164 else f"{d.year:04d}-{d.month:02d}-{d.day:02d}T"


def _expect(values: tuple[int, str, str, int | None, Columns]) -> dict[str, Any]:
    """The expected values of a line: ``values`` are the time it says, its host, program, pid and columns."""
    time_us, host, program, pid, columns = values
    return {
        "time_us": time_us, "host_name": host, "source_type": "syslog", "source_stream": host,
        "source_seq": None, "source_record_uid": None, "api_service": program,
        "actor_process_name": program, "actor_process_pid": pid, **_resolved(columns),
    }


def _resolved(columns: Columns) -> dict[str, Any]:
    """A line's columns: ``columns`` itself, or worked out from a tuple: ``(message, columns)`` by
    :func:`_cut_sshd`, else ``(code, class_uid, activity, status, src, extra, columns)`` by :func:`_row_of`.

    Tuples, not functions: a tuple of text and numbers (and of dicts and tuples of them) is soon left alone by the
    garbage collector, which keeps looking at every function object and every container that holds one."""
    if type(columns) is dict:
        return columns
    return _cut_sshd(*columns) if len(columns) == 2 else _row_of(columns)


@lru_cache(maxsize=4096)
def _component(text: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text)
    return safe if safe.strip(".") else "_" + safe


# ------------------------------------------------------------------------------------------------------ values


def _c(value: Any) -> str:
    """A value as the C string a program holds: up to its first NUL."""
    return "" if value is None else str(value).partition("\x00")[0]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _octal(found: re.Match[str]) -> str:
    return f"#{ord(found.group()):03o}"


def rsyslog(text: str, *, last: bool = False) -> str:
    """Text as rsyslog writes it: control characters as ``#ooo``; ``last``: the message's end, whose final newline
    rsyslog drops."""
    if last and text.endswith("\n"):
        text = text[:-1]
    return text if text.isprintable() else _CONTROL.sub(_octal, text)  # printable text holds no control character


_CSTYLE = {0x0A: "\\n", 0x0D: "\\r", 0x08: "\\b", 0x07: "\\a", 0x0B: "\\v", 0x09: "\\t", 0x0C: "\\f"}


def vis(data: bytes) -> str:
    """OpenBSD ``strnvis`` with sshd's syslog flags (``VIS_CSTYLE|VIS_NL|VIS_TAB|VIS_OCTAL``)."""
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(_CSTYLE.get(b) or f"\\{b:03o}")
    return "".join(out)


def _sshd_user(name: Any) -> str:
    """A user name in an sshd message: cut to 100 bytes (``%.100s``), then escaped by strnvis."""
    text = _c(name)
    return _sshd_user_cached(text) if len(text) <= CACHED else _sshd_user_text(text)


def _sshd_user_text(text: str) -> str:
    return vis(text.encode()[:SSHD_USER_MAX])


_sshd_user_cached = lru_cache(maxsize=4096)(_sshd_user_text)


def _g(value: Any) -> str | None:
    """A value as the loader's column holds it: empty text is null."""
    return None if value is None or value == "" else str(value)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _src(addr: Any, port: Any = None) -> dict[str, Any]:
    text = _g(addr)
    return {"src_ip": text if text and _is_ip(text) else None,
            "src_hostname": text if text and not _is_ip(text) else None,
            "src_port": None if port is None else int(port)}


def _row(code: str | None, class_uid: int, activity: int, status: int, **columns: Any) -> dict[str, Any]:
    """The columns of one line: its rule's class, activity and status, the identity columns it gives (empty text is
    null), and null for the rest."""
    out: dict[str, Any] = {"event_code": code, "class_uid": class_uid, "activity_id": activity, "status_id": status,
                           **dict.fromkeys(IDENTITY)}
    for name, value in columns.items():
        out[name] = value if name in ("src_port", "status_id") else _g(value)
    return out


def _later(code: str | None, class_uid: int, activity: int, status: int, src: tuple[Any, ...] | None = None,
           extra: dict[str, Any] | None = None, **columns: Any) -> Columns:
    """:func:`_row` of these, worked out when the truth is asked for (:func:`_resolved`): with :func:`_src` of ``src``
    (address, port) among the columns, and ``extra`` added after."""
    return code, class_uid, activity, status, src, extra, columns


def _row_of(values: tuple[Any, ...]) -> dict[str, Any]:
    code, class_uid, activity, status, src, extra, columns = values
    out = _row(code, class_uid, activity, status, **columns, **(_src(*src) if src is not None else {}))
    return {**out, **extra} if extra else out


GENERIC = _row(None, 0, 0, 0)
"""A message no rule of the loader recognises."""
_USER_UNKNOWN = _row("pam.user_unknown", 3002, 1, 2)


# ------------------------------------------------------------------------------------------------- the lines


def _sshd(e: Event, message: str, pri: int, columns: Columns) -> Line:
    """An sshd line: its message as strnvis leaves it, cut to 500 bytes; a cut message is read as written."""
    if len(message) > SSHD_MESSAGE_MAX:
        message = message[:SSHD_MESSAGE_MAX]
        columns = (message, columns)  # worked out by _cut_sshd
    return Line("sshd", e.fields.get("pid"), pri, message, columns)


_SSHD_FORMS = {  # the documented forms of the sshd messages that a long user name can push past sshd's 500 bytes
    "sshd.accepted": re.compile(r"Accepted (\S+) for (.*?) from (\S+) port (\d{1,5})(?: ssh\d?)?"
                                r"(?:: \S+ (\S+))? *"),
    "sshd.failed": re.compile(r"Failed (\S+) for (?:invalid user )?(.*) from (\S+) port (\d{1,5})(?: ssh\d?)?"
                              r"(?:: \S+ (\S+))? *"),
    "sshd.invalid_user": re.compile(r"Invalid user (.*) from (\S+)(?: port (\d{1,5}))? *"),
}
_SSHD_ANY = re.compile(r"^.*?(?:from|with|for|by) ([0-9A-Fa-f:.]*[0-9A-Fa-f]) port ([0-9]{1,5})")


def _cut_sshd(message: str, columns: Columns) -> dict[str, Any]:
    """The columns of an sshd message cut short: its rule's, read from what is left (a fingerprint or port cut
    shorter), or a generic sshd row with the source the loader documents (``from|with|for|by IP port N``)."""
    columns = _resolved(columns)
    form = _SSHD_FORMS.get(columns["event_code"])
    found = form.fullmatch(message) if form else None
    if found is None:
        any_src = _SSHD_ANY.match(message)
        return {**GENERIC, **(_src(any_src[1], any_src[2]) if any_src else {})}
    if columns["event_code"] == "sshd.invalid_user":
        user, addr, port = found.groups()
        return {**columns, "actor_user_name": _g(user), "target_user_name": _g(user), **_src(addr, port)}
    _, user, addr, port, key = found.groups()
    return {**columns, "actor_user_name": _g(user), "target_user_name": _g(user), "actor_credential_uid": key,
            **_src(addr, port)}


def _who(e: Event) -> tuple[str, str]:
    """The acting user's name and uid as written (blank when the event is stripped)."""
    if e.stripped:
        return "", ""
    uid = e.fields.get("uid")
    return _c(e.fields.get("user")), "" if uid is None else str(uid)


def _fingerprint(e: Event) -> str:
    return _fingerprint_of(f"{e.host}/{e.fields.get('user')}")


@lru_cache(maxsize=4096)
def _fingerprint_of(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _ssh_auth(e: Event) -> list[Line]:
    f = e.fields
    ip, port, method = _c(f.get("src_ip")), f.get("src_port"), _c(f.get("method", "password"))
    invalid = bool(f.get("invalid_user"))
    user = "" if e.stripped else _sshd_user(f.get("user"))
    key = f": ED25519 {_fingerprint(e)}" if method == "publickey" and not e.stripped else ""
    credential = key.rsplit(" ", 1)[-1] if key else None
    if e.success:
        return [_sshd(e, f"Accepted {method} for {user} from {ip} port {port} ssh2{key}", AUTH * 8 + INFO,
                      _later("sshd.accepted", 3002, 1, 1, (ip, port), actor_user_name=user, target_user_name=user,
                             actor_credential_uid=credential))]
    out = []
    if invalid:
        out.append(_sshd(e, f"Invalid user {user} from {ip} port {port}", AUTH * 8 + INFO,
                         _later("sshd.invalid_user", 3002, 1, 2, (ip, port), {"status_detail": "invalid user"},
                                actor_user_name=user, target_user_name=user)))
    if method == "password":
        pam = rsyslog(_c(f.get("user")))
        if invalid:
            out.append(Line("sshd", f.get("pid"), AUTHPRIV * 8 + NOTICE,
                            "pam_unix(sshd:auth): check pass; user unknown", _USER_UNKNOWN))
        tail = "" if invalid else f"  user={'' if e.stripped else pam}"
        out.append(Line("sshd", f.get("pid"), AUTHPRIV * 8 + NOTICE,
                        f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
                        f"rhost={rsyslog(ip)}{tail}",
                        _later("pam.auth_failure", 3002, 1, 2, (ip,), actor_user_name=tail.removeprefix("  user="),
                               target_user_name=tail.removeprefix("  user="))))
    prefix = "invalid user " if invalid else ""
    out.append(_sshd(e, f"Failed {method} for {prefix}{user} from {ip} port {port} ssh2{key}", AUTH * 8 + INFO,
                     _later("sshd.failed", 3002, 1, 2, (ip, port),
                            {"status_detail": "invalid user" if invalid else None}, actor_user_name=user,
                            target_user_name=user, actor_credential_uid=credential)))
    return out


def _pam_session(e: Event, program: str, pid: int | None, service: str, opened: bool, user: str, uid: str,
                 by: str = "", by_uid: str = "0") -> Line:
    """pam_unix's session line: ``session opened for user USER(uid=N) by NAME(uid=M)``, ``session closed for user
    USER``; a blank USER no longer fits the loader's pattern (a generic row)."""
    if opened:
        message = f"pam_unix({service}:session): session opened for user {user}(uid={uid}) by {by}(uid={by_uid})"
    else:
        message = f"pam_unix({service}:session): session closed for user {user}"
    if not user:
        return Line(program, pid, AUTHPRIV * 8 + INFO, message, GENERIC)
    code = "pam.session_opened" if opened else "pam.session_closed"
    columns = _later(code, 3002, 1 if opened else 2, 1, actor_user_name=user, target_user_name=user,
                     actor_user_uid=uid if opened else None, target_user_uid=uid if opened else None,
                     actor_orig_name=by if opened else None, actor_orig_uid=by_uid if opened and by else None)
    return Line(program, pid, AUTHPRIV * 8 + INFO, message, columns)


@lru_cache(maxsize=4096)
def _logind_pid(host: str) -> int:
    return 600 + int.from_bytes(hashlib.blake2b(host.encode(), digest_size=4).digest(), "big") % 400


def _logind(e: Event, message: str, columns: Columns) -> Line:
    return Line("systemd-logind", _logind_pid(e.host), AUTH * 8 + INFO, message, columns)


def _session_open(e: Event) -> list[Line]:
    f = e.fields
    name, uid = _who(e)
    user, ses = rsyslog(name), _c(f.get("ses"))
    new = f"New session {ses} of user {user}."
    return [
        _pam_session(e, "sshd", f.get("pid"), "sshd", True, user, uid),
        _logind(e, new, _later("logind.new_session", 3002, 1, 1, actor_user_name=user, target_user_name=user,
                               target_session_uid=ses) if user else GENERIC),
    ]


def _session_close(e: Event) -> list[Line]:
    f = e.fields
    ip, port, ses = _c(f.get("src_ip")), f.get("src_port"), _c(f.get("ses"))
    name, _ = _who(e)
    user = _sshd_user(name)
    return [
        _sshd(e, f"Received disconnect from {ip} port {port}:11: disconnected by user", AUTH * 8 + INFO,
              _later("sshd.received_disconnect", 3002, 2, 1, (ip, port),
                     {"status_code": "11", "status_detail": "disconnected by user"})),
        _sshd(e, f"Disconnected from user {user} {ip} port {port}", AUTH * 8 + INFO,
              _later("sshd.disconnected", 3002, 2, 1, (ip, port), actor_user_name=user, target_user_name=user)),
        _pam_session(e, "sshd", f.get("pid"), "sshd", False, rsyslog(name, last=True), ""),
        _logind(e, f"Session {ses} logged out. Waiting for processes to exit.",
                _later("logind.session_logged_out", 3002, 99, 1, target_session_uid=ses)),
        _logind(e, f"Removed session {ses}.", _later("logind.session_removed", 3002, 2, 1, target_session_uid=ses)),
    ]


def _pam_failure(e: Event, program: str, pid: int | None, service: str, target: str) -> Line:
    """pam_unix's ``authentication failure`` of a user switching (sudo, su): the invoker is logname and ruser."""
    f = e.fields
    name, uid = _who(e)
    invoker = rsyslog(name)
    tty = f"/dev/{_c(f.get('tty'))}" if f.get("tty") else ""
    message = (f"pam_unix({service}:auth): authentication failure; logname={invoker} uid={uid} euid=0 "
               f"tty={rsyslog(tty)} ruser={invoker} rhost=  user={target}")
    return Line(program, pid, AUTHPRIV * 8 + NOTICE, message,
                _later("pam.auth_failure", 3002, 1, 2, actor_user_name=invoker or target,
                       actor_user_uid=uid if invoker else None, actor_orig_name=invoker, target_user_name=target))


def sudo_lines(user: str, logline: str) -> list[str]:
    """sudo's syslog messages for ``logline``: ``%8s : LINE``, then ``%8s : (command continued) REST`` pieces, each
    cut at the last space within ``syslog_maxlen`` bytes (or at the limit, backed off to a UTF-8 boundary)."""
    head = user.encode()
    data, out, first = logline.encode(), [], True
    while data:
        maxlen = SUDO_MAXLEN - ((3 if first else 23) + len(head))
        if len(data) > maxlen:
            cut = data.rfind(b" ", 0, maxlen)
            if cut < 0:
                cut = maxlen
                while cut > 0 and data[cut] & 0xC0 == 0x80:
                    cut -= 1
            piece, data = data[:cut], data[cut:].lstrip(b" ")
        else:
            piece, data = data, b""
        pad = b" " * max(0, 8 - len(head)) + head
        out.append((pad + (b" : " if first else b" : (command continued) ") + piece).decode())
        first = False
    return out


def _sudo(e: Event) -> list[Line]:
    f = e.fields
    name, uid = _who(e)
    target, tty, cwd = _c(f.get("target", "root")), _c(f.get("tty")), _c(f.get("cwd"))
    reason = "" if e.success else "3 incorrect password attempts ; "
    logline = f"{reason}{f'TTY={tty} ; ' if tty else ''}PWD={cwd} ; USER={target} ; COMMAND={_c(f.get('command'))}"
    messages = [rsyslog(m, last=True) for m in sudo_lines(name, logline)]
    invoker, target = rsyslog(name), rsyslog(target)
    first = messages[0]
    columns: Columns = GENERIC
    if " ; COMMAND=" in first and invoker:
        columns = _later("sudo.command", 1007, 1, 1 if e.success else 2, None,
                         {"status_detail": reason.removesuffix(" ; ") or None}, actor_orig_name=invoker,
                         actor_user_name=target if e.success else invoker, target_user_name=target,
                         process_cmdline=first.split(" ; COMMAND=", 1)[1].rstrip(" "))
    pri = AUTHPRIV * 8 + (NOTICE if e.success else ALERT)
    lines = [Line("sudo", None, pri, first, columns)]
    lines += [Line("sudo", None, pri, m, GENERIC) for m in messages[1:]]
    if not e.success:
        return [_pam_failure(e, "sudo", None, "sudo", invoker), *lines]
    target_uid = _c(f.get("target_uid", 0))
    return [*lines,
            _pam_session(e, "sudo", None, "sudo", True, target, target_uid, invoker, uid),
            _pam_session(e, "sudo", None, "sudo", False, target, target_uid)]


def _su(e: Event) -> list[Line]:
    f = e.fields
    name, uid = _who(e)
    invoker = rsyslog(name)
    target, target_uid = rsyslog(_c(f.get("target", "root"))), _c(f.get("target_uid", 0))
    tty = rsyslog(_c(f.get("tty")) or "none")
    switch = f"{'' if e.success else 'FAILED SU '}(to {target}) {invoker} on {tty}"
    columns = _later("su.switch", 3002, 1, 1 if e.success else 2, actor_orig_name=invoker,
                     actor_user_name=target if e.success else invoker, target_user_name=target) if invoker else GENERIC
    line = Line("su", f.get("pid"), AUTH * 8 + NOTICE, switch, columns)
    if not e.success:
        return [_pam_failure(e, "su", None, "su", target), line]
    return [line, _pam_session(e, "su", None, "su", True, target, target_uid, invoker, uid)]


def _useradd(e: Event) -> list[Line]:
    f = e.fields
    new, new_uid = rsyslog(_c(f.get("new_user"))), _c(f.get("new_uid"))
    gid = _c(f.get("new_gid", new_uid))
    home, shell = rsyslog(_c(f.get("home"))), rsyslog(_c(f.get("shell")))
    tty = f"/dev/{_c(f.get('tty'))}" if f.get("tty") else "none"
    return [
        Line("useradd", f.get("pid"), AUTH * 8 + INFO, f"new group: name={new}, GID={gid}",
             _later("groupadd.new_group", 3006, 6, 1, resource_uid=new, resource_type="group")),
        Line("useradd", f.get("pid"), AUTH * 8 + INFO,
             f"new user: name={new}, UID={new_uid}, GID={gid}, home={home}, shell={shell}, from={rsyslog(tty)}",
             _later("useradd.new_user", 3001, 1, 1, target_user_name=new, target_user_uid=new_uid)),
    ]


def _cron(e: Event) -> list[Line]:
    name, uid = _who(e)
    pid = e.fields.get("pid")
    return [_pam_session(e, "CRON", pid, "cron", True, rsyslog(name), uid),
            _pam_session(e, "CRON", pid, "cron", False, rsyslog(name, last=True), uid)]


def _nothing(e: Event) -> list[Line]:
    return []


KINDS: dict[str, Callable[[Event], list[Line]]] = {
    "ssh_auth": _ssh_auth, "session_open": _session_open, "session_close": _session_close, "sudo": _sudo,
    "su": _su, "useradd": _useradd, "cron": _cron,
}
"""The auth log lines of each ``linux`` event kind; the other kinds write none."""
