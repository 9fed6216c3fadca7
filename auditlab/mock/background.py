"""Benign background activity: logins and logouts, shell commands, sudo, API calls, kubectl, Windows logons and
service activity, with each person's daily and weekly rhythm.

People work on weekdays (a weekend day now and then) from their ``workday`` start, give or take three quarters of an
hour, for about nine hours with a lunch break; inside those hours their actions arrive as a Poisson process at their
``rate`` (times the ``rate=`` given). Service accounts work around the clock: cron jobs, controllers, deploy roles.
Internet scanners knock on the Linux hosts' sshd at any hour. Every random draw comes from one seeded generator.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from auditlab.mock import _build as b

if TYPE_CHECKING:
    from auditlab.mock._model import Event
    from auditlab.mock.world import Actor, World

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
HOUR = 3_600_000_000
DAY = 24 * HOUR
MINUTE = 60_000_000

LINUX_COMMANDS = (
    ("/usr/bin/ls", ["ls", "-la"]), ("/usr/bin/git", ["git", "pull", "--rebase"]), ("/usr/bin/vim", ["vim", "app.py"]),
    ("/usr/bin/python3", ["python3", "manage.py", "migrate"]), ("/usr/bin/tail", ["tail", "-n", "100", "app.log"]),
    ("/usr/bin/grep", ["grep", "-r", "TODO", "src"]), ("/usr/bin/cat", ["cat", "config.yaml"]),
    ("/usr/bin/df", ["df", "-h"]), ("/usr/bin/ps", ["ps", "aux"]), ("/usr/bin/curl", ["curl", "-s", "localhost:8080"]),
)
SUDO_COMMANDS = ("/usr/bin/systemctl restart nginx", "/usr/bin/journalctl -u nginx", "/usr/bin/apt-get update",
                 "/usr/bin/tail -f /var/log/syslog")
AWS_READS = (
    ("ec2.amazonaws.com", "DescribeInstances", None), ("s3.amazonaws.com", "ListBuckets", None),
    ("iam.amazonaws.com", "ListRoles", None), ("cloudwatch.amazonaws.com", "GetMetricData", None),
    ("logs.amazonaws.com", "DescribeLogGroups", None), ("lambda.amazonaws.com", "ListFunctions20150331", None),
    ("sts.amazonaws.com", "GetCallerIdentity", None), ("rds.amazonaws.com", "DescribeDBInstances", None),
)
K8S_READS = (("get", "pods"), ("list", "pods"), ("get", "deployments"), ("list", "services"), ("get", "configmaps"),
             ("list", "events"))


def to_us(value: Any, name: str) -> int:
    """Epoch microseconds from a datetime, an ISO 8601 string or epoch seconds; an error names ``name``."""
    from auditlab._errors import InvalidArgument

    if isinstance(value, bool):
        raise InvalidArgument(f"{name}: expected a datetime, an ISO 8601 string or epoch seconds, got {value!r}")
    if isinstance(value, int):
        return value * 1_000_000
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(f"{name}: expected a finite time, got {value!r}")
        return round(value * 1_000_000)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidArgument(f"{name}: not an ISO 8601 time: {value!r}") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return (value - EPOCH) // dt.timedelta(microseconds=1)
    raise InvalidArgument(f"{name}: expected a datetime, an ISO 8601 string or epoch seconds, got {value!r}")


def working_spans(actor: Actor, start: int, end: int, seed: int) -> Iterator[tuple[int, int]]:
    """The (from, to) spans in [start, end) when ``actor`` is active: work mornings and afternoons of each day.

    Each day's plan is drawn from ``(seed, actor, day)`` alone, so it is the same in every source: a person who
    works on Wednesday does so on Linux, in AWS, on Windows and in Kubernetes, in the same hours.
    """
    if actor.role == "service":
        yield start, end
        return
    day = start - start % DAY
    while day < end:
        rng = random.Random(f"{seed}/{actor.key}/{day // DAY}")
        weekday = (day // DAY + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
        works = rng.random() < (0.97 if weekday < 5 else 0.08)
        if works:
            begin = day + actor.workday[0] * HOUR + int(rng.gauss(0, 45) * MINUTE)
            lunch = day + 12 * HOUR + int(rng.uniform(0, 60) * MINUTE)
            finish = day + actor.workday[1] * HOUR + int(rng.gauss(0, 45) * MINUTE)
            if weekday >= 5:
                finish = begin + int(rng.uniform(1, 3) * HOUR)
            for lo, hi in ((begin, min(lunch, finish)), (lunch + 45 * MINUTE, finish)):
                lo, hi = max(lo, start), min(hi, end)
                if hi > lo:
                    yield lo, hi
        day += DAY


def poisson_times(lo: int, hi: int, per_hour: float, rng: random.Random) -> list[int]:
    """Arrival times of a Poisson process of ``per_hour`` events an hour in [lo, hi)."""
    if per_hour <= 0:
        return []
    out, t, mean_gap = [], lo, HOUR / per_hour
    while True:
        t += int(rng.expovariate(1.0) * mean_gap) + 1
        if t >= hi:
            return out
        out.append(t)


class _State:
    """Counters that must stay consistent across a host's events: sessions, pids, logon ids, ttys."""

    def __init__(self, rng: random.Random, seed: int = 0) -> None:
        self.rng, self.seed = rng, seed
        self.ses: dict[str, int] = {}
        self.pid: dict[str, int] = {}
        self.logon = 0x3A000

    def next_ses(self, host: str) -> int:
        self.ses[host] = self.ses.get(host, 0) + 1
        return self.ses[host]

    def next_pid(self, host: str) -> int:
        self.pid[host] = self.pid.get(host, 1000 + self.rng.randrange(500)) + self.rng.randrange(1, 40)
        if self.pid[host] > 4_000_000:
            self.pid[host] = 1000
        return self.pid[host]

    def next_logon(self) -> str:
        self.logon += self.rng.randrange(0x10, 0x400)
        return hex(self.logon)


