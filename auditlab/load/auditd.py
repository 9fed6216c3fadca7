"""Linux auditd logs (``audit.log``, raw or ENRICHED): one row per event.

**Events.** auditd writes one line per *record*; the records of one *event* share ``msg=audit(SEC.MS:SERIAL)``
(and ``node=`` when the log aggregates hosts). Records are grouped into one row per ``(node, SEC.MS:SERIAL)``, also
when records of different events interleave (adjacent runs of one id are found vectorized; an id that comes back
later joins its first run). ``raw`` holds every line of the event, verbatim and in file order, joined with ``"\\n"``;
``source_line``/``source_offset`` are those of its first line. The ENRICHED format (``log_format = ENRICHED``) adds,
after a ``0x1d`` byte, names resolved by auditd (``UID="root" ARCH=x86_64 SYSCALL=write``): they give the
``*_name`` columns and the syscall name.

**Streams.** ``source_seq`` is the serial, ``source_record_uid`` is ``"SEC.MS:SERIAL"`` (``"node/SEC.MS:SERIAL"``
with a node) and ``source_stream`` is ``"<node or 'localhost'>/boot<k>"``. The serial is host-global and restarts at
boot, so ``k`` (from 0, counted per node within one file, in file order) goes up by one at each event whose serial is
lower than the previous event's of that node, unless that step back is a reorder: at most ``REORDER_SERIALS``
serials back and no more than ``REORDER_SECONDS`` later (auditd logs concurrent events slightly out of order).

**Field map.** The event's *primary* record is its SYSCALL record if it has one, else its first record. Native
fields go to columns as follows (values in ``"..."`` are unquoted; *encoded* fields, which the kernel writes as hex
when they hold spaces, quotes or non-ASCII bytes, are decoded when unquoted and all hex digits, as auparse does):

===================== =================================================================================
column                native field(s)
===================== =================================================================================
time_us, time         SEC.MS of ``msg=audit(...)``; ``time_original`` is the ``"SEC.MS"`` text
event_code            the primary record's type (``SYSCALL`` for syscall events)
api_operation         SYSCALL: ENRICHED ``SYSCALL=``, else ``syscall`` named by ``arch`` (x86_64, aarch64),
                      else the number; other records: ``op``; AVC: ``operation``
status_id             ``success=yes``/``no``, ``res=success|1``/``failed|0``, AVC ``DENIED``/``denied``: 1/2; else 0
status_code           SYSCALL: ``exit``; else ``res``
actor_user_uid        ``euid`` when present (the effective actor), else ``uid``; names: ENRICHED ``EUID``/``UID``
actor_orig_uid        ``auid`` (LOGIN: ``old-auid``); name: ENRICHED ``AUID`` (``OLD-AUID``)
actor_session_uid     ``ses`` (LOGIN: ``old-ses``)
actor_process_pid     ``pid``
actor_process_name    ``exe`` (encoded), else ``comm`` (encoded)
target_user_uid       ``id`` of user-space records (account and login records); LOGIN: the new ``auid``
target_user_name      ``acct`` (encoded): the account logged in, created, deleted, or switched to by sudo/su
target_session_uid    LOGIN: the new ``ses``
process_cmdline       EXECVE ``a0..aN`` (encoded; ``aN_len``/``aN[i]`` pieces rejoined) joined by spaces, else
                      PROCTITLE ``proctitle`` (encoded, NUL-separated), else USER_CMD ``cmd``, else TTY/USER_TTY
                      ``data`` (keystrokes as logged)
file_path             PATH ``name`` (encoded) of the CREATE/DELETE item, else of item 0; a relative name is
                      joined to CWD ``cwd``
src_ip, src_port      ``addr``, ``rport``; SOCKADDR ``saddr`` (inet, inet6) of accept/recvfrom/recvmsg
src_hostname          ``hostname``
resource_uid, ..type  SOCKADDR ``saddr`` of other syscalls (connect, bind, ...): ``ip:port`` or a unix path
host_name             ``node=``
unmapped              JSON object of the native fields no column holds, keyed by record type: an object per
                      record, a list for PATH and for any type repeated in the event; values unquoted, not decoded
===================== =================================================================================

``?``, ``(none)``, ``(null)`` and empty values become null, and so do unset ids (``4294967295``, ``-1``,
``unset``). sudo and su (``USER_CMD``, and PAM records whose ``exe`` is sudo or su) thus read as an account switch:
``actor_orig_uid`` is the accountable login user (auid), ``actor_user_uid`` the uid the record was written under,
``target_user_name`` the account switched to (``acct``), ``process_cmdline`` the command (USER_CMD ``cmd``).
Classes and activities follow :data:`CLASS_OF_TYPE` and :data:`CLASS_OF_SYSCALL`.

**Bad input.** A line that is not an audit record (no ``type=... msg=audit(SEC.MS:SERIAL)`` header, invalid UTF-8,
a NUL byte, longer than :data:`MAX_RECORD_BYTES`) becomes a row of its own with ``parse_error`` set and ``raw`` kept;
a record with unbalanced quotes (a cut line) stays in its event, whose ``parse_error`` names the line. Blank lines are
not records. Corrupt compression ends the file with one more ``parse_error`` row (``raw`` empty) naming the fault.
Events that straddle a chunk boundary are kept whole: the events seen in the last ``CARRY_LOOKBACK`` lines of a chunk
are carried into the next one (up to ``MAX_CARRY_LINES`` lines; a longer event is split, each part its own row).

**Speed.** Lines are read by polars' CSV reader; headers, event ids, per-type fields and the mapping are polars
expressions on whole columns; only rare records (unusual types, split EXECVE arguments, non-ASCII hex, socket
addresses) go through Python. See ``benchmarks/bench_auditd.py``.
"""

from __future__ import annotations

import ipaddress
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING

import orjson
import polars as pl

from auditlab.load._batch import finish
from auditlab.load._io import CHUNK_BYTES, iter_chunks
from auditlab.load._lines import lines_frame
from auditlab.load._syscalls import BY_ARCH

if TYPE_CHECKING:
    from collections.abc import Iterator

    from auditlab.load._io import Source

__all__ = ["CLASS_OF_SYSCALL", "CLASS_OF_TYPE", "DESCRIPTION", "NAME", "parse", "sniff"]

NAME = "auditd"
DESCRIPTION = "Linux audit daemon logs (audit.log, raw or ENRICHED): one row per event"

MAX_RECORD_BYTES = 1 << 20
"""Longer lines are not audit records (the kernel's limit is under 9 KB): they become parse_error rows."""
REORDER_SERIALS = 256
REORDER_SECONDS = 2
CARRY_LOOKBACK = 64
WORKERS = 2
"""Chunks mapped at once, each in a thread (the work is in polars, which releases the GIL)."""
MAX_CARRY_LINES = 10_000

