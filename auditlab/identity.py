"""Identity stitching: who is accountable for each event, how authority flowed, and which session it belongs to.

:func:`stitch` adds these columns to an events frame (any backend; the caller's type comes back):

==================  ========  ==================================================================================
column              dtype     meaning
==================  ========  ==================================================================================
actor               String    the accountable actor, readable: ``coalesce(actor_orig, actor_user)`` (name, else
                              uid), replaced by the human a CloudTrail role session or a Windows runas logon
                              was resolved to
actor_uid           String    the same actor's id (``coalesce(actor_orig_uid, actor_user_uid)``; a name where a
                              source carries no id, as syslog does)
actor_key           String    the actor normalized across sources (:func:`actor_key`), or what ``identities``
                              maps it to
attribution         String    how authority flowed, e.g. ``alice -> sudo -> root``,
                              ``arn:aws:iam::1:user/bob -> AssumeRole ops-admin -> AssumeRole audit``
privileged          Boolean   the effective identity differs from the accountable one
session_id          String    the session: native where the source has one, else an idle-gap session
logon_user          String    Windows: the account of the 4624 logon that created the event's LogonId
logon_type          String    ... its logon type (``10 RemoteInteractive``)
logon_src_ip        String    ... the address it came from
logon_src_hostname  String    ... the workstation it came from
==================  ========  ==================================================================================

How each source is stitched:

- **auditd**: ``auid`` is the original actor (the loader puts it in ``actor_orig_uid``), and with ``ses`` it
  survives sudo and su; ``session_id`` is ``auditd:<stream>:ses<N>``. An sshd connection logged by syslog or
  journald (``sshd[pid]``, and ``sshd[pid]#2`` for the pid's next connection after a disconnect: pids are reused)
  joins the auditd session opened by the same sshd pid on the same host within 5 minutes.
- **sudo / su** (syslog, journald, auditd): the invoker is the original actor, the target user the effective
  one: ``alice -> sudo -> root``.
- **CloudTrail**: a role or federated session (``assumed-role/ROLE/SESSION``) is resolved through the latest
  AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity or GetFederationToken in the data that issued it at
  or before the event, across any number of hops. A ``sourceIdentity`` (or ``onBehalfOf``) the record carries
  stays the accountable actor; the chain still shows in ``attribution``. Role sessions are sessions keyed by
  their temporary access key.
- **Windows**: an event with a LogonId (``SubjectLogonId``) inherits the 4624 logon that created it on that host
  (account, logon type, source address, workstation). A 4624 that follows a 4648 (explicit credentials: runas)
  for the same account on the same host within 5 seconds is credited to the 4648's subject, and so is everything
  done in that logon session: ``admmig -> explicit credentials -> hack1``. Sessions are LogonIds
  (except the permanent SYSTEM, LOCAL SERVICE and NETWORK SERVICE ones).
- **Kubernetes**: impersonation: ``user -> impersonate -> impersonatedUser``.
- **Everything else**, and events with no native session, fall into idle-gap sessions: one actor's events from
  one source on one host (or cloud account) with no pause longer than ``idle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import narwhals as nw

from auditlab import _frame
from auditlab._errors import InvalidArgument
from auditlab._frame import ORDER, Frame

if TYPE_CHECKING:
    import polars as pl

__all__ = ["STITCH_COLUMNS", "actor_key", "stitch"]

STITCH_COLUMNS: dict[str, str] = {
    "actor": "String",
    "actor_uid": "String",
    "actor_key": "String",
    "attribution": "String",
    "privileged": "Boolean",
    "session_id": "String",
    "logon_user": "String",
    "logon_type": "String",
    "logon_src_ip": "String",
    "logon_src_hostname": "String",
}
"""The columns :func:`stitch` adds, and their dtypes."""

REQUIRED = ("time_us", "source_type")
OPTIONAL = (
    "time", "source_seq", "source_file", "source_line", "source_offset", "source_stream", "source_record_uid",
    "actor_user_uid", "actor_user_name", "actor_user_type", "actor_user_domain", "actor_orig_uid",
    "actor_orig_name", "actor_credential_uid", "actor_session_uid", "actor_process_pid", "actor_process_name",
    "target_user_uid", "target_user_name", "target_session_uid", "api_operation", "event_code", "class_uid",
    "status_id", "resource_uid", "src_ip", "src_hostname", "host_name", "cloud_account_uid", "unmapped",
    "parse_error",
)

LOGON_TYPES = {
    "2": "Interactive", "3": "Network", "4": "Batch", "5": "Service", "7": "Unlock", "8": "NetworkCleartext",
    "9": "NewCredentials", "10": "RemoteInteractive", "11": "CachedInteractive", "12": "CachedRemoteInteractive",
    "13": "CachedUnlock",
}
"""Windows logon types (4624 ``LogonType``), as ``logon_type`` shows them."""

SWITCH_PROGRAMS = ("sudo", "su", "doas", "pkexec", "runuser", "sudoedit")
"""Programs whose rows show their own name in ``attribution``: ``alice -> sudo -> root``."""

ROLE_SESSION_TYPES = ("AssumedRole", "FederatedUser")
SSHD_ENDS = ("sshd.connection_closed", "sshd.disconnected", "sshd.received_disconnect", "sshd.timeout",
             "sshd.negotiation_failed", "pam.session_closed")
"""sshd and PAM messages that end a connection: the pid's next line starts another session."""
PERMANENT_LOGONS = ("0x3e7", "0x3e4", "0x3e5")  # SYSTEM, NETWORK SERVICE, LOCAL SERVICE: never end
_SSHD_LINK_US = 300 * 1_000_000
_RUNAS_US = 5 * 1_000_000