def linux_session(world: World, actor: Actor, host: Any, lo: int, hi: int, state: _State, rate: float,
                  labels: b.Labels = b.BENIGN, src_ip: str | None = None) -> list[Event]:
    """An ssh session of ``actor`` on ``host`` from ``lo`` to ``hi``: login, commands and sudo, logout."""
    rng = state.rng
    src_ip = src_ip or actor.ip
    port, sshd, ses = rng.randrange(32768, 61000), state.next_pid(host.name), state.next_ses(host.name)
    tty = f"pts/{rng.randrange(0, 4)}"
    out = [
        b.linux(lo, host, "ssh_auth", labels, actor=actor, method="publickey", src_ip=src_ip, src_port=port, pid=sshd,
                invalid_user=False),
        b.linux(lo + 20_000, host, "session_open", labels, actor=actor, src_ip=src_ip, src_port=port, pid=sshd,
                ses=ses, tty=tty),
    ]
    shell = state.next_pid(host.name)
    for t in poisson_times(lo + MINUTE, hi, actor.rate * rate, rng):
        if actor.role == "admin" and rng.random() < 0.25:
            out.append(b.linux(t, host, "sudo", labels, actor=actor, pid=state.next_pid(host.name), ses=ses, tty=tty,
                               command=rng.choice(SUDO_COMMANDS), cwd=actor.home, target="root", target_uid=0))
            continue
        exe, argv = rng.choice(LINUX_COMMANDS)
        out.append(b.linux(t, host, "command", labels, actor=actor, pid=state.next_pid(host.name), ppid=shell,
                           ses=ses, tty=tty, exe=exe, argv=list(argv), cwd=actor.home, euid=actor.uid))
    out.append(b.linux(hi, host, "session_close", labels, actor=actor, src_ip=src_ip, src_port=port, pid=sshd,
                       ses=ses, tty=tty))
    return out