# ---------------------------------------------------------------------------------------------------------------
# Classes: OCSF class_uid and activity_id by record type (non-syscall events) and by syscall name.

_AUTH, _ACCOUNT, _GROUP, _PROCESS, _FILE, _NETWORK, _LOG = 3002, 3001, 3006, 1007, 1001, 4001, 1008

CLASS_OF_TYPE: dict[str, tuple[int, int]] = {
    # Authentication: 1 Logon, 2 Logoff, 99 Other
    "USER_LOGIN": (_AUTH, 1), "USER_LOGOUT": (_AUTH, 2), "USER_AUTH": (_AUTH, 1), "USER_ACCT": (_AUTH, 99),
    "USER_START": (_AUTH, 1), "USER_END": (_AUTH, 2), "CRED_ACQ": (_AUTH, 99), "CRED_DISP": (_AUTH, 99),
    "CRED_REFR": (_AUTH, 99), "LOGIN": (_AUTH, 99), "USER_ERR": (_AUTH, 99),
    # Account Change: 1 Create, 3 Password Change, 6 Delete, 9 Lock, 12 Unlock, 99 Other
    "ADD_USER": (_ACCOUNT, 1), "DEL_USER": (_ACCOUNT, 6),
    "USER_MGMT": (_ACCOUNT, 99), "USER_CHAUTHTOK": (_ACCOUNT, 3),
    # Group Management (3006): 5 Delete, 6 Create, 99 Other, as the syslog and journald loaders map groupadd/groupdel
    "ADD_GROUP": (_GROUP, 6), "DEL_GROUP": (_GROUP, 5), "GRP_MGMT": (_GROUP, 99),
    "GRP_CHAUTHTOK": (_ACCOUNT, 3), "ACCT_LOCK": (_ACCOUNT, 9), "ACCT_UNLOCK": (_ACCOUNT, 12),
    "CHGRP_ID": (_ACCOUNT, 99), "CHUSER_ID": (_ACCOUNT, 99), "ROLE_ASSIGN": (_ACCOUNT, 99),
    "ROLE_REMOVE": (_ACCOUNT, 99),
    # Process Activity: sudo's command
    "USER_CMD": (_PROCESS, 1),
    # Event Log Activity: 5 Rotate, 6 Start, 7 Stop, 9 Enable, 10 Disable (CONFIG_CHANGE: by audit_enabled), 99
    "DAEMON_START": (_LOG, 6), "DAEMON_END": (_LOG, 7), "DAEMON_ABORT": (_LOG, 7), "DAEMON_ROTATE": (_LOG, 5),
    "DAEMON_CONFIG": (_LOG, 99), "DAEMON_RESUME": (_LOG, 6), "DAEMON_ERR": (_LOG, 99), "CONFIG_CHANGE": (_LOG, 99),
}
"""``(class_uid, activity_id)`` of events whose primary record is not SYSCALL; other types are ``(0, 0)``."""


def _syscalls(names: str, class_activity: tuple[int, int]) -> dict[str, tuple[int, int]]:
    return dict.fromkeys(names.split(), class_activity)


CLASS_OF_SYSCALL: dict[str, tuple[int, int]] = {
    # Process Activity: 1 Launch, 5 Set User ID; every syscall not listed here is (1007, 99)
    **_syscalls("execve execveat", (_PROCESS, 1)),
    **_syscalls("setuid setreuid setresuid setfsuid setuid32 setreuid32 setresuid32 setfsuid32", (_PROCESS, 5)),
    # File System Activity: 1 Create, 3 Update, 4 Delete, 5 Rename, 6 Set Attributes, 7 Set Security, 12 Mount,
    # 13 Unmount, 14 Open
    **_syscalls("open openat openat2 open_by_handle_at", (_FILE, 14)),
    **_syscalls("creat mkdir mkdirat mknod mknodat link linkat symlink symlinkat", (_FILE, 1)),
    **_syscalls("truncate ftruncate", (_FILE, 3)),
    **_syscalls("unlink unlinkat rmdir", (_FILE, 4)),
    **_syscalls("rename renameat renameat2", (_FILE, 5)),
    **_syscalls("setxattr lsetxattr fsetxattr removexattr lremovexattr fremovexattr utime utimes utimensat "
                "futimesat", (_FILE, 6)),
    **_syscalls("chmod fchmod fchmodat fchmodat2 chown fchown lchown fchownat", (_FILE, 7)),
    **_syscalls("mount mount_setattr move_mount", (_FILE, 12)),
    **_syscalls("umount umount2", (_FILE, 13)),
    # Network Activity: 1 Open, 6 Traffic, 7 Listen, 99 Other
    **_syscalls("connect accept accept4", (_NETWORK, 1)),
    **_syscalls("sendto recvfrom sendmsg recvmsg", (_NETWORK, 6)),
    **_syscalls("listen", (_NETWORK, 7)),
    **_syscalls("bind", (_NETWORK, 99)),
}
"""``(class_uid, activity_id)`` of SYSCALL events by syscall name."""

_REPRESENTATIVES = ("SYSCALL", "LOGIN", "USER_LOGIN", "CRYPTO_SESSION", "DAEMON_START", "CONFIG_CHANGE", "TTY",
                    "USER_ROLE_CHANGE")  # one record type of each family of FIELDS read for primary records
_SECONDARY = ("EXECVE", "PROCTITLE", "CWD", "PATH", "SOCKADDR")  # read per event, wherever they are
_SOURCE_SYSCALLS = ("accept", "accept4", "recvfrom", "recvmsg")  # their SOCKADDR is the peer: src_ip

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ---------------------------------------------------------------------------------------------------------------
# Fields. Records of these types have a known layout: their fields are read by vectorized extraction (FIELDS);
# records of any other type are tokenized in Python (rare). The mapping reads MAPPED; HELD never goes to unmapped.

_SYSCALL_FIELDS = ("arch syscall per success exit a0 a1 a2 a3 items ppid pid auid uid gid euid suid fsuid egid sgid "
                   "fsgid tty ses comm exe subj key")
_USER_FIELDS = "pid uid auid ses subj op grantors acct id exe hostname addr terminal res cmd cwd unit comm rport"
_USER_TYPES = _words(
    "USER_AUTH USER_ACCT USER_MGMT CRED_ACQ CRED_DISP USER_START USER_END USER_CHAUTHTOK USER_LOGIN "
    "USER_LOGOUT USER_ERR CRED_REFR USER_CMD ADD_USER DEL_USER ADD_GROUP DEL_GROUP GRP_MGMT "
    "GRP_CHAUTHTOK ACCT_LOCK ACCT_UNLOCK CHGRP_ID CHUSER_ID ROLE_ASSIGN ROLE_REMOVE SERVICE_START "
    "SERVICE_STOP SYSTEM_BOOT SYSTEM_SHUTDOWN SYSTEM_RUNLEVEL"
)
_CRYPTO_FIELDS = ("pid uid auid ses subj op kind fp direction spid suid rport laddr lport cipher ksize mac pfs exe "
                  "hostname addr terminal res")
