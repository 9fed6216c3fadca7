"""A small hand-written intrusion in native formats (auditd, auth syslog, CloudTrail) for the analysis tests.

alice logs in over ssh to web1 (sshd pid 920 opens auditd session 4), runs sudo to get a root shell; in AWS, bob
assumes ops-admin and from there a role in a second account that reads an S3 object; later carol assumes
ops-admin under the same session name, and a session carrying a sourceIdentity uses her credentials.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl

import auditlab as al

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC

AUDITD = f"""\
type=USER_AUTH msg=audit({T0}.100:200): pid=920 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:authentication grantors=pam_unix acct="alice" exe="/usr/sbin/sshd" hostname=203.0.113.10 addr=203.0.113.10 terminal=ssh res=success'
type=LOGIN msg=audit({T0}.200:201): pid=920 uid=0 subj=unconfined old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=4 res=1
type=USER_START msg=audit({T0}.300:202): pid=920 uid=0 auid=1000 ses=4 subj=unconfined msg='op=PAM:session_open grantors=pam_unix acct="alice" exe="/usr/sbin/sshd" hostname=203.0.113.10 addr=203.0.113.10 terminal=ssh res=success'
type=USER_LOGIN msg=audit({T0}.400:203): pid=920 uid=0 auid=1000 ses=4 subj=unconfined msg='op=login id=1000 exe="/usr/sbin/sshd" hostname=203.0.113.10 addr=203.0.113.10 terminal=/dev/pts/0 res=success'
type=USER_CMD msg=audit({T0 + 60}.000:204): pid=1500 uid=1000 auid=1000 ses=4 subj=unconfined msg='cwd="/home/alice" cmd=2F62696E2F62617368 exe="/usr/bin/sudo" terminal=pts/0 res=success'
type=SYSCALL msg=audit({T0 + 61}.000:205): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1500 pid=1501 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=4 comm="bash" exe="/usr/bin/bash" key=(null)
type=EXECVE msg=audit({T0 + 61}.000:205): argc=1 a0="bash"
"""

AUTH_LOG = """\
Nov 14 22:13:20 web1 sshd[920]: Accepted password for alice from 203.0.113.10 port 50000 ssh2
Nov 14 22:13:20 web1 sshd[920]: pam_unix(sshd:session): session opened for user alice by (uid=0)
Nov 14 22:14:20 web1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash
"""


def _when(seconds: int) -> str:
    return pl.from_epoch(pl.Series([T0 + seconds]), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ").item()


def _record(seconds: int, identity: dict, name: str, source: str, number: int, **fields: object) -> dict:
    return {
        "eventVersion": "1.08", "userIdentity": identity, "eventTime": _when(seconds), "eventSource": source,
        "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.13", "requestParameters": fields.get("request"),
        "responseElements": fields.get("response"), "eventID": f"00000000-0000-0000-0000-{number:012d}",
        "eventType": "AwsApiCall", "recipientAccountId": fields.get("account", "111111111111"),
    }


def _user(name: str) -> dict:
    return {"type": "IAMUser", "principalId": f"AIDA{name.upper()}", "arn": f"arn:aws:iam::111111111111:user/{name}",
            "accountId": "111111111111", "accessKeyId": f"AKIA{name.upper()}", "userName": name}


def _session(account: str, role: str, session: str, key: str, source_identity: str | None = None) -> dict:
    context = {"sessionIssuer": {"type": "Role", "principalId": f"AROA{role.upper()}",
                                 "arn": f"arn:aws:iam::{account}:role/{role}", "accountId": account, "userName": role},
               "attributes": {"creationDate": _when(0), "mfaAuthenticated": "false"}}
    if source_identity:
        context["sourceIdentity"] = source_identity
    return {"type": "AssumedRole", "principalId": f"AROA{role.upper()}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}", "accountId": account,
            "accessKeyId": key, "sessionContext": context}


def _assume(account: str, role: str, session: str, key: str) -> dict:
    return {
        "request": {"roleArn": f"arn:aws:iam::{account}:role/{role}", "roleSessionName": session},
        "response": {"credentials": {"accessKeyId": key, "expiration": "Nov 15, 2023, 11:13:20 PM"},
                     "assumedRoleUser": {"assumedRoleId": f"AROA{role.upper()}:{session}",
                                         "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}"}},
    }


STS = "sts.amazonaws.com"
CLOUDTRAIL = [
    _record(0, _user("bob"), "AssumeRole", STS, 1, **_assume("111111111111", "ops-admin", "bob-ops", "ASIA1")),
    _record(60, _session("111111111111", "ops-admin", "bob-ops", "ASIA1"), "AssumeRole", STS, 2,
            **_assume("222222222222", "audit", "hop2", "ASIA2")),
    _record(120, _session("222222222222", "audit", "hop2", "ASIA2"), "GetObject", "s3.amazonaws.com", 3,
            account="222222222222", request={"bucketName": "payroll", "key": "2023/11.csv"}),
    _record(3600, _user("carol"), "AssumeRole", STS, 4, **_assume("111111111111", "ops-admin", "bob-ops", "ASIA3")),
    _record(3660, _session("111111111111", "ops-admin", "bob-ops", "ASIA3"), "ListBuckets", "s3.amazonaws.com", 5),
    _record(7200, _session("111111111111", "ops-admin", "bob-ops", "ASIA3", "dave@example.com"), "ListUsers",
            "iam.amazonaws.com", 6),
]


def write(folder: Path) -> dict[str, Path]:
    """Write the three logs into ``folder``; returns their paths by format."""
    paths = {"auditd": folder / "audit.log", "syslog": folder / "auth.log", "cloudtrail": folder / "trail.json"}
    paths["auditd"].write_text(AUDITD)
    paths["syslog"].write_text(AUTH_LOG)
    paths["cloudtrail"].write_bytes(orjson.dumps({"Records": CLOUDTRAIL}))
    return paths


def load(folder: Path) -> pl.DataFrame:
    """The three logs loaded into one events frame."""
    paths = write(folder)
    return pl.concat([
        al.load(paths["auditd"], format="auditd"),
        al.load(paths["syslog"], format="syslog", year=2023, tz="UTC"),
        al.load(paths["cloudtrail"], format="cloudtrail"),
    ])