C = nw.col


def stitch(
    events: Frame,
    *,
    identities: Mapping[str, str] | Any | None = None,
    idle: timedelta = timedelta(minutes=30),
    include_errors: bool = False,
) -> Frame:
    """Add the accountable actor, its attribution chain and a session id to every event.

    Args:
        events: an events frame in the canonical schema (polars eager or lazy, pandas, DuckDB, PySpark).
        identities: overrides of ``actor_key``: a mapping ``{alias: key}`` or a frame with columns ``alias`` and
            ``actor_key``. An alias matches an event's accountable uid, its name or its normalized key,
            case-insensitively; use it to say that ``a.smith@corp.example`` and ``CORP\\asmith`` are one person.
        idle: the pause that ends a session for events with no native session id.
        include_errors: keep rows with ``parse_error`` set (they are skipped by default).

    Returns:
        ``events`` with the columns of :data:`STITCH_COLUMNS` added, in the caller's frame type.

    Examples:
        >>> import polars as pl
        >>> events = pl.DataFrame({
        ...     "time_us": [1, 2], "source_type": ["syslog", "k8s_audit"],
        ...     "actor_orig_name": ["alice", "CORP\\\\Bob"], "actor_user_name": ["root", "system:admin"],
        ...     "actor_process_name": ["sudo", None],
        ... })
        >>> for row in stitch(events).select("actor", "actor_key", "attribution").rows():
        ...     print(row)
        ('alice', 'alice', 'alice -> sudo -> root')
        ('CORP\\\\Bob', 'bob', 'CORP\\\\Bob -> impersonate -> system:admin')
    """
    frame, restore = _frame.lazy(events, analysis="stitch", required=REQUIRED, optional=OPTIONAL)
    return restore(_stitch(frame, like=events, identities=identities, idle=idle, include_errors=include_errors)
                   .sort(ORDER).drop(ORDER))