_DAEMON_FIELDS = "op ver format kernel auid pid uid ses subj res"
_CONFIG_FIELDS = ("auid ses subj op key list res audit_enabled old audit_pid old_audit_pid audit_backlog_limit "
                  "audit_failure audit_rate_limit backlog_wait_time")
_TTY_FIELDS = "tty pid uid auid ses subj major minor comm data"
_ROLE_FIELDS = "pid uid auid ses subj op default-context selected-context exe hostname addr terminal res"
_PATH_FIELDS = ("item name inode dev mode ouid ogid rdev obj nametype objtype cap_fp cap_fi cap_fe cap_fver "
                "cap_frootid")
FIELDS: dict[str, tuple[str, ...]] = {
    "SYSCALL": tuple(_SYSCALL_FIELDS.split()),
    "LOGIN": ("pid", "uid", "subj", "old-auid", "auid", "tty", "old-ses", "ses", "res"),
    **dict.fromkeys(("CRYPTO_KEY_USER", "CRYPTO_SESSION"), tuple(_CRYPTO_FIELDS.split())),
    **dict.fromkeys(("DAEMON_START", "DAEMON_END", "DAEMON_ABORT", "DAEMON_CONFIG", "DAEMON_ROTATE",
                     "DAEMON_RESUME"), tuple(_DAEMON_FIELDS.split())),
    "CONFIG_CHANGE": tuple(_CONFIG_FIELDS.split()),
    **dict.fromkeys(("TTY", "USER_TTY"), tuple(_TTY_FIELDS.split())),
    **dict.fromkeys(("USER_ROLE_CHANGE", "USYS_CONFIG"), tuple(_ROLE_FIELDS.split())),
    **dict.fromkeys(_USER_TYPES, tuple(_USER_FIELDS.split())),
    "PATH": tuple(_PATH_FIELDS.split()),
    "CWD": ("cwd",),
    "EXECVE": ("argc",),
    "PROCTITLE": ("proctitle",),
    "SOCKADDR": ("saddr",),
}
"""Native fields read from records of each known type (all fields of such records, as written by Linux 3.x-6.x)."""

MAPPED = ("arch", "syscall", "success", "exit", "pid", "uid", "euid", "auid", "ses", "comm", "exe", "op", "acct",
          "id", "hostname", "addr", "rport", "res", "cmd", "data", "old-auid", "old-ses", "audit_enabled",
          "apparmor", "operation")
_HELD = _words(
    "syscall success exit res pid auid ses euid op acct id hostname addr rport cmd data old-auid old-ses "
    "exe proctitle"
)
_TRAILER = ("ARCH", "SYSCALL", "UID", "EUID", "AUID", "OLD-AUID")
_TRAILER_KEYS = ("ARCH=", "SYSCALL=", "UID=")  # a line holding none of these has no trailer field
_ENCODED = _words(
    "path comm exe file name watch cwd cmd acct dir key vm old-chardev new-chardev old-disk new-disk "
    "old-fs new-fs old-net new-net device cgroup proctitle grp new_group invalid_context sw root_dir "
    "ocomm old-rng new-rng data"
)
_UNSET_IDS = ["4294967295", "-1", "unset", "?", "", "(none)"]
_NULL_TEXT = ["?", "(none)", "(null)", "", "unset"]

_HEAD_CHARS = 256
# A record type is upper-case letters, digits and underscores, or UNKNOWN[N]: anything else (a backslash, a quote)
# is not an audit record, and could not be a JSON key of ``unmapped`` unescaped.
_HEADER = (r"^(?:node=(?<node>[^ ]+) )?type=(?<type>[A-Za-z0-9_]+(?:\[\d+\])?) "
           r"msg=audit\((?<sec>\d{1,12})\.(?<frac>\d{1,9}):(?<serial>\d{1,18})\)")
_VALUE = r"(\"[^\"]*\"|[^\s\x1d'\"]*)"
_CONTROL = r"[\x00-\x08\x0e-\x1c\x1e\x1f]"


def _field(name: str) -> str:
    return r"(?:^|[ '])" + re.escape(name) + "=" + _VALUE


# The kernel and libaudit write an apostrophe inside a double-quoted value as is (they hex-encode only values holding
# '"', blanks, control or non-ASCII bytes): a1="it's", acct="o'brien". Such an apostrophe is no quote, and no field
# starts after it ("x'res=failed" must not read as res=failed). Quoted values hold no blanks, so this finds them:
_QUOTED_APOSTROPHE = r"\"[^\" ]*'"
_QUOTED = r'"[^"]*"'


def _field_outside_quotes(name: str) -> str:
    """:func:`_field`, where the field starts outside double-quoted values (slower: for the lines that need it)."""
    return r'^(?:[^"]|"[^"]*")*?(?:^|[ \'])' + re.escape(name) + "=" + _VALUE


def sniff(head: bytes) -> bool:
    """Whether the start of a file looks like an audit log: one of its first five lines is an audit record.

    Examples:
        >>> sniff(b'type=DAEMON_START msg=audit(1481076983.819:7798): auditd start, ver=2.4.1\\n')
        True
        >>> sniff(b'{"Records": []}')
        False
    """
    lines = [line for line in head.split(b"\n")[:50] if line.strip()][:5]
    return any(_HEADER_BYTES.match(line) for line in lines)


_HEADER_BYTES = re.compile(rb"^(?:node=\S+ )?type=\S+ msg=audit\(\d+\.\d+:\d+\)")


