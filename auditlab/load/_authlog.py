"""Linux authentication messages to canonical columns: the parsers shared by the syslog and journald loaders.

Both loaders hand over each record's *program* (the syslog tag, or journald's ``SYSLOG_IDENTIFIER``) and *message*
text; :func:`parse` recognises the messages below and returns their canonical columns. The work is vectorized: each
pattern is a polars regex that runs only on the rows of its programs whose message starts with its literal prefix
and that no earlier pattern recognised; the commonest sshd forms skip the regex (:class:`Shape`).

**Programs.** A program is matched by its base name, lower-cased: ``/usr/sbin/CRON`` is ``cron``; OpenSSH 9.8+'s
``sshd-session`` and ``sshd-auth`` are ``sshd``. sshd messages may start with ``error:`` or ``fatal:``, which is
skipped. PAM messages (``pam_unix(SERVICE:TYPE): ...``) are recognised whichever program writes them; the PAM
service goes to ``unmapped`` as ``pam_service``.

**Who is who.** The *actor* is who acted, the *target* the account acted upon, the *original actor* the accountable
person behind an account switch. A login's user is both actor and target. sudo and su rows carry the invoker as
original actor and the account switched to as target, and as effective actor when the switch succeeded (when it
failed, the invoker stays the effective actor). PAM's ``by NAME(uid=N)`` is the caller: the login name, and the
caller's uid, become the original actor; a caller without a login name (``by (uid=0)``: sshd, cron) is the daemon,
not a person, and is left out. A PAM ``authentication failure`` names the requesting user (``ruser``, with its
``uid``) as actor, else the account tried (``user``); ``logname`` is the original actor. Linux uids are known only
where the message gives them; names never go to ``*_uid`` columns. An address that is an IP goes to ``src_ip``,
a host name to ``src_hostname``.

========================= ============================================== ===============================================
event_code                message (program)                              class/activity, status; columns
========================= ============================================== ===============================================
sshd.accepted             Accepted METHOD for USER from ADDR port N      3002/1, 1; actor = target = USER; src;
                          ssh2[: KEYTYPE FINGERPRINT]                    actor_credential_uid = the key fingerprint;
                                                                         unmapped: auth_method, protocol, key_type
sshd.failed               Failed METHOD for [invalid user ]USER from     3002/1, 2 (detail "invalid user"); as
                          ADDR port N ssh2                               sshd.accepted
sshd.invalid_user         Invalid user USER from ADDR [port N];          3002/1, 2 "invalid user"; actor = target =
                          input_userauth_request: invalid user USER      USER; src
sshd.not_allowed          User USER from ADDR not allowed because REASON 3002/1, 2 "not allowed because REASON"
sshd.max_auth_attempts    [error: ]maximum authentication attempts       3002/1, 2; actor = target = USER; src
                          exceeded for [invalid user ]USER from ADDR
                          port N ssh2; Disconnecting...: Too many
                          authentication failures
sshd.pam_failure          PAM: Authentication failure for USER from ADDR 3002/1, 2
sshd.disconnected         Disconnected from [authenticating |invalid     3002/2 (Logoff), 1; with [preauth]: 3002/99,
                          ]user USER ADDR port N [preauth]; Disconnected status 2 when a user is named (an attempt given
                          from ADDR port N                               up), else 0
sshd.connection_closed    Connection closed|reset by [[authenticating    as sshd.disconnected
                          |invalid ]user USER ]ADDR port N [preauth]
sshd.received_disconnect  Received disconnect from ADDR port N:CODE:     3002/2, 1 (with [preauth]: 99, 0); status_code
                          REASON [preauth]                               CODE, detail REASON
sshd.negotiation_failed   Unable to negotiate with ADDR port N: REASON.  3002/99, 2 REASON; unmapped: offer
                          Their offer: OFFER
sshd.timeout              [fatal: ]Timeout before authentication for     3002/99, 2
                          ADDR port N
sshd.connection           Connection from ADDR port N on LADDR port M    4001/1 (Network Open), 1; unmapped: local_addr,
                                                                         local_port
tcp_wrappers.refused      refused connect from [USER@]NAME (ADDR) (any   4001/5 (Refuse), 2; src_ip ADDR, src_hostname
                          program)                                       NAME
(none)                    any other sshd message                         generic row; src_ip, src_port where it holds
                                                                         "from|with|for|by IP port N"
pam.session_opened,       pam_unix(SVC:session): session opened|closed   3002/1, 3002/2; 1; actor = target = USER (N);
pam.session_closed        for user USER[(uid=N)] [by NAME(uid=M)]        original actor = NAME (M)
pam.auth_failure          pam_X(SVC:auth): authentication failure;       3002/1, 2; actor = R (uid U), else A; original
                          logname=L uid=U euid=E tty=T ruser=R rhost=H   actor = L; target = A; src from H; unmapped:
                          [user=A]; PAM N more authentication failures;  pam_module, tty, euid
                          ... (sshd)
pam.user_unknown          pam_unix(SVC:auth): check pass; user unknown   3002/1, 2
pam.no_password           pam_unix(SVC:auth): auth could not identify    3002/1, 2; actor = target = USER
                          password for [USER]
pam.tally                 pam_tally2(SVC:auth): user USER (UID) tally N, 3002/99, 2 "tally N, deny M"; actor = target =
                          deny M                                         USER (UID)
pam.account_locked        pam_faillock(SVC:auth): Consecutive login      3001/9 (Lock), 1; target = USER
                          failures for user USER account temporarily
                          locked
pam.password_changed      pam_unix(SVC:chauthtok): password changed for  3001/3 (Password Change), 1; target = USER
                          USER
sudo.command              INVOKER : [REASON ; ]TTY=T ; PWD=P ; USER=U ;  1007/1 (Launch), 1; or 2 with REASON ("3
                          [GROUP=G ; ]COMMAND=CMD (sudo)                 incorrect password attempts", "command not
                                                                         allowed", "user NOT in sudoers") as detail;
                                                                         original actor = INVOKER; actor = U (INVOKER
                                                                         when refused); target = U; process_cmdline =
                                                                         CMD; unmapped: tty, pwd, group, env
su.switch                 [FAILED SU ](to TARGET) INVOKER on TTY;        3002/1, 1 or 2; original actor = INVOKER; actor
                          Successful|FAILED su for TARGET by INVOKER;    = TARGET (INVOKER when refused); target =
                          +|- TTY INVOKER:TARGET (su)                    TARGET
cron.command              (USER) CMD (CMD) (cron)                        1007/1, 1; actor = USER; process_cmdline = CMD
logind.new_session        New session ID of user USER. (systemd-logind)  3002/1, 1; target_session_uid = ID; actor =
                                                                         target = USER
logind.session_removed    Removed session ID.                            3002/2, 1; target_session_uid = ID
logind.session_logged_out Session ID logged out. Waiting for processes   3002/99, 1; target_session_uid = ID
                          to exit.
useradd.new_user          new user: name=U, UID=N, GID=G, home=H,        3001/1 (Create), 1; target = U (N); unmapped:
                          shell=S[, from=F]                              gid, home, shell, from
useradd.failed            failed adding user 'U', data deleted           3001/1, 2; target = U
groupadd.new_group        new group: name=G, GID=N; group added to FILE: 3006/6 (Create), 1; resource = G
                          name=G[, GID=N]
usermod.add_to_group      add 'U' to [shadow ]group 'G'                  3006/3 (Add User), 1; target = U; resource = G
gpasswd.added,            user U added|removed by A to|from group G      3006/3, 3006/4; actor = A; target = U; resource
gpasswd.removed                                                          = G
gpasswd.set_members       members of group G set by A to M               3006/99; actor = A; unmapped: members
userdel.delete_user       delete user 'U'                                3001/6 (Delete), 1; target = U
userdel.remove_from_group delete 'U' from [shadow ]group 'G'             3006/4 (Remove User), 1; target = U; resource =
                                                                         G
groupdel.delete_group     removed [shadow ]group 'G' [owned by 'U'];     3006/5 (Delete), 1; resource = G
                          group 'G' removed [from FILE]
usermod.lock,             lock|unlock user 'U' password                  3001/9 (Lock), 3001/12 (Unlock); target = U
usermod.unlock
usermod.change_password   change user 'U' password                       3001/3, 1; target = U
usermod.rename            change user name 'U' to 'V'                    3001/99, 1; target = U; unmapped: new_name
usermod.change            change user 'U' WHAT                           3001/99, 1; target = U; detail WHAT
passwd.password_changed   password for 'U' changed by 'A'; password      3001/3, 1; target = U; actor = A
                          changed for U
chage.change_expiry       changed password expiry for U                  3001/99, 1; target = U
========================= ============================================== ===============================================

Account and group changes (useradd ... chage) are recognised for the programs of shadow-utils and Debian's adduser
(:data:`SHADOW_PROGRAMS`). Groups follow OCSF Group Management (3006: 3 Add User, 4 Remove User, 5 Delete, 6 Create,
99 Other) with the group in ``resource_uid`` and ``resource_type`` = ``"group"``. Any other message is a generic
row: ``class_uid`` 0, ``activity_id`` 0, ``status_id`` 0, and no ``event_code``.

Extra native values go to a JSON fragment (``fields``: members without the braces) that the loaders merge into
``unmapped``; :func:`json_member` and :func:`json_object` build JSON from columns, escaping every control character.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
import polars as pl

__all__ = ["COLUMNS", "RULES", "SHADOW_PROGRAMS", "Rule", "Shape", "json_member", "json_object", "json_string",
           "parse"]

C = pl.col
_S = pl.String

COLUMNS: dict[str, pl.DataType] = {
    "class_uid": pl.Int32(), "activity_id": pl.Int16(), "event_code": _S(), "status_id": pl.Int16(),
    "status_code": _S(), "status_detail": _S(), "actor_user_uid": _S(), "actor_user_name": _S(),
    "actor_orig_uid": _S(), "actor_orig_name": _S(), "actor_credential_uid": _S(), "target_user_uid": _S(),
    "target_user_name": _S(), "target_session_uid": _S(), "process_cmdline": _S(), "resource_uid": _S(),
    "resource_type": _S(), "src_ip": _S(), "src_port": pl.Int32(), "src_hostname": _S(), "fields": _S(),
}  # fmt: skip
"""What :func:`parse` returns, with dtypes: canonical columns, and ``fields`` (a JSON fragment for unmapped)."""

SHADOW_PROGRAMS = (
    "useradd", "usermod", "userdel", "groupadd", "groupdel", "groupmod", "gpasswd", "passwd", "chpasswd", "chage",
    "newusers", "adduser", "deluser", "addgroup", "delgroup",
)  # fmt: skip
"""Programs whose account and group messages are recognised (shadow-utils and Debian's adduser)."""

_FAMILIES = {"sshd-session": "sshd", "sshd-auth": "sshd", "crond": "cron"}
_LEVELS = ("error: ", "fatal: ")  # sshd's log levels before a message; both 7 characters long

# ---------------------------------------------------------------------------------------------------------- JSON

_ESCAPES = {"\\": "\\\\", '"': '\\"', **{chr(i): f"\\u{i:04x}" for i in range(32)}}


def json_string(e: pl.Expr) -> pl.Expr:
    """A JSON string of a text column (null stays null); every control character is escaped."""
    escaped = e.cast(_S).str.replace_many(list(_ESCAPES), list(_ESCAPES.values()))
    return pl.concat_str(pl.lit('"'), escaped, pl.lit('"'))


def json_member(key: str, e: pl.Expr, *, raw: bool = False) -> pl.Expr:
    """``"key":value`` where ``e`` is not null, else null; ``raw`` values are JSON already (numbers, objects)."""
    return pl.concat_str(pl.lit(orjson.dumps(key).decode() + ":"), e if raw else json_string(e))


def json_object(members: list[pl.Expr]) -> pl.Expr:
    """A JSON object of the members (or fragments of members) that are not null; null when none is.

    Examples:
        >>> frame = pl.DataFrame({"a": ["x\\u0007", None], "n": [None, None]})
        >>> frame.select(json_object([json_member("a", C("a")), json_member("n", C("n"))])).to_series().to_list()
        ['{"a":"x\\\\u0007"}', None]
    """
    body = pl.concat_str(members, separator=",", ignore_nulls=True)
    return pl.when(body != "").then(pl.concat_str(pl.lit("{"), body, pl.lit("}")))


# --------------------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One message shape: where to look, the regex, and what its groups mean.

    ``columns`` and ``fields`` map a canonical column (or an unmapped key) to a group name (``str``), a constant
    (``int``), or a polars expression over the groups. Groups that capture an empty string are null.
    """

    code: str | None
    programs: tuple[str, ...] | None  # program families it applies to; None: any program
    prefix: str | tuple[str, ...]  # the message starts with (one of) this; "" for any message
    pattern: str  # anchored at the start of the message
    columns: Mapping[str, Any]
    fields: Mapping[str, Any] = field(default_factory=dict)
    shapes: tuple[Shape, ...] = ()  # fast paths for the commonest forms (see Shape)


_TOKENS = {"port": "[0-9]{1,5}"}  # what a {name} token of a shape may be, where it is not any non-space text


@dataclass(frozen=True)
class Shape:
    """A fast path for a common form of a rule's message: a template of space-separated tokens.

    A token is literal text, or ``{name}`` (any non-empty token without spaces, captured as group ``name``; a
    ``port`` is a number), or ``{name:regex}`` (a token the regex matches in full). Messages that match the whole
    template (checked by one regex without captures) are split on spaces and their groups taken by position;
    ``given`` sets groups the template implies (``invalid`` for "invalid user"). The rule's regex must read these
    messages the same way; the tests check it. Messages of any other form go through the regex. (Captures cost
    polars about a microsecond per message; this path, a third of that.)
    """

    template: str
    given: Mapping[str, str] = field(default_factory=dict)

    def compile(self) -> tuple[str, dict[str, int]]:
        """The check regex, and the token index of each group."""
        parts, positions = [], {}
        for i, token in enumerate(self.template.split(" ")):
            found = re.fullmatch(r"\{(\w+)(?::(.+))?\}", token)
            if found is None:
                parts.append(re.escape(token))
            else:
                positions[found[1]] = i
                parts.append(f"(?:{found[2] or _TOKENS.get(found[1], '[^ ]+')})")
        return "^" + " ".join(parts) + "$", positions


def _g(name: str) -> pl.Expr:
    return pl.when(C(name) != "").then(C(name))


def _lit(text: str) -> pl.Expr:
    return pl.lit(text, _S)


_IP = (r"^(?:[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*"
       r"(?:%[0-9A-Za-z._-]+)?)$")


def _src(addr: str | pl.Expr = "addr", port: str | None = "port") -> dict[str, Any]:
    """``src_ip`` or ``src_hostname`` from an address group (an IP, or a name), and ``src_port``."""
    e = _g(addr) if isinstance(addr, str) else addr
    is_ip = e.str.contains(_IP)
    out: dict[str, Any] = {"src_ip": pl.when(is_ip).then(e), "src_hostname": pl.when(~is_ip).then(e)}
    if port is not None:
        out["src_port"] = C(port).cast(pl.Int32, strict=False)
    return out


def _same(user: str | pl.Expr, uid: str | pl.Expr | None = None) -> dict[str, Any]:
    """The login's user as both actor and target."""
    e = _g(user) if isinstance(user, str) else user
    out = {"actor_user_name": e, "target_user_name": e}
    if uid is not None:
        u = _g(uid) if isinstance(uid, str) else uid
        out |= {"actor_user_uid": u, "target_user_uid": u}
    return out


def _auth(activity: int | pl.Expr, status: int | pl.Expr, detail: Any = None) -> dict[str, Any]:
    return {"class_uid": 3002, "activity_id": activity, "status_id": status, "status_detail": detail}


def _account(activity: int | pl.Expr, status: int = 1) -> dict[str, Any]:
    return {"class_uid": 3001, "activity_id": activity, "status_id": status}


def _group(activity: int | pl.Expr, group: str = "group") -> dict[str, Any]:
    return {"class_uid": 3006, "activity_id": activity, "status_id": 1, "resource_uid": group,
            "resource_type": _lit("group")}


def _switch(ok: pl.Expr, invoker: str, target: str) -> dict[str, Any]:
    """sudo and su: the invoker is the original actor, the target the effective actor once the switch succeeded."""
    return {"actor_orig_name": invoker, "actor_user_name": pl.when(ok).then(_g(target)).otherwise(_g(invoker)),
            "target_user_name": target}


def _kv(key: str) -> pl.Expr:
    """A ``key=value`` of a PAM ``authentication failure`` line (``kv`` group); empty values are null."""
    value = C("kv").str.extract(rf"(?:^| ){key}=([^ ]*)", 1)
    return pl.when(value != "").then(value)


def _pam_failure(detail: pl.Expr, get: Any = _g, *, module: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """A PAM authentication failure; ``get`` reads a ``key=value`` (a group of its own, or from ``kv``)."""
    ruser, user = get("ruser"), get("user")
    columns = {
        **_auth(1, 2, detail), "actor_user_name": pl.coalesce(ruser, user),
        "actor_user_uid": pl.when(ruser.is_not_null()).then(get("uid")), "actor_orig_name": get("logname"),
        "target_user_name": user, **_src(get("rhost"), None),
    }
    fields = {"pam_module": "module", "pam_service": "service", "tty": get("tty"), "euid": get("euid"),
              "uid": pl.when(ruser.is_null()).then(get("uid"))}
    if not module:  # sshd's own summary of PAM failures
        del fields["pam_module"], fields["pam_service"]
    return columns, fields


SSHD = ("sshd",)
_PORT = r"(?<port>[0-9]{1,5})"
_ADDR = r"(?<addr>[^ ]+)"
_PRE = r"(?<pre> \[preauth\])?"
_END = r" *$"
_USER_OF = r"(?:(?:(?<kind>authenticating|invalid) )?user (?<user>.*) )?"  # "[authenticating |invalid ]user U "
_PREAUTH = C("pre").is_not_null()


def _session_end() -> dict[str, Any]:
    """sshd's end of a connection: a logoff, or (``[preauth]``) an attempt given up, failed when a user was named."""
    return {
        **_auth(pl.when(_PREAUTH).then(99).otherwise(2),
                pl.when(~_PREAUTH).then(1).when(C("user").is_not_null()).then(2).otherwise(0),
                pl.when(C("kind") == "invalid").then(_lit("invalid user"))
                .when(_PREAUTH).then(_lit("disconnected before authentication"))),
        **_same("user"), **_src(),
    }


_PAM_SVC = r"\((?<service>[^:()]+)"
_PAM_FAILURE = _pam_failure(_lit("authentication failure"))
_PAM_FAILURE_KV = _pam_failure(_lit("authentication failure"), _kv)
_PAM_MORE = _pam_failure(pl.concat_str(C("count"), _lit(" more authentication failures")), _kv, module=False)
_SUDO_OK = C("reason").is_null()
_SU_OK = C("failed").is_null()

RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------------------------------------------------ sshd
    Rule("sshd.accepted", SSHD, "Accepted ",
         rf"^Accepted (?<method>[^ ]+) for (?<user>.*?) from {_ADDR} port {_PORT}(?: (?<proto>ssh[0-9]?))?"
         rf"(?:: (?<key_type>[^ ]+) (?<key>[^ ]+)(?: (?<key_info>.*?))?)?{_END}",
         {**_auth(1, 1), **_same("user"), **_src(), "actor_credential_uid": "key"},
         {"auth_method": "method", "protocol": "proto", "key_type": "key_type", "key_info": "key_info"},
         shapes=(Shape("Accepted {method} for {user} from {addr} port {port} {proto:ssh[0-9]?}"),
                 Shape("Accepted {method} for {user} from {addr} port {port} ssh2: {key_type} {key}",
                       {"proto": "ssh2"}))),
    Rule("sshd.failed", SSHD, "Failed ",
         rf"^Failed (?<method>[^ ]+) for (?<invalid>invalid user )?(?<user>.*) from {_ADDR} port {_PORT}"
         rf"(?: (?<proto>ssh[0-9]?))?(?:: (?<key_type>[^ ]+) (?<key>[^ ]+))?{_PRE}{_END}",
         {**_auth(1, 2, pl.when(C("invalid").is_not_null()).then(_lit("invalid user"))), **_same("user"), **_src(),
          "actor_credential_uid": "key"},
         {"auth_method": "method", "protocol": "proto", "key_type": "key_type"},
         shapes=(Shape("Failed {method} for invalid user {user} from {addr} port {port} {proto:ssh[0-9]?}",
                       {"invalid": "invalid user "}),
                 Shape("Failed {method} for {user} from {addr} port {port} {proto:ssh[0-9]?}"))),
    Rule("sshd.invalid_user", SSHD, "Invalid user ",
         rf"^Invalid user (?<user>.*) from {_ADDR}(?: port {_PORT})?{_END}",
         {**_auth(1, 2, _lit("invalid user")), **_same("user"), **_src()},
         shapes=(Shape("Invalid user {user} from {addr} port {port}"),)),
    Rule("sshd.invalid_user", SSHD, "input_userauth_request: invalid user ",
         rf"^input_userauth_request: invalid user (?<user>.*?){_PRE}{_END}",
         {**_auth(1, 2, _lit("invalid user")), **_same("user")}),
    Rule("sshd.not_allowed", SSHD, "User ",
         rf"^User (?<user>.*) from {_ADDR} not allowed because (?<reason>.*?){_END}",
         {**_auth(1, 2, pl.concat_str(_lit("not allowed because "), C("reason"))), **_same("user"),
          **_src("addr", None)}),
    Rule("sshd.max_auth_attempts", SSHD, "maximum authentication attempts exceeded for ",
         rf"^maximum authentication attempts exceeded for (?<invalid>invalid user )?(?<user>.*) from {_ADDR} "
         rf"port {_PORT}(?: (?<proto>ssh[0-9]?))?{_PRE}{_END}",
         {**_auth(1, 2, _lit("maximum authentication attempts exceeded")), **_same("user"), **_src()},
         {"protocol": "proto"}),
    Rule("sshd.max_auth_attempts", SSHD, "Disconnecting",
         rf"^Disconnecting(?: {_USER_OF}{_ADDR} port {_PORT})?: Too many authentication failures"
         rf"(?: for (?:invalid user )?(?<for_user>.*?))?{_PRE}{_END}",
         {**_auth(1, 2, _lit("too many authentication failures")), **_same(pl.coalesce(_g("user"), _g("for_user"))),
          **_src()}),
    Rule("sshd.pam_failure", SSHD, "PAM: Authentication failure for ",
         rf"^PAM: Authentication failure for (?:(?:illegal|invalid) user )?(?<user>.*) from {_ADDR}{_END}",
         {**_auth(1, 2, _lit("authentication failure")), **_same("user"), **_src("addr", None)}),
    Rule("pam.auth_failure", SSHD, "PAM ",
         r"^PAM (?<count>[0-9]+) more authentication failures?; (?<kv>.*)$",
         *_PAM_MORE),
    Rule("sshd.disconnected", SSHD, "Disconnected from ",
         rf"^Disconnected from {_USER_OF}{_ADDR} port {_PORT}{_PRE}{_END}", _session_end(),
         shapes=(Shape("Disconnected from {kind:authenticating|invalid} user {user} {addr} port {port} [preauth]",
                       {"pre": " [preauth]"}),
                 Shape("Disconnected from user {user} {addr} port {port}"))),
    Rule("sshd.connection_closed", SSHD, ("Connection closed by ", "Connection reset by "),
         rf"^Connection (?:closed|reset) by {_USER_OF}{_ADDR} port {_PORT}{_PRE}{_END}", _session_end(),
         shapes=(Shape("Connection {how:closed|reset} by {kind:authenticating|invalid} user {user} {addr} port {port} "
                       "[preauth]", {"pre": " [preauth]"}),
                 Shape("Connection {how:closed|reset} by {addr} port {port} [preauth]", {"pre": " [preauth]"}))),
    Rule("sshd.received_disconnect", SSHD, "Received disconnect from ",
         rf"^Received disconnect from {_ADDR}(?: port {_PORT})?: ?(?<code>[0-9]+): (?<reason>.*?){_PRE}{_END}",
         {**_auth(pl.when(_PREAUTH).then(99).otherwise(2), pl.when(_PREAUTH).then(0).otherwise(1), "reason"),
          "status_code": "code", **_src()}),
    Rule("sshd.negotiation_failed", SSHD, "Unable to negotiate with ",
         rf"^Unable to negotiate with {_ADDR} port {_PORT}: (?<reason>.*?)(?:\. Their offer: (?<offer>.*?))?"
         rf"{_PRE}{_END}",
         {**_auth(99, 2, "reason"), **_src()}, {"offer": "offer"}),
    Rule("sshd.timeout", SSHD, "Timeout before authentication for ",
         rf"^Timeout before authentication for {_ADDR}(?: port {_PORT})?{_END}",
         {**_auth(99, 2, _lit("timeout before authentication")), **_src()}),
    Rule("sshd.connection", SSHD, "Connection from ",
         rf"^Connection from {_ADDR} port {_PORT} on (?<laddr>[^ ]+) port (?<lport>[0-9]{{1,5}})"
         r'(?: rdomain "(?<rdomain>[^"]*)")?' + _END,
         {"class_uid": 4001, "activity_id": 1, "status_id": 1, **_src()},
         {"local_addr": "laddr", "local_port": "lport", "rdomain": "rdomain"}),
    Rule("tcp_wrappers.refused", None, "refused connect from ",
         rf"^refused connect from (?:(?<ruser>[^@ ]*)@)?(?<name>[^ ]*) \((?<addr>[^()]*)\){_END}",
         {"class_uid": 4001, "activity_id": 5, "status_id": 2, "src_ip": "addr",
          "src_hostname": pl.when(C("name") != C("addr")).then(_g("name"))},
         {"client_user": "ruser"}),
    # ------------------------------------------------------------------------------------------------------- PAM
    Rule("pam.session", None, "pam_unix(",
         r"^pam_unix" + _PAM_SVC + r":session\): session (?<what>opened|closed) for user (?<user>[^ (]+)"
         r"(?:\(uid=(?<uid>[0-9]+)\))?(?: by (?<by>[^ (]*)(?:\(uid=(?<by_uid>[0-9]*)\))?)?" + _END,
         {**_auth(pl.when(C("what") == "opened").then(1).otherwise(2), 1), **_same("user", "uid"),
          "actor_orig_name": "by", "actor_orig_uid": pl.when(_g("by").is_not_null()).then(_g("by_uid")),
          "event_code": pl.concat_str(_lit("pam.session_"), C("what"))},
         {"pam_service": "service", "by_uid": pl.when(_g("by").is_null()).then(_g("by_uid"))}),
    Rule("pam.auth_failure", None, "pam_",  # the fields in the order pam_unix writes them
         r"^(?<module>pam_[A-Za-z0-9_]+)" + _PAM_SVC + r":auth\): authentication failure; logname=(?<logname>[^ ]*) "
         r"uid=(?<uid>[^ ]*) euid=(?<euid>[^ ]*) tty=(?<tty>[^ ]*) ruser=(?<ruser>[^ ]*) rhost=(?<rhost>[^ ]*)"
         r"(?: +user=(?<user>[^ ]*))?" + _END,
         *_PAM_FAILURE),
    Rule("pam.auth_failure", None, "pam_",  # any other order
         r"^(?<module>pam_[A-Za-z0-9_]+)" + _PAM_SVC + r":auth\): authentication failure; (?<kv>.*)$",
         *_PAM_FAILURE_KV),
    Rule("pam.user_unknown", None, "pam_unix(",
         r"^pam_unix" + _PAM_SVC + r":auth\): check pass; user unknown" + _END,
         _auth(1, 2, _lit("user unknown")), {"pam_service": "service"}),
    Rule("pam.no_password", None, "pam_unix(",
         r"^pam_unix" + _PAM_SVC + r":auth\): auth could not identify password for \[(?<user>[^\]]*)\]" + _END,
         {**_auth(1, 2, _lit("could not identify password")), **_same("user")}, {"pam_service": "service"}),
    Rule("pam.tally", None, "pam_tally",
         r"^(?<module>pam_tally2?)" + _PAM_SVC + r":auth\): user (?<user>[^ ]+) \((?<uid>[0-9]+)\) tally "
         r"(?<tally>[0-9]+), deny (?<deny>[0-9]+)" + _END,
         {**_auth(99, 2, pl.concat_str(_lit("tally "), C("tally"), _lit(", deny "), C("deny"))),
          **_same("user", "uid")},
         {"pam_module": "module", "pam_service": "service", "tally": "tally", "deny": "deny"}),
    Rule("pam.account_locked", None, "pam_faillock(",
         r"^pam_faillock" + _PAM_SVC + r":auth\): Consecutive login failures for user (?<user>[^ ]+) account "
         r"temporarily locked" + _END,
         {**_account(9), "target_user_name": "user"}, {"pam_service": "service"}),
    Rule("pam.password_changed", None, "pam_unix(",
         r"^pam_unix" + _PAM_SVC + r":chauthtok\): password changed for (?<user>[^ ]+)" + _END,
         {**_account(3), "target_user_name": "user"}, {"pam_service": "service"}),
    # ---------------------------------------------------------------------------------------------- sudo, su, cron
    Rule("sudo.command", ("sudo",), "",
         r"^ *(?<invoker>[^ ]+) : (?:(?<reason>[^=;]*) ; )?(?:TTY=(?<tty>[^;]*) ; )?(?:CHROOT=(?<chroot>[^;]*) ; )?"
         r"PWD=(?<pwd>[^;]*) ; USER=(?<user>[^;]*) ;(?: GROUP=(?<group>[^;]*) ;)?(?: TSID=(?<tsid>[^;]*) ;)?"
         r"(?: ENV=(?<env>[^;]*) ;)? COMMAND=(?<cmd>.*?)" + _END,
         {"class_uid": 1007, "activity_id": 1, "status_id": pl.when(_SUDO_OK).then(1).otherwise(2),
          "status_detail": "reason", **_switch(_SUDO_OK, "invoker", "user"), "process_cmdline": "cmd"},
         {"tty": "tty", "pwd": "pwd", "group": "group", "env": "env", "tsid": "tsid", "chroot": "chroot"}),
    Rule("su.switch", ("su",), ("(to ", "FAILED SU (to "),
         rf"^(?<failed>FAILED SU )?\(to (?<target>[^)]*)\) (?<invoker>[^ ]+) on (?<tty>[^ ]+){_END}",
         {**_auth(1, pl.when(_SU_OK).then(1).otherwise(2)), **_switch(_SU_OK, "invoker", "target")},
         {"tty": "tty"}),
    Rule("su.switch", ("su",), ("Successful su for ", "FAILED su for "),
         rf"^(?:Successful|(?<failed>FAILED)) su for (?<target>[^ ]+) by (?<invoker>[^ ]+){_END}",
         {**_auth(1, pl.when(_SU_OK).then(1).otherwise(2)), **_switch(_SU_OK, "invoker", "target")}),
    Rule("su.switch", ("su",), ("+ ", "- "),
         rf"^(?:\+|(?<failed>-)) (?<tty>[^ ]+) (?<invoker>[^ :]+):(?<target>[^ ]+){_END}",
         {**_auth(1, pl.when(_SU_OK).then(1).otherwise(2)), **_switch(_SU_OK, "invoker", "target")},
         {"tty": "tty"}),
    Rule("cron.command", ("cron",), "(",
         rf"^\((?<user>[^)]*)\) CMD \((?<cmd>.*)\){_END}",
         {"class_uid": 1007, "activity_id": 1, "status_id": 1, "actor_user_name": "user", "process_cmdline": "cmd"}),
    # ------------------------------------------------------------------------------------------------ logind
    Rule("logind.new_session", ("systemd-logind",), "New session ",
         r"^New session '?(?<sid>[^' ]+?)'? of user '?(?<user>[^']+?)'?"
         r"(?: with class '(?<class>[^']*)' and type '(?<type>[^']*)')?\." + _END,
         {**_auth(1, 1), **_same("user"), "target_session_uid": "sid"},
         {"session_class": "class", "session_type": "type"}),
    Rule("logind.session_removed", ("systemd-logind",), "Removed session ",
         r"^Removed session '?(?<sid>[^' ]+?)'?\." + _END,
         {**_auth(2, 1), "target_session_uid": "sid"}),
    Rule("logind.session_logged_out", ("systemd-logind",), "Session ",
         r"^Session '?(?<sid>[^' ]+?)'? logged out\. Waiting for processes to exit\." + _END,
         {**_auth(99, 1, _lit("logged out, waiting for processes to exit")), "target_session_uid": "sid"}),
    # ------------------------------------------------------------------------------------- accounts and groups
    Rule("useradd.new_user", SHADOW_PROGRAMS, "new user: ",
         r"^new user: name=(?<user>[^,]*), UID=(?<uid>[0-9]+), GID=(?<gid>[0-9]+), home=(?<home>[^,]*), "
         r"shell=(?<shell>[^,]*?)(?:, from=(?<from>[^,]*?))?" + _END,
         {**_account(1), "target_user_name": "user", "target_user_uid": "uid"},
         {"gid": "gid", "home": "home", "shell": "shell", "from": "from"}),
    Rule("useradd.failed", SHADOW_PROGRAMS, "failed adding user '",
         r"^failed adding user '(?<user>[^']*)'(?<rest>.*?)" + _END,
         {**_account(1, 2), "target_user_name": "user", "status_detail": _lit("failed adding user")}),
    Rule("groupadd.new_group", SHADOW_PROGRAMS, "new group: ",
         r"^new group: name=(?<group>[^,]*), GID=(?<gid>[0-9]+)(?:, from=(?<from>[^,]*?))?" + _END,
         _group(6), {"gid": "gid", "from": "from"}),
    Rule("groupadd.new_group", SHADOW_PROGRAMS, "group added to ",
         r"^group added to (?<file>[^:]+): name=(?<group>[^,]*)(?:, GID=(?<gid>[0-9]+))?" + _END,
         _group(6), {"gid": "gid", "file": "file"}),
    Rule("usermod.add_to_group", SHADOW_PROGRAMS, "add '",
         r"^add '(?<user>[^']*)' to (?<shadow>shadow )?group '(?<group>[^']*)'" + _END,
         {**_group(3), "target_user_name": "user"},
         {"file": pl.when(C("shadow").is_not_null()).then(_lit("gshadow")).otherwise(_lit("group"))}),
    Rule("gpasswd.add_to_group", SHADOW_PROGRAMS, "user ",
         r"^user (?<user>[^ ]+) (?<op>added|removed) by (?<by>[^ ]+) (?:to|from) group (?<group>[^ ]+)" + _END,
         {**_group(pl.when(C("op") == "added").then(3).otherwise(4)), "target_user_name": "user",
          "actor_user_name": "by", "event_code": pl.concat_str(_lit("gpasswd."), C("op"))}),
    Rule("gpasswd.set_members", SHADOW_PROGRAMS, "members of group ",
         r"^members of group (?<group>[^ ]+) set by (?<by>[^ ]+) to (?<members>.*?)" + _END,
         {**_group(99), "actor_user_name": "by"}, {"members": "members"}),
    Rule("userdel.delete_user", SHADOW_PROGRAMS, "delete user '",
         r"^delete user '(?<user>[^']*)'" + _END,
         {**_account(6), "target_user_name": "user"}),
    Rule("userdel.remove_from_group", SHADOW_PROGRAMS, "delete '",
         r"^delete '(?<user>[^']*)' from (?<shadow>shadow )?group '(?<group>[^']*)'" + _END,
         {**_group(4), "target_user_name": "user"},
         {"file": pl.when(C("shadow").is_not_null()).then(_lit("gshadow")).otherwise(_lit("group"))}),
    Rule("groupdel.delete_group", SHADOW_PROGRAMS, "removed ",
         r"^removed (?<shadow>shadow )?group '(?<group>[^']*)'(?: owned by '(?<owner>[^']*)')?" + _END,
         _group(5), {"owner": "owner",
                     "file": pl.when(C("shadow").is_not_null()).then(_lit("gshadow")).otherwise(_lit("group"))}),
    Rule("groupdel.delete_group", SHADOW_PROGRAMS, "group '",
         r"^group '(?<group>[^']*)' removed(?: from (?<file>[^ ]+))?" + _END,
         _group(5), {"file": "file"}),
    Rule("usermod.lock", SHADOW_PROGRAMS, "lock user '",
         r"^lock user '(?<user>[^']*)' password" + _END, {**_account(9), "target_user_name": "user"}),
    Rule("usermod.unlock", SHADOW_PROGRAMS, "unlock user '",
         r"^unlock user '(?<user>[^']*)' password" + _END, {**_account(12), "target_user_name": "user"}),
    Rule("usermod.change_password", SHADOW_PROGRAMS, "change user '",
         r"^change user '(?<user>[^']*)' password" + _END, {**_account(3), "target_user_name": "user"}),
    Rule("usermod.rename", SHADOW_PROGRAMS, "change user name '",
         r"^change user name '(?<user>[^']*)' to '(?<new>[^']*)'" + _END,
         {**_account(99), "target_user_name": "user"}, {"new_name": "new"}),
    Rule("usermod.change", SHADOW_PROGRAMS, "change user '",
         r"^change user '(?<user>[^']*)' (?<what>.*?)" + _END,
         {**_account(99), "target_user_name": "user", "status_detail": "what"}),
    Rule("passwd.password_changed", SHADOW_PROGRAMS, "password for '",
         r"^password for '(?<user>[^']*)' changed by '(?<by>[^']*)'" + _END,
         {**_account(3), "target_user_name": "user", "actor_user_name": "by"}),
    Rule("passwd.password_changed", SHADOW_PROGRAMS, "password changed for ",
         r"^password changed for (?<user>[^ ]+)" + _END, {**_account(3), "target_user_name": "user"}),
    Rule("chage.change_expiry", SHADOW_PROGRAMS, "changed password expiry for ",
         r"^changed password expiry for (?<user>[^ ]+)" + _END, {**_account(99), "target_user_name": "user"}),
    # --------------------------------------------------------------------------------- sshd: anything else
    Rule(None, SSHD, "",
         r"^.*?(?:from|with|for|by) (?<addr>[0-9A-Fa-f:.]*[0-9A-Fa-f]) port (?<port>[0-9]{1,5})",
         {"class_uid": 0, "activity_id": 0, "status_id": 0, **_src()}),
)  # fmt: skip
"""The message shapes, in the order they are tried: each row goes to the first rule that matches it."""


def _value(spec: Any) -> pl.Expr:
    if isinstance(spec, str):
        return _g(spec)
    if isinstance(spec, int):
        return pl.lit(spec)
    if spec is None:
        return pl.lit(None, _S)
    return spec


def _columns(rule: Rule) -> list[pl.Expr]:
    exprs = [_value(spec).alias(name) for name, spec in rule.columns.items()]
    if "event_code" not in rule.columns:
        exprs.append(pl.lit(rule.code, _S).alias("event_code"))
    members = [json_member(key, _value(spec)) for key, spec in rule.fields.items()]
    exprs.append((pl.concat_str(members, separator=",", ignore_nulls=True) if members else pl.lit("")).alias("fields"))
    return exprs


def _starts(prefix: str | tuple[str, ...]) -> pl.Expr:
    prefixes = (prefix,) if isinstance(prefix, str) else prefix
    body = C("body")
    test = body.str.starts_with(prefixes[0])
    for p in prefixes[1:]:
        test = test | body.str.starts_with(p)
    return test


def parse(program: pl.Series, message: pl.Series) -> pl.DataFrame:
    """The canonical columns of each message (:data:`COLUMNS`), in input order, one row per input row.

    Args:
        program: the program (syslog tag or ``SYSLOG_IDENTIFIER``) of each record; null where unknown.
        message: the message text of each record; null where there is none.

    Examples:
        >>> out = parse(pl.Series(["sshd"]), pl.Series(["Accepted publickey for alice from 10.0.0.5 port 50022 ssh2"]))
        >>> out.select("class_uid", "activity_id", "status_id", "actor_user_name", "src_ip", "src_port").row(0)
        (3002, 1, 1, 'alice', '10.0.0.5', 50022)
        >>> out["fields"].item()
        '"auth_method":"publickey","protocol":"ssh2"'
    """
    family = program.str.replace(r"^.*/", "").str.to_lowercase().replace(_FAMILIES)
    base = pl.DataFrame({"family": family, "body": message.cast(_S)}).with_row_index("_row")
    level = pl.lit(False)
    for prefix in _LEVELS:
        level = level | C("body").str.starts_with(prefix)
    base = base.with_columns(
        pl.when((C("family") == "sshd") & level).then(C("body").str.slice(len(_LEVELS[0]))).otherwise(C("body"))
    )
    scopes: dict[tuple[str, ...] | None, pl.DataFrame] = {}
    pieces: list[pl.DataFrame] = []
    matched = pl.repeat(False, base.height, dtype=pl.Boolean, eager=True)  # rows an earlier rule recognised
    for rule in RULES:
        if rule.programs not in scopes:
            scope = base if rule.programs is None else base.filter(C("family").is_in(list(rule.programs)))
            scopes[rule.programs] = scope.select("_row", "body").filter(C("body").is_not_null())
        candidates = scopes[rule.programs]
        if rule.prefix:
            candidates = candidates.filter(_starts(rule.prefix))
        if candidates.height and pieces:
            candidates = candidates.filter(~matched.gather(candidates.get_column("_row")))
        if candidates.height:
            groups = _groups(rule, candidates)
            if groups.height:
                pieces.append(groups.select("_row", *_columns(rule)))
                matched = matched.scatter(groups.get_column("_row"), True)
    if not pieces:
        return pl.DataFrame({name: pl.repeat(None, base.height, dtype=dtype, eager=True) for name, dtype in
                             COLUMNS.items()}).with_columns(_generic())
    found = pl.concat(pieces, how="diagonal_relaxed")
    # each input row's position in found (null: no rule matched), then one gather per column
    at = pl.repeat(None, base.height, dtype=pl.UInt32, eager=True).scatter(
        found.get_column("_row"), pl.int_range(0, found.height, dtype=pl.UInt32, eager=True))
    found = found.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in COLUMNS.items()
                               if name not in found.columns)
    return found.select(C(name).cast(dtype).gather(at) for name, dtype in COLUMNS.items()).with_columns(_generic())


