"""Benchmark: ``al.gaps()`` + ``al.sessions()`` against the same questions asked plainly in pandas.

Generates (once, cached as parquet under ``benchmarks/_data/``) a synthetic events frame in the canonical schema:
30 days of auditd, Windows Security/System (EVTX), CloudTrail and sshd/sudo syslog from several hundred hosts and
streams and about 1,000 people, with a daily and weekly rhythm, native sessions (auditd ``ses``, Windows LogonIds,
CloudTrail role sessions with ASIA keys, sshd pids), idle-gap activity (IAM users, SYSTEM, cron, daemons, sudo),
SSH and RDP brute force, and injected faults: dropped serial ranges, a serial reset, silent afternoons, streams
that stop, a clock running two hours behind, tamper markers (1102, 104, 1100, 4719, 4616, auditd disabled,
StopLogging/DeleteTrail), a run of events stripped of their actor, and two rows with no time.

Then, for each ``--sizes`` size, on the same parquet file, in one run, each in its own fresh subprocess:

- ours, eager: ``pl.read_parquet``, then ``al.gaps(df)`` and ``al.sessions(df)`` (the read is not timed);
- ours, lazy: ``al.gaps(pl.scan_parquet(path)).collect()`` and the same for sessions (the scan is timed: the
  lazy way reads only what it needs);
- the peer: the frame as pandas with Arrow dtypes (``to_pandas(use_pyarrow_extension_array=True)``; ``--pandas
  numpy`` or ``both`` for pandas' default dtypes), then :func:`peer_gaps` and :func:`peer_sessions`, the same
  questions written the way an analyst would (sort, ``groupby().diff()``/``shift()``, ``cumsum``,
  ``groupby().agg()``; no numba, no tricks);
- a reference (``--no-reference`` to skip): :func:`polars_peer_gaps` and :func:`polars_peer_sessions`, the peer's
  queries line for line in plain polars, which shows what the engine does with the same simple plan.

Peak memory: the child resets and reads its own high-water mark (``/proc/self/clear_refs``, ``VmHWM``) around the
analysis, and the parent samples the child's RSS with psutil every 20 ms. Both are reported against the frame's
size, given twice: polars ``estimated_size()``, and the bytes of its Arrow buffers (``estimated_size()`` leaves out
the 16-byte view of every String value, about half of this frame). Prints a markdown table (speed ratio = pandas
seconds / the side's), how the cost grows from the smallest to the largest size, and how the two sides' findings
and session counts compare. ``--profile`` writes a pyinstrument profile of ours (eager, largest size) to
``benchmarks/_out/``; results go to ``benchmarks/_out/analysis_<sizes>.json``.

Run: ``python benchmarks/bench_analysis.py [--sizes 1M,10M] [--pandas arrow|numpy|both] [--no-lazy]
[--no-reference] [--profile]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"
OUT = HERE / "_out"
VERSION = 2  # of the generator: part of the cache file name, so a changed generator never reuses old data

# --------------------------------------------------------------------------------------------------------------
# The synthetic events

START = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday
DAYS = 30
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
START_US = int(START.timestamp()) * 1_000_000
END_US = START_US + DAYS * DAY_US

FIRST = ("ada", "alan", "alice", "amir", "ana", "ben", "bob", "carla", "chen", "dana", "dev", "eli", "emma", "eve",
         "farid", "grace", "hana", "ivan", "jan", "jo", "kai", "kim", "lea", "li", "liam", "lucy", "maya", "mia",
         "nia", "noah", "olga", "omar", "paul", "priya", "raj", "rosa", "sam", "sara", "tom", "uma", "vic", "wei",
         "yan", "yuki", "zoe", "igor", "nora", "otto", "pia", "rui")
LAST = ("adams", "baker", "chan", "diaz", "evans", "fox", "garcia", "hill", "ito", "jones", "khan", "lopez",
        "moore", "ng", "owens", "park", "quinn", "reyes", "smith", "tan", "ueda", "vega", "wong", "xu", "young",
        "zhang")
ACCOUNTS = ("111122223333", "210987654321", "345678901234", "456789012345", "567890123456", "678901234567",
            "789012345678", "890123456789")
REGIONS = ("us-east-1", "eu-west-1")
ROLES = ("Admin", "ReadOnly", "Deploy", "DataEngineer", "Audit", "OnCall")
DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"
PROBED_USERS = ("root", "admin", "test", "oracle", "ubuntu", "postgres", "git", "user", "guest", "pi", "ftp",
                "deploy", "support", "nagios", "hadoop", "administrator", "jenkins", "mysql", "www", "steam")
COMMANDS = ("ls -la /var/log", "cat /etc/passwd", "tail -f /var/log/nginx/access.log", "systemctl restart nginx",
            "git pull --ff-only", "python3 manage.py migrate", "curl -s https://example.com/install.sh",
            "tar czf /tmp/home.tgz /home", "vim /etc/ssh/sshd_config", "docker ps", "journalctl -u app -n 200",
            "psql -U app -c 'select 1'", "scp backup.tgz bastion:/srv", "chmod 600 ~/.ssh/authorized_keys")
WIN_COMMANDS = ('"C:\\Windows\\system32\\cmd.exe" /c whoami', "powershell.exe -NoProfile -Command Get-Process",
                '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"', "net use Z: \\\\fs01\\share",
                "C:\\Windows\\system32\\svchost.exe -k netsvcs -p", "notepad.exe C:\\Users\\Public\\todo.txt")


def _rhythm(*, flat: bool = False) -> np.ndarray:
    """Relative activity of each hour of the 30 days: office hours on weekdays, a little at night and weekends."""
    hours = np.arange(DAYS * 24)
    hod, dow = hours % 24, (hours // 24) % 7
    day = np.select([hod < 6, hod < 8, hod < 12, hod < 13, hod < 18, hod < 21], [0.08, 0.4, 1.0, 0.7, 1.0, 0.35],
                    0.15)
    weights = np.where(dow >= 5, day * 0.2 + 0.03, day)
    if flat:  # machines: steady, with a trace of the office rhythm
        weights = 0.8 + 0.2 * weights
    return weights / weights.sum()


def _times(rng: np.random.Generator, n: int, *, flat: bool = False) -> np.ndarray:
    """``n`` start times (epoch us) drawn from the rhythm."""
    hours = rng.choice(DAYS * 24, size=n, p=_rhythm(flat=flat))
    return START_US + hours * HOUR_US + rng.integers(0, HOUR_US, n)


def _counts(rng: np.random.Generator, budget: int, mean: float, minimum: int = 1) -> np.ndarray:
    """Events per burst (geometric, at least ``minimum``), as many bursts as it takes to spend ``budget`` exactly."""
    guess = int(budget / mean * 1.2) + 10
    counts = minimum - 1 + rng.geometric(1 / max(mean - minimum + 1, 1.0), guess)
    total = np.cumsum(counts)
    keep = int(np.searchsorted(total, budget)) + 1
    counts = counts[:keep].copy()
    counts[-1] -= int(total[keep - 1] - budget)
    return counts[counts > 0]


def _explode(rng: np.random.Generator, counts: np.ndarray, starts: np.ndarray, minutes: np.ndarray) -> pl.DataFrame:
    """One row per event of each burst: its burst, position (0 = first), whether it is the last, its time.

    The first event is at the burst's start, the last at its end, the others uniformly between.
    """
    burst = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    position = np.arange(int(counts.sum())) - np.repeat(first, counts)
    last = position == counts[burst] - 1
    u = rng.random(len(burst))
    u[position == 0] = 0.0
    u[position == 1] = rng.random(int((position == 1).sum())) * 1e-4  # the second event follows at once
    u[last & (position > 0)] = 1.0
    duration = (minutes * 60e6).astype(np.int64)
    time_us = np.minimum(starts[burst] + (u * duration[burst]).astype(np.int64), END_US - 1)
    return pl.DataFrame({"_b": burst, "_pos": position, "_last": last, "time_us": time_us})


def _take(values: Any, index: pl.Expr) -> pl.Expr:
    """``values[index]`` as an expression (a lookup table gathered by an index column)."""
    return pl.lit(values if isinstance(values, pl.Series) else pl.Series(values)).gather(index)


def _pick(rng: np.random.Generator, table: list[tuple], n: int) -> pl.DataFrame:
    """``n`` rows drawn from an event-type table whose last field is the weight (the weight column is dropped)."""
    weights = np.array([row[-1] for row in table], dtype=float)
    idx = rng.choice(len(table), size=n, p=weights / weights.sum())
    columns = ["event_code", "api_operation", "api_service", "class_uid", "activity_id"]
    frame = pl.DataFrame([row[:5] for row in table], schema=dict.fromkeys(columns, pl.String), orient="row")
    frame = frame.with_columns(pl.col("class_uid").cast(pl.Int32), pl.col("activity_id").cast(pl.Int16))
    return frame[idx]


def _ips(rng: np.random.Generator, n: int, prefix: str | None = None) -> list[str]:
    o = rng.integers(1, 255, (n, 4))
    if prefix is None:  # a public-looking address (documentation and random ranges alike)
        return [f"{a}.{b}.{c}.{d}" for a, b, c, d in o]
    return [f"{prefix}.{c}.{d}" for _, _, c, d in o]


def _people(rng: np.random.Generator) -> dict[str, Any]:
    names = [f"{f}.{la}" for f in FIRST for la in LAST]
    chosen = rng.choice(len(names), 1000, replace=False)
    people = [names[i] for i in chosen]
    popularity = rng.pareto(1.2, 1000) + 1.0
    return {
        "name": people,
        "uid": [str(10_000 + i) for i in range(1000)],
        "sid": [f"{DOMAIN_SID}-{1100 + i}" for i in range(1000)],
        "weight": popularity / popularity.sum(),
        "akia": [f"AKIA{rng.integers(0, 2**63):016X}"[:20] for _ in range(1000)],
        "account": rng.integers(0, len(ACCOUNTS), 1000),
        "home_ip": _ips(rng, 1000, "10.20"),
    }


def _hosts(rng: np.random.Generator) -> dict[str, Any]:
    roles = ("web", "app", "db", "batch", "build", "cache", "queue", "bastion")
    linux = [f"{roles[i % len(roles)]}-{i:03d}.prod.example" for i in range(240)]
    windows = [f"WS{i:04d}.corp.example" for i in range(100)] + [f"SRV-{n}.corp.example" for n in (
        "FS01", "FS02", "DC01", "DC02", "SQL01", "SQL02", "APP01", "APP02", "RDS01", "RDS02", "EXCH01", "PRINT01",
        "WSUS01", "BACKUP01", "CA01", "JUMP01", "JUMP02", "FILE03", "WEB01", "WEB02")]
    load = rng.pareto(1.5, len(linux)) + 1.0
    return {"linux": linux, "linux_weight": load / load.sum(), "windows": windows}


def _auditd(rng: np.random.Generator, budget: dict[str, int], people: dict, hosts: dict) -> tuple[pl.DataFrame, ...]:
    """auditd: SSH sessions of people and hourly cron sessions (native ``ses``), and daemon noise (no ``ses``)."""
    n_linux = len(hosts["linux"])
    home = rng.choice(n_linux, (1000, 3), p=hosts["linux_weight"])
    # people's SSH sessions
    counts = _counts(rng, budget["auditd_ssh"], 60.0, minimum=3)
    actor = rng.choice(1000, len(counts), p=people["weight"])
    host = home[actor, rng.integers(0, 3, len(counts))]
    ssh = pl.DataFrame({
        "_kind": "ssh", "_host": host, "_actor": actor, "_start": _times(rng, len(counts)), "_n": counts,
        "_minutes": rng.exponential(40.0, len(counts)) + 1.0, "_pid": rng.integers(2_000, 4_000_000, len(counts)),
        "_ip": _ips(rng, len(counts), "10.20"),
    })
    # cron: 7 records an hour on a random host, as root, each job its own session
    jobs = budget["auditd_cron"] // 7
    cron = pl.DataFrame({
        "_kind": "cron", "_host": rng.integers(0, n_linux, jobs), "_actor": -1,
        "_start": START_US + rng.integers(0, DAYS * 24, jobs) * HOUR_US + 60_000_000 + rng.integers(0, 900_000, jobs),
        "_n": 7, "_minutes": 0.01, "_pid": rng.integers(2_000, 4_000_000, jobs), "_ip": None,
    }, schema_overrides={"_ip": pl.String})
    bursts = pl.concat([ssh, cron], how="vertical_relaxed").with_columns(
        _ses=(pl.col("_start").rank("ordinal").over("_host") + 1).cast(pl.Int64)
    )
    counts = bursts["_n"].to_numpy()
    events = _explode(rng, counts, bursts["_start"].to_numpy(), bursts["_minutes"].to_numpy())
    n = events.height
    middle = [
        ("SYSCALL", "execve", None, 1007, 1, 0.40),
        ("SYSCALL", "openat", None, 1001, 1, 0.25),
        ("SYSCALL", "unlink", None, 1001, 4, 0.05),
        ("SYSCALL", "connect", None, 4001, 1, 0.08),
        ("USER_CMD", None, None, 1007, 1, 0.06),
        ("CRED_ACQ", "PAM:setcred", None, 3002, 99, 0.04),
        ("USER_AUTH", "PAM:authentication", None, 3002, 1, 0.04),
        ("USER_ACCT", "PAM:accounting", None, 3002, 99, 0.04),
        ("CWD", None, None, 0, 0, 0.04),
    ]
    kinds = _pick(rng, middle, n)
    b = bursts[events["_b"].to_numpy()]
    pos, last = events["_pos"], events["_last"]
    cron_codes = pl.Series(["LOGIN", "USER_ACCT", "CRED_ACQ", "USER_START", "SYSCALL", "USER_END", "CRED_DISP"])
    frame = pl.concat([events, kinds, b], how="horizontal").with_columns(
        _cron=pl.col("_kind") == "cron",
        _u=pl.Series(rng.random(n)),
        _cmd=pl.Series(rng.integers(0, len(COMMANDS), n)),
        _exe=pl.Series(rng.integers(0, 10, n)),
        _epid=pl.Series(rng.integers(2_000, 4_000_000, n)),
    )
    code = (
        pl.when(pl.col("_cron")).then(cron_codes.gather(pos.clip(0, 6)))
        .when(pos == 0).then(pl.lit("LOGIN"))
        .when(pos == 1).then(pl.lit("USER_START"))
        .when(last).then(pl.lit("USER_END"))
        .otherwise(pl.col("event_code"))
    )
    frame = frame.with_columns(event_code=code)
    c = pl.col("event_code")
    opening = c == "LOGIN"
    pam = c.is_in(["USER_START", "USER_END", "CRED_DISP"]) | (pl.col("_cron") & c.is_in(["USER_ACCT", "CRED_ACQ"]))
    uid = _take(people["uid"], pl.col("_actor").clip(0, 999))
    effective = pl.when(pl.col("_cron")).then(pl.lit("0")).when(opening | pam).then(pl.lit("0")).when(
        pl.col("_u") < 0.12).then(pl.lit("0")).otherwise(uid)
    sshd = (opening | pam) & ~pl.col("_cron")
    exes = pl.Series([f"/usr/bin/{x}" for x in ("ls", "cat", "grep", "python3", "vim", "git", "systemctl", "curl",
                                                 "ssh", "tar")])
    syscall = c == "SYSCALL"
    frame = frame.with_columns(
        api_operation=pl.when(opening).then(pl.lit("login"))
        .when(c == "USER_START").then(pl.lit("PAM:session_open"))
        .when(c.is_in(["USER_END"])).then(pl.lit("PAM:session_close"))
        .when(c == "CRED_DISP").then(pl.lit("PAM:setcred"))
        .when(pl.col("_cron") & syscall).then(pl.lit("execve"))
        .when(pl.col("_cron") & c.is_in(["USER_ACCT", "CRED_ACQ"])).then(pl.lit("PAM:accounting"))
        .otherwise(pl.col("api_operation")),
        class_uid=pl.when(c.is_in(["LOGIN", "USER_START", "USER_END", "CRED_DISP", "USER_ACCT", "CRED_ACQ"]))
        .then(pl.lit(3002, pl.Int32)).when(pl.col("_cron") & syscall).then(pl.lit(1007, pl.Int32))
        .otherwise(pl.col("class_uid")),
        activity_id=pl.when(opening).then(pl.lit(99, pl.Int16)).when(c == "USER_START").then(pl.lit(1, pl.Int16))
        .when(c == "USER_END").then(pl.lit(2, pl.Int16)).otherwise(pl.col("activity_id")),
        status_id=pl.when((c == "USER_AUTH") & (pl.col("_u") > 0.9)).then(pl.lit(2, pl.Int16))
        .when((pl.col("api_operation") == "openat") & (pl.col("_u") > 0.94)).then(pl.lit(2, pl.Int16))
        .when(c == "CWD").then(pl.lit(0, pl.Int16)).otherwise(pl.lit(1, pl.Int16)),
        actor_user_uid=pl.when(c == "CWD").then(None).otherwise(effective),
        actor_orig_uid=pl.when(c == "CWD").then(None).when(pl.col("_cron")).then(pl.lit("0")).otherwise(uid),
        actor_session_uid=pl.when(opening | (c == "CWD")).then(None).otherwise(pl.col("_ses").cast(pl.String)),
        target_session_uid=pl.when(opening).then(pl.col("_ses").cast(pl.String)),
        target_user_name=pl.when(c == "USER_CMD").then(pl.lit("root")),
        actor_process_pid=pl.when(sshd | pl.col("_cron")).then(pl.col("_pid")).otherwise(pl.col("_epid")),
        actor_process_name=pl.when(sshd).then(pl.lit("/usr/sbin/sshd"))
        .when(pl.col("_cron")).then(pl.lit("/usr/sbin/crond"))
        .when(c == "USER_CMD").then(pl.lit("/usr/bin/sudo"))
        .otherwise(_take(exes, pl.col("_exe"))),
        process_cmdline=pl.when(pl.col("_cron") & syscall).then(pl.lit("/usr/lib64/sa/sa1 1 1"))
        .when(((pl.col("api_operation") == "execve") & (pl.col("_u") < 0.3)) | (c == "USER_CMD"))
        .then(_take(COMMANDS, pl.col("_cmd"))),
        file_path=pl.when(pl.col("api_operation").is_in(["openat", "unlink"])).then(
            pl.format("/home/u{}/data/{}.csv", pl.col("_actor"), pl.col("_epid") % 97)),
        src_ip=pl.when(sshd).then(pl.col("_ip")),
        status_code=pl.when((pl.col("api_operation") == "openat") & (pl.col("_u") > 0.94)).then(pl.lit("EACCES")),
    )
    ssh_frame = frame
    # daemon noise: no ses, no auid, root (or nobody at all for kernel records)
    counts = _counts(rng, budget["auditd_daemon"], 20.0)
    daemon_host = rng.choice(n_linux, len(counts), p=0.5 * hosts["linux_weight"] + 0.5 / n_linux)
    events = _explode(rng, counts, _times(rng, len(counts), flat=True), rng.exponential(15.0, len(counts)))
    kinds = _pick(rng, [
        ("SYSCALL", "openat", None, 1001, 1, 0.35),
        ("SYSCALL", "execve", None, 1007, 1, 0.15),
        ("SERVICE_START", None, None, 0, 0, 0.12),
        ("SERVICE_STOP", None, None, 0, 0, 0.12),
        ("BPF", None, None, 0, 0, 0.08),
        ("NETFILTER_CFG", None, None, 0, 0, 0.08),
        ("ANOM_PROMISCUOUS", None, None, 0, 0, 0.02),
        ("SYSCALL", "setsockopt", None, 4001, 99, 0.08),
    ], events.height)
    daemons = pl.Series(["/usr/lib/systemd/systemd", "/usr/sbin/rsyslogd", "/usr/bin/dockerd", "/usr/sbin/chronyd",
                         "/usr/lib/systemd/systemd-journald", "/usr/sbin/NetworkManager"])
    noise = pl.concat([events, kinds], how="horizontal").with_columns(
        _host=_take(daemon_host, pl.col("_b")),
        _d=pl.Series(rng.integers(0, len(daemons), events.height)),
    ).with_columns(
        status_id=pl.lit(1, pl.Int16),
        actor_user_uid=pl.when(pl.col("event_code").is_in(["BPF", "NETFILTER_CFG"])).then(None)
        .otherwise(pl.lit("0")),
        actor_process_name=_take(daemons, pl.col("_d")),
        actor_process_pid=pl.col("_d") * 97 + 400,
    )
    return ssh_frame, noise


def _auditd_finish(frames: tuple[pl.DataFrame, ...], hosts: dict) -> pl.DataFrame:
    keep = ["time_us", "event_code", "api_operation", "api_service", "class_uid", "activity_id", "status_id",
            "status_code", "actor_user_uid", "actor_orig_uid", "actor_session_uid", "target_session_uid",
            "target_user_name", "actor_process_pid", "actor_process_name", "process_cmdline", "file_path", "src_ip",
            "_host"]
    frame = pl.concat([f.select([k for k in keep if k in f.columns]) for f in frames], how="diagonal_relaxed")
    names = pl.Series(hosts["linux"])
    return frame.with_columns(
        source_type=pl.lit("auditd"), host_name=_take(names, pl.col("_host")),
        time_us=pl.col("time_us") // 1000 * 1000,
    ).with_columns(source_stream=pl.col("host_name") + "/boot0")


def _syslog(rng: np.random.Generator, budget: dict[str, int], ssh: pl.DataFrame, people: dict,
            hosts: dict) -> pl.DataFrame:
    """sshd's view of the auditd SSH sessions (same host, same pid), SSH brute force, and sudo."""
    linux = pl.Series(hosts["linux"])
    names = pl.Series(people["name"])
    ssh = ssh.filter(~pl.col("_cron"))
    opened = ssh.filter(pl.col("event_code") == "USER_START").select("_host", "_actor", "_pid", "_ip", "time_us")
    closed = ssh.filter(pl.col("event_code") == "USER_END").select("_pid", "_host", end="time_us")
    sessions = opened.join(closed, on=["_pid", "_host"], how="left").with_columns(
        pl.col("end").fill_null(pl.col("time_us"))
    )
    parts = []
    for offset_s, column, code, class_uid, activity in (
        (-1, "time_us", "sshd.accepted", 3002, 1),
        (0, "time_us", "pam.session_opened", 3002, 1),
        (0, "end", "pam.session_closed", 3002, 2),
        (1, "end", "sshd.disconnected", 3002, 2),
    ):
        parts.append(sessions.select(
            time_us=pl.col(column) + offset_s * 1_000_000, _host="_host", actor_user_name=_take(
                names, pl.col("_actor")), actor_process_pid="_pid", src_ip=pl.when(pl.lit(code).str.starts_with("sshd"))
            .then(pl.col("_ip")), event_code=pl.lit(code), class_uid=pl.lit(class_uid, pl.Int32),
            activity_id=pl.lit(activity, pl.Int16), status_id=pl.lit(1, pl.Int16),
        ))
    logins = pl.concat(parts)
    # brute force against the exposed hosts: one connection (one sshd pid) per burst, no rhythm
    exposed = np.arange(7, len(hosts["linux"]), 8)[:20]  # the bastions
    counts = _counts(rng, budget["syslog_brute"], 3.0, minimum=2)
    events = _explode(rng, counts, _times(rng, len(counts), flat=True), np.full(len(counts), 0.05))
    tried = rng.integers(0, len(PROBED_USERS), len(counts))
    attacker = _ips(rng, 400)
    brute = events.with_columns(
        _host=_take(exposed[rng.integers(0, len(exposed), len(counts))], pl.col("_b")),
        actor_process_pid=_take(rng.integers(2_000, 4_000_000, len(counts)), pl.col("_b")),
        src_ip=_take(attacker, _take(rng.integers(0, 400, len(counts)), pl.col("_b"))),
        _user=_take(PROBED_USERS, _take(tried, pl.col("_b"))),
        _closed_anon=pl.Series(rng.random(events.height) < 0.5),
    ).with_columns(
        event_code=pl.when(pl.col("_pos") == 0).then(pl.lit("sshd.invalid_user"))
        .when(pl.col("_last")).then(pl.lit("sshd.connection_closed")).otherwise(pl.lit("sshd.failed")),
        class_uid=pl.lit(3002, pl.Int32), activity_id=pl.lit(1, pl.Int16),
        status_id=pl.lit(2, pl.Int16),
    ).with_columns(
        actor_user_name=pl.when((pl.col("event_code") == "sshd.connection_closed") & pl.col("_closed_anon"))
        .then(None).otherwise(pl.col("_user")),
    )
    # sudo from people's shells
    n = budget["syslog_sudo"]
    actor = rng.choice(1000, n, p=people["weight"])
    sudo = pl.DataFrame({
        "time_us": _times(rng, n), "_host": rng.integers(0, len(hosts["linux"]), n), "_actor": actor,
        "_cmd": rng.integers(0, len(COMMANDS), n), "actor_process_pid": rng.integers(2_000, 4_000_000, n),
    }).with_columns(
        actor_orig_name=_take(names, pl.col("_actor")), actor_user_name=pl.lit("root"),
        target_user_name=pl.lit("root"), actor_process_name=pl.lit("sudo"), event_code=pl.lit("sudo.command"),
        class_uid=pl.lit(1007, pl.Int32), activity_id=pl.lit(1, pl.Int16), status_id=pl.lit(1, pl.Int16),
        process_cmdline=_take(COMMANDS, pl.col("_cmd")),
    )
    frame = pl.concat([logins, brute, sudo], how="diagonal_relaxed")
    return frame.with_columns(
        source_type=pl.lit("syslog"), host_name=_take(linux, pl.col("_host")),
        actor_process_name=pl.col("actor_process_name").fill_null("sshd"),
        api_service=pl.when(pl.col("actor_process_name").is_null()).then(pl.lit("sshd")).otherwise(pl.lit("sudo")),
        time_us=pl.col("time_us") // 1_000_000 * 1_000_000,
    ).with_columns(source_stream=pl.col("host_name")).drop(
        "_b", "_pos", "_last", "_user", "_closed_anon", "_actor", "_cmd", strict=False)