def parse(source: Source, *, batch_rows: int, chunk_bytes: int = CHUNK_BYTES // WORKERS) -> Iterator[pl.DataFrame]:
    """Read an audit log into canonical frames of at most ``batch_rows`` rows, one row per event.

    Args:
        source: the file to read.
        batch_rows: the most rows per yielded frame.
        chunk_bytes: decompressed bytes read at a time (events that straddle chunks are kept whole); ``WORKERS``
            chunks are in flight at once.

    Examples:
        >>> import auditlab as al
        >>> events = al.load("../shared/samples/linux_auditd/go-libaudit_normal.log", format="auditd")
        >>> events.select("event_code", "api_operation", "process_cmdline").row(1)
        ('SYSCALL', 'execve', 'grep --color=auto mapping')
    """
    streams: dict[str, tuple[int, int, int]] = {}
    carry: pl.DataFrame | None = None
    pending: deque[Future[pl.DataFrame]] = deque()

    def ready(limit: int) -> Iterator[pl.DataFrame]:  # in chunk order; streams are counted here, in order
        while len(pending) > limit:
            yield from _slices(_with_streams(pending.popleft().result(), streams), batch_rows)

    # Chunks are mapped concurrently (polars releases the GIL); at most WORKERS chunks are in flight.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for chunk in iter_chunks(source, chunk_bytes):
            records = _records(lines_frame(chunk))
            if carry is not None:
                records = pl.concat([carry, records])
            if chunk.error is None:
                records, carry = _split_tail(records)
            else:
                carry = None
            pending.append(pool.submit(_events, records, source.name))
            if chunk.error is not None:
                error = {"raw": [""], "parse_error": [chunk.error], "source_line": [None], "source_offset": [None]}
                pending.append(pool.submit(finish, error, source_type=NAME, source_file=source.name))
            yield from ready(WORKERS)
        if carry is not None and carry.height:
            pending.append(pool.submit(_events, carry, source.name))
        yield from ready(0)


def _slices(frame: pl.DataFrame, batch_rows: int) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, batch_rows):
        yield frame.slice(start, batch_rows)


# ---------------------------------------------------------------------------------------------------------------
# Lines and records


def _records(lines: pl.DataFrame) -> pl.DataFrame:
    """Parse the header of each line; set ``error`` for lines that are not audit records, ``warn`` for cut ones."""
    text = pl.col("text")
    hdr = text.str.head(_HEAD_CHARS).str.extract_groups(_HEADER)
    frame = lines.with_columns(hdr.alias("h"), text.str.len_bytes().alias("size"))
    frame = frame.unnest("h").with_columns(
        pl.when(pl.col("error").is_not_null()).then(pl.col("error"))
        .when(text.str.contains("\x00", literal=True)).then(pl.lit("NUL byte in line"))
        .when(pl.col("size") > MAX_RECORD_BYTES)
        .then(pl.format("line of {} bytes is longer than any audit record", pl.col("size")))
        .when(pl.col("type").is_null())
        .then(pl.lit("not an audit record: no 'type=... msg=audit(SEC.MS:SERIAL)' header"))
        .alias("error"),
    )
    ok = pl.col("error").is_null()
    stamp = pl.concat_str(pl.col("sec"), pl.lit("."), pl.col("frac"), pl.lit(":"), pl.col("serial"))
    pairs = text.str.count_matches(_QUOTED)  # complete "..." values; apostrophes inside them are text
    dangling = text.str.count_matches('"', literal=True) - 2 * pairs
    apostrophes = text.str.count_matches("'|" + _QUOTED) - pairs  # those outside "..." values
    return frame.select(
        "line", "offset", "text",
        pl.when(ok).then(pl.col("node")).alias("node"),
        pl.when(ok).then(pl.col("type")).alias("type"),
        pl.when(ok).then(stamp).alias("stamp"),
        pl.when(ok).then(pl.col("sec").cast(pl.Int64) * 1_000_000
                         + pl.col("frac").str.pad_end(6, "0").str.head(6).cast(pl.Int64)).alias("time_us"),
        pl.when(ok).then(pl.col("serial").cast(pl.Int64, strict=False)).alias("serial"),
        pl.when(ok).then(pl.concat_str(pl.col("node"), stamp, separator="/", ignore_nulls=True))
        .otherwise(pl.format("!{}", pl.col("line"))).alias("key"),
        "error",
        pl.when(ok & ((dangling > 0) | (apostrophes % 2 == 1)))
        .then(pl.format("line {}: unbalanced quotes (a cut record?)", pl.col("line"))).alias("warn"),
    )


