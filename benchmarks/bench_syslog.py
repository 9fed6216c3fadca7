"""Syslog auth lines to an events frame: auditlab against a plain-Python ``re.match`` loop over the same lines.

Generates an ``auth.log`` of ``--lines`` sshd and sudo lines (1,000,000 by default) under ``benchmarks/_data/``,
made from the line shapes of ``../shared/samples/linux_syslog`` (and the sudo, PAM session and accepted-login
shapes those real lines come with), with seeded random users, hosts, addresses, ports and pids, times rising
through one year, and one line in twenty in rsyslog's ISO-8601 form. Then, in one run:

- auditlab: ``al.load(path, format="syslog")``, the full canonical frame (51 columns, raw, SHA-256, unmapped),
  in a fresh subprocess (best of ``--repeat``), with its peak RSS (``ru_maxrss`` of the child);
- the reference: a plain-Python loop that reads the same lines and ``re.match``-es each against the same header
  pattern and then the same message patterns (those of :mod:`auditlab.load._authlog`, tried for the line's program,
  first match wins), keeping each match's groups; no frame, no hash, no time parsing (best of ``--repeat``).

Prints a Markdown table with lines/s and auditlab's speed as a multiple of the loop's.

Usage::

    python benchmarks/bench_syslog.py [--lines 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "_data"

USERS = ("alice", "bob", "carol", "deploy", "ubuntu", "root", "admin", "git", "postgres", "oracle", "test", "pascal")
HOSTS = ("sd-126005", "ip-172-31-20-90", "myhost", "web-1", "db-2", "bastion")
COMMANDS = ("/bin/ls -l /root", "/usr/bin/apt-get update", "/usr/bin/systemctl restart nginx", "/bin/cat /etc/shadow",
            "/usr/bin/id", "/usr/sbin/useradd -m eve")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _ip(rng: random.Random) -> str:
    return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _messages(rng: random.Random) -> tuple[str, str]:
    """One (program, message) in the shape of a real sshd or sudo line (weights: a brute-forced server)."""
    user, ip, port = rng.choice(USERS), _ip(rng), rng.randint(1024, 65535)
    shapes = (
        (20, "sshd", f"Invalid user {user} from {ip} port {port}"),
        (20, "sshd", f"Failed password for invalid user {user} from {ip} port {port} ssh2"),
        (10, "sshd", f"Failed password for {user} from {ip} port {port} ssh2"),
        (8, "sshd", f"Connection closed by authenticating user {user} {ip} port {port} [preauth]"),
        (8, "sshd", f"Disconnected from invalid user {user} {ip} port {port} [preauth]"),
        (6, "sshd", f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  "
                    f"user={user}"),
        (4, "sshd", f"Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:"
                    f"{rng.getrandbits(128):032x}"),
        (2, "sshd", f"Accepted password for {user} from {ip} port {port} ssh2"),
        (4, "sshd", f"pam_unix(sshd:session): session opened for user {user}(uid=1000) by (uid=0)"),
        (4, "sshd", f"pam_unix(sshd:session): session closed for user {user}"),
        (3, "sshd", f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]"),
        (2, "sshd", f"Unable to negotiate with {ip} port {port}: no matching host key type found. Their offer: "
                    "ssh-rsa,ssh-dss [preauth]"),
        (2, "sshd", f"Magic value check failed ({rng.getrandbits(32)}) on obfuscated handshake from {ip} port {port}"),
        (5, "sudo", f"   {user} : TTY=pts/{rng.randint(0, 9)} ; PWD=/home/{user} ; USER=root ; "
                    f"COMMAND={rng.choice(COMMANDS)}"),
        (1, "sudo", f"   {user} : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/{user} ; USER=root ; "
                    f"COMMAND={rng.choice(COMMANDS)}"),
        (3, "sudo", f"pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid=1000)"),
        (3, "sudo", "pam_unix(sudo:session): session closed for user root"),
        (1, "sudo", f"pam_unix(sudo:auth): authentication failure; logname={user} uid=1000 euid=0 tty=/dev/pts/1 "
                    f"ruser={user} rhost=  user={user}"),
        (1, "sudo", f"pam_tally2(sudo:auth): user {user} (1000) tally 6, deny 5"),
    )
    weights = [w for w, _, _ in shapes]
    _, program, message = rng.choices(shapes, weights=weights)[0]
    return program, message


def grow(lines: int, *, seed: int = 7) -> Path:
    """Write (once) ``lines`` syslog lines under ``benchmarks/_data/``."""
    path = DATA / f"syslog_{lines}.log"
    if path.exists():
        return path
    rng = random.Random(seed)
    DATA.mkdir(parents=True, exist_ok=True)
    seconds_per_line = 365 * 86400 / lines
    out = []
    for i in range(lines):
        t = int(i * seconds_per_line)
        day_of_year, rest = divmod(t, 86400)
        month, day = min(day_of_year // 31, 11), day_of_year % 31 % 28 + 1
        hms = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
        program, message = _messages(rng)
        tag = f"{program}[{rng.randint(300, 4_000_000)}]" if program == "sshd" else program
        host = rng.choice(HOSTS)
        if i % 20 == 0:
            stamp = f"2024-{month + 1:02d}-{day:02d}T{hms}.{rng.randint(0, 999_999):06d}+01:00"
        else:
            stamp = f"{MONTHS[month]} {day:2d} {hms}"
        out.append(f"{stamp} {host} {tag}: {message}\n")
    path.write_text("".join(out), encoding="utf-8")
    return path


_CHILD = """
import json, resource, sys, time
import auditlab as al
start = time.perf_counter()
events = al.load(sys.argv[1], format="syslog")
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
recognised = int((events["class_uid"] > 0).sum())
print(json.dumps({"seconds": seconds, "rows": events.height, "recognised": recognised, "rss": rss}))
"""


def time_auditlab(path: Path) -> dict[str, float]:
    """One load in a fresh interpreter: its time, row count, recognised rows and peak RSS (bytes)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _python_patterns() -> tuple[re.Pattern[str], list[tuple[tuple[str, ...] | None, tuple[str, ...], re.Pattern[str],
                                                             bool]]]:
    """The loader's header and message patterns, compiled for Python's ``re`` (named groups spelled ``(?P<``)."""
    from auditlab.load import _authlog, syslog

    def compile_(pattern: str) -> re.Pattern[str]:
        return re.compile(pattern.replace("(?<", "(?P<"))

    rules = []
    for rule in _authlog.RULES:
        prefixes = (rule.prefix,) if isinstance(rule.prefix, str) else rule.prefix
        recognised = rule.columns.get("class_uid") != 0  # the sshd catch-all extracts addresses, class 0
        rules.append((rule.programs, prefixes, compile_(rule.pattern), recognised))
    return compile_(syslog._HEADER), rules