def _evtx(rng: np.random.Generator, budget: dict[str, int], people: dict, hosts: dict) -> pl.DataFrame:
    """Windows Security (logon sessions by LogonId, SYSTEM, RDP brute force) and System channel events."""
    windows = hosts["windows"]
    n_ws = 100
    short = pl.Series([h.split(".")[0] + "$" for h in windows])
    # people's logon sessions: their workstation mostly, a server sometimes
    counts = _counts(rng, budget["evtx_logon"], 40.0, minimum=2)
    actor = rng.choice(1000, len(counts), p=people["weight"])
    server = rng.random(len(counts)) < 0.25
    host = np.where(server, rng.integers(n_ws, len(windows), len(counts)), actor % n_ws)
    logon_type = np.where(server, np.where(rng.random(len(counts)) < 0.3, "10", "3"), "2")
    bursts = pl.DataFrame({
        "_host": host, "_actor": actor, "_lid": [f"0x{v:x}" for v in rng.integers(0x100000, 0x7FFFFFFF, len(counts))],
        "_type": logon_type, "_admin": rng.random(len(counts)) < 0.2, "_ip": _ips(rng, len(counts), "10.30"),
    })
    events = _explode(rng, counts, _times(rng, len(counts)), rng.exponential(90.0, len(counts)) + 1.0)
    kinds = _pick(rng, [
        ("4688", "created-process", "Microsoft-Windows-Security-Auditing", 1007, 1, 0.45),
        ("4663", None, "Microsoft-Windows-Security-Auditing", 0, 0, 0.25),
        ("5140", "network-share-accessed", "Microsoft-Windows-Security-Auditing", 4010, 99, 0.08),
        ("4673", None, "Microsoft-Windows-Security-Auditing", 0, 0, 0.05),
        ("4648", "logged-in-explicit", "Microsoft-Windows-Security-Auditing", 3002, 1, 0.02),
        ("4689", "exited-process", "Microsoft-Windows-Security-Auditing", 1007, 2, 0.15),
    ], events.height)
    sids, names = pl.Series(people["sid"]), pl.Series(people["name"])
    b = bursts[events["_b"].to_numpy()]
    frame = pl.concat([events, kinds, b], how="horizontal").with_columns(
        _cmd=pl.Series(rng.integers(0, len(WIN_COMMANDS), events.height)),
        _u=pl.Series(rng.random(events.height)),
    )
    pos, last = pl.col("_pos"), pl.col("_last")
    code = (pl.when(pos == 0).then(pl.lit("4624")).when((pos == 1) & pl.col("_admin")).then(pl.lit("4672"))
            .when(last).then(pl.lit("4634")).otherwise(pl.col("event_code")))
    frame = frame.with_columns(event_code=code)
    c = pl.col("event_code")
    logon = c.is_in(["4624", "4634"])
    frame = frame.with_columns(
        api_operation=pl.when(c == "4624").then(pl.lit("logged-in")).when(c == "4634").then(pl.lit("logged-out"))
        .when(c == "4672").then(pl.lit("logged-in-special")).otherwise(pl.col("api_operation")),
        class_uid=pl.when(logon).then(pl.lit(3002, pl.Int32)).when(c == "4672").then(pl.lit(3005, pl.Int32))
        .otherwise(pl.col("class_uid")),
        activity_id=pl.when(c == "4624").then(pl.lit(1, pl.Int16)).when(c == "4634").then(pl.lit(2, pl.Int16))
        .when(c == "4672").then(pl.lit(1, pl.Int16)).otherwise(pl.col("activity_id")),
        status_id=pl.lit(1, pl.Int16),
        actor_user_uid=_take(sids, pl.col("_actor")),
        actor_user_name=_take(names, pl.col("_actor")),
        actor_user_domain=pl.lit("CORP"),
        actor_orig_uid=pl.when(c == "4648").then(_take(sids, pl.col("_actor"))),
        actor_orig_name=pl.when(c == "4648").then(_take(names, pl.col("_actor"))),
        actor_session_uid=pl.col("_lid"),
        target_session_uid=pl.when(logon | (c == "4672")).then(pl.col("_lid")),
        target_user_name=pl.when(logon | (c == "4672")).then(_take(names, pl.col("_actor"))),
        target_user_uid=pl.when(logon).then(_take(sids, pl.col("_actor"))),
        src_ip=pl.when(c == "4624").then(pl.when(pl.col("_type") == "2").then(pl.lit("127.0.0.1"))
                                           .otherwise(pl.col("_ip"))),
        actor_process_name=pl.when(c == "4688").then(pl.lit("C:\\Windows\\explorer.exe")),
        actor_process_pid=pl.when(c.is_in(["4688", "4689"])).then(pl.col("_u").mul(60_000).cast(pl.Int64) + 4),
        process_cmdline=pl.when((c == "4688") & (pl.col("_u") < 0.5)).then(_take(WIN_COMMANDS,
            pl.col("_cmd"))),
        unmapped=pl.when(c == "4624").then(pl.lit('{"EventData":{"LogonType":"') + pl.col("_type") + '"}}'),
    ).with_columns(  # 4648: the effective account is the one named (a colleague's admin account)
        actor_user_name=pl.when(c == "4648").then(pl.lit("adm.") + pl.col("actor_user_name"))
        .otherwise(pl.col("actor_user_name")),
        actor_user_uid=pl.when(c == "4648").then(None).otherwise(pl.col("actor_user_uid")),
    )
    people_frame = frame
    # SYSTEM and service noise (permanent LogonId 0x3e7), service logons, WFP connections without a subject
    counts = _counts(rng, budget["evtx_system"], 15.0)
    events = _explode(rng, counts, _times(rng, len(counts), flat=True), rng.exponential(20.0, len(counts)))
    kinds = _pick(rng, [
        ("4688", "created-process", "Microsoft-Windows-Security-Auditing", 1007, 1, 0.45),
        ("4624", "logged-in", "Microsoft-Windows-Security-Auditing", 3002, 1, 0.12),
        ("4672", "logged-in-special", "Microsoft-Windows-Security-Auditing", 3005, 1, 0.12),
        ("5156", None, "Microsoft-Windows-Security-Auditing", 0, 0, 0.21),
        ("4689", "exited-process", "Microsoft-Windows-Security-Auditing", 1007, 2, 0.10),
    ], events.height)
    system = pl.concat([events, kinds], how="horizontal").with_columns(
        _host=_take(rng.integers(0, len(windows), len(counts)), pl.col("_b")),
    ).with_columns(
        status_id=pl.lit(1, pl.Int16),
        actor_user_uid=pl.when(pl.col("event_code") == "5156").then(None).otherwise(pl.lit("S-1-5-18")),
        actor_user_name=pl.when(pl.col("event_code") == "5156").then(None)
        .when(pl.col("event_code") == "4624").then(pl.lit("SYSTEM")).otherwise(_take(short, pl.col("_host"))),
        actor_user_domain=pl.when(pl.col("event_code") == "5156").then(None)
        .when(pl.col("event_code") == "4624").then(pl.lit("NT AUTHORITY")).otherwise(pl.lit("CORP")),
        actor_session_uid=pl.when(pl.col("event_code") == "5156").then(None).otherwise(pl.lit("0x3e7")),
        target_session_uid=pl.when(pl.col("event_code").is_in(["4624", "4672"])).then(pl.lit("0x3e7")),
        target_user_name=pl.when(pl.col("event_code") == "4624").then(pl.lit("SYSTEM")),
        actor_process_name=pl.when(pl.col("event_code") == "4688").then(pl.lit("C:\\Windows\\System32\\services.exe")),
        unmapped=pl.when(pl.col("event_code") == "4624").then(pl.lit('{"EventData":{"LogonType":"5"}}')),
    )
    # RDP brute force against the servers: 4625, no SID, no LogonId
    counts = _counts(rng, budget["evtx_fail"], 25.0)
    events = _explode(rng, counts, _times(rng, len(counts), flat=True), rng.exponential(5.0, len(counts)))
    attacker = _ips(rng, 300)
    failed = events.with_columns(
        _host=_take(rng.integers(n_ws, len(windows), len(counts)), pl.col("_b")),
        src_ip=_take(attacker, _take(rng.integers(0, 300, len(counts)), pl.col("_b"))),
        actor_user_name=pl.Series(PROBED_USERS).gather(rng.integers(0, len(PROBED_USERS), events.height)),
    ).with_columns(
        event_code=pl.lit("4625"), api_operation=pl.lit("logon-failed"),
        api_service=pl.lit("Microsoft-Windows-Security-Auditing"), class_uid=pl.lit(3002, pl.Int32),
        activity_id=pl.lit(1, pl.Int16), status_id=pl.lit(2, pl.Int16), status_code=pl.lit("0xc000006d"),
        target_user_name=pl.col("actor_user_name"),
        unmapped=pl.lit('{"EventData":{"LogonType":"3"}}'),
    )
    security = pl.concat([people_frame, system, failed], how="diagonal_relaxed").with_columns(
        _channel=pl.lit("Security"))
    # the System channel: service state changes
    n = budget["evtx_syschan"]
    syschan = pl.DataFrame({"time_us": _times(rng, n, flat=True), "_host": rng.integers(0, len(windows), n)})
    syschan = syschan.with_columns(
        event_code=pl.lit("7036"), api_operation=pl.lit("service-state-changed"),
        api_service=pl.lit("Service Control Manager"), class_uid=pl.lit(201004, pl.Int32),
        activity_id=pl.lit(99, pl.Int16), status_id=pl.lit(0, pl.Int16), _channel=pl.lit("System"),
    )
    frame = pl.concat([security, syschan], how="diagonal_relaxed")
    keep = [c for c in frame.columns if not c.startswith("_") or c in ("_host", "_channel")]
    names_w = pl.Series(windows)
    return frame.select(keep).with_columns(
        source_type=pl.lit("evtx"), host_name=_take(names_w, pl.col("_host")),
    ).with_columns(source_stream=pl.col("host_name") + "/" + pl.col("_channel"))