def _split_tail(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Split off the lines of the events that may go on in the next chunk (a suffix, so rows stay in file order)."""
    n = records.height
    if n == 0:
        return records, None
    key = records.get_column("key")
    start = int(key.is_in(key.tail(CARRY_LOOKBACK).implode()).arg_max() or 0)
    while True:  # the suffix must also hold the earlier records of every event it holds
        earlier = int(key.is_in(key.slice(start).implode()).arg_max() or 0)
        if earlier >= start:
            break
        start = earlier
    if n - start > MAX_CARRY_LINES:  # only the last event, and only if it is not too long itself
        same = (key == key[-1]).reverse()
        start = n - int(same.arg_min() if not same.all() else n)
        if n - start > MAX_CARRY_LINES:
            start = n
    return records.slice(0, start), records.slice(start)


def _event_ids(key: pl.Series) -> pl.Series:
    """Event numbers 0..E-1 in order of first appearance: runs of one key, and later runs of a key rejoin it."""
    new = (key != key.shift(1)).fill_null(True)
    run = new.cum_sum() - 1
    run_keys = key.filter(new)
    if not run_keys.is_duplicated().any():
        return run.cast(pl.Int64)
    first_run = run_keys.to_frame("key").with_row_index("i").select(pl.col("i").min().over("key")).to_series()
    event_of_run = first_run.rank("dense") - 1
    return event_of_run.gather(run).cast(pl.Int64)


# ---------------------------------------------------------------------------------------------------------------
# Values


def _unquote(e: pl.Expr) -> pl.Expr:
    quoted = e.str.starts_with('"') & e.str.ends_with('"') & (e.str.len_bytes() >= 2)
    return pl.when(quoted).then(e.str.slice(1, e.str.len_bytes() - 2)).otherwise(e)


@lru_cache(maxsize=4096)
def _hex_text(value: str) -> str:
    return bytes.fromhex(value).decode("utf-8", "backslashreplace")


def _decode(values: pl.Series) -> pl.Series:
    """Decode an encoded field: quoted text is unquoted, unquoted all-hex text is hex-decoded (UTF-8)."""
    frame = pl.DataFrame({"v": values})
    v = pl.col("v")
    is_hex = v.str.contains(r"^(?:[0-9A-Fa-f]{2})+$")
    ascii_hex = v.str.contains(r"^(?:[0-7][0-9A-Fa-f])+$")
    out = frame.select(
        pl.when(is_hex & ascii_hex).then(v).str.decode("hex", strict=False).cast(pl.String).alias("hex"),
        _unquote(v).alias("plain"),
        (is_hex & ~ascii_hex).alias("slow"),
    )
    result = out.select(pl.coalesce("hex", "plain")).to_series()
    slow = out.get_column("slow").fill_null(False)
    if slow.any():
        idx = slow.arg_true()
        result = result.scatter(idx, [_hex_text(x) for x in values.gather(idx).to_list()])
    return result.alias(values.name)


def _json_string(e: pl.Expr) -> pl.Expr:
    escaped = e.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
    return pl.concat_str(pl.lit('"'), escaped, pl.lit('"'))


def _json_object(members: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """A JSON object of the non-null ``(key, native value)`` members (unquoted; text without control characters)."""
    if not members:
        return pl.lit(None, pl.String)
    parts = [pl.when(e.is_not_null()).then(pl.concat_str(pl.lit(f',"{k}":'), _json_string(_unquote(e))))
             for k, e in members]
    body = pl.concat_str(parts, ignore_nulls=True)
    return pl.when(body != "").then(pl.concat_str(pl.lit("{"), body.str.slice(1), pl.lit("}")))


def _native_object(members: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """:func:`_json_object` of native values as extracted (``_VALUE``: no ``"`` but the enclosing pair), faster.

    Such a value holds no ``"`` once unquoted, so unquoting is stripping ``"`` and escaping is doubling ``\\``,
    done once on the whole object (keys hold none).
    """
    if not members:
        return pl.lit(None, pl.String)
    parts = [pl.concat_str(pl.lit(f',"{k}":"'), e.str.strip_chars('"'), pl.lit('"')) for k, e in members]
    body = pl.concat_str(parts, ignore_nulls=True)
    return pl.when(body != "").then(
        pl.concat_str(pl.lit("{"), body.str.slice(1), pl.lit("}")).str.replace_all("\\", "\\\\", literal=True)
    )


def _members(frame: pl.DataFrame, names: tuple[str, ...] | list[str]) -> list[tuple[str, pl.Expr]]:
    return [(n, pl.col(n)) for n in names if n in frame.columns]


_TOKEN = re.compile(r"""([A-Za-z0-9_\[\]-]+)=("[^"]*"|'(?:[^'"]|"[^"]*")*'|[^\s\x1d'"]*)""")
_BODY = re.compile(r"msg=audit\([^)]*\):? ?")


@lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[tuple[str, str], ...]:
    """Native ``key=value`` pairs of a record in order, the inner ``msg='...'`` of user-space records flattened."""
    m = _BODY.search(text)
    body = (text[m.end():] if m else text).split("\x1d", 1)[0]
    out: list[tuple[str, str]] = []
    for key, value in _TOKEN.findall(body):
        if key == "msg" and value.startswith("'"):
            out.extend(_tokens("msg=audit(): " + value.strip("'")))
        else:
            out.append((key, value))
    return tuple(out)


def _plain(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _generic(texts: list[str], held: bool) -> tuple[dict[str, list[str | None]], list[str | None]]:
    """Python path for records of other types: the MAPPED fields (native text) and the unmapped JSON object."""
    records = [_first(_tokens(text)) for text in texts]
    columns = {name: [r.get(name) for r in records] for name in MAPPED}
    objects: list[str | None] = []
    for fields in records:
        if held:
            skip = _HELD_NO_UID if "euid" in fields else _HELD_UID
            if "exe" not in fields:
                skip = skip | {"comm"}
        else:
            skip = frozenset()
        rest = {k: _plain(v) for k, v in fields.items() if k not in skip}
        objects.append(orjson.dumps(rest).decode() if rest else None)
    return columns, objects


def _first(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)  # the first of a repeated key wins
    return out


_HELD_UID = _HELD | {"uid"}
_HELD_NO_UID = _HELD


# ---------------------------------------------------------------------------------------------------------------
# Events


def _events(records: pl.DataFrame, source_file: str) -> pl.DataFrame:
    """Group records into events and map each event to the canonical columns (``source_stream`` comes later)."""
    if records.height == 0:
        return finish(pl.DataFrame({"raw": []}, schema={"raw": pl.String}), source_type=NAME, source_file=source_file)
    rec = records.with_columns(
        pl.Series("event", _event_ids(records.get_column("key"))),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("rid"),
    )
    is_sys = pl.col("type") == "SYSCALL"
    events = rec.group_by("event", maintain_order=True).agg(
        pl.col("line").first(), pl.col("offset").first(), pl.col("text").str.join("\n").alias("raw"),
        pl.col("rid").first().alias("first_rid"), pl.col("rid").filter(is_sys).first().alias("sys_rid"),
        pl.col("error").first(), pl.col("warn").drop_nulls().first(),
    )
    events = events.with_columns(pl.coalesce("sys_rid", "first_rid").alias("rid"))
    good = events.filter(pl.col("error").is_null())
    prim = rec.select("rid", "event", "text", "node", "type", "stamp", "time_us", "serial").gather(
        good.get_column("rid")
    )
    prim, pieces = _primary_fields(prim)
    second, more = _secondary(rec, good.get_column("rid"))
    out = events.join(prim.drop("rid"), on="event", how="left").join(second, on="event", how="left")
    out = out.join(_unmapped(pl.concat([pieces, more])), on="event", how="left")
    return finish(_map(out), source_type=NAME, source_file=source_file)


def _extract(frame: pl.DataFrame, names: tuple[str, ...] | list[str]) -> pl.DataFrame:
    text = pl.col("text")
    quirky = frame.select(text.str.contains(_QUOTED_APOSTROPHE).fill_null(False)).to_series()
    if not quirky.any():
        return frame.with_columns(text.str.extract(_field(n), 1).alias(n) for n in names)
    frame = frame.with_columns(quirky.alias("_quirky"), pl.int_range(pl.len()).alias("_order"))
    plain = frame.filter(~pl.col("_quirky")).with_columns(text.str.extract(_field(n), 1).alias(n) for n in names)
    odd = frame.filter("_quirky").with_columns(text.str.extract(_field_outside_quotes(n), 1).alias(n) for n in names)
    return pl.concat([plain, odd]).sort("_order").drop("_quirky", "_order")


def _primary_fields(prim: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The MAPPED native fields of each event's primary record, and its unmapped piece (rid, event, type, obj)."""
    prim = prim.with_columns((~pl.col("text").str.contains(_CONTROL)).alias("clean"))
    parts = []
    families = _families(*_REPRESENTATIVES)
    for type_names, names in families:
        part = _extract(prim.filter(pl.col("type").is_in(type_names) & pl.col("clean")), names)
        members = [(n, pl.col(n)) for n in names if n not in _HELD and n not in ("uid", "comm")]
        if "euid" in names:  # uid is held unless there is an euid
            members.append(("uid", pl.when(pl.col("euid").is_not_null()).then(pl.col("uid"))))
        else:
            members.append(("uid", pl.lit(None, pl.String)))
        if "comm" in names and "exe" in names:  # comm is held when there is no exe
            members.append(("comm", pl.when(pl.col("exe").is_not_null()).then(pl.col("comm"))))
        part = part.with_columns(_native_object(members).alias("obj"))
        parts.append(part.select("rid", *[pl.col(n) if n in part.columns else pl.lit(None, pl.String).alias(n)
                                         for n in MAPPED], "obj"))
    known = [t for type_names, _ in families for t in type_names]
    parts.append(prim.filter(pl.col("type").is_in(_SECONDARY)).select(
        "rid", *[pl.lit(None, pl.String).alias(n) for n in MAPPED], pl.lit(None, pl.String).alias("obj")))
    rest = prim.filter((~pl.col("type").is_in(known) | ~pl.col("clean")) & ~pl.col("type").is_in(_SECONDARY))
    if rest.height:
        columns, objects = _generic(rest.get_column("text").to_list(), held=True)
        parts.append(pl.DataFrame({"rid": rest.get_column("rid"), **columns, "obj": objects},
                                  schema={"rid": pl.Int64, **dict.fromkeys(MAPPED, pl.String), "obj": pl.String}))
    fields = pl.concat(parts)
    trailer = [pl.col("text").str.extract(r"[\x1d ]" + re.escape(t) + "=" + _VALUE, 1).alias(f"T_{t}")
               for t in _TRAILER]
    may_trail = pl.any_horizontal(pl.col("text").str.contains(k, literal=True) for k in _TRAILER_KEYS)
    trail = prim.filter(may_trail).select("rid", *trailer)  # ENRICHED lines only: a cheap literal test first
    prim = prim.join(fields, on="rid", how="left").join(trail, on="rid", how="left")
    pieces = prim.filter(~pl.col("type").is_in(_SECONDARY)).select("rid", "event", "type", "obj")
    prim = prim.drop("clean", "obj", "text").with_columns(
        *[_decode(prim.get_column(n)) for n in MAPPED if n in _ENCODED],
    )
    return prim, pieces