def time_re_loop(path: Path) -> tuple[float, int]:
    """Seconds of the plain-Python loop, and how many lines it recognised."""
    header, rules = _python_patterns()
    start = time.perf_counter()
    recognised = 0
    results = []
    with path.open("rb") as f:
        for raw in f:
            line = raw.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
            match = header.match(line)
            if match is None:
                results.append(None)
                continue
            program = (match["prog"] or "").rsplit("/", 1)[-1].lower()
            program = {"sshd-session": "sshd", "sshd-auth": "sshd", "crond": "cron"}.get(program, program)
            message = line[match.end():]
            found = None
            for programs, prefixes, pattern, counts in rules:
                if (programs is None or program in programs) and message.startswith(prefixes):
                    m = pattern.match(message)
                    if m is not None:
                        found = m.groupdict()
                        recognised += counts
                        break
            results.append((match.groupdict(), found))
    return time.perf_counter() - start, recognised


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in the generated log (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each tool; the best counts (default 3)")
    args = parser.parse_args()
    path = grow(args.lines)
    size_mb = path.stat().st_size / 1e6
    ours = min((time_auditlab(path) for _ in range(args.repeat)), key=lambda r: r["seconds"])
    loops = [time_re_loop(path) for _ in range(args.repeat)]
    loop_seconds, loop_recognised = min(loops)
    print(f"syslog: {args.lines:,} lines, {size_mb:.0f} MB (best of {args.repeat})\n")
    print("| tool | seconds | lines/s | recognised lines | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    print(f"| auditlab `al.load(format='syslog')` | {ours['seconds']:.2f} | {ours['rows'] / ours['seconds']:,.0f} "
          f"| {ours['recognised']:,} | {ours['rss'] / 2**20:,.0f} MiB |")
    print(f"| plain-Python `re.match` loop | {loop_seconds:.2f} | {args.lines / loop_seconds:,.0f} "
          f"| {loop_recognised:,} | |")
    print(f"\nauditlab / re loop throughput: {loop_seconds / ours['seconds']:.2f}x")


if __name__ == "__main__":
    main()