def _cloudtrail(rng: np.random.Generator, budget: dict[str, int], people: dict) -> pl.DataFrame:
    """IAM users' API calls (no session id), and role sessions (ASIA keys), most opened by a logged AssumeRole."""
    api = [
        ("AwsApiCall", "DescribeInstances", "ec2.amazonaws.com", 6003, 2, 0.20),
        ("AwsApiCall", "GetObject", "s3.amazonaws.com", 6003, 2, 0.15),
        ("AwsApiCall", "ListBuckets", "s3.amazonaws.com", 6003, 2, 0.06),
        ("AwsApiCall", "PutObject", "s3.amazonaws.com", 6003, 1, 0.08),
        ("AwsApiCall", "GetCallerIdentity", "sts.amazonaws.com", 6003, 2, 0.05),
        ("AwsApiCall", "DescribeDBInstances", "rds.amazonaws.com", 6003, 2, 0.05),
        ("AwsApiCall", "ListUsers", "iam.amazonaws.com", 6003, 2, 0.04),
        ("AwsApiCall", "CreateTags", "ec2.amazonaws.com", 6003, 1, 0.05),
        ("AwsApiCall", "GetSecretValue", "secretsmanager.amazonaws.com", 6003, 2, 0.05),
        ("AwsApiCall", "Decrypt", "kms.amazonaws.com", 6003, 99, 0.10),
        ("AwsApiCall", "DescribeLogGroups", "logs.amazonaws.com", 6003, 2, 0.06),
        ("AwsApiCall", "AttachUserPolicy", "iam.amazonaws.com", 3001, 7, 0.005),
        ("AwsApiCall", "RunInstances", "ec2.amazonaws.com", 6003, 1, 0.01),
    ]
    cloud_people = np.arange(0, 1000, 2)  # half of the people use AWS
    weight = people["weight"][cloud_people] / people["weight"][cloud_people].sum()
    names, uids = people["name"], people["uid"]
    del uids
    # IAM users
    counts = _counts(rng, budget["ct_user"], 25.0)
    actor = cloud_people[rng.choice(len(cloud_people), len(counts), p=weight)]
    account = people["account"][actor]
    users = pl.DataFrame({
        "_actor": actor, "_acct": account, "_region": (rng.random(len(counts)) < 0.2).astype(np.int64),
        "_ip": _ips(rng, len(counts)), "_console": rng.random(len(counts)) < 0.3,
    })
    events = _explode(rng, counts, _times(rng, len(counts)), rng.exponential(30.0, len(counts)) + 1.0)
    kinds = _pick(rng, api, events.height)
    user_frame = pl.concat([events, kinds, users[events["_b"].to_numpy()]], how="horizontal")
    console = (pl.col("_pos") == 0) & pl.col("_console")
    user_frame = user_frame.with_columns(
        event_code=pl.when(console).then(pl.lit("AwsConsoleSignIn")).otherwise(pl.col("event_code")),
        api_operation=pl.when(console).then(pl.lit("ConsoleLogin")).otherwise(pl.col("api_operation")),
        api_service=pl.when(console).then(pl.lit("signin.amazonaws.com")).otherwise(pl.col("api_service")),
        class_uid=pl.when(console).then(pl.lit(3002, pl.Int32)).otherwise(pl.col("class_uid")),
        activity_id=pl.when(console).then(pl.lit(1, pl.Int16)).otherwise(pl.col("activity_id")),
        _kind=pl.lit("user"),
    )
    # role sessions: 80% opened by an IAM user's AssumeRole in the data, 20% (instance profiles) not
    counts = _counts(rng, budget["ct_role"], 30.0, minimum=2)
    actor = cloud_people[rng.choice(len(cloud_people), len(counts), p=weight)]
    account = people["account"][actor]
    role = rng.integers(0, len(ROLES), len(counts))
    instance = rng.random(len(counts)) < 0.2
    session_name = [f"i-{rng.integers(0, 2**40):010x}" if inst else names[a]
                    for a, inst in zip(actor, instance, strict=True)]
    roles = pl.DataFrame({
        "_actor": actor, "_acct": account, "_region": (rng.random(len(counts)) < 0.2).astype(np.int64),
        "_role": role, "_instance": instance, "_session": session_name,
        "_asia": [f"ASIA{v:016X}" for v in rng.integers(0, 2**63, len(counts))],
        "_aroa": [f"AROA{v:017X}" for v in rng.integers(0, 2**63, len(ROLES))[role]],
        "_ip": _ips(rng, len(counts)),
    })
    events = _explode(rng, counts, _times(rng, len(counts)), rng.exponential(45.0, len(counts)) + 1.0)
    kinds = _pick(rng, api, events.height)
    role_frame = pl.concat([events, kinds, roles[events["_b"].to_numpy()]], how="horizontal")
    assume = (pl.col("_pos") == 0) & ~pl.col("_instance")
    role_frame = role_frame.with_columns(
        _kind=pl.when(assume).then(pl.lit("assume")).otherwise(pl.lit("role")),
        event_code=pl.lit("AwsApiCall"),
        api_operation=pl.when(assume).then(pl.lit("AssumeRole")).otherwise(pl.col("api_operation")),
        api_service=pl.when(assume).then(pl.lit("sts.amazonaws.com")).otherwise(pl.col("api_service")),
        class_uid=pl.when(assume).then(pl.lit(3002, pl.Int32)).otherwise(pl.col("class_uid")),
        activity_id=pl.when(assume).then(pl.lit(99, pl.Int16)).otherwise(pl.col("activity_id")),
    )
    frame = pl.concat([user_frame, role_frame], how="diagonal_relaxed")
    acct = _take(ACCOUNTS, pl.col("_acct"))
    name = _take(names, pl.col("_actor"))
    user_arn = pl.format("arn:aws:iam::{}:user/{}", acct, name)
    role_name = _take(ROLES, pl.col("_role").fill_null(0))
    role_arn = pl.format("arn:aws:iam::{}:role/{}", acct, role_name)
    session_arn = pl.format("arn:aws:sts::{}:assumed-role/{}/{}", acct, role_name, pl.col("_session"))
    kind = pl.col("_kind")
    as_user = kind.is_in(["user", "assume"])
    akia = _take(people["akia"], pl.col("_actor"))
    failed = pl.Series(rng.random(frame.height) < 0.04)
    return frame.with_columns(_failed=failed & (pl.col("_pos") > 0)).with_columns(
        source_type=pl.lit("cloudtrail"), cloud_account_uid=acct,
        cloud_region=_take(REGIONS, pl.col("_region")),
        status_id=pl.when(pl.col("_failed")).then(pl.lit(2, pl.Int16)).otherwise(pl.lit(1, pl.Int16)),
        status_code=pl.when(pl.col("_failed")).then(pl.lit("AccessDenied")),
        actor_user_uid=pl.when(as_user).then(user_arn).otherwise(session_arn),
        actor_user_name=pl.when(as_user).then(name).otherwise(pl.col("_session")),
        actor_user_type=pl.when(as_user).then(pl.lit("IAMUser")).otherwise(pl.lit("AssumedRole")),
        actor_user_domain=acct,
        actor_orig_uid=pl.when(~as_user).then(role_arn),
        actor_orig_name=pl.when(~as_user).then(role_name),
        actor_credential_uid=pl.when(as_user).then(akia).otherwise(pl.col("_asia")),
        actor_session_uid=pl.when(~as_user).then(pl.format("{}:{}", pl.col("_aroa"), pl.col("_session"))),
        actor_session_issuer=pl.when(~as_user).then(role_arn),
        target_session_uid=pl.when(kind == "assume").then(session_arn),
        target_user_name=pl.when(kind == "assume").then(pl.col("_session")),
        resource_uid=pl.when(kind == "assume").then(role_arn),
        src_ip=pl.col("_ip"),
        time_us=pl.col("time_us") // 1_000_000 * 1_000_000,
    ).with_columns(source_stream=pl.col("cloud_account_uid") + "/" + pl.col("cloud_region")).select(
        [c for c in frame.columns if not c.startswith("_")] + [
            "source_type", "cloud_account_uid", "cloud_region", "status_id", "status_code", "actor_user_uid",
            "actor_user_name", "actor_user_type", "actor_user_domain", "actor_orig_uid", "actor_orig_name",
            "actor_credential_uid", "actor_session_uid", "actor_session_issuer", "target_session_uid",
            "target_user_name", "resource_uid", "src_ip", "source_stream",
        ]
    )