def _linux(world: World, start: int, end: int, rate: float, state: _State) -> list[Event]:
    rng, hosts, out = state.rng, world.linux_hosts(), []
    if not hosts:
        return out
    for actor in world.people():
        if actor.role != "admin" and actor.uid % 2 == 0:
            continue  # half of the users never log in to the servers
        for lo, hi in working_spans(actor, start, end, state.seed):
            mid = lo + (hi - lo) // 2
            host = rng.choice(hosts)
            out += linux_session(world, actor, host, lo, mid, state, rate)
            if rng.random() < 0.5:
                out += linux_session(world, actor, rng.choice(hosts), mid + 5 * MINUTE, hi, state, rate)
    for host in hosts:
        hour = start - start % HOUR + HOUR
        while hour < end:  # the backup job, hourly, and logrotate's nightly restart
            for service in world.services()[:1]:
                out.append(b.linux(hour + 2_000_000, host, "cron", actor=service, pid=state.next_pid(host.name),
                                   command="/usr/local/bin/backup.sh --incremental"))
            if hour % DAY == 3 * HOUR:
                for action in ("stop", "start"):
                    out.append(b.linux(hour + 60_000_000 + (action == "start") * 900_000, host, "service",
                                       pid=1, unit="nginx", action=action))
            hour += HOUR
        for t in poisson_times(start, end, 1.5 * rate, rng):  # internet ssh scanners
            user = rng.choice(("root", "admin", "test", "ubuntu", "oracle", "pi", "git"))
            out.append(b.linux(t, host, "ssh_auth", success=False, user=user, invalid_user=user != "root",
                               method="password", src_ip=f"198.51.100.{rng.randrange(1, 255)}",
                               src_port=rng.randrange(1024, 65535), pid=state.next_pid(host.name)))
    return out


def _aws(world: World, start: int, end: int, rate: float, state: _State) -> list[Event]:
    rng, out = state.rng, []
    if not world.accounts:
        return out
    home = world.accounts[0]
    browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
    for actor in world.people():
        for lo, hi in working_spans(actor, start, end, state.seed):
            identity = b.iam_user(actor, home)
            if rng.random() < 0.3:  # the console, with MFA
                out.append(b.cloudtrail(lo, home, b.console_user(actor, home), "signin.amazonaws.com", "ConsoleLogin",
                                        rng, actor=actor, src_ip=actor.ip, user_agent=browser,
                                        event_type="AwsConsoleSignIn", response={"ConsoleLogin": "Success"},
                                        additional={"LoginTo": "https://console.aws.amazon.com/console/home",
                                                    "MobileVersion": "No", "MFAUsed": "Yes"}, region="us-east-1"))
            if actor.role == "admin":  # admins work through the ops-admin role, a session per half day
                key = "ASIA" + format(b.hash_str(f"{actor.key}/{lo}") % 32**16, "016X")[:16]
                session = b.assumed_role(home, "ops-admin", actor.key, key, _iso(lo), mfa=True)
                out.append(b.cloudtrail(
                    lo, home, identity, "sts.amazonaws.com", "AssumeRole", rng, actor=actor, src_ip=actor.ip,
                    request={"roleArn": f"arn:aws:iam::{home.id}:role/ops-admin", "roleSessionName": actor.key},
                    response={"credentials": {"accessKeyId": key, "expiration": _iso(lo + 12 * HOUR),
                                              "sessionToken": "<redacted>"},
                              "assumedRoleUser": {"assumedRoleId": session["principalId"], "arn": session["arn"]}}))
                identity = session
            for t in poisson_times(lo, hi, actor.rate * rate * 0.8, rng):
                service, name, _ = rng.choice(AWS_READS)
                out.append(b.cloudtrail(t, home, identity, service, name, rng, actor=actor, src_ip=actor.ip,
                                        read_only=True))
            for t in poisson_times(lo, hi, 0.15 * rate, rng):  # a report now and then: the insider's baseline
                bucket = home.buckets[0]
                key = f"monthly/{rng.randrange(2020, 2027)}-{rng.randrange(1, 13):02d}.csv"
                out.append(_get_object(t, home, b.iam_user(actor, home), bucket, key, rng, actor, actor.ip))
    for service in world.services():
        account = world.accounts[-1]
        sessions: dict[int, dict[str, Any]] = {}
        for t in poisson_times(start, end, service.rate * rate, rng):
            day = t - t % DAY  # the deploy role's credentials are renewed every day
            if day not in sessions:
                key = "ASIA" + format(b.hash_str(f"{service.key}/{account.id}/{day}") % 32**16, "016X")[:16]
                sessions[day] = b.assumed_role(account, "deployer", service.key, key, _iso(day))
            svc, name, _ = rng.choice(AWS_READS)
            out.append(b.cloudtrail(t, account, sessions[day], svc, name, rng, actor=service, src_ip="10.0.4.20",
                                    user_agent="Boto3/1.34.0 Python/3.11.8", read_only=True))
    return out