def _generic() -> list[pl.Expr]:
    """Rows no rule recognised: class, activity and status 0; an empty ``fields`` fragment is null."""
    return [C("class_uid").fill_null(0), C("activity_id").fill_null(0), C("status_id").fill_null(0),
            pl.when(C("fields") != "").then(C("fields")).alias("fields")]


_COMPILED: dict[str, tuple[str, dict[str, int]]] = {}


def _compiled(shape: Shape) -> tuple[str, dict[str, int]]:
    if shape.template not in _COMPILED:
        _COMPILED[shape.template] = shape.compile()
    return _COMPILED[shape.template]


@cache
def _group_names(pattern: str) -> tuple[str, ...]:
    return tuple(re.compile(pattern.replace("(?<", "(?P<")).groupindex)


def _groups(rule: Rule, candidates: pl.DataFrame) -> pl.DataFrame:
    """``_row`` and the regex groups of the candidates the rule matches (by its shapes first, then its regex)."""
    parts: list[pl.DataFrame] = []
    rest = candidates
    for shape in rule.shapes:
        check, positions = _compiled(shape)
        hit = rest.get_column("body").str.contains(check)
        if hit.any():
            tokens = rest.filter(hit).with_columns(C("body").str.split(" "))
            parts.append(tokens.select(
                "_row", *(C("body").list.get(i).alias(name) for name, i in positions.items()),
                *(pl.lit(value, _S).alias(name) for name, value in shape.given.items()),
            ))
            rest = rest.filter(~hit)
    if rest.height:
        found = rest.select("_row", C("body").str.extract_groups(rule.pattern + "(?<_ok>)").alias("_g"))
        parts.append(found.unnest("_g").filter(C("_ok").is_not_null()).drop("_ok"))
    groups = pl.concat(parts, how="diagonal_relaxed")
    return groups.with_columns(pl.lit(None, _S).alias(name) for name in _group_names(rule.pattern)
                               if name not in groups.columns)