SHARES = {  # of the events; the sshd view of the auditd SSH sessions adds about 2% on top
    "auditd_ssh": 0.30, "auditd_cron": 0.06, "auditd_daemon": 0.098, "evtx_logon": 0.17, "evtx_system": 0.06,
    "evtx_fail": 0.015, "evtx_syschan": 0.015, "ct_user": 0.08, "ct_role": 0.10, "syslog_brute": 0.07,
    "syslog_sudo": 0.012,
}
ACTOR_COLUMNS = ("actor_user_uid", "actor_user_name", "actor_user_type", "actor_user_domain", "actor_orig_uid",
                 "actor_orig_name", "actor_credential_uid", "actor_session_uid", "actor_session_issuer")


def _at(day: float, hour: float = 0.0) -> int:
    return START_US + int(day * DAY_US + hour * HOUR_US)


def _ranked(frame: pl.DataFrame) -> dict[str, list[str]]:
    """The host names of auditd and of evtx, busiest first (each fault takes hosts from its own slice)."""
    counts = frame.select("source_type", "host_name").filter(pl.col("source_type").is_in(["auditd", "evtx"])).group_by(
        "source_type", "host_name").len().sort("len", "host_name", descending=[True, False])
    return {source: counts.filter(pl.col("source_type") == source)["host_name"].to_list()
            for source in ("auditd", "evtx")}


def _marker(host: str | None, stream: str, source: str, time_us: int, **columns: Any) -> dict[str, Any]:
    return {"time_us": time_us, "host_name": host, "source_stream": stream, "source_type": source,
            "status_id": 1, **columns}