def actor_key(name: nw.Expr, source_type: nw.Expr | None = None) -> nw.Expr:
    """The normalized actor key of a name: what ``alice`` on Linux, ``CORP\\alice`` on Windows and
    ``alice@example.com`` or ``arn:aws:iam::123456789012:user/alice`` in the cloud have in common.

    Lower case; the domain of ``DOMAIN\\user`` and the path of an IAM user ARN dropped; a role session ARN
    reduced to its session name; an email reduced to its local part (except Google service accounts, whose local
    parts repeat across projects); uid 0 on Linux is ``root``.

    Examples:
        >>> import polars as pl
        >>> names = ["CORP\\\\Alice", "alice@example.com", "arn:aws:iam::1:user/ops/alice",
        ...          "arn:aws:sts::1:assumed-role/Admin/alice@example.com", "sa@p.iam.gserviceaccount.com"]
        >>> frame = nw.from_native(pl.DataFrame({"name": names}))
        >>> frame.select(actor_key(nw.col("name"))).to_native()["name"].to_list()
        ['alice', 'alice', 'alice', 'alice', 'sa@p.iam.gserviceaccount.com']
    """
    key = name.str.strip_chars().str.to_lowercase()
    key = key.str.replace_all(r"^arn:aws[a-z-]*:iam::[0-9]*:user/([^/]*/)*", "")
    key = key.str.replace_all(r"^arn:aws[a-z-]*:sts::[0-9]*:(assumed-role/[^/]*|federated-user)/", "")
    key = key.str.replace_all(r"^[^\\]*\\", "")
    email = key.str.contains("@", literal=True) & ~key.str.ends_with(".gserviceaccount.com")
    key = nw.when(email).then(key.str.replace_all("@.*$", "")).otherwise(key)
    if source_type is not None:
        key = nw.when((source_type == "auditd") & (key == "0")).then(nw.lit("root")).otherwise(key)
    return key


def _runs(program: str) -> nw.Expr:
    """The acting process is ``program``, by name or path (without a regex over every row)."""
    name = C("actor_process_name")
    return (name == program) | name.str.ends_with(f"/{program}")


def _text(*names: str) -> nw.Expr:
    return nw.coalesce(*(C(name) for name in names))


def _s(expr: nw.Expr) -> nw.Expr:
    """An expression as text for concatenation: null becomes empty."""
    return expr.cast(nw.String()).fill_null("")


def _base(frame: nw.LazyFrame) -> nw.LazyFrame:
    """The accountable actor as the row states it, the effective one, the privilege change and the via."""
    orig = ~C("actor_orig_uid").is_null() | ~C("actor_orig_name").is_null()
    source = C("source_type")
    via = (
        nw.when((source == "k8s_audit") & orig).then(nw.lit("impersonate"))
        .when((source == "evtx") & (C("event_code") == "4648")).then(nw.lit("explicit credentials"))
    )
    for program in SWITCH_PROGRAMS:
        via = via.when(_runs(program)).then(nw.lit(program))
    both_uids = ~C("actor_orig_uid").is_null() & ~C("actor_user_uid").is_null()
    both_names = ~C("actor_orig_name").is_null() & ~C("actor_user_name").is_null()
    privileged = (
        nw.when(~orig).then(nw.lit(False))
        .when(both_uids).then(C("actor_orig_uid") != C("actor_user_uid"))
        .when(both_names).then(C("actor_orig_name").str.to_lowercase() != C("actor_user_name").str.to_lowercase())
        .otherwise(nw.lit(False))
    )
    domain_name = nw.when(~C("actor_user_domain").is_null() & ~C("actor_user_name").is_null()).then(
        nw.concat_str(C("actor_user_domain"), nw.lit("\\"), C("actor_user_name"))
    )
    return frame.with_columns(
        _al_acc_uid=nw.when(orig).then(_text("actor_orig_uid", "actor_orig_name"))
        .otherwise(_text("actor_user_uid", "actor_user_name")),
        _al_acc_name=nw.when(orig).then(_text("actor_orig_name", "actor_orig_uid"))
        .otherwise(_text("actor_user_name", "actor_user_uid")),
        _al_eff=_text("actor_user_name", "actor_user_uid"),
        _al_eff_full=nw.coalesce(domain_name, C("actor_user_name"), C("actor_user_uid")),
        _al_via=via,
        _al_priv=privileged,
    )


