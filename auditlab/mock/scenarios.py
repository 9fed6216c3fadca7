"""Labelled attack scenarios: each a sequence of steps, every event carrying the scenario id, the step number and
an ATT&CK technique id, built in the world's identities so that they weave into its benign baseline.

A scenario is a function of a :class:`Context` (world, start time, seeded generator, the victim account and the
attacker's address). :data:`SCENARIOS` lists them with their description, the sources they touch and their steps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlab._errors import InvalidArgument
from auditlab.mock import _build as b
from auditlab.mock.background import MINUTE, _get_object, _State

if TYPE_CHECKING:
    from auditlab.mock._model import Event
    from auditlab.mock.world import Actor, Host, World

SECOND = 1_000_000


@dataclass
class Context:
    """What a scenario is built from: the world, its start (epoch µs), a seeded generator, the victim and the
    attacker's source address."""

    world: World
    start: int
    rng: random.Random
    victim: Actor
    attacker_ip: str
    state: _State = field(init=False)
    scenario: str = ""

    def __post_init__(self) -> None:
        self.state = _State(self.rng)

    def step(self, number: int, technique: str) -> b.Labels:
        """The labels of step ``number`` (technique ``technique``)."""
        return b.Labels(self.scenario, number, technique)


@dataclass(frozen=True)
class Scenario:
    """A registered scenario: its id, what it shows, the sources it writes and its steps (technique, what)."""

    name: str
    description: str
    sources: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]
    build: Callable[[Context], list[Event]]


def _linux_host(ctx: Context) -> Host:
    hosts = ctx.world.linux_hosts()
    if not hosts:
        raise InvalidArgument("world: this scenario needs a Linux host; the world has none (linux_hosts=0)")
    return hosts[0]


def ssh_bruteforce_sudo(ctx: Context) -> list[Event]:
    host, rng, v, ip, st = _linux_host(ctx), ctx.rng, ctx.victim, ctx.attacker_ip, ctx.state
    t, out = ctx.start, []
    s1 = ctx.step(1, "T1110.001")
    names = ("root", "admin", "test", "oracle", "ubuntu", v.key)
    for i in range(40):
        user = names[i % len(names)] if i < 39 else v.key
        out.append(b.linux(t, host, "ssh_auth", s1, success=False, user=user, method="password", src_ip=ip,
                           src_port=rng.randrange(33000, 60999), pid=st.next_pid(host.name),
                           invalid_user=user not in ("root", v.key), actor=v if user == v.key else None,
                           **({"uid": v.uid, "auid": None} if user == v.key else {})))
        t += int(rng.uniform(2, 9) * SECOND)
    s2 = ctx.step(2, "T1078.003")
    port, sshd, ses, tty = rng.randrange(33000, 60999), st.next_pid(host.name), 7000 + rng.randrange(900), "pts/3"
    out.append(b.linux(t, host, "ssh_auth", s2, actor=v, method="password", src_ip=ip, src_port=port, pid=sshd,
                       invalid_user=False))
    out.append(b.linux(t + 30_000, host, "session_open", s2, actor=v, src_ip=ip, src_port=port, pid=sshd, ses=ses,
                       tty=tty))
    t += 20 * SECOND
    s3 = ctx.step(3, "T1087.001")
    for argv in (["cat", "/etc/passwd"], ["awk", "-F:", "$3 >= 1000 {print $1}", "/etc/passwd"], ["lastlog"]):
        out.append(b.linux(t, host, "command", s3, actor=v, pid=st.next_pid(host.name), ppid=sshd + 2, ses=ses,
                           tty=tty, exe=f"/usr/bin/{argv[0]}", argv=argv, cwd=v.home, euid=v.uid))
        t += int(rng.uniform(3, 15) * SECOND)
    s4 = ctx.step(4, "T1548.003")
    out.append(b.linux(t, host, "sudo", s4, actor=v, pid=st.next_pid(host.name), ses=ses, tty=tty,
                       command="/bin/bash", cwd=v.home, target="root", target_uid=0))
    root = {"user": "root", "uid": 0, "euid": 0, "auid": v.uid, "ses": ses, "tty": tty, "cwd": "/root"}
    t += 5 * SECOND
    s5 = ctx.step(5, "T1136.001")
    out.append(b.linux(t, host, "command", s5, actor=v, pid=st.next_pid(host.name), ppid=sshd + 3,
                       exe="/usr/sbin/useradd", argv=["useradd", "-m", "-s", "/bin/bash", "sysupdate"], **root))
    out.append(b.linux(t + 40_000, host, "useradd", s5, actor=v, pid=st.pid[host.name], new_user="sysupdate",  # noqa: S604
                       new_uid=1099, home="/home/sysupdate", shell="/bin/bash", **root))
    t += 30 * SECOND
    s6 = ctx.step(6, "T1070.003")
    out.append(b.linux(t, host, "command", s6, actor=v, pid=st.next_pid(host.name), ppid=sshd + 3,
                       exe="/usr/bin/ln", argv=["ln", "-sf", "/dev/null", "/root/.bash_history"], **root))
    out.append(b.linux(t + 2 * SECOND, host, "command", s6, actor=v, pid=st.next_pid(host.name), ppid=sshd + 3,
                       exe="/usr/bin/rm", argv=["rm", "-f", f"{v.home}/.bash_history"], **root))
    t += 20 * SECOND
    s7 = ctx.step(7, "T1070.002")
    out.append(b.linux(t, host, "command", s7, actor=v, pid=st.next_pid(host.name), ppid=sshd + 3,
                       exe="/usr/bin/truncate", argv=["truncate", "-s", "0", "/var/log/auth.log"], **root))
    out.append(b.linux(t + 3 * SECOND, host, "command", s7, actor=v, pid=st.next_pid(host.name), ppid=sshd + 3,
                       exe="/usr/bin/rm", argv=["rm", "-f", "/var/log/audit/audit.log.1"], **root))
    t += 15 * SECOND
    s8 = ctx.step(8, "T1562.012")
    out.append(b.linux(t, host, "audit_disable", s8, actor=v, pid=st.next_pid(host.name), ppid=sshd + 3,
                       argv=["auditctl", "-e", "0"], **root))
    t += 4 * MINUTE
    out.append(b.linux(t, host, "session_close", s2, actor=v, src_ip=ip, src_port=port, pid=sshd, ses=ses, tty=tty))
    return out