def _faults_before_seq(frame: pl.DataFrame, ranked: dict[str, list[str]], truth: list[dict]) -> pl.DataFrame:
    """Faults that happen before sequence numbers exist: silences, stops, a reboot, and the tamper markers."""
    linux, windows = ranked["auditd"][10:22], ranked["evtx"][5:13]
    host, t, src = pl.col("host_name").fill_null(""), pl.col("time_us"), pl.col("source_type")
    # a reboot: the auditd stream of linux[0] continues as .../boot1
    reboot = _at(15, 10)
    frame = frame.with_columns(source_stream=pl.when((src == "auditd") & (host == linux[0]) & (t >= reboot))
                               .then(host + "/boot1").otherwise(pl.col("source_stream")))
    truth.append({"kind": "reboot (new stream, not a gap)", "stream": f"{linux[0]}/boot1", "start": reboot})
    # silent afternoons: a Linux host (auditd and syslog) and a Windows host, Wednesday 11 November 13:00-18:00
    a, b = _at(9, 13), _at(9, 18)
    drop = (host == linux[1]) & (t >= a) & (t < b)
    truth.append({"kind": "silence", "stream": f"{linux[1]}/boot0 and {linux[1]} (syslog)", "start": a, "end": b})
    a, b = _at(10, 13), _at(10, 18)
    drop = drop | ((host == windows[0]) & (src == "evtx") & (t >= a) & (t < b))
    truth.append({"kind": "silence", "stream": f"{windows[0]}/Security and /System", "start": a, "end": b})
    # hosts that stop while the others go on
    a = _at(24, 12)
    drop = drop | ((host == linux[2]) & (t >= a))
    truth.append({"kind": "source_silent", "stream": f"{linux[2]}/boot0 and {linux[2]} (syslog)", "start": a})
    a = _at(27, 9)
    drop = drop | ((host == windows[1]) & (t >= a))
    truth.append({"kind": "source_silent", "stream": f"{windows[1]}/Security and /System", "start": a})
    # auditd killed on one host while its syslog goes on
    a = _at(22, 15)
    drop = drop | ((host == linux[5]) & (src == "auditd") & (t >= a))
    truth.append({"kind": "source_silent (auditd stops, syslog goes on)", "stream": f"{linux[5]}/boot0", "start": a})
    # CloudTrail: StopLogging, 6 silent hours, StartLogging; later DeleteTrail, and that stream stops
    stopped = f"{ACCOUNTS[2]}/us-east-1"
    a, b = _at(19, 14), _at(19, 20)
    deleted = f"{ACCOUNTS[5]}/us-east-1"
    d = _at(26, 16)
    stream = pl.col("source_stream")
    drop = drop | ((stream == stopped) & (t > a) & (t < b)) | ((stream == deleted) & (t > d))
    frame = frame.with_columns(_gone=drop)  # dropped once, at the end of the faults: one copy of the frame
    truth += [{"kind": "tamper+silence", "stream": stopped, "start": a, "end": b, "marker": "StopLogging"},
              {"kind": "tamper+source_silent", "stream": deleted, "start": d, "marker": "DeleteTrail"}]
    ct = {"event_code": "AwsApiCall", "api_service": "cloudtrail.amazonaws.com", "class_uid": 6003,
          "actor_user_type": "IAMUser", "cloud_region": "us-east-1", "src_ip": "198.51.100.7"}
    markers = [
        _marker(None, stopped, "cloudtrail", a, api_operation="StopLogging", activity_id=99,
                cloud_account_uid=ACCOUNTS[2], actor_user_uid=f"arn:aws:iam::{ACCOUNTS[2]}:user/mallory",
                actor_user_name="mallory", **ct),
        _marker(None, stopped, "cloudtrail", b, api_operation="StartLogging", activity_id=99,
                cloud_account_uid=ACCOUNTS[2], actor_user_uid=f"arn:aws:iam::{ACCOUNTS[2]}:user/mallory",
                actor_user_name="mallory", **ct),
        _marker(None, deleted, "cloudtrail", d, api_operation="DeleteTrail", activity_id=4,
                cloud_account_uid=ACCOUNTS[5], actor_user_uid=f"arn:aws:iam::{ACCOUNTS[5]}:user/mallory",
                actor_user_name="mallory", **ct),
    ]
    eventlog, auditing = "Microsoft-Windows-Eventlog", "Microsoft-Windows-Security-Auditing"
    for i, (code, operation, activity, channel, day, provider) in enumerate((
        ("1102", "audit-log-cleared", 1, "Security", 12.6, eventlog),
        ("104", "log-cleared", 1, "System", 12.61, eventlog),
        ("1100", "logging-service-shutdown", 7, "Security", 21.4, eventlog),
        ("4719", "changed-audit-config", 99, "Security", 16.5, auditing),
    )):
        where = windows[2 + min(i, 2)]
        markers.append(_marker(where, f"{where}/{channel}", "evtx", _at(day), event_code=code,
                               api_operation=operation, activity_id=activity, actor_user_name="adm.mallory",
                               actor_user_uid=f"{DOMAIN_SID}-4242", actor_session_uid="0x5eed1", class_uid=1008,
                               actor_user_domain="CORP", api_service=provider))
        truth.append({"kind": "tamper", "stream": f"{where}/{channel}", "start": _at(day), "marker": code})
    markers.append(_marker(windows[5], f"{windows[5]}/Security", "evtx", _at(22.3), event_code="4616",
                           api_operation="system-time-changed", class_uid=0, activity_id=99,
                           actor_user_uid="S-1-5-18", actor_user_name="SYSTEM", actor_session_uid="0x3e7",
                           api_service="Microsoft-Windows-Security-Auditing"))
    truth.append({"kind": "clock (time changed)", "stream": f"{windows[5]}/Security", "start": _at(22.3),
                  "marker": "4616"})
    for where, code, operation, activity, day in ((linux[3], "CONFIG_CHANGE", None, 10, 13.5),
                                                  (linux[4], "DAEMON_END", None, 7, 17.1)):
        markers.append(_marker(where, f"{where}/boot0", "auditd", _at(day), event_code=code, api_operation=operation,
                               class_uid=1008, activity_id=activity, actor_orig_uid="10666", actor_user_uid="0",
                               actor_session_uid="777", actor_process_name="/usr/sbin/auditctl"
                               if code == "CONFIG_CHANGE" else "/usr/sbin/auditd", actor_process_pid=31337))
        truth.append({"kind": "tamper", "stream": f"{where}/boot0", "start": _at(day), "marker": code})
    added = pl.DataFrame(markers, infer_schema_length=None)
    added = added.select(  # the frame's own columns and dtypes, so that appending copies nothing
        (pl.col(name).cast(dtype) if name in added.columns else pl.lit(None, dtype)).alias(name)
        for name, dtype in frame.schema.items()).with_columns(_gone=pl.lit(False))
    frame = pl.concat([frame, added], how="vertical", rechunk=False)
    # auditd stopped on linux[4] for two hours after DAEMON_END: the kernel's serials go on, the records are lost
    frame = frame.with_columns(_lost=(host == linux[4]) & (src == "auditd") & (t > _at(17.1)) & (t < _at(17.1, 2)))
    truth.append({"kind": "sequence+silence (auditd stopped)", "stream": f"{linux[4]}/boot0", "start": _at(17.1),
                  "end": _at(17.1, 2)})
    return frame


def _assign_seq(frame: pl.DataFrame, ranked: dict[str, list[str]], rng: np.random.Generator,
                truth: list[dict]) -> pl.DataFrame:
    """Serials per auditd stream and EventRecordIDs per Windows channel, in time order; one unnoticed reset."""
    numbered = pl.col("source_type").is_in(["auditd", "evtx"])
    streams = frame.select("source_type", "source_stream").filter(numbered)["source_stream"].unique().sort()
    base = dict(zip(streams.to_list(), rng.integers(100, 5_000_000, len(streams)).tolist(), strict=True))
    rank = pl.col("time_us").rank("ordinal").over("source_stream", "_gone").cast(pl.Int64) - 1
    first = pl.col("source_stream").replace_strict(base, default=0, return_dtype=pl.Int64)
    frame = frame.with_columns(source_seq=pl.when(numbered).then(first + rank))
    # a serial reset the loader could not tell from a reboot (no boot id): the stream goes on from 1
    reset_host = ranked["auditd"][30]
    at = _at(18, 3)
    in_reset = (pl.col("host_name") == reset_host) & (pl.col("source_type") == "auditd") & (pl.col("time_us") >= at)
    restarted = pl.col("time_us").rank("ordinal").over(in_reset, "_gone").cast(pl.Int64)
    frame = frame.with_columns(source_seq=pl.when(in_reset).then(restarted).otherwise(pl.col("source_seq")))
    truth.append({"kind": "sequence reset (negative step)", "stream": f"{reset_host}/boot0", "start": at})
    return frame


def _faults_after_seq(frame: pl.DataFrame, ranked: dict[str, list[str]], rng: np.random.Generator,
                      truth: list[dict]) -> pl.DataFrame:
    """Lost serial ranges, a clock two hours behind, a run of events stripped of their actor, untimed rows."""
    linux, windows = ranked["auditd"][40:48], ranked["evtx"][20:22]
    seq, stream = pl.col("source_seq"), pl.col("source_stream")
    kept = frame.select("source_stream", "source_seq", "_gone").filter(~pl.col("_gone"))
    ranges = kept.group_by("source_stream").agg(
        lo=seq.min(), hi=seq.max()).rows_by_key("source_stream")

    def pick(name: str, share: float, at: float, least: int) -> tuple[int, int]:
        lo, hi = ranges[name][0]
        return int(lo + (hi - lo) * at), max(least, int((hi - lo) * share))

    drop = pl.col("_lost") | pl.col("_gone")
    for name, share in ((f"{linux[0]}/boot0", 0.01), (f"{linux[1]}/boot0", 0.001), (f"{linux[2]}/boot0", 0.03),
                        (f"{windows[0]}/Security", 0.005)):
        first, size = pick(name, share, rng.uniform(0.2, 0.8), 3)
        drop = drop | ((stream == name) & (seq >= first) & (seq < first + size))
        truth.append({"kind": "sequence", "stream": name, "first_missing": first, "missing": size})
    frame = frame.filter(~drop).drop("_lost", "_gone").with_columns(_arrival=pl.col("time_us"))  # file order
    # a clock two hours behind for a while, on one auditd stream: time goes backwards against the serials
    name = f"{linux[3]}/boot0"
    first, size = pick(name, 0.005, 0.5, 50)
    skewed = (stream == name) & (seq >= first) & (seq < first + size)
    truth.append({"kind": "clock (2 h behind)", "stream": name, "first_seq": first, "rows": size})
    # a run of events stripped of their actor (a broken forwarder), and a sprinkle of lone ones
    name = f"{linux[4]}/boot0"
    first, size = pick(name, 0.002, 1 / 3, 200)
    stripped = (stream == name) & (seq >= first) & (seq < first + size)
    lone = pl.Series(rng.random(frame.height) < 0.0002) & pl.col("class_uid").is_in([3002, 6003, 1007])
    truth.append({"kind": "unattributed run", "stream": name, "first_seq": first, "rows": size})
    return frame.with_columns(
        *(pl.when(stripped | lone).then(None).otherwise(pl.col(c)).alias(c) for c in ACTOR_COLUMNS),
        time_us=pl.when(skewed).then(pl.col("time_us") - 2 * HOUR_US).otherwise(pl.col("time_us")),
    )