def _present(frame: nw.LazyFrame) -> dict[str, bool]:
    """Which stitching steps the data needs (one small query, so absent sources cost no joins)."""
    source = C("source_type")
    checks = {
        "cloudtrail": (source == "cloudtrail") & ~C("target_session_uid").is_null(),
        "windows": (source == "evtx") & (C("event_code") == "4624") & ~C("target_session_uid").is_null(),
        "sshd": source.is_in(["syslog", "journald"]) & _runs("sshd") & ~C("actor_process_pid").is_null(),
        "sshd_audited": (source == "auditd") & _runs("sshd") & ~C("actor_session_uid").is_null(),
    }
    row = frame.select(**{k: v.fill_null(False).cast(nw.Int64()).max() for k, v in checks.items()}).collect("polars")
    return {k: bool(row.item(0, k) or 0) for k in checks}


def _stitch(
    frame: nw.LazyFrame,
    *,
    like: Frame,
    identities: Mapping[str, str] | Any | None,
    idle: timedelta,
    include_errors: bool,
    project: bool = False,
) -> nw.LazyFrame:
    """The stitched frame, with :data:`auditlab._frame.ORDER` kept for the caller's own ordering.

    ``project`` keeps only the columns stitching reads (for summaries that need no others).
    """
    if not isinstance(idle, timedelta) or idle <= timedelta(0):
        raise InvalidArgument(f"idle: expected a positive datetime.timedelta, got {idle!r}")
    if project:
        names = frame.collect_schema().names()
        frame = frame.select([name for name in (*REQUIRED, *OPTIONAL) if name in names])
    if not include_errors:
        frame = frame.filter(C("parse_error").is_null())
    frame = _logon_type(frame)
    if project:  # the JSON is only read for the logon type, and is often the widest column
        frame = frame.drop("unmapped")
    frame = _frame.cache(_base(_frame.ordered(frame)))
    present = _present(frame)
    if present["cloudtrail"]:
        frame = _cloudtrail(frame, like)
    else:
        frame = frame.with_columns(
            _al_ct_uid=nw.lit(None, nw.String()), _al_ct_name=nw.lit(None, nw.String()),
            _al_ct_chain=nw.lit(None, nw.String()),
        )
    if present["windows"]:
        frame = _windows(frame)
    else:
        frame = frame.with_columns(
            **{name: nw.lit(None, nw.String()) for name in (
                "logon_user", "logon_type", "logon_src_ip", "logon_src_hostname", "_al_runas_uid", "_al_runas_name")}
        )
    honoured = ~C("actor_orig_uid").is_null() & ~C("actor_orig_uid").str.starts_with("arn:")
    ct = ~C("_al_ct_chain").is_null() & ~honoured
    runas = ~C("_al_runas_name").is_null() & C("actor_orig_uid").is_null() & C("actor_orig_name").is_null()
    chained = nw.concat_str(C("_al_acc_name"), nw.lit(" -> "), nw.when(~C("_al_via").is_null()).then(
        nw.concat_str(C("_al_via"), nw.lit(" -> "))).otherwise(nw.lit("")), C("_al_eff"))
    frame = frame.with_columns(
        actor=nw.when(ct).then(C("_al_ct_name")).when(runas).then(C("_al_runas_name")).otherwise(C("_al_acc_name")),
        actor_uid=nw.when(ct).then(C("_al_ct_uid")).when(runas).then(C("_al_runas_uid"))
        .otherwise(C("_al_acc_uid")),
        attribution=nw.when(~C("_al_ct_chain").is_null()).then(C("_al_ct_chain"))
        .when(runas).then(nw.concat_str(C("_al_runas_name"), nw.lit(" -> explicit credentials -> "), C("_al_eff")))
        .when(C("_al_priv")).then(chained)
        .otherwise(C("_al_acc_name")),
        privileged=(C("_al_priv") | ct | runas).fill_null(False),
    )
    # the key of each distinct (actor, source type), joined back: a few regexes over the distinct names, not all rows
    keys = (
        frame.select("actor", "source_type").filter(~C("actor").is_null()).unique()
        .with_columns(actor_key=actor_key(C("actor"), C("source_type")))
    )
    frame = frame.join(keys, on=["actor", "source_type"], how="left")
    if identities is not None:
        frame = _override(frame, identities, like)
    frame = _sessions(frame, idle, sshd=present["sshd"] and present["sshd_audited"], sshd_logged=present["sshd"])
    helpers = [name for name in frame.collect_schema().names() if name.startswith("_al_") and name != ORDER]
    return frame.drop(helpers)