def _sts_key(rng: random.Random) -> str:
    return "ASIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def _iso(t: int) -> str:
    import datetime as dt

    return (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=t)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def aws_account_takeover(ctx: Context) -> list[Event]:
    w, rng, v, ip = ctx.world, ctx.rng, ctx.victim, ctx.attacker_ip
    if len(w.accounts) < 2:
        raise InvalidArgument(f"world: aws-account-takeover needs two AWS accounts, the world has {len(w.accounts)}")
    home, other = w.accounts[0], w.accounts[1]
    browser = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
    t, out = ctx.start, []
    s1 = ctx.step(1, "T1078.004")
    signin = {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"}
    out.append(b.cloudtrail(t, home, b.console_user(v, home), "signin.amazonaws.com", "ConsoleLogin", rng, s1,
                            actor=v, src_ip=ip, user_agent=browser, event_type="AwsConsoleSignIn",
                            response={"ConsoleLogin": "Success"}, additional=signin, region="us-east-1"))
    t += 40 * SECOND
    s2 = ctx.step(2, "T1087.004")
    for name in ("GetAccountAuthorizationDetails", "ListUsers", "ListAccessKeys"):
        out.append(b.cloudtrail(t, home, b.console_user(v, home), "iam.amazonaws.com", name, rng, s2, actor=v,
                                src_ip=ip, user_agent=browser, read_only=True, region="us-east-1"))
        t += int(rng.uniform(2, 8) * SECOND)
    others = [a for a in w.actors if a.key != v.key]
    target = others[-1] if others else v
    s3 = ctx.step(3, "T1098.001")
    new_key = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    out.append(b.cloudtrail(t, home, b.console_user(v, home), "iam.amazonaws.com", "CreateAccessKey", rng, s3,
                            actor=v, src_ip=ip, user_agent=browser, region="us-east-1",
                            request={"userName": target.aws_user},
                            response={"accessKey": {"userName": target.aws_user, "accessKeyId": new_key,
                                                    "status": "Active", "createDate": _aws_date(t)}}))
    t += 2 * MINUTE
    stolen = {**b.iam_user(target, home), "accessKeyId": new_key}
    s4 = ctx.step(4, "T1098.003")
    out.append(b.cloudtrail(t, home, stolen, "iam.amazonaws.com", "AttachUserPolicy", rng, s4, actor=v, src_ip=ip,
                            region="us-east-1", request={"userName": target.aws_user,
                                                         "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
    t += MINUTE
    s5 = ctx.step(5, "T1078.004")
    key1, key2 = _sts_key(rng), _sts_key(rng)
    role1 = b.assumed_role(home, "ops-admin", "maint", key1, _iso(t))
    out.append(b.cloudtrail(t, home, stolen, "sts.amazonaws.com", "AssumeRole", rng, s5, actor=v, src_ip=ip,
                            request={"roleArn": f"arn:aws:iam::{home.id}:role/ops-admin", "roleSessionName": "maint"},
                            response={"credentials": {"accessKeyId": key1, "expiration": _aws_date(t + 3600 * SECOND),
                                                      "sessionToken": "<redacted>"},
                                      "assumedRoleUser": {"assumedRoleId": role1["principalId"],
                                                          "arn": role1["arn"]}}))
    t += 30 * SECOND
    role2 = b.assumed_role(other, "OrganizationAccountAccessRole", "maint", key2, _iso(t))
    arn2 = f"arn:aws:iam::{other.id}:role/OrganizationAccountAccessRole"
    out.append(b.cloudtrail(t, home, role1, "sts.amazonaws.com", "AssumeRole", rng, s5, actor=v, src_ip=ip,
                            request={"roleArn": arn2, "roleSessionName": "maint"},
                            response={"credentials": {"accessKeyId": key2, "expiration": _aws_date(t + 3600 * SECOND),
                                                      "sessionToken": "<redacted>"},
                                      "assumedRoleUser": {"assumedRoleId": role2["principalId"],
                                                          "arn": role2["arn"]}}))
    t += MINUTE
    s6 = ctx.step(6, "T1530")
    bucket = other.buckets[1]
    for i in range(120):
        key = f"payroll/{2024 + i // 60}/employees-{i:03d}.csv"
        out.append(_get_object(t, other, role2, bucket, key, rng, v, ip, s6))
        t += int(rng.uniform(0.2, 1.5) * SECOND)
    t += MINUTE
    s7 = ctx.step(7, "T1562.008")
    trail = f"arn:aws:cloudtrail:{other.region}:{other.id}:trail/org-trail"
    for name in ("StopLogging", "DeleteTrail"):
        out.append(b.cloudtrail(t, other, role2, "cloudtrail.amazonaws.com", name, rng, s7, actor=v, src_ip=ip,
                                request={"name": trail}, response=None))
        t += 20 * SECOND
    return out


def _aws_date(t: int) -> str:
    import datetime as dt

    when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=t)
    return when.strftime("%b %-d, %Y, %-I:%M:%S %p")


def windows_password_spray(ctx: Context) -> list[Event]:
    w, rng, v, ip, st = ctx.world, ctx.rng, ctx.victim, ctx.attacker_ip, ctx.state
    hosts = w.windows_hosts()
    if not hosts:
        raise InvalidArgument("world: windows-password-spray needs a Windows host; the world has none")
    dc, t, out = hosts[0], ctx.start, []
    s1 = ctx.step(1, "T1110.003")
    guesses = [a.key for a in w.people() if a.key != v.key] + ["administrator", "guest", "svc_sql", "backup",
                                                                "scanner", "helpdesk", "test", "user1"]
    for user in [*guesses, *guesses[:6]]:
        known = user == "administrator" or any(a.key == user for a in w.actors)  # the built-in account exists
        sid = "S-1-0-0"
        data = b.logon_4625(user, sid, 3, ip, rng.randrange(49152, 65535), "KALI",
                            "0xc000006a" if known else "0xc0000064")
        out.append(b.windows(t, dc, 4625, data, s1, success=False))
        t += int(rng.uniform(0.3, 3) * SECOND)
    s2 = ctx.step(2, "T1078.002")
    logon = st.next_logon()
    out.append(b.windows(t, dc, 4625, b.logon_4625(v.key, "S-1-0-0", 3, ip, rng.randrange(49152, 65535), "KALI"),
                         s1, success=False))
    t += 2 * SECOND
    out.append(b.windows(t, dc, 4624, b.logon_4624(v, logon, 3, ip, rng.randrange(49152, 65535), "KALI"), s2,
                         actor=v))
    s3 = ctx.step(3, "T1078.002")
    privileges = "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeRestorePrivilege\n\t\t\tSeDebugPrivilege"
    out.append(b.windows(t + 5000, dc, 4672, {**b.subject(v, logon), "PrivilegeList": privileges}, s3, actor=v))
    t += 30 * SECOND
    new_sid = v.sid.rsplit("-", 1)[0] + f"-{5000 + rng.randrange(900)}"
    s4 = ctx.step(4, "T1136.002")
    out.append(_process(t, dc, v, logon, "C:\\Windows\\System32\\net.exe",
                        "net user svc-update P@ssw0rd! /add /domain", s4, st))
    out.append(b.windows(t + 200_000, dc, 4720, {
        "TargetUserName": "svc-update", "TargetDomainName": "CORP", "TargetSid": new_sid, **b.subject(v, logon),
        "PrivilegeList": "-", "SamAccountName": "svc-update", "DisplayName": "%%1793",
        "UserPrincipalName": "-", "HomeDirectory": "%%1793", "HomePath": "%%1793", "ScriptPath": "%%1793",
        "ProfilePath": "%%1793", "UserWorkstations": "%%1793", "PasswordLastSet": "%%1794",
        "AccountExpires": "%%1794", "PrimaryGroupId": "513", "AllowedToDelegateTo": "-", "OldUacValue": "0x0",
        "NewUacValue": "0x15", "UserAccountControl": "\n\t\t%%2080\n\t\t%%2082\n\t\t%%2084", "UserParameters": "%%1793",
        "SidHistory": "-", "LogonHours": "%%1797"}, s4, actor=v))
    t += 20 * SECOND
    s5 = ctx.step(5, "T1098.007")
    out.append(_process(t, dc, v, logon, "C:\\Windows\\System32\\net.exe",
                        "net localgroup Administrators svc-update /add", s5, st))
    out.append(b.windows(t + 150_000, dc, 4732, {
        "MemberName": "CN=svc-update,CN=Users,DC=corp,DC=example,DC=com", "MemberSid": new_sid,
        "TargetUserName": "Administrators", "TargetDomainName": "Builtin", "TargetSid": b.ADMINISTRATORS,
        **b.subject(v, logon), "PrivilegeList": "-"}, s5, actor=v))
    t += 40 * SECOND
    s6 = ctx.step(6, "T1543.003")
    out.append(b.windows(t, dc, 7045, {
        "ServiceName": "WinUpdateSvc",
        "ImagePath": "%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0A",
        "ServiceType": "user mode service", "StartType": "auto start", "AccountName": "LocalSystem"}, s6, actor=v,
        provider=b.SCM, channel="System"))
    t += 2 * MINUTE
    s7 = ctx.step(7, "T1070.001")
    out.append(_process(t, dc, v, logon, "C:\\Windows\\System32\\wevtutil.exe", "wevtutil cl Security", s7, st))
    out.append(b.windows(t + 300_000, dc, 1102, None, s7, actor=v, provider=b.EVENTLOG,
                         user_data=("LogFileCleared", {**b.subject(v, logon)})))
    return out


def _process(t: int, host: Host, actor: Actor, logon: str, exe: str, cmdline: str, labels: b.Labels,
             st: _State) -> Event:
    return b.windows(t, host, 4688, {
        **b.subject(actor, logon), "NewProcessId": hex(st.next_pid(host.name)), "NewProcessName": exe,
        "TokenElevationType": "%%1937", "ProcessId": "0x1f4c", "CommandLine": cmdline, "TargetUserSid": "S-1-0-0",
        "TargetUserName": "-", "TargetDomainName": "-", "TargetLogonId": "0x0",
        "ParentProcessName": "C:\\Windows\\System32\\cmd.exe", "MandatoryLabel": "S-1-16-12288"}, labels, actor=actor)


def k8s_cluster_takeover(ctx: Context) -> list[Event]:
    w, rng, v, ip = ctx.world, ctx.rng, ctx.victim, ctx.attacker_ip
    if not w.clusters:
        raise InvalidArgument("world: k8s-cluster-takeover needs a Kubernetes cluster; the world has none")
    c, t, out = w.clusters[0], ctx.start, []
    curl = "curl/8.5.0"
    s1 = ctx.step(1, "T1613")
    for resource, namespace in (("pods", "kube-system"), ("secrets", "kube-system"), ("namespaces", None)):
        out.append(b.k8s(t, c, b.ANONYMOUS, "list", resource, rng, s1, namespace=namespace, code=403, src_ip=ip,
                         user_agent=curl))
        t += int(rng.uniform(1, 4) * SECOND)
    t += 3 * MINUTE
    user = b.k8s_user(v)
    pod = f"web-{rng.randrange(10**9, 10**10 - 1):x}"[:14]
    s2 = ctx.step(2, "T1609")
    out.append(b.k8s(t, c, user, "create", "pods", rng, s2, actor=v, namespace="apps", name=pod, subresource="exec",
                     src_ip=ip, code=101))  # 101 Switching Protocols: the exec stream opened
    t += MINUTE
    s3 = ctx.step(3, "T1552.007")
    out.append(b.k8s(t, c, user, "list", "secrets", rng, s3, actor=v, namespace="kube-system", src_ip=ip))
    t += 10 * SECOND
    for secret in ("admin-sa-token", "registry-credentials"):
        out.append(b.k8s(t, c, user, "get", "secrets", rng, s3, actor=v, namespace="kube-system", name=secret,
                         src_ip=ip))
        t += int(rng.uniform(2, 6) * SECOND)
    sa = {"username": "system:serviceaccount:kube-system:admin-sa", "uid": "0b2f6c9e-admin-sa",
          "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]}
    t += MINUTE
    s4 = ctx.step(4, "T1098.006")
    binding = {"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
               "metadata": {"name": "system-maintenance"},
               "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"}],
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}}
    out.append(b.k8s(t, c, sa, "create", "clusterrolebindings", rng, s4, actor=v,
                     api_group="rbac.authorization.k8s.io", src_ip=ip, request_object=binding, user_agent=curl,
                     code=201))
    t += 40 * SECOND
    s5 = ctx.step(5, "T1611")
    spec = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "node-debugger", "namespace": "kube-system"},
            "spec": {"hostPID": True, "hostNetwork": True,
                     "containers": [{"name": "shell", "image": "alpine:3.19", "command": ["nsenter", "-t", "1", "-a"],
                                     "securityContext": {"privileged": True},
                                     "volumeMounts": [{"name": "host", "mountPath": "/host"}]}],
                     "volumes": [{"name": "host", "hostPath": {"path": "/"}}]}}
    out.append(b.k8s(t, c, sa, "create", "pods", rng, s5, actor=v, namespace="kube-system", src_ip=ip,
                     request_object=spec, user_agent=curl, code=201))
    return out