def _iso(t: int) -> str:
    return (EPOCH + dt.timedelta(microseconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _get_object(t: int, account: Any, identity: dict[str, Any], bucket: str, key: str, rng: random.Random,
                actor: Actor | None, src_ip: str, labels: b.Labels = b.BENIGN) -> Event:
    return b.cloudtrail(
        t, account, identity, "s3.amazonaws.com", "GetObject", rng, labels, actor=actor, src_ip=src_ip,
        request={"bucketName": bucket, "Host": f"{bucket}.s3.{account.region}.amazonaws.com", "key": key},
        additional={"bytesTransferredIn": 0, "bytesTransferredOut": rng.randrange(2_000, 900_000)},
        read_only=True, management=False,
        resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                   {"accountId": account.id, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
    )


def _windows(world: World, start: int, end: int, rate: float, state: _State) -> list[Event]:
    rng, hosts, out = state.rng, world.windows_hosts(), []
    if not hosts:
        return out
    dc = hosts[0]
    for actor in world.people():
        desk = hosts[1 + actor.uid % (len(hosts) - 1)] if len(hosts) > 1 else dc
        for lo, hi in working_spans(actor, start, end, state.seed):
            logon = state.next_logon()
            out.append(b.windows(lo, desk, 4624, b.logon_4624(actor, logon, 2, "127.0.0.1", 0, desk.name.upper(),
                                                              machine=desk.name.upper()), actor=actor))
            if actor.role == "admin":
                data = {**b.subject(actor, logon), "PrivilegeList": "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege"}
                out.append(b.windows(lo + 1000, desk, 4672, data, actor=actor))
            for t in poisson_times(lo + MINUTE, hi, actor.rate * rate * 0.3, rng):
                exe = rng.choice(("C:\\Windows\\System32\\notepad.exe", "C:\\Program Files\\Git\\bin\\git.exe",
                                  "C:\\Windows\\explorer.exe", "C:\\Windows\\System32\\cmd.exe"))
                out.append(b.windows(t, desk, 4688, {
                    **b.subject(actor, logon), "NewProcessId": hex(state.next_pid(desk.name)), "NewProcessName": exe,
                    "TokenElevationType": "%%1938", "ProcessId": "0x1a2c", "CommandLine": f'"{exe}"',
                    "TargetUserSid": "S-1-0-0", "TargetUserName": "-", "TargetDomainName": "-",
                    "TargetLogonId": "0x0", "ParentProcessName": "C:\\Windows\\explorer.exe",
                    "MandatoryLabel": "S-1-16-8192"}, actor=actor))
            for t in poisson_times(lo, hi, 0.4 * rate, rng):  # file server and DC: network logons
                net = state.next_logon()
                out.append(b.windows(t, dc, 4624, b.logon_4624(actor, net, 3, desk.ip, rng.randrange(49152, 65535),
                                                               desk.name.upper()), actor=actor))
                out.append(b.windows(t + 3_000_000, dc, 4634, {
                    "TargetUserSid": actor.sid, "TargetUserName": actor.key, "TargetDomainName": "CORP",
                    "TargetLogonId": net, "LogonType": "3"}, actor=actor))
            if rng.random() < 0.1:  # a mistyped password
                out.append(b.windows(lo - 20_000_000, desk, 4625, b.logon_4625(
                    actor.key, "S-1-0-0", 2, "127.0.0.1", 0, desk.name.upper()), actor=actor, success=False))
            out.append(b.windows(hi, desk, 4634, {"TargetUserSid": actor.sid, "TargetUserName": actor.key,
                                                  "TargetDomainName": "CORP", "TargetLogonId": logon,
                                                  "LogonType": "2"}, actor=actor))
    return out


def _k8s(world: World, start: int, end: int, rate: float, state: _State) -> list[Event]:
    rng, out = state.rng, []
    for cluster in world.clusters:
        for actor in world.people():
            for lo, hi in working_spans(actor, start, end, state.seed):
                for t in poisson_times(lo, hi, actor.rate * rate * 0.4, rng):
                    verb, resource = rng.choice(K8S_READS)
                    namespace = "kube-system" if actor.role == "admin" and rng.random() < 0.3 else "apps"
                    group = "apps" if resource == "deployments" else ""
                    out.append(b.k8s(t, cluster, b.k8s_user(actor), verb, resource, rng, actor=actor,
                                     namespace=namespace, name=None if verb == "list" else f"web-{rng.randrange(9)}",
                                     api_group=group, src_ip=actor.ip))
        for service in world.services():
            for t in poisson_times(start, end, service.rate * rate, rng):
                # a controller lists its endpoints, and now and then reads its own credentials
                verb, resource, name = ("get", "secrets", f"{service.key}-credentials") if rng.random() < 0.05 else (
                    "list", "endpoints", None)
                out.append(b.k8s(t, cluster, b.k8s_user(service), verb, resource, rng, actor=service,
                                 namespace="apps", name=name, src_ip="10.0.3.50",
                                 user_agent="kube-controller/v1.29.2 (linux/amd64) kubernetes/4b8e819"))
    return out


def _gcp(world: World, start: int, end: int, rate: float, state: _State) -> list[Event]:
    rng, out = state.rng, []
    bucket = f"{world.project}-exports"
    for actor in world.people():
        for lo, hi in working_spans(actor, start, end, state.seed):
            for t in poisson_times(lo, hi, 0.5 * rate, rng):
                name = f"projects/_/buckets/{bucket}/objects/daily/{rng.randrange(1, 29):02d}.parquet"
                out.append(b.gcp(t, world, actor.email, "storage.googleapis.com", "storage.objects.get", name, rng,
                                 actor=actor, src_ip=actor.ip, permission="storage.objects.get", data_access=True,
                                 resource={"type": "gcs_bucket", "labels": {"project_id": world.project,
                                                                             "bucket_name": bucket, "location": "us"}}))
            for t in poisson_times(lo, hi, 0.2 * rate, rng):
                out.append(b.gcp(t, world, actor.email, "compute.googleapis.com", "v1.compute.instances.list",
                                 f"projects/{world.project}/zones/us-central1-a/instances", rng, actor=actor,
                                 src_ip=actor.ip, permission="compute.instances.list", data_access=True,
                                 resource={"type": "gce_instance", "labels": {"project_id": world.project}}))
    return out


BY_SOURCE = {"linux": _linux, "aws": _aws, "windows": _windows, "k8s": _k8s, "gcp": _gcp}


def generate(world: World, start: int, end: int, *, sources: tuple[str, ...], rate: float, seed: int) -> list[Event]:
    """The benign events of ``sources`` in [start, end), each source from its own generator seeded by ``seed``."""
    out: list[Event] = []
    from auditlab.load._json_records import gc_paused

    with gc_paused():
        return _generate(world, start, end, sources, rate, seed, out)


def _generate(world: World, start: int, end: int, sources: tuple[str, ...], rate: float, seed: int,
              out: list[Event]) -> list[Event]:
    for source in sources:
        state = _State(random.Random(f"{seed}/{source}"), seed)
        out += [e for e in BY_SOURCE[source](world, start, end, rate, state) if start <= e.time_us < end]
    return out