def _families(*representatives: str) -> list[tuple[list[str], tuple[str, ...]]]:
    out = []
    for rep in representatives:
        names = FIELDS[rep]
        out.append(([t for t, f in FIELDS.items() if f is names], names))
    return out


def _secondary(rec: pl.DataFrame, primary_rids: pl.Series) -> pl.DataFrame:
    """Per event: EXECVE arguments, PROCTITLE, CWD, the PATH that matters, SOCKADDR, and the unmapped JSON."""
    not_primary = ~pl.col("rid").is_in(primary_rids.implode()) | pl.col("type").is_in(_SECONDARY)
    sec = rec.filter(pl.col("error").is_null() & not_primary)
    sec = sec.select("rid", "event", "type", "text")
    events = rec.select(pl.col("event").unique())
    objs = []

    # EXECVE: arguments, in order; split arguments (aN_len, aN[i]) in Python
    ex = sec.filter(pl.col("type") == "EXECVE")
    is_split = pl.col("event").is_in(ex.filter(pl.col("text").str.contains(r" a\d+(?:_len|\[\d+\])="))
                                     .get_column("event").implode())
    split, plain = ex.filter(is_split), ex.filter(~is_split)
    args = plain.select("event", pl.col("text").str.extract_all(r" a\d+=" + _VALUE).alias("a")).explode("a")
    args = args.drop_nulls("a").with_columns(pl.col("a").str.replace(r"^ a\d+=", ""))
    args = args.with_columns(_decode(args.get_column("a")))
    cmd = args.group_by("event", maintain_order=True).agg(pl.col("a").str.join(" ").alias("args"))
    if split.height:
        joined = split.group_by("event", maintain_order=True).agg(pl.col("text"))
        cmd = pl.concat([cmd, pl.DataFrame({
            "event": joined.get_column("event"),
            "args": [_split_args(t) for t in joined.get_column("text").to_list()],
        }, schema={"event": pl.Int64, "args": pl.String})])
    ex = _extract(ex, ["argc"])
    objs.append(ex.select("rid", "event", "type", _native_object(_members(ex, ["argc"])).alias("obj")))

    # PROCTITLE, CWD, PATH
    pt = _extract(sec.filter(pl.col("type") == "PROCTITLE"), ["proctitle"])
    pt = pt.with_columns(_decode(pt.get_column("proctitle")).str.replace_all("\x00", " ", literal=True)
                         .str.strip_chars_end(" "))
    pt = pt.group_by("event", maintain_order=True).agg(pl.col("proctitle").first())
    cwd = _extract(sec.filter(pl.col("type") == "CWD"), ["cwd"])
    objs.append(cwd.select("rid", "event", "type", _native_object(_members(cwd, ["cwd"])).alias("obj")))
    cwd = cwd.with_columns(_decode(cwd.get_column("cwd"))).group_by("event", maintain_order=True).agg(
        pl.col("cwd").first()
    )
    path = _extract(sec.filter(pl.col("type") == "PATH"), FIELDS["PATH"])
    objs.append(path.select("rid", "event", "type", _native_object(_members(path, FIELDS["PATH"])).alias("obj")))
    nametype = pl.coalesce(pl.col("nametype"), pl.col("objtype"))
    rank = pl.when(nametype.is_in(["CREATE", "DELETE"])).then(0).when(pl.col("item") == "0").then(1).otherwise(2)
    path = path.with_columns(_decode(path.get_column("name")).alias("name"), rank.alias("rank"))
    path = path.group_by("event", maintain_order=True).agg(pl.col("name").sort_by("rank").first().alias("path_name"))

    # SOCKADDR
    sock = _extract(sec.filter(pl.col("type") == "SOCKADDR"), ["saddr"])
    decoded = [_sockaddr(s) for s in sock.get_column("saddr").to_list()]
    sock = sock.with_columns(
        pl.Series("family", [d[0] for d in decoded], dtype=pl.String),
        pl.Series("sock_addr", [d[1] for d in decoded], dtype=pl.String),
        pl.Series("sock_port", [d[2] for d in decoded], dtype=pl.Int32),
    )
    sock = sock.with_columns(pl.col("sock_port").cast(pl.String).alias("port"), pl.col("sock_addr").alias("addr"))
    members = _members(sock, ["saddr", "family", "addr", "port"])
    objs.append(sock.select("rid", "event", "type", _json_object(members).alias("obj")))
    sock = sock.group_by("event", maintain_order=True).agg(pl.col("family", "sock_addr", "sock_port").first())

    # other record types: Python
    other = sec.filter(~pl.col("type").is_in(_SECONDARY))
    if other.height:
        _, objects = _generic(other.get_column("text").to_list(), held=False)
        objs.append(other.select("rid", "event", "type").with_columns(pl.Series("obj", objects, dtype=pl.String)))
    out = events
    for part in (cmd, pt, cwd, path, sock):
        out = out.join(part, on="event", how="left")
    return out, pl.concat(objs)


