"""Benchmark: peak memory of ``al.scan()`` over auditd input of growing size; it should not grow with the input.

Builds ``benchmarks/_data/scan_memory/base.log`` (about 256 MB: renumbered copies of the bundled
``datasets/foundation/linux/audit.log``, so every event stays distinct), then for each ``--gb`` size a folder of
hard links to it (a folder of copies, without the disk cost). For each size, in a fresh subprocess each, it runs

* ``al.scan(folder).group_by("event_code").agg(...).collect(engine="streaming")``
* ``al.scan(folder).sink_parquet(out)``

and reads the child's peak RSS (``ru_maxrss`` from ``os.wait4``), against a baseline child that only imports
auditlab and polars. It prints a markdown table and writes ``benchmarks/_out/scan_memory_<chunk>mib.json``.
``--chunk-mb`` sets the loaders' chunk size (``auditlab.load._io.CHUNK_BYTES``) in the children: the main memory
knob.

Run: ``python benchmarks/bench_scan_memory.py [--gb 0.5 5] [--base-mb 256] [--chunk-mb 8]``. The target: under
1 GB peak RSS for 5 GB of input, and about the same peak at every size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = ROOT / "datasets" / "foundation" / "linux" / "audit.log"
DATA = HERE / "_data" / "scan_memory"
OUT = HERE / "_out"

_STAMP = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")
SHIFT_SECONDS = 3 * 86_400  # each copy starts after the previous one ends

# Each child may be told a chunk size (bytes read per chunk by the loaders, the main memory knob) in
# AUDITLAB_BENCH_CHUNK_BYTES; by default the library's own CHUNK_BYTES is used.
SETUP = """
import os, sys
import auditlab as al, polars as pl
from auditlab.load import _io
if os.environ.get("AUDITLAB_BENCH_CHUNK_BYTES"):
    _io.CHUNK_BYTES = int(os.environ["AUDITLAB_BENCH_CHUNK_BYTES"])
"""
BASELINE = SETUP + "print(_io.CHUNK_BYTES)"
GROUP_BY = SETUP + """
out = (al.scan(sys.argv[1], progress=False)
       .group_by("event_code")
       .agg(pl.len().alias("events"), pl.col("time_us").min().alias("first"), pl.col("time_us").max().alias("last"),
            pl.col("actor_orig_uid").n_unique().alias("actors"))
       .collect(engine="streaming"))
print(int(out["events"].sum()))
"""
SINK = SETUP + """
al.scan(sys.argv[1], progress=False).sink_parquet(sys.argv[2])
print(pl.scan_parquet(sys.argv[2]).select(pl.len()).collect().item())
"""


def build_base(target_bytes: int, out: Path) -> Path:
    """A log of about ``target_bytes``: copies of the bundled log, each shifted in time and in serial."""
    if out.exists() and out.stat().st_size >= target_bytes * 0.9:
        return out
    lines = SOURCE.read_bytes().splitlines()
    serial_stride = 10 ** len(str(len(lines)))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    written, copy = 0, 0
    with tmp.open("wb") as f:
        while written < target_bytes:
            shift_s, shift_serial = copy * SHIFT_SECONDS, copy * serial_stride

            def renumber(m: re.Match[bytes], shift_s: int = shift_s, shift_serial: int = shift_serial) -> bytes:
                return b"msg=audit(%d.%s:%d)" % (int(m[1]) + shift_s, m[2], int(m[3]) + shift_serial)

            block = b"\n".join(_STAMP.sub(renumber, line, count=1) for line in lines) + b"\n"
            f.write(block)
            written += len(block)
            copy += 1
    tmp.replace(out)
    return out


def build_folder(base: Path, gigabytes: float) -> tuple[Path, int]:
    """A folder of hard links to ``base`` holding about ``gigabytes`` of input; returns it and its total size."""
    copies = max(1, math.ceil(gigabytes * 1e9 / base.stat().st_size))
    folder = DATA / f"input_{gigabytes:g}gb"
    if folder.exists() and len(list(folder.iterdir())) != copies:
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(copies):
        link = folder / f"audit.log.{i:03d}"
        if not link.exists():
            try:
                os.link(base, link)
            except OSError:  # a file system without hard links: a real copy
                shutil.copyfile(base, link)
    return folder, copies * base.stat().st_size


def measure(code: str, *args: str) -> dict[str, float | int | str]:
    """Run ``code`` in a fresh interpreter; its wall time, peak RSS (MB, from ``os.wait4``) and what it printed."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
        assert child.stdout is not None
        out = child.stdout.read()
        child.stdout.close()
        _, status, usage = os.wait4(child.pid, 0)  # reaped here, so this child's own ru_maxrss
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        if child.returncode:
            err.seek(0)
            raise SystemExit(f"child failed ({child.returncode}):\n{err.read().decode(errors='replace')}")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "output": out.decode().strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, nargs="+", default=[0.5, 5.0], help="input sizes in GB (default 0.5 5)")
    parser.add_argument("--base-mb", type=int, default=256, help="size of the file the inputs are made of")
    parser.add_argument("--chunk-mb", type=float, default=None,
                        help="bytes per loader chunk, in MiB (default: the library's CHUNK_BYTES)")
    parser.add_argument("--clean", action="store_true", help="remove the generated inputs afterwards")
    args = parser.parse_args()
    if args.chunk_mb:
        os.environ["AUDITLAB_BENCH_CHUNK_BYTES"] = str(int(args.chunk_mb * 1024 * 1024))

    base = build_base(args.base_mb * 1_000_000, DATA / "base.log")
    baseline = measure(BASELINE)
    chunk_mib = int(baseline["output"]) / 1024 / 1024
    print(f"base file {base.stat().st_size / 1e6:.0f} MB; loader chunks of {chunk_mib:g} MiB; baseline child "
          f"(import auditlab, polars): {baseline['peak_rss_mib']} MiB\n")
    rows = []
    for gigabytes in args.gb:
        folder, size = build_folder(base, gigabytes)
        parquet = DATA / "out.parquet"
        grouped = measure(GROUP_BY, str(folder))
        sunk = measure(SINK, str(folder), str(parquet))
        parquet.unlink(missing_ok=True)
        if grouped["output"] != sunk["output"]:
            raise SystemExit(f"row counts disagree: group_by {grouped['output']}, sink {sunk['output']}")
        rows.append({"input_gb": round(size / 1e9, 2), "events": int(grouped["output"]),
                     "group_by": grouped, "sink_parquet": sunk})
    print("| input | events | group_by peak RSS | group_by time | sink_parquet peak RSS | sink_parquet time |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        g, s = r["group_by"], r["sink_parquet"]
        print(f"| {r['input_gb']} GB | {r['events']:,} | {g['peak_rss_mib']} MiB | {g['seconds']} s "
              f"({r['input_gb'] * 1000 / g['seconds']:.0f} MB/s) | {s['peak_rss_mib']} MiB | {s['seconds']} s |")
    OUT.mkdir(exist_ok=True)
    report = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "chunk_mib": chunk_mib,
              "baseline_rss_mib": baseline["peak_rss_mib"],
              "base_file_mb": round(base.stat().st_size / 1e6), "runs": rows}
    (OUT / f"scan_memory_{chunk_mib:g}mib.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.clean:
        shutil.rmtree(DATA)


if __name__ == "__main__":
    main()