def insider_exfiltration(ctx: Context) -> list[Event]:
    w, rng, v = ctx.world, ctx.rng, ctx.victim
    if not w.accounts:
        raise InvalidArgument("world: insider-exfiltration needs an AWS account; the world has none")
    home, out = w.accounts[0], []
    identity = b.iam_user(v, home)
    s1, s2 = ctx.step(1, "T1078"), ctx.step(2, "T1530")
    night = ctx.start - ctx.start % (24 * 3600 * SECOND) + 1 * 3600 * SECOND
    if night < ctx.start:
        night += 24 * 3600 * SECOND
    bucket = f"{w.project}-exports"
    for n in range(3):  # three nights, 01:00 to about 04:00 UTC, slow and steady
        t = night + n * 24 * 3600 * SECOND + int(rng.uniform(0, 20) * MINUTE)
        out.append(b.cloudtrail(t, home, identity, "sts.amazonaws.com", "GetCallerIdentity", rng, s1, actor=v,
                                src_ip=v.ip, read_only=True))
        for i in range(45):
            t += int(rng.uniform(2.5, 5.5) * MINUTE)
            key = f"hr/salaries/{n}-{i:03d}.xlsx"
            out.append(_get_object(t, home, identity, home.buckets[1], key, rng, v, v.ip, s2))
            if i % 5 == 0:
                name = f"projects/_/buckets/{bucket}/objects/customers/part-{n}{i:03d}.parquet"
                out.append(b.gcp(t + 20 * SECOND, w, v.email, "storage.googleapis.com", "storage.objects.get", name,
                                 rng, s2, actor=v, src_ip=v.ip, permission="storage.objects.get", data_access=True,
                                 resource={"type": "gcs_bucket", "labels": {"project_id": w.project,
                                                                             "bucket_name": bucket, "location": "us"}}))
    return out


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("ssh-bruteforce-sudo", "Linux: ssh password brute force then success, discovery, sudo to root, a new "
             "local user, shell history wiped, logs cleared, audit disabled", ("linux",),
             (("T1110.001", "ssh password guessing"), ("T1078.003", "login with the guessed password"),
              ("T1087.001", "local account discovery"), ("T1548.003", "sudo to a root shell"),
              ("T1136.001", "local user created"), ("T1070.003", "shell history wiped"),
              ("T1070.002", "system logs cleared"), ("T1562.012", "auditing disabled (auditctl -e 0)")),
             ssh_bruteforce_sudo),
    Scenario("aws-account-takeover", "AWS: console login without MFA, IAM discovery, an access key created for another "
             "user, AdministratorAccess attached, an AssumeRole chain into a second account, S3 GetObject burst, "
             "StopLogging and DeleteTrail", ("aws",),
             (("T1078.004", "console login without MFA"), ("T1087.004", "IAM discovery"),
              ("T1098.001", "access key created for another user"), ("T1098.003", "AdministratorAccess attached"),
              ("T1078.004", "AssumeRole chain across accounts"), ("T1530", "S3 GetObject burst"),
              ("T1562.008", "StopLogging, DeleteTrail")), aws_account_takeover),
    Scenario("windows-password-spray", "Windows: password spray (4625 over many accounts) then 4624, special "
             "privileges (4672), user created (4720) and added to Administrators (4732), service installed (7045), "
             "security log cleared (1102)", ("windows",),
             (("T1110.003", "password spray"), ("T1078.002", "logon with a sprayed password"),
              ("T1078.002", "special privileges assigned"), ("T1136.002", "domain user created"),
              ("T1098.007", "user added to Administrators"), ("T1543.003", "service installed"),
              ("T1070.001", "security log cleared")), windows_password_spray),
    Scenario("k8s-cluster-takeover", "Kubernetes: anonymous requests, exec into a pod, secrets listed and read, a "
             "clusterrolebinding to cluster-admin, a privileged host pod", ("k8s",),
             (("T1613", "anonymous discovery"), ("T1609", "exec into a pod"), ("T1552.007", "secrets listed and read"),
              ("T1098.006", "clusterrolebinding to cluster-admin"), ("T1611", "privileged pod on the host")),
             k8s_cluster_takeover),
    Scenario("insider-exfiltration", "Insider: a valid account reads payroll objects at night, slowly, far above its "
             "own daytime baseline (S3 and GCS)", ("aws", "gcp"),
             (("T1078", "valid account, off hours"), ("T1530", "slow bulk reads from cloud storage")),
             insider_exfiltration),
)}


def get(name: str) -> Scenario:
    """The scenario called ``name``; an unknown name is an error listing the available ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise InvalidArgument(f"scenario: unknown scenario {name!r}; available: {', '.join(SCENARIOS)}") from None


def build(name: str, world: World, start: int, *, seed: int, victim: str | None = None,
          attacker_ip: str | None = None) -> list[Event]:
    """The events of scenario ``name`` in ``world`` from ``start`` (epoch µs)."""
    spec = get(name)
    rng = random.Random(f"{seed}/{name}")
    people = world.people()
    if victim is None:
        users = [a for a in people if a.role == "user"] or people
        chosen = (world.admins() or people)[0] if name != "insider-exfiltration" else users[-1]
    else:
        chosen = world.actor(victim)
    ip = attacker_ip or f"203.0.113.{rng.randrange(2, 250)}"
    ctx = Context(world, start, rng, chosen, ip, scenario=name)
    events = spec.build(ctx)
    return sorted(events, key=lambda e: e.time_us)


def describe() -> dict[str, Any]:
    """Scenario id -> description, for error messages and docs."""
    return {name: s.description for name, s in SCENARIOS.items()}