def _assume_chains(rows: pl.DataFrame) -> pl.DataFrame:
    """Resolve issued role sessions to their root caller, hop by hop, in time order (rows are few)."""
    import polars as pl

    latest: dict[str, list[tuple[int, str, str, str]]] = {}  # session arn -> [(time, root uid, root name, chain)]
    out: list[tuple[str, int, str, str, str]] = []
    for row in rows.sort("time_us", ORDER).iter_rows(named=True):
        root_uid, root_name = row["_al_acc_uid"], row["_al_acc_name"]
        operation = row["api_operation"] or "?"
        label = row["resource_uid"] if operation.startswith("AssumeRole") and row["resource_uid"] else None
        label = label.rsplit("/", 1)[-1] if label else (row["target_user_name"] or row["target_session_uid"])
        tail = f" -> {operation} {label}"
        chain = f"{root_name} -> {operation} {label}"
        pending = row["actor_user_uid"] if row["actor_user_type"] in ROLE_SESSION_TYPES else None
        if pending is not None and (row["actor_orig_uid"] is None or row["actor_orig_uid"].startswith("arn:")):
            issued = [entry for entry in latest.get(pending, ()) if entry[0] <= row["time_us"]]
            if issued:
                _, root_uid, root_name, parent = issued[-1]
                chain = parent + tail
        latest.setdefault(row["target_session_uid"], []).append((row["time_us"], root_uid, root_name, chain))
        out.append((row["target_session_uid"], row["time_us"], root_uid, root_name, chain))
    table = pl.DataFrame(
        out, schema={"_al_c_sess": pl.String, "_al_c_t": pl.Int64, "_al_ct_uid": pl.String,
                     "_al_ct_name": pl.String, "_al_ct_chain": pl.String}, orient="row",
    )
    return table.sort("_al_c_sess", "_al_c_t").with_columns(
        pl.col("_al_c_t").shift(-1).over("_al_c_sess").alias("_al_c_next")
    )


def _cloudtrail(frame: nw.LazyFrame, like: Frame) -> nw.LazyFrame:
    issued = frame.filter(
        (C("source_type") == "cloudtrail") & ~C("target_session_uid").is_null()
        & (C("status_id").fill_null(0) != 2) & ~C("time_us").is_null()
    ).select(ORDER, "time_us", "target_session_uid", "api_operation", "resource_uid", "target_user_name",
             "_al_acc_uid", "_al_acc_name", "actor_user_uid", "actor_user_type", "actor_orig_uid")
    chains = nw.from_native(_frame.from_polars(_assume_chains(issued.collect("polars").to_native()), like))
    chains = chains.lazy() if isinstance(chains, nw.DataFrame) else chains
    users = frame.filter(
        (C("source_type") == "cloudtrail") & C("actor_user_type").is_in(ROLE_SESSION_TYPES)
        & ~C("time_us").is_null() & ~C("actor_user_uid").is_null()
    ).select(ORDER, _al_c_sess=C("actor_user_uid"), _al_m_t=C("time_us"))
    return _inherit(frame, users, chains, on=["_al_c_sess"], since="_al_c_t", until="_al_c_next",
                    columns=["_al_ct_uid", "_al_ct_name", "_al_ct_chain"])


def _inherit(
    frame: nw.LazyFrame, users: nw.LazyFrame, issued: nw.LazyFrame, *, on: list[str], since: str, until: str,
    columns: list[str],
) -> nw.LazyFrame:
    """Give each row of ``users`` (ORDER, the keys ``on``, its time ``_al_m_t``) the ``columns`` of the ``issued``
    row with the same keys that was in force at its time (``since <= time < until``; ``until`` null: still in
    force), and those onto ``frame`` (null where nothing was in force)."""
    matched = (
        users.join(issued, on=on, how="inner")
        .filter((C(since) <= C("_al_m_t")) & (C(until).is_null() | (C("_al_m_t") < C(until))))
        .select(ORDER, *columns)
    )
    return frame.join(matched, on=ORDER, how="left")