def _provenance(frame: pl.DataFrame) -> pl.DataFrame:
    """Files, lines, offsets, native record ids and a short ``raw``, as the loaders would give them."""
    src, t = pl.col("source_type"), pl.col("time_us")
    sec = (t // 1_000_000).cast(pl.String)
    ms = (t // 1000 % 1000).cast(pl.String).str.zfill(3)
    day = pl.from_epoch(t, "us").dt.strftime("%Y/%m/%d")
    channel = pl.col("source_stream").str.split("/").list.last()
    lazy = frame.lazy().with_columns(
        source_file=pl.when(src == "auditd").then(pl.format("/var/log/audit/{}/audit.log", pl.col("host_name")))
        .when(src == "evtx").then(pl.format("evtx/{}/{}.evtx", pl.col("host_name"), channel))
        .when(src == "syslog").then(pl.format("/var/log/remote/{}/auth.log", pl.col("host_name")))
        .otherwise(pl.format("AWSLogs/{}/CloudTrail/{}/{}/trail.json.gz", pl.col("cloud_account_uid"),
                             pl.col("cloud_region"), day)),
    )
    lazy = lazy.with_columns(
        raw=pl.when(src == "auditd").then(pl.format(
            "type={} msg=audit({}.{}:{}): pid={} auid={} uid={} ses={} exe={}", pl.col("event_code"), sec, ms,
            pl.col("source_seq"), pl.col("actor_process_pid").fill_null(0), pl.col("actor_orig_uid").fill_null(
                "4294967295"), pl.col("actor_user_uid").fill_null("-"), pl.col("actor_session_uid").fill_null(
                "4294967295"), pl.col("actor_process_name").fill_null("-")))
        .when(src == "evtx").then(pl.format("<Event><EventID>{}</EventID><EventRecordID>{}</EventRecordID>"
                                            "<Computer>{}</Computer></Event>", pl.col("event_code"),
                                            pl.col("source_seq"), pl.col("host_name")))
        .when(src == "syslog").then(pl.format("{} {} {}[{}]: {} {}", sec, pl.col("host_name"),
                                              pl.col("actor_process_name"), pl.col("actor_process_pid"),
                                              pl.col("event_code"), pl.col("actor_user_name").fill_null("-")))
        .otherwise(pl.concat_str(pl.lit('{"eventName":"'), pl.col("api_operation"), pl.lit('","eventTime":'), sec,
                                   pl.lit(',"userName":"'), pl.col("actor_user_name").fill_null(""), pl.lit('"}'))),
    )
    # files in name order, records in file order (sequence, else time); sorting on integers is much faster
    files = lazy.select(pl.col("source_file").unique().sort()).collect()["source_file"]
    file_key = pl.col("source_file").replace_strict(files, pl.int_range(len(files), eager=True), return_dtype=pl.Int32)
    lazy = lazy.with_columns(_file=file_key).sort("_file", "_arrival", "source_seq", maintain_order=True)
    size = pl.col("raw").str.len_bytes().cast(pl.Int64) + 1
    frame = lazy.with_columns(
        source_line=pl.int_range(1, pl.len() + 1).over("_file"),
        source_offset=pl.when(src != "evtx").then((size.cum_sum() - size).over("_file")),
        source_record_uid=pl.when(src == "auditd").then(pl.format("{}.{}:{}", sec, ms, pl.col("source_seq")))
        .when(src == "evtx").then(pl.format("{}:{}", pl.col("source_stream"), pl.col("source_seq"))),
    ).drop("_file", "_arrival").collect()
    ct = (frame["source_type"] == "cloudtrail").to_numpy()
    return frame.with_columns(source_record_uid=pl.when(pl.Series(ct)).then(pl.Series(_uuids(frame.height)))
                              .otherwise(pl.col("source_record_uid")))


def _uuids(n: int, seed: int = 11) -> pl.Series:
    """``n`` random UUID-shaped strings, without a Python loop."""
    raw = np.random.default_rng(seed).integers(0, 256, (n, 16), dtype=np.uint8)
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    nibbles = np.empty((n, 32), np.uint8)
    nibbles[:, 0::2], nibbles[:, 1::2] = hexdigits[raw >> 4], hexdigits[raw & 15]
    out = np.full((n, 36), ord("-"), np.uint8)
    for (a, b), start in zip(((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)), (0, 9, 14, 19, 24), strict=True):
        out[:, start:start + b - a] = nibbles[:, a:b]
    return pl.Series(out.view("S36").ravel()).cast(pl.String)


def _generate(n: int, seed: int) -> tuple[Iterator[pl.DataFrame], list[dict]]:
    """The events, one source at a time (each in file order, in the canonical schema), and the injected faults."""
    from auditlab.schema import conform

    rng = np.random.default_rng(seed)
    budget = {k: int(n * share) for k, share in SHARES.items()}
    people, hosts = _people(rng), _hosts(rng)
    ssh, noise = _auditd(rng, budget, people, hosts)
    frames = [
        _auditd_finish((ssh, noise), hosts),
        _syslog(rng, budget, ssh, people, hosts),
        _evtx(rng, budget, people, hosts),
        _cloudtrail(rng, budget, people),
    ]
    del ssh, noise
    frame = pl.concat([f.drop([c for c in f.columns if c.startswith("_")]) for f in frames], how="diagonal_relaxed")
    del frames
    truth: list[dict] = []
    ranked = _ranked(frame)
    frame = _faults_before_seq(frame, ranked, truth)
    frame = _assign_seq(frame, ranked, rng, truth)
    frame = _faults_after_seq(frame, ranked, rng, truth)
    truth.append({"kind": "untimed rows", "rows": 2, "streams": "the 1000th record of auditd and of evtx"})

    def parts() -> Iterator[pl.DataFrame]:  # one source at a time: files never span sources, and memory stays low
        for source in ("auditd", "cloudtrail", "evtx", "syslog"):
            part = _provenance(frame.filter(pl.col("source_type") == source))
            if source in ("auditd", "evtx"):  # a record whose time could not be read (kept, as the loaders do)
                untimed = pl.int_range(pl.len()) == 999
                part = part.with_columns(time_us=pl.when(untimed).then(None).otherwise(pl.col("time_us")))
            yield conform(part.with_columns(time=pl.from_epoch("time_us", "us").dt.replace_time_zone("UTC")))

    return parts(), truth


def generate(n: int, *, seed: int = 7) -> tuple[pl.DataFrame, list[dict]]:
    """About ``n`` events in the canonical schema (fewer by the injected losses), and the injected faults."""
    parts, truth = _generate(n, seed)
    return pl.concat(list(parts)), truth


def events_path(n: int, *, seed: int = 7) -> Path:
    """The cached parquet file of :func:`generate` (made on first use), with the injected faults beside it."""
    path = DATA / f"analysis_v{VERSION}_{n}_s{seed}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    parts, truth = _generate(n, seed)
    written = []
    for i, part in enumerate(parts):
        written.append(path.with_suffix(f".part{i}"))
        part.write_parquet(written[-1], row_group_size=1_000_000)
        del part
    tmp = path.with_suffix(".tmp")
    pl.scan_parquet(written).sink_parquet(tmp, row_group_size=1_000_000)
    for part_path in written:
        part_path.unlink()
    tmp.replace(path)
    path.with_suffix(".faults.json").write_text(json.dumps(truth, indent=1))
    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    print(f"generated {rows:,} events in {time.perf_counter() - start:.1f} s: {path.name}", file=sys.stderr)
    return path


# --------------------------------------------------------------------------------------------------------------
# The peer: the same questions, asked plainly in pandas

PEER_IDLE_US = 30 * 60 * 1_000_000
PEER_TAMPER_CODES = ("1102", "104", "1100", "4719", "DAEMON_END", "DAEMON_ABORT")
PEER_TAMPER_OPERATIONS = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "DeleteEventDataStore",
                          "StopEventDataStoreIngestion", "DeleteLogGroup", "DeleteLogStream", "DeleteFlowLogs")
PEER_TAMPER_COMMANDS = (r"(?i)wevtutil(?:\.exe)?\s+(?:cl|clear-log)|(?:Clear|Remove)-EventLog|auditpol.*(?:/clear|"
                        r"/remove|:disable)|auditctl\s.*-e\s*0|auditctl\s.*-D|history\s+-c|unset\s+HISTFILE|"
                        r"HISTFILE=/dev/null|(?:service|systemctl|pkill|killall)\s.*(?:auditd|rsyslog|journald)")
PEER_TAMPER_SYSLOG = r"rsyslogd.*exiting on signal|Stopped (?:System Logging|Security Auditing) Service|audit daemon"
PEER_CLOCK_CODES = ("4616", "TIME_INJOFFSET")
PEER_ATTRIBUTED = (3001, 3002, 3005, 3006, 6003, 1007, 1001)
PEER_ACTOR = ["actor_orig_uid", "actor_orig_name", "actor_user_uid", "actor_user_name"]
PEER_GAP_COLUMNS = ["time_us", "source_type", "source_stream", "source_seq", "host_name", "parse_error", "class_uid",
                    "activity_id", "event_code", "api_operation", "process_cmdline", "raw", *PEER_ACTOR]
PEER_SESSION_COLUMNS = ["time_us", "source_type", "source_stream", "host_name", "cloud_account_uid", "parse_error",
                        "event_code", "api_operation", "status_id", "src_ip", "actor_session_uid",
                        "target_session_uid", "actor_credential_uid", "actor_process_name", "actor_process_pid",
                        *PEER_ACTOR]


def peer_gaps(df: pd.DataFrame, p_max: float = 0.001) -> dict[str, pd.DataFrame]:
    """Gap detection as an analyst would write it in pandas: one frame per kind."""
    import pandas as pd

    out: dict[str, pd.DataFrame] = {}
    df = df[PEER_GAP_COLUMNS]  # the columns the questions read (no copy: pandas copies on write)
    # sequence gaps and time going backwards: per stream, in sequence order
    s = df.loc[df["source_seq"].notna(), ["source_stream", "source_seq", "time_us", "parse_error"]]
    s = s.sort_values(["source_stream", "source_seq"])
    g = s.groupby("source_stream")
    s["prev_seq"] = g["source_seq"].shift()
    s["prev_time"] = g["time_us"].shift()
    step = s["source_seq"] - s["prev_seq"]
    out["sequence"] = s.loc[step > 1].assign(missing=step - 1)
    clean = df["parse_error"].isna()
    back = (s["prev_time"] - s["time_us"]) > 60_000_000
    out["clock"] = pd.concat([
        s.loc[back & s["parse_error"].isna()],
        df.loc[clean & df["event_code"].isin(PEER_CLOCK_CODES), ["source_stream", "time_us"]],
    ])
    d = df.loc[clean]
    # tamper markers
    tamper = (
        d["event_code"].isin(PEER_TAMPER_CODES)
        | ((d["event_code"] == "CONFIG_CHANGE") & (d["activity_id"] == 10))
        | ((d["source_type"] == "cloudtrail") & d["api_operation"].isin(PEER_TAMPER_OPERATIONS))
        | d["process_cmdline"].str.contains(PEER_TAMPER_COMMANDS, regex=True)
        | (d["source_type"].isin(["syslog", "journald"]) & d["raw"].str.contains(PEER_TAMPER_SYSLOG, regex=True))
    )
    out["tamper"] = d.loc[tamper.fillna(False), ["source_stream", "time_us", "event_code", "api_operation"]]
    # unattributed: events of classes that must name someone, but name no one; runs per stream in time order
    t = d.loc[d["time_us"].notna()].sort_values(["source_stream", "time_us"])
    actor = t[PEER_ACTOR].notna().any(axis=1)
    flagged = t["class_uid"].isin(PEER_ATTRIBUTED) & ~actor
    t = t.assign(run=actor.astype("int64").groupby(t["source_stream"]).cumsum())
    out["unattributed"] = (t.loc[flagged].groupby(["source_stream", "run"])
                           .agg(start=("time_us", "min"), end=("time_us", "max"), events=("time_us", "size"))
                           .reset_index())
    # silence: hourly counts per stream against the stream's own hour-of-day and day-of-week rhythm
    t = t.assign(hour=(t["time_us"] // HOUR_US).astype("int64"))
    counts = t.groupby(["source_stream", "hour"]).size().rename("n").reset_index()
    span = counts.groupby("source_stream")["hour"].agg(["min", "max"])
    span = span[span["max"] - span["min"] + 1 >= 24]
    grid = pd.DataFrame({
        "source_stream": np.repeat(span.index.to_numpy(), (span["max"] - span["min"] + 1).to_numpy()),
        "hour": np.concatenate([np.arange(a, b + 1) for a, b in zip(span["min"], span["max"], strict=True)]),
    })
    counts["hour"] = counts["hour"].astype("int64")
    grid = grid.merge(counts, on=["source_stream", "hour"], how="left").fillna({"n": 0})
    grid["hod"] = grid["hour"] % 24
    grid["dow"] = (grid["hour"] // 24 + 3) % 7
    by_stream = grid.groupby("source_stream")["n"]
    grid["expected"] = (grid.groupby(["source_stream", "hod"])["n"].transform("mean")
                        * grid.groupby(["source_stream", "dow"])["n"].transform("mean") / by_stream.transform("mean"))
    grid["run"] = (grid["n"] > 0).astype("int64").groupby(grid["source_stream"]).cumsum()
    empty = grid[grid["n"] == 0]
    runs = empty.groupby(["source_stream", "run"]).agg(start=("hour", "min"), hours=("hour", "size"),
                                                        expected=("expected", "sum")).reset_index()
    runs["p"] = np.exp(-runs["expected"])
    out["silence"] = runs[runs["p"] < p_max]
    # source_silent: a stream (or a host across its streams) whose last event comes improbably early
    end = t["time_us"].max()
    rows = []
    for key in ("source_stream", "host_name"):
        last = t.groupby(key)["time_us"].agg(["size", "min", "max"])
        if key == "host_name":
            last = last[t.groupby(key)["source_stream"].nunique() >= 2]
        last = last[(last["size"] >= 2) & (last["max"] > last["min"])]
        rate = (last["size"] - 1) / (last["max"] - last["min"])
        p = np.exp(-rate * (end - last["max"]))
        rows.append(last[p < p_max].assign(scope=key))
    out["source_silent"] = pd.concat(rows)
    # untimed records, per stream
    out["untimed"] = d.loc[d["time_us"].isna()].groupby("source_stream").size().rename("events").reset_index()
    return out


def peer_sessions(df: pd.DataFrame) -> pd.DataFrame:
    """Sessions as an analyst would write them in pandas: native session ids where the source has one, else a new
    session after 30 idle minutes of one actor on one source and host; then one row per session."""
    import pandas as pd

    df = df[PEER_SESSION_COLUMNS]
    d = df.loc[df["parse_error"].isna()]
    actor = (d["actor_orig_uid"].fillna(d["actor_orig_name"]).fillna(d["actor_user_uid"])
             .fillna(d["actor_user_name"]).str.lower())
    source, code = d["source_type"], d["event_code"]
    host = d["host_name"].fillna("")
    native = pd.Series(pd.NA, index=d.index, dtype=d["source_stream"].dtype)
    ses = d["target_session_uid"].where(code == "LOGIN").fillna(d["actor_session_uid"])
    auditd = (source == "auditd") & ses.notna()
    native[auditd] = "auditd:" + d["source_stream"] + ":ses" + ses
    lid = d["target_session_uid"].where(code == "4624").fillna(
        d["actor_session_uid"].where(~d["actor_session_uid"].isin(["0x3e7", "0x3e4", "0x3e5"])))
    evtx = (source == "evtx") & lid.notna()
    native[evtx] = "evtx:" + host + ":" + lid
    cloud = (source == "cloudtrail") & d["actor_session_uid"].notna()
    native[cloud] = ("cloudtrail:" + d["cloud_account_uid"].fillna("") + ":"
                     + d["actor_credential_uid"].fillna(d["actor_session_uid"]))
    sshd = source.isin(["syslog", "journald"]) & (d["actor_process_name"] == "sshd") & d["actor_process_pid"].notna()
    native[sshd] = source + ":" + host + ":sshd[" + d["actor_process_pid"].astype("string") + "]"
    # idle-gap sessions for the rest: sort by time, diff per (actor, source, host), a new session after `idle`
    scope = d["host_name"].fillna(d["cloud_account_uid"]).fillna(d["source_stream"]).fillna("")
    idle = d.loc[native.isna() & actor.notna(), ["time_us"]].assign(actor=actor, source=source, scope=scope)
    idle = idle.sort_values("time_us")
    gap = idle.groupby(["actor", "source", "scope"])["time_us"].diff()
    idle["n"] = (gap.isna() | (gap > PEER_IDLE_US)).astype("int64").groupby(
        [idle["actor"], idle["source"], idle["scope"]]).cumsum()
    session = native.copy()
    session[idle.index] = "idle:" + idle["source"] + ":" + idle["scope"] + ":" + idle["actor"] + "#" + idle[
        "n"].astype("string")
    d = d.assign(session_id=session, actor=actor, failed=(d["status_id"] == 2).fillna(False).astype("int64"))
    d = d.loc[d["session_id"].notna()].sort_values("time_us")
    return d.groupby("session_id").agg(
        actor=("actor", "first"), start=("time_us", "min"), end=("time_us", "max"), events=("time_us", "size"),
        failures=("failed", "sum"), src_ips=("src_ip", "nunique"), hosts=("host_name", "nunique"),
        host=("host_name", "first"), source=("source_type", "first"), opening=("api_operation", "first"),
    ).reset_index()


def polars_peer_gaps(df: pl.DataFrame, p_max: float = 0.001) -> dict[str, pl.DataFrame]:
    """:func:`peer_gaps` line for line in plain polars: how fast the same questions can be, for reference."""
    c = pl.col
    out: dict[str, pl.DataFrame] = {}
    df = df.select(PEER_GAP_COLUMNS)
    s = (df.filter(c("source_seq").is_not_null()).select("source_stream", "source_seq", "time_us", "parse_error")
         .sort("source_stream", "source_seq")
         .with_columns(prev_seq=c("source_seq").shift().over("source_stream"),
                       prev_time=c("time_us").shift().over("source_stream")))
    step = c("source_seq") - c("prev_seq")
    out["sequence"] = s.filter(step > 1).with_columns(missing=step - 1)
    back = (c("prev_time") - c("time_us")) > 60_000_000
    out["clock"] = pl.concat([
        s.filter(back & c("parse_error").is_null()).select("source_stream", "time_us"),
        df.filter(c("parse_error").is_null() & c("event_code").is_in(PEER_CLOCK_CODES)).select("source_stream",
                                                                                              "time_us"),
    ])
    d = df.filter(c("parse_error").is_null())
    tamper = (
        c("event_code").is_in(PEER_TAMPER_CODES)
        | ((c("event_code") == "CONFIG_CHANGE") & (c("activity_id") == 10))
        | ((c("source_type") == "cloudtrail") & c("api_operation").is_in(PEER_TAMPER_OPERATIONS))
        | c("process_cmdline").str.contains(PEER_TAMPER_COMMANDS)
        | (c("source_type").is_in(["syslog", "journald"]) & c("raw").str.contains(PEER_TAMPER_SYSLOG))
    )
    out["tamper"] = d.filter(tamper.fill_null(False)).select("source_stream", "time_us", "event_code",
                                                            "api_operation")
    t = d.filter(c("time_us").is_not_null()).sort("source_stream", "time_us")
    actor = pl.any_horizontal(c(name).is_not_null() for name in PEER_ACTOR)
    t = t.with_columns(run=actor.cast(pl.Int64).cum_sum().over("source_stream"), _attr=actor)
    out["unattributed"] = (t.filter(c("class_uid").is_in(PEER_ATTRIBUTED) & ~c("_attr"))
                           .group_by("source_stream", "run")
                           .agg(start=c("time_us").min(), end=c("time_us").max(), events=pl.len()))
    t = t.with_columns(hour=c("time_us") // HOUR_US)
    counts = t.group_by("source_stream", "hour").agg(n=pl.len())
    span = (counts.group_by("source_stream").agg(lo=c("hour").min(), hi=c("hour").max())
            .filter(c("hi") - c("lo") + 1 >= 24))
    grid = (span.with_columns(hour=pl.int_ranges("lo", c("hi") + 1)).explode("hour").select("source_stream", "hour")
            .join(counts, on=["source_stream", "hour"], how="left").with_columns(c("n").fill_null(0))
            .sort("source_stream", "hour")
            .with_columns(hod=c("hour") % 24, dow=(c("hour") // 24 + 3) % 7))
    grid = grid.with_columns(
        expected=c("n").mean().over("source_stream", "hod") * c("n").mean().over("source_stream", "dow")
        / c("n").mean().over("source_stream"),
        run=(c("n") > 0).cast(pl.Int64).cum_sum().over("source_stream"),
    )
    runs = (grid.filter(c("n") == 0).group_by("source_stream", "run")
            .agg(start=c("hour").min(), hours=pl.len(), expected=c("expected").sum())
            .with_columns(p=(-c("expected")).exp()))
    out["silence"] = runs.filter(c("p") < p_max)
    end = t["time_us"].max()
    parts = []
    for key in ("source_stream", "host_name"):
        last = t.group_by(key).agg(size=pl.len(), lo=c("time_us").min(), hi=c("time_us").max(),
                                   streams=c("source_stream").n_unique())
        if key == "host_name":
            last = last.filter(c("streams") >= 2, c("host_name").is_not_null())
        rate = (c("size") - 1) / (c("hi") - c("lo"))
        parts.append(last.filter(c("size") >= 2, c("hi") > c("lo"), (-rate * (end - c("hi"))).exp() < p_max)
                     .select(key))
    out["source_silent"] = pl.concat(parts, how="diagonal")
    out["untimed"] = d.filter(c("time_us").is_null()).group_by("source_stream").agg(events=pl.len())
    return out


def polars_peer_sessions(df: pl.DataFrame) -> pl.DataFrame:
    """:func:`peer_sessions` line for line in plain polars, for reference."""
    c = pl.col
    d = df.select(PEER_SESSION_COLUMNS).filter(c("parse_error").is_null())
    actor = pl.coalesce(*PEER_ACTOR).str.to_lowercase()
    source, code, host = c("source_type"), c("event_code"), c("host_name").fill_null("")
    ses = pl.when(code == "LOGIN").then(c("target_session_uid")).otherwise(c("actor_session_uid"))
    lid = pl.coalesce(pl.when(code == "4624").then(c("target_session_uid")), pl.when(
        ~c("actor_session_uid").is_in(["0x3e7", "0x3e4", "0x3e5"])).then(c("actor_session_uid")))
    native = (
        pl.when((source == "auditd") & ses.is_not_null()).then(pl.concat_str(pl.lit("auditd:"), c("source_stream"),
                                                                           pl.lit(":ses"), ses))
        .when((source == "evtx") & lid.is_not_null()).then(pl.concat_str(pl.lit("evtx:"), host, pl.lit(":"), lid))
        .when((source == "cloudtrail") & c("actor_session_uid").is_not_null()).then(pl.concat_str(
            pl.lit("cloudtrail:"), c("cloud_account_uid").fill_null(""), pl.lit(":"),
            pl.coalesce("actor_credential_uid", "actor_session_uid")))
        .when(source.is_in(["syslog", "journald"]) & (c("actor_process_name") == "sshd")
              & c("actor_process_pid").is_not_null())
        .then(pl.concat_str(source, pl.lit(":"), host, pl.lit(":sshd["), c("actor_process_pid").cast(pl.String),
                            pl.lit("]")))
    )
    scope = pl.coalesce("host_name", "cloud_account_uid", "source_stream", pl.lit(""))
    d = d.with_columns(native=native, actor=actor, scope=scope).sort("time_us", nulls_last=True)
    idle = c("native").is_null() & c("actor").is_not_null()
    gap = c("time_us").diff().over("actor", "source_type", "scope")
    d = d.with_columns(n=pl.when(idle).then((gap.is_null() | (gap > PEER_IDLE_US)).cast(pl.Int64)
                                            .cum_sum().over("actor", "source_type", "scope")))
    d = d.with_columns(session_id=pl.coalesce("native", pl.when(idle).then(pl.concat_str(
        pl.lit("idle:"), source, pl.lit(":"), c("scope"), pl.lit(":"), c("actor"), pl.lit("#"),
        c("n").cast(pl.String)))))
    return d.filter(c("session_id").is_not_null()).group_by("session_id").agg(
        actor=c("actor").first(), start=c("time_us").min(), end=c("time_us").max(), events=pl.len(),
        failures=(c("status_id") == 2).sum(), src_ips=c("src_ip").drop_nulls().n_unique(),
        hosts=c("host_name").drop_nulls().n_unique(), host=c("host_name").first(), source=source.first(),
        opening=c("api_operation").first(),
    )


# --------------------------------------------------------------------------------------------------------------
# Measuring: each side in a fresh child process, its RSS sampled by the parent

SIDES = {
    "ours": "auditlab `al.gaps(df)` + `al.sessions(df)` (polars DataFrame)",
    "ours-lazy": "auditlab on `pl.scan_parquet(path)` (LazyFrame, read included)",
    "pandas": "pandas, plain (Arrow dtypes)",
    "pandas-numpy": "pandas, plain (default dtypes: float64 for nullable ints)",
    "polars-peer": "reference: the peer's queries line for line in plain polars",
}


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset this process's peak RSS (``VmHWM``), so that the peak of what follows can be read; False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _buffer_bytes(frame: pl.DataFrame) -> int:
    """The bytes of the frame's Arrow buffers, views of String columns included (``estimated_size()`` leaves out
    the 16-byte view of every String value, so it reads about half of this on the canonical schema)."""
    table = frame.to_arrow(compat_level=pl.CompatLevel.newest())  # zero-copy
    return sum(column.get_total_buffer_size() for column in table.columns)


def child(side: str, path: str, profile: str | None) -> dict[str, Any]:
    """Run one side's analysis on the parquet file in this (fresh) process and report times, counts and memory."""
    import gc

    import psutil

    import auditlab as al

    _ = (al.gaps, al.sessions)  # their modules imported now, so the import is not timed
    if side.startswith("pandas"):
        import pandas as pd  # noqa: F401
    me = psutil.Process()
    rows = int(pl.scan_parquet(path).select(pl.len()).collect().item())
    empty = me.memory_info().rss
    frame: Any = None
    size = buffers = None
    if side != "ours-lazy":
        frame = pl.read_parquet(path)
        size, buffers = frame.estimated_size(), _buffer_bytes(frame)
    if side == "ours-lazy":
        frame = pl.scan_parquet(path)
    elif side.startswith("pandas"):
        frame = frame.to_pandas(use_pyarrow_extension_array=side == "pandas")
    gc.collect()
    time.sleep(1.0)
    pandas_size = int(frame.memory_usage(deep=True).sum()) if side.startswith("pandas") else None
    before = me.memory_info().rss
    exact = _reset_peak()
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    t0 = time.time()
    start = time.perf_counter()
    if side == "ours":
        found = al.gaps(frame)
        gap_seconds = time.perf_counter() - start
        sessions = al.sessions(frame)
    elif side == "ours-lazy":
        found = al.gaps(frame).collect()
        gap_seconds = time.perf_counter() - start
        sessions = al.sessions(frame).collect()
    elif side == "polars-peer":
        found = polars_peer_gaps(frame)
        gap_seconds = time.perf_counter() - start
        sessions = polars_peer_sessions(frame)
    else:
        found = peer_gaps(frame)
        gap_seconds = time.perf_counter() - start
        sessions = peer_sessions(frame)
    total = time.perf_counter() - start
    t1 = time.time()
    peak = _status_kib("VmHWM") * 1024 if exact else None
    if profiler is not None:
        profiler.stop()
        Path(profile).write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    if side.startswith("ours"):
        kinds = {k: int(v) for k, v in found.group_by("kind").len().iter_rows()}
        sequence_missing = int(found.filter(pl.col("kind") == "sequence")["missing"].sum())
        n_sessions = sessions.height
        linked = int(sessions.filter(pl.col("source_count") > 1).height)
    else:
        kinds = {k: len(v) for k, v in found.items()}
        sequence_missing = int(found["sequence"]["missing"].sum())
        n_sessions = len(sessions)
        linked = None
    del frame, found, sessions
    return {
        "side": side, "rows": rows, "frame_bytes": size, "buffer_bytes": buffers, "pandas_bytes": pandas_size,
        "rss_empty": empty, "rss_before": before,
        "peak_hwm": peak, "t0": t0, "t1": t1, "gaps_s": gap_seconds, "sessions_s": total - gap_seconds,
        "total_s": total, "kinds": kinds, "sequence_missing": sequence_missing, "sessions": n_sessions,
        "multi_source_sessions": linked,
    }


def measure(side: str, path: Path, *, timeout: float, profile: Path | None = None) -> dict[str, Any]:
    """One side in a fresh interpreter; its RSS sampled every 20 ms by this process (psutil)."""
    import psutil

    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", side, str(path)]
    if profile is not None:
        cmd += ["--profile-to", str(profile)]
    load = os.getloadavg()[0]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        watched = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                samples.append((time.time(), watched.memory_info().rss))
            except psutil.Error:
                return
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        done.set()
        return {"side": side, "timeout": timeout, "load": load}
    finally:
        done.set()
        sampler.join()
    if proc.returncode:
        raise SystemExit(f"{side} failed ({proc.returncode}):\n{err[-4000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    during = [rss for t, rss in samples if result["t0"] - 0.05 <= t <= result["t1"] + 0.05]
    result["peak_sampled"] = max(during, default=None)
    result["peak_life"] = max((rss for _, rss in samples), default=None)
    result["load"] = load
    return result


def _mib(value: float | None) -> str:
    return "" if value is None else f"{value / 2**20:,.0f} MiB"


def _size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


def _parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().upper()
        factor = 1_000_000 if part.endswith("M") else 1_000 if part.endswith("K") else 1
        sizes.append(int(float(part.rstrip("MK")) * factor))
    return sizes


def report(results: dict[int, dict[str, dict[str, Any]]]) -> None:
    """Print the markdown tables: per size and side, then growth and agreement."""
    print("| events | side | gaps s | sessions s | total s | pandas / side | peak RSS | sampled peak | RSS before "
          "| peak / frame est. | peak / frame buffers | added / frame buffers |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, by_side in results.items():
        est = next((r["frame_bytes"] for r in by_side.values() if r.get("frame_bytes")), None)
        buf = next((r["buffer_bytes"] for r in by_side.values() if r.get("buffer_bytes")), None)
        pandas = by_side.get("pandas", {}).get("total_s")
        first = True
        for side, r in by_side.items():
            label = ""
            if first:
                label = f"{r.get('rows', n):,} (frame {_mib(est)} est., {_mib(buf)} buffers)"
                first = False
            if "timeout" in r:
                print(f"| {label} | {SIDES[side]} | timed out after {r['timeout']:.0f} s | | | | | | | | | |")
                continue
            ratio = f"**{pandas / r['total_s']:.2f}x**" if side != "pandas" and pandas else ""
            peak = r["peak_hwm"] or r["peak_sampled"]
            added = f"{(peak - r['rss_before']) / buf:.2f}x" if side != "ours-lazy" else ""
            print(f"| {label} | {SIDES[side]} | {r['gaps_s']:.2f} | {r['sessions_s']:.2f} | {r['total_s']:.2f} "
                  f"| {ratio} | {_mib(r['peak_hwm'])} | {_mib(r['peak_sampled'])} | {_mib(r['rss_before'])} "
                  f"| {peak / est:.2f}x | {peak / buf:.2f}x | {added} |")
    sizes = list(results)
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        print(f"\nGrowth from {_size_label(lo)} to {_size_label(hi)} events ({hi / lo:.0f}x the events):\n")
        print("| side | time growth | peak RSS growth | us per event at " + " | ".join(map(_size_label, sizes)) + " |")
        print("|---|---:|---:|" + "---:|" * len(sizes))
        for side in results[lo]:
            a, b = results[lo][side], results[hi].get(side, {})
            if "total_s" not in a or "total_s" not in b:
                continue
            per = " | ".join(f"{results[n][side]['total_s'] / results[n][side]['rows'] * 1e6:.2f}"
                             if "total_s" in results[n].get(side, {}) else "" for n in sizes)
            pa, pb = a["peak_hwm"] or a["peak_sampled"], b["peak_hwm"] or b["peak_sampled"]
            print(f"| {SIDES[side]} | {b['total_s'] / a['total_s']:.1f}x | {pb / pa:.1f}x | {per} |")
    print("\nAgreement, ours / the pandas peer (the definitions differ where the notes say so):\n")
    print("| events | sequence gaps | records missing | silence | tamper | clock | unattributed | source_silent "
          "| untimed | sessions |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, by_side in results.items():
        ours, peer = by_side.get("ours"), by_side.get("pandas") or by_side.get("pandas-numpy")
        if not ours or not peer or "kinds" not in ours or "kinds" not in peer:
            continue

        linked = ours.get("multi_source_sessions") or 0

        def pair(kind: str, ours: dict = ours, peer: dict = peer) -> str:
            return f"{ours['kinds'].get(kind, 0):,} / {peer['kinds'].get(kind, 0):,}"

        print(f"| {_size_label(n)} | {pair('sequence')} | {ours['sequence_missing']:,} / {peer['sequence_missing']:,} "
              f"| {pair('silence')} | {pair('tamper')} | {pair('clock')} | {pair('unattributed')} "
              f"| {pair('source_silent')} | {pair('untimed')} | {ours['sessions']:,} (+{linked:,} joined across "
              f"sources) / {peer['sessions']:,} |")
    print(AGREEMENT_NOTES)


AGREEMENT_NOTES = """
Where the definitions differ: sessions: ours links each sshd[pid] session of syslog to the auditd session that
sshd pid opened (one session where the peer counts two), resolves CloudTrail role sessions through AssumeRole and
Windows LogonIds through their 4624, and normalizes actor names (actor_key); the peer does none of that.
silence: ours allows for each stream's burstiness (negative binomial with the stream's own dispersion), the peer
uses plain Poisson, so it reports many more. source_silent: ours judges a stream only if no later stream of its
host (or boot) goes on, the peer judges every stream. The peer's tamper and clock markers are a hand-written subset
of ours (same hits on this data).
"""


def _fingerprint() -> str:
    """A short hash of the analysis modules measured, to tell runs on different revisions apart."""
    import hashlib

    digest = hashlib.sha256()
    for name in ("_frame.py", "identity.py", "timeline.py", "gaps.py"):
        path = ROOT / "auditlab" / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,10M", help="event counts, e.g. 1M,3M,10M (default 1M,10M)")
    parser.add_argument("--pandas", choices=("arrow", "numpy", "both"), default="arrow",
                        help="pandas dtypes for the peer (default arrow)")
    parser.add_argument("--no-lazy", action="store_true", help="skip the LazyFrame run of ours")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the reference run of the peer's queries in plain polars")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a child is stopped")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true",
                        help="write a pyinstrument profile of ours (eager, largest size) to benchmarks/_out/")
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.profile_to)))
        return
    sizes = _parse_sizes(args.sizes)
    paths = {n: events_path(n, seed=args.seed) for n in sizes}
    sides = ["ours"] + ([] if args.no_lazy else ["ours-lazy"])
    sides += {"arrow": ["pandas"], "numpy": ["pandas-numpy"], "both": ["pandas", "pandas-numpy"]}[args.pandas]
    sides += [] if args.no_reference else ["polars-peer"]
    results: dict[int, dict[str, dict[str, Any]]] = {}
    OUT.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        results[n] = {}
        for side in sides:
            profile = OUT / f"analysis_profile_{_size_label(n)}.txt" if args.profile and side == "ours" and \
                n == sizes[-1] else None
            results[n][side] = measure(side, paths[n], timeout=args.timeout, profile=profile)
            r = results[n][side]
            print(f"{_size_label(n)} {side}: " + (f"{r['total_s']:.1f} s" if "total_s" in r else "timed out")
                  + f" (load average {r['load']:.1f})", file=sys.stderr)
    print(f"\nauditlab analysis sources (working tree) sha256 {_fingerprint()}", file=sys.stderr)
    print(f"\ngaps + sessions on synthetic canonical events, one run per cell ({os.cpu_count()} CPUs, load average "
          f"at start {min(r['load'] for s in results.values() for r in s.values()):.1f}-"
          f"{max(r['load'] for s in results.values() for r in s.values()):.1f}; polars {pl.__version__})\n")
    report(results)
    (OUT / f"analysis_{'_'.join(map(_size_label, sizes))}.json").write_text(
        json.dumps({"sources": _fingerprint(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
