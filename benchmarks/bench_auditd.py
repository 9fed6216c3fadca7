"""Benchmark: the auditd loader against ``ausearch --format csv`` on a log grown from the real samples.

Grows every file of ``../shared/samples/linux_auditd`` into one ``--lines``-line log under ``benchmarks/_data/``
(each copy of the samples shifts serials and times, so events stay distinct), then times ``al.load(path,
format="auditd")`` (best of 3, each in a fresh subprocess that also reports its peak RSS) against ``ausearch -if
FILE --format csv`` (best of 3; skipped, and said so, where ausearch is not installed), and prints a markdown table.

Run: ``python benchmarks/bench_auditd.py [--lines 1000000]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLES = ROOT.parent / "shared" / "samples" / "linux_auditd"
DATA = HERE / "_data"

_STAMP = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")
SERIAL_STRIDE = 10_000_000  # above every serial in the samples: copy k adds k * stride
TIME_STRIDE = 3_600  # seconds added per copy


def grow(lines: int, out: Path) -> Path:
    """Write a ``lines``-line log made of renumbered copies of the samples (reused when already there)."""
    if out.exists() and sum(1 for _ in out.open("rb")) == lines:
        return out
    sample_lines: list[bytes] = []
    for path in sorted(SAMPLES.iterdir()):
        data = path.read_bytes()
        sample_lines.extend(line for line in data.split(b"\n") if line.strip())
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    copy = 0
    with out.open("wb") as f:
        while written < lines:
            serial_shift, time_shift = copy * SERIAL_STRIDE, copy * TIME_STRIDE

            def shift(m: re.Match[bytes], serial_shift: int = serial_shift, time_shift: int = time_shift) -> bytes:
                sec, ms, serial = int(m[1]) + time_shift, m[2].decode(), int(m[3]) + serial_shift
                return f"msg=audit({sec}.{ms}:{serial})".encode()

            batch = [_STAMP.sub(shift, line, count=1) for line in sample_lines[: lines - written]]
            f.write(b"\n".join(batch) + b"\n")
            written += len(batch)
            copy += 1
    return out


_CHILD = """
import resource, sys, time
import auditlab as al
start = time.perf_counter()
events = al.load(sys.argv[1], format="auditd")
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "events": events.height, "rss": rss}))
""".replace("import resource", "import json, resource")


def time_auditlab(path: Path) -> dict[str, float]:
    """One load in a fresh interpreter: its time, event count and peak RSS (bytes)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_ausearch(path: Path) -> float | None:
    """Seconds for ``ausearch -if FILE --format csv`` (output discarded), or None if ausearch is absent."""
    exe = shutil.which("ausearch")
    if exe is None:
        return None
    start = time.perf_counter()
    subprocess.run([exe, "-if", str(path), "--format", "csv"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in the grown log (default 1,000,000)")
    args = parser.parse_args()
    path = grow(args.lines, DATA / f"audit_{args.lines}.log")
    size_mb = path.stat().st_size / 1e6
    ours = min((time_auditlab(path) for _ in range(3)), key=lambda r: r["seconds"])
    peer_runs = [time_ausearch(path) for _ in range(3)]
    peer = None if peer_runs[0] is None else min(t for t in peer_runs if t is not None)
    print(f"auditd: {args.lines:,} lines, {size_mb:.0f} MB, {ours['events']:,} events (best of 3)\n")
    print("| tool | seconds | lines/s | events/s | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    print(f"| auditlab `al.load(format='auditd')` | {ours['seconds']:.2f} | {args.lines / ours['seconds']:,.0f} "
          f"| {ours['events'] / ours['seconds']:,.0f} | {ours['rss'] / 2**20:,.0f} MiB |")
    if peer is None:
        print("| ausearch --format csv | skipped: ausearch is not installed | | | |")
    else:
        print(f"| `ausearch -if FILE --format csv` | {peer:.2f} | {args.lines / peer:,.0f} | | |")
        print(f"\nauditlab / ausearch throughput: {peer / ours['seconds']:.2f}x (target 10x)")


if __name__ == "__main__":
    main()