def _logon_type(frame: nw.LazyFrame) -> nw.LazyFrame:
    """``_al_logon_type`` of each 4624 logon, read from ``unmapped`` (a string in Event XML, a number in EVTX's
    JSON); only those rows' JSON is searched."""
    logons = (C("source_type") == "evtx") & (C("event_code") == "4624")
    frame = frame.with_columns(_al_json=nw.when(logons).then(C("unmapped")))
    logon_type = nw.lit(None, nw.String())
    for number, name in reversed(LOGON_TYPES.items()):
        said = [C("_al_json").str.contains(f'"LogonType":{text}', literal=True)
                for text in (f'"{number}"', f"{number},", f"{number}}}")]
        logon_type = nw.when(said[0] | said[1] | said[2]).then(nw.lit(f"{number} {name}")).otherwise(logon_type)
    return frame.with_columns(_al_logon_type=logon_type).drop("_al_json")


def _windows(frame: nw.LazyFrame) -> nw.LazyFrame:
    windows = C("source_type") == "evtx"
    logon_type = C("_al_logon_type")
    host = C("host_name").str.to_lowercase().fill_null("")
    logons = frame.filter(
        windows & (C("event_code") == "4624") & ~C("target_session_uid").is_null() & ~C("time_us").is_null()
    ).select(
        _al_w_host=host, _al_w_lid=C("target_session_uid"), _al_w_t=C("time_us"), _al_w_ord=C(ORDER),
        _al_w_name=_text("target_user_name", "actor_user_name").str.to_lowercase(),
        logon_user=C("_al_eff_full"), logon_type=logon_type, logon_src_ip=C("src_ip"),
        logon_src_hostname=C("src_hostname"),
    ).with_columns(_al_w_next=C("_al_w_t").shift(-1).over("_al_w_host", "_al_w_lid", order_by=["_al_w_t", "_al_w_ord"]))
    explicit = frame.filter(windows & (C("event_code") == "4648") & ~C("time_us").is_null()).select(
        _al_w_host=host, _al_w_name=_text("target_user_name", "actor_user_name").str.to_lowercase(),
        _al_x_t=C("time_us"),
        _al_x_name=_text("actor_orig_name", "actor_orig_uid"),
        _al_x_uid=_text("actor_orig_uid", "actor_orig_name"),
    )
    runas = (
        logons.select("_al_w_ord", "_al_w_host", "_al_w_name", "_al_w_t")
        .join(explicit, on=["_al_w_host", "_al_w_name"], how="inner")
        .filter((C("_al_x_t") <= C("_al_w_t")) & (C("_al_w_t") - C("_al_x_t") <= _RUNAS_US))
        .group_by("_al_w_ord").agg(_al_runas_name=C("_al_x_name").min(), _al_runas_uid=C("_al_x_uid").min())
    )
    logons = logons.join(runas, on="_al_w_ord", how="left").drop("_al_w_name")
    users = frame.filter(windows & ~C("actor_session_uid").is_null() & ~C("time_us").is_null()).select(
        ORDER, _al_w_host=host, _al_w_lid=C("actor_session_uid"), _al_m_t=C("time_us")
    )
    return _inherit(frame, users, logons, on=["_al_w_host", "_al_w_lid"], since="_al_w_t", until="_al_w_next",
                    columns=["logon_user", "logon_type", "logon_src_ip", "logon_src_hostname", "_al_runas_uid",
                             "_al_runas_name"])