def _split_args(texts: list[str]) -> str:
    """Rejoin the arguments of EXECVE records, including arguments split into ``aN_len``/``aN[i]`` pieces."""
    fields: dict[str, str] = {}
    for text in texts:
        for key, value in _tokens(text):
            fields.setdefault(key, value)
    count = int(fields["argc"]) if fields.get("argc", "").isdigit() else 1 + max(
        (int(m[1]) for k in fields if (m := re.match(r"a(\d+)", k))), default=-1
    )
    args = []
    for i in range(count):
        if f"a{i}" in fields:
            pieces = [fields[f"a{i}"]]
        else:
            pieces = [fields[k] for j in range(len(fields)) if (k := f"a{i}[{j}]") in fields]
        data = b"".join(_raw_bytes(p) for p in pieces)
        args.append(data.decode("utf-8", "backslashreplace"))
    return " ".join(args)


def _raw_bytes(value: str) -> bytes:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].encode()
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", value):
        return bytes.fromhex(value)
    return value.encode()


@lru_cache(maxsize=4096)
def _sockaddr(saddr: str | None) -> tuple[str | None, str | None, int | None]:
    """Family, address (IP or unix path) and port of a SOCKADDR ``saddr`` (hex of a struct sockaddr)."""
    try:
        data = bytes.fromhex(saddr or "")
    except ValueError:
        return None, None, None
    if len(data) < 2:
        return None, None, None
    family = int.from_bytes(data[:2], "little")
    if family == 2 and len(data) >= 8:
        return "inet", str(ipaddress.IPv4Address(data[4:8])), int.from_bytes(data[2:4], "big")
    if family == 10 and len(data) >= 24:
        return "inet6", str(ipaddress.IPv6Address(data[8:24])), int.from_bytes(data[2:4], "big")
    if family == 1:  # AF_UNIX; an abstract name starts with NUL
        path = data[2:]
        name = "@" + path[1:].split(b"\x00")[0].decode("utf-8", "backslashreplace") if path[:1] == b"\x00" else (
            path.split(b"\x00")[0].decode("utf-8", "backslashreplace"))
        return "unix", name or None, None
    names = {0: "unspec", 16: "netlink", 17: "packet"}
    return names.get(family, str(family)), None, None


def _with_streams(frame: pl.DataFrame, streams: dict[str, tuple[int, int, int]]) -> pl.DataFrame:
    """``source_stream``: host and boot, a boot starting where the serial steps back (see the module docstring).

    ``frame`` is a finished batch; ``streams`` holds each node's last serial, time and boot, carried across batches.
    """
    ev = frame.select(
        pl.coalesce(pl.col("host_name"), pl.lit("localhost")).alias("_node"), pl.col("source_seq").alias("serial"),
        "time_us",
    ).with_row_index("event").filter(pl.col("serial").is_not_null())
    if ev.height == 0:
        return frame

    def state(i: int) -> pl.Expr:
        if not streams:
            return pl.lit(None, pl.Int64)
        return pl.col("_node").replace_strict({k: v[i] for k, v in streams.items()}, default=None,
                                              return_dtype=pl.Int64)

    prev_s = pl.col("serial").shift(1).over("_node")
    prev_t = pl.col("time_us").shift(1).over("_node")
    is_first = pl.int_range(pl.len()).over("_node") == 0
    prev_s = pl.when(is_first).then(state(0)).otherwise(prev_s)
    prev_t = pl.when(is_first).then(state(1)).otherwise(prev_t)
    reorder = ((prev_s - pl.col("serial")) <= REORDER_SERIALS) & (
        (pl.col("time_us") - prev_t) <= REORDER_SECONDS * 1_000_000)
    new_boot = ((pl.col("serial") < prev_s) & ~reorder).fill_null(False)
    ev = ev.with_columns((state(2).fill_null(0) + new_boot.cast(pl.Int64).cum_sum().over("_node")).alias("boot"))
    last = ev.group_by("_node").agg(pl.col("serial", "time_us", "boot").last())
    for node_name, serial, time_us, boot in last.iter_rows():
        streams[node_name] = (serial, time_us, boot)
    stream = pl.Series("source_stream", [None] * frame.height, dtype=pl.String).scatter(
        ev.get_column("event"), ev.select(pl.format("{}/boot{}", "_node", "boot")).to_series())
    return frame.with_columns(stream)


def _id(name: str) -> pl.Expr:
    value = _unquote(pl.col(name))
    return pl.when(~value.is_in(_UNSET_IDS)).then(value)


def _text(e: pl.Expr) -> pl.Expr:
    return pl.when(~e.is_in(_NULL_TEXT)).then(e)


