"""Generating and rendering synthetic events against loading them back, per format.

For each format, in one run: draw benign activity for the format's source from a seeded world (days chosen so that
the log holds about ``--records`` records, 1,000,000 by default), render it to native records and pack the files
(``Story.render`` + ``Log.files``), write them under ``benchmarks/_data/mock/``, then ``al.load`` them back. The
generator must not be slower than the loader: the report gives both times and their ratio (generate+render / load,
below 1 is the goal), best of ``--repeat`` for each side, in the same process one after the other.

Usage::

    python benchmarks/bench_mock.py [--records 1000000] [--repeat 1] [--formats auditd,syslog,...]
"""

from __future__ import annotations

import argparse
import gc
import math
import shutil
import time
from pathlib import Path

import auditlab as al
from auditlab.mock import FORMATS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "_data" / "mock"
START = "2026-01-05T00:00:00Z"


def world() -> al.mock.World:
    return al.mock.world(seed=1, people=18, admins=2, services=6, linux_hosts=4, windows_hosts=4, accounts=2)


def make(fmt: str, days: float) -> al.mock.Log:
    story = al.mock.baseline(world(), start=START, days=days, sources=[FORMATS[fmt].source], seed=1)
    log = story.render(fmt)
    _ = log.files  # packing is part of rendering
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    rows = []
    for fmt in args.formats.split(","):
        per_day = max(1, len(make(fmt, 1).records))
        days = math.ceil(args.records / per_day)
        best_make, best_load, log, loaded = math.inf, math.inf, None, None
        for _ in range(args.repeat):
            log = None
            gc.collect()
            t = time.perf_counter()
            log = make(fmt, days)
            best_make = min(best_make, time.perf_counter() - t)
        folder = DATA / fmt
        shutil.rmtree(folder, ignore_errors=True)
        log.write(folder)
        size = sum(len(b) for b in log.files.values())
        n_records, n_files = len(log.records), len(log.files)
        del log
        for _ in range(args.repeat):
            loaded = None
            gc.collect()
            t = time.perf_counter()
            loaded = al.load(folder, format=FORMATS[fmt].loader, progress=False, year=2026, tz="UTC") \
                if FORMATS[fmt].module == "syslog" else al.load(folder, format=FORMATS[fmt].loader, progress=False)
            best_load = min(best_load, time.perf_counter() - t)
        assert loaded.height == n_records, (fmt, loaded.height, n_records)
        rows.append((fmt, days, n_records, n_files, size, best_make, best_load))
        print(f"{fmt}: {n_records:,} records in {n_files:,} files, {size / 2**20:.0f} MiB: "
              f"generate+render {best_make:.1f} s, load {best_load:.1f} s", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print("| format | records | files | MiB | generate + render (s) | al.load (s) | ratio (generate / load) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for fmt, _days, n, files, size, made, loaded_s in rows:
        print(f"| {fmt} | {n:,} | {files:,} | {size / 2**20:.0f} | {made:.1f} | {loaded_s:.1f} | "
              f"{made / loaded_s:.2f} |")


if __name__ == "__main__":
    main()