def _identity_table(identities: Mapping[str, str] | Any) -> pl.DataFrame:
    import polars as pl

    if isinstance(identities, Mapping):
        table = pl.DataFrame({"alias": list(identities), "actor_key": list(identities.values())},
                             schema={"alias": pl.String, "actor_key": pl.String})
    else:
        try:
            native = nw.from_native(identities)
        except TypeError:
            raise InvalidArgument(
                f"identities: expected a mapping or a frame with columns alias and actor_key, got "
                f"{type(identities).__name__}"
            ) from None
        native = native.collect("polars") if isinstance(native, nw.LazyFrame) else native
        names = native.columns
        if "alias" not in names or "actor_key" not in names:
            raise InvalidArgument(f"identities: expected columns alias and actor_key, got {names}")
        table = pl.from_arrow(native.select("alias", "actor_key").to_arrow())
        table = table.with_columns(pl.col("alias").cast(pl.String), pl.col("actor_key").cast(pl.String))
    return table.select(pl.col("alias").str.strip_chars().str.to_lowercase(), "actor_key").unique("alias",
                                                                                                 keep="first")


def _override(frame: nw.LazyFrame, identities: Mapping[str, str] | Any, like: Frame) -> nw.LazyFrame:
    table = _identity_table(identities)
    if table.is_empty():
        return frame
    native = nw.from_native(_frame.from_polars(table, like))
    native = native.lazy() if isinstance(native, nw.DataFrame) else native
    picks = []
    for number, column in enumerate(("actor_uid", "actor", "actor_key")):
        probe = f"_al_i_probe{number}"
        mapped = native.rename({"alias": probe, "actor_key": f"_al_i_key{number}"})
        frame = frame.with_columns(C(column).str.strip_chars().str.to_lowercase().alias(probe)).join(
            mapped, on=probe, how="left")
        picks.append(C(f"_al_i_key{number}"))
    return frame.with_columns(actor_key=nw.coalesce(*picks, C("actor_key")))


def _sessions(frame: nw.LazyFrame, idle: timedelta, *, sshd: bool, sshd_logged: bool) -> nw.LazyFrame:
    source = C("source_type")
    host = _s(C("host_name"))
    linux_log = source.is_in(["syslog", "journald"])
    native = (
        nw.when((source == "auditd") & (C("event_code") == "LOGIN") & ~C("target_session_uid").is_null())
        .then(nw.concat_str(nw.lit("auditd:"), _s(C("source_stream")), nw.lit(":ses"), C("target_session_uid")))
        .when((source == "auditd") & ~C("actor_session_uid").is_null())
        .then(nw.concat_str(nw.lit("auditd:"), _s(C("source_stream")), nw.lit(":ses"), C("actor_session_uid")))
        .when((source == "evtx") & (C("event_code") == "4624") & ~C("target_session_uid").is_null()
              & ~C("target_session_uid").is_in(PERMANENT_LOGONS))
        .then(nw.concat_str(nw.lit("evtx:"), host, nw.lit(":"), C("target_session_uid")))
        .when((source == "evtx") & ~C("actor_session_uid").is_null()
              & ~C("actor_session_uid").is_in(PERMANENT_LOGONS))
        .then(nw.concat_str(nw.lit("evtx:"), host, nw.lit(":"), C("actor_session_uid")))
        .when((source == "cloudtrail") & ~C("actor_session_uid").is_null())
        .then(nw.concat_str(nw.lit("cloudtrail:"), _s(C("cloud_account_uid")), nw.lit(":"),
                            nw.coalesce(C("actor_credential_uid"), C("actor_session_uid"))))
        .when(linux_log & _runs("sshd") & ~C("actor_process_pid").is_null())
        .then(nw.concat_str(source, nw.lit(":"), host, nw.lit(":sshd["), _s(C("actor_process_pid")), nw.lit("]")))
        .when(linux_log & ~C("actor_session_uid").is_null())
        .then(nw.concat_str(source, nw.lit(":"), host, nw.lit(":session "), C("actor_session_uid")))
    )
    frame = frame.with_columns(_al_native=native)
    if sshd:
        frame = _link_sshd(_sshd_connections(frame))
    elif sshd_logged:
        frame = _sshd_connections(frame)
    scope = nw.coalesce(C("host_name"), C("cloud_account_uid"), C("source_stream"), nw.lit(""))
    idle_us = int(idle / timedelta(microseconds=1))
    needs = C("_al_native").is_null() & ~C("actor_key").is_null()
    frame = frame.with_columns(
        _al_part=nw.when(needs).then(nw.concat_str(source, nw.lit(":"), scope, nw.lit(":"), C("actor_key")))
    ).with_columns(_al_prev=C("time_us").shift(1).over("_al_part", order_by=ORDER))
    starts = C("_al_prev").is_null() | C("time_us").is_null() | (C("time_us") - C("_al_prev") > idle_us)
    frame = frame.with_columns(_al_n=starts.cast(nw.Int64()).cum_sum().over("_al_part", order_by=ORDER))
    idle_id = nw.concat_str(
        nw.lit("idle:"), C("_al_part"), nw.lit("#"),
        nw.when(C("time_us").is_null()).then(nw.lit("untimed")).otherwise(_s(C("_al_n"))),
    )
    return frame.with_columns(session_id=nw.coalesce(C("_al_native"), nw.when(needs).then(idle_id)))


