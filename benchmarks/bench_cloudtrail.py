"""CloudTrail records to an events frame: auditlab against DuckDB ``read_json_auto`` and pandas ``json_normalize``.

Grows the real samples (every record of ``../shared/samples/aws_cloudtrail``, lookup-events items opened, with
fresh eventIDs and times) into JSON lines under ``benchmarks/_data/`` (500,000 records by default), then times, in
one run, each tool in its own fresh subprocess (best of ``--repeat``), and prints a Markdown table with records/s,
auditlab's speed as a multiple of each peer's, and each process's peak RSS (``ru_maxrss``).

- auditlab: ``al.load(path, format="cloudtrail")``: the full canonical frame (51 columns, raw, SHA-256, unmapped).
- DuckDB: ``SELECT * FROM read_json_auto(path)`` fetched to an Arrow table (nested structs, no raw, no hash).
- pandas: ``pd.json_normalize([json.loads(line) for line in lines])`` (flattened columns, no raw, no hash).

Targets (DESIGN.md section 8): 2x DuckDB and 5x pandas. ``--profile`` prints where auditlab's time goes instead
(cProfile of the loader, in this process, on the same input).

Usage::

    python benchmarks/bench_cloudtrail.py [--records 500000] [--repeat 3] [--tools auditlab,duckdb,pandas]
    python benchmarks/bench_cloudtrail.py --profile [--records 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples" / "aws_cloudtrail"
DATA = ROOT / "benchmarks" / "_data"
TOOLS = ("auditlab", "duckdb", "pandas")
TARGETS = {"duckdb": 2.0, "pandas": 5.0}


def sample_records() -> list[dict]:
    """Every CloudTrail record of the samples (lookup-events items opened), in file order."""
    records: list[dict] = []
    for path in sorted(SAMPLES.iterdir()):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
            records.extend(json.loads(item["CloudTrailEvent"]) for item in items)
        elif path.suffix == ".json":
            value = json.loads(text)
            records.extend(value["Records"] if isinstance(value, dict) else value)
    if not records:
        sys.exit(f"no CloudTrail samples in {SAMPLES}")
    return records


def grow(records: int, *, seed: int = 7) -> Path:
    """Write (once) ``records`` JSON lines cycling through the samples, each with a fresh eventID and time."""
    path = DATA / f"cloudtrail_{records}.jsonl"
    if path.exists():
        return path
    base = sample_records()
    rng = random.Random(seed)
    start = 1_700_000_000
    DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8") as out:
        for i in range(records):
            record = dict(base[i % len(base)])
            record["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            record["eventTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + i // 4))
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
    partial.rename(path)
    return path


def run_tool(tool: str, path: str, repeat: int) -> None:
    """In a subprocess: time one tool ``repeat`` times and print a JSON line with the times and peak RSS."""
    import resource

    sys.path.insert(0, str(ROOT))  # the work tree's auditlab, installed or not

    def once() -> int:
        if tool == "auditlab":
            import auditlab as al

            return al.load(path, format="cloudtrail").height
        if tool == "duckdb":
            import duckdb

            quoted = path.replace("'", "''")
            query = f"SELECT * FROM read_json_auto('{quoted}')"  # noqa: S608 - our own generated file's path
            return duckdb.connect().sql(query).to_arrow_table().num_rows
        import pandas as pd

        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        return len(pd.json_normalize([json.loads(line) for line in lines]))

    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = once()
        times.append(time.perf_counter() - start)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tool": tool, "times": times, "rows": rows, "rss_mb": rss_mb}))


def profile(path: Path) -> None:
    """cProfile of the CloudTrail loader's parse (what ``load`` runs in a polars thread), top functions."""
    import cProfile
    import pstats

    sys.path.insert(0, str(ROOT))
    from auditlab.load import cloudtrail
    from auditlab.load._io import Source

    source = Source(path, None)
    profiler = cProfile.Profile()
    profiler.enable()
    rows = sum(frame.height for frame in cloudtrail.parse(source, batch_rows=100_000))
    profiler.disable()
    print(f"{rows:,} records of {path}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--profile", action="store_true", help="profile auditlab's loader instead of timing")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: the tool to time in this subprocess
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_tool(args.run, args.path, args.repeat)
        return

    path = grow(args.records)
    if args.profile:
        profile(path)
        return
    size_mb = path.stat().st_size / 1e6
    results = {}
    for tool in args.tools.split(","):
        if tool not in TOOLS:
            sys.exit(f"--tools: unknown tool {tool!r}; known: {', '.join(TOOLS)}")
        cmd = [sys.executable, __file__, "--run", tool, "--path", str(path), "--repeat", str(args.repeat)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        if done.returncode != 0:
            sys.exit(f"{tool} failed:\n{done.stderr}")
        results[tool] = json.loads(done.stdout.strip().splitlines()[-1])
        if results[tool]["rows"] != args.records:
            sys.exit(f"{tool} read {results[tool]['rows']} rows, expected {args.records}")

    print(f"\nCloudTrail: {args.records:,} records as JSON lines ({size_mb:,.0f} MB), best of {args.repeat}\n")
    print("| tool | best (s) | records/s | auditlab speed vs this | target | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    ours = args.records / min(results["auditlab"]["times"]) if "auditlab" in results else None
    for tool, result in results.items():
        best = min(result["times"])
        rate = args.records / best
        ratio = f"{ours / rate:.2f}x" if ours else "-"
        target = f"{TARGETS[tool]:.0f}x" if tool in TARGETS else "-"
        print(f"| {tool} | {best:.2f} | {rate:,.0f} | {ratio} | {target} | {result['rss_mb']:,.0f} |")


if __name__ == "__main__":
    main()