def _map(ev: pl.DataFrame) -> pl.DataFrame:
    """The canonical columns of each event, from its native fields (the table in the module docstring)."""
    t = pl.col("type")
    login = t == "LOGIN"
    is_sys = t == "SYSCALL"
    table = {f"{arch}:{num}": name for arch, names in BY_ARCH.items() for num, name in names.items()}
    number = pl.col("syscall")
    sys_name = pl.coalesce(
        _text(_unquote(pl.col("T_SYSCALL"))),
        pl.concat_str(pl.col("arch"), pl.lit(":"), number).replace_strict(table, default=None, return_dtype=pl.String),
        number,
    )
    operation = pl.when(is_sys).then(sys_name).otherwise(
        _text(_unquote(pl.coalesce(pl.col("op"), pl.col("operation"))))
    )
    by_type = pl.when(is_sys).then(
        sys_name.replace_strict({k: v[0] for k, v in CLASS_OF_SYSCALL.items()}, default=_PROCESS,
                                return_dtype=pl.Int32)
    ).otherwise(t.replace_strict({k: v[0] for k, v in CLASS_OF_TYPE.items()}, default=0, return_dtype=pl.Int32))
    enabled = _unquote(pl.col("audit_enabled"))
    activity = (
        pl.when(is_sys).then(sys_name.replace_strict({k: v[1] for k, v in CLASS_OF_SYSCALL.items()}, default=99,
                                                     return_dtype=pl.Int16))
        .when((t == "CONFIG_CHANGE") & (enabled == "0")).then(pl.lit(10, pl.Int16))
        .when((t == "CONFIG_CHANGE") & (enabled == "1")).then(pl.lit(9, pl.Int16))
        .otherwise(t.replace_strict({k: v[1] for k, v in CLASS_OF_TYPE.items()}, default=0, return_dtype=pl.Int16))
    )
    success, res = pl.col("success"), _unquote(pl.col("res"))
    apparmor = _unquote(pl.col("apparmor"))
    status = (
        pl.when(success == "yes").then(1).when(success == "no").then(2)
        .when(res.is_in(["success", "1", "yes"])).then(1).when(res.is_in(["failed", "0", "no", "failure"])).then(2)
        .when(apparmor.is_in(["DENIED"]) | pl.col("raw").str.contains("avc:  denied", literal=True)).then(2)
        .when(apparmor.is_in(["ALLOWED", "AUDIT"]) | pl.col("raw").str.contains("avc:  granted", literal=True))
        .then(1).otherwise(0)
    )
    has_euid = _id("euid").is_not_null()
    cwd = pl.col("cwd").str.strip_chars_end("/")
    path = pl.col("path_name")
    relative = path.is_not_null() & ~path.str.starts_with("/") & cwd.is_not_null()
    sockaddr = pl.col("sock_addr")
    family = pl.col("family")
    is_source = is_sys & sys_name.is_in(_SOURCE_SYSCALLS) & family.is_in(["inet", "inet6"])
    endpoint = (
        pl.when(family == "inet").then(pl.format("{}:{}", sockaddr, pl.col("sock_port")))
        .when(family == "inet6").then(pl.format("[{}]:{}", sockaddr, pl.col("sock_port")))
        .when(family == "unix").then(sockaddr)
    )
    trailer_user = pl.when(has_euid).then(pl.col("T_EUID")).otherwise(pl.col("T_UID"))
    return ev.select(
        "time_us",
        pl.format("{}", pl.col("stamp").str.extract(r"^([^:]+)", 1)).alias("time_original"),
        pl.when(t.is_not_null()).then(by_type).alias("class_uid"),
        pl.when(t.is_not_null()).then(activity).alias("activity_id"),
        t.alias("event_code"),
        operation.alias("api_operation"),
        pl.when(t.is_not_null()).then(status).cast(pl.Int16).alias("status_id"),
        _text(pl.when(is_sys).then(pl.col("exit")).otherwise(res)).alias("status_code"),
        pl.coalesce(_id("euid"), _id("uid")).alias("actor_user_uid"),
        _text(_unquote(trailer_user)).alias("actor_user_name"),
        pl.when(login).then(_id("old-auid")).otherwise(_id("auid")).alias("actor_orig_uid"),
        _text(_unquote(pl.when(login).then(pl.col("T_OLD-AUID")).otherwise(pl.col("T_AUID")))).alias(
            "actor_orig_name"),
        pl.when(login).then(_id("old-ses")).otherwise(_id("ses")).alias("actor_session_uid"),
        pl.col("pid").cast(pl.Int64, strict=False).alias("actor_process_pid"),
        pl.coalesce(_text(pl.col("exe")), _text(pl.col("comm"))).alias("actor_process_name"),
        pl.when(login).then(_id("auid")).otherwise(_id("id")).alias("target_user_uid"),
        _text(pl.col("acct")).alias("target_user_name"),
        pl.when(login).then(_id("ses")).alias("target_session_uid"),
        pl.coalesce("args", "proctitle", _text(pl.col("cmd")), _text(pl.col("data"))).alias("process_cmdline"),
        pl.when(relative).then(pl.concat_str(cwd, pl.lit("/"), path)).otherwise(path).alias("file_path"),
        pl.when(~is_source).then(endpoint).alias("resource_uid"),
        pl.when(~is_source & endpoint.is_not_null()).then(family).alias("resource_type"),
        pl.when(is_source).then(sockaddr).otherwise(_text(_unquote(pl.col("addr")))).alias("src_ip"),
        pl.when(is_source).then(pl.col("sock_port")).otherwise(pl.col("rport").cast(pl.Int32, strict=False))
        .alias("src_port"),
        _text(_unquote(pl.col("hostname"))).alias("src_hostname"),
        pl.col("node").alias("host_name"),
        pl.col("serial").alias("source_seq"),
        pl.when(pl.col("stamp").is_not_null())
        .then(pl.concat_str(pl.col("node"), pl.col("stamp"), separator="/", ignore_nulls=True))
        .alias("source_record_uid"),
        pl.col("line").alias("source_line"),
        pl.col("offset").alias("source_offset"),
        "raw", "unmapped",
        pl.coalesce("error", "warn").alias("parse_error"),
    )


def _unmapped(pieces: pl.DataFrame) -> pl.DataFrame:
    """Each event's unmapped JSON from its records' objects (PATH, and a type repeated in the event, become lists)."""
    pieces = pieces.filter(pl.col("obj").is_not_null()).sort("event", "rid")
    event = pl.col("event")
    alone = (event != event.shift(1)).fill_null(True) & (event != event.shift(-1)).fill_null(True)
    pieces = pieces.with_columns(alone.alias("alone"))
    singles = pieces.filter("alone").select("event", pl.concat_str(
        pl.lit('{"'), "type", pl.lit('":'), pl.when(pl.col("type") == "PATH").then(pl.lit("[")).otherwise(pl.lit("")),
        "obj", pl.when(pl.col("type") == "PATH").then(pl.lit("]}")).otherwise(pl.lit("}")),
    ).alias("unmapped"))
    pieces = pieces.filter(~pl.col("alone"))
    new = (pl.col("event") != pl.col("event").shift(1)) | (pl.col("type") != pl.col("type").shift(1))
    pieces = pieces.with_columns(new.fill_null(True).cum_sum().alias("run"))
    runs = pieces.group_by("run", maintain_order=True).agg(
        pl.col("event").first(), pl.col("type").first(), pl.col("obj").str.join(","), pl.len().alias("n"),
    )
    as_list = (pl.col("n") > 1) | (pl.col("type") == "PATH")
    runs = runs.with_columns(
        pl.when(as_list).then(pl.format('"{}":[{}]', "type", "obj")).otherwise(pl.format('"{}":{}', "type", "obj"))
        .alias("piece")
    )
    objects = runs.group_by("event", maintain_order=True).agg(
        pl.concat_str(pl.lit("{"), pl.col("piece").str.join(","), pl.lit("}")).alias("unmapped"),
        pl.col("type"), pl.col("obj"),
    )
    if runs.select(pl.struct("event", "type").is_duplicated().any()).item():  # a type in two runs: merge them
        fixed = [
            _merge(types, objs) if len(set(types)) < len(types) else text
            for types, objs, text in objects.select("type", "obj", "unmapped").iter_rows()
        ]
        objects = objects.with_columns(pl.Series("unmapped", fixed, dtype=pl.String))
    return pl.concat([singles, objects.select("event", "unmapped")])


def _merge(types: list[str], objs: list[str]) -> str:
    merged: dict[str, list[object]] = {}
    for type_name, obj in zip(types, objs, strict=True):
        merged.setdefault(type_name, []).extend(orjson.loads(f"[{obj}]"))
    return orjson.dumps({k: v[0] if len(v) == 1 and k != "PATH" else v for k, v in merged.items()}).decode()