def _sshd_connections(frame: nw.LazyFrame) -> nw.LazyFrame:
    """Number the connections of one sshd pid: the pid is reused, so after a line that ends a connection the next
    line that does not starts another (``sshd[920]``, ``sshd[920]#2``, ...)."""
    logged = C("source_type").is_in(["syslog", "journald"]) & _runs("sshd") & ~C("actor_process_pid").is_null()
    ends = C("event_code").is_in(SSHD_ENDS).fill_null(False)
    frame = frame.with_columns(_al_sshd=nw.when(logged).then(C("_al_native")))
    frame = frame.with_columns(_al_end=ends).with_columns(
        _al_after_end=C("_al_end").shift(1).over("_al_sshd", order_by=ORDER).fill_null(False)
    )
    starts = C("_al_after_end") & ~C("_al_end")
    frame = frame.with_columns(_al_conn=starts.cast(nw.Int64()).cum_sum().over("_al_sshd", order_by=ORDER))
    return frame.with_columns(
        _al_native=nw.when(logged & (C("_al_conn") > 0))
        .then(nw.concat_str(C("_al_native"), nw.lit("#"), (C("_al_conn") + 1).cast(nw.String())))
        .otherwise(C("_al_native"))
    )


def _link_sshd(frame: nw.LazyFrame) -> nw.LazyFrame:
    """Join each syslog/journald ``sshd[pid]`` session to the auditd session that sshd pid opened."""
    short = C("host_name").str.to_lowercase().str.replace_all(r"\..*$", "")
    logged = (
        frame.filter(C("source_type").is_in(["syslog", "journald"]) & _runs("sshd")
                     & ~C("_al_native").is_null() & ~C("time_us").is_null())
        .with_columns(_al_short=short)
        .group_by("_al_native", "actor_process_pid")
        .agg(_al_l_t=C("time_us").min(), _al_l_host=C("_al_short").min())
    )
    audited = (
        frame.filter((C("source_type") == "auditd") & _runs("sshd") & ~C("actor_session_uid").is_null()
                     & ~C("actor_process_pid").is_null() & ~C("time_us").is_null())
        .with_columns(_al_short=short)
        .group_by("_al_native", "actor_process_pid")
        .agg(_al_a_t=C("time_us").min(), _al_a_host=C("_al_short").min())
        .rename({"_al_native": "_al_a_native"})
    )
    same_host = C("_al_l_host").is_null() | C("_al_a_host").is_null() | (C("_al_l_host") == C("_al_a_host"))
    link = (
        logged.join(audited, on="actor_process_pid", how="inner")
        .filter(same_host & ((C("_al_l_t") - C("_al_a_t")).abs() <= _SSHD_LINK_US))
        .group_by("_al_native").agg(_al_linked=C("_al_a_native").min())
    )
    return frame.join(link, on="_al_native", how="left").with_columns(
        _al_native=nw.coalesce(C("_al_linked"), C("_al_native"))
    )
