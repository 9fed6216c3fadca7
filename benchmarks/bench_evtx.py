"""EVTX files to an events frame: auditlab against the bare ``evtx`` parser (``PyEvtxParser.records_json()``).

Replicates the sample ``.evtx`` files (``../shared/samples/windows_evtx``) into a folder of copies of at least
``--mb`` megabytes under ``benchmarks/_data/`` (200 MB by default), then times, in one run, each tool in its own
fresh subprocess (best of ``--repeat``), and prints a Markdown table with records/s, each tool's time as a multiple of
the bare parser's, and each process's peak RSS (``ru_maxrss``):

- bare: ``for r in PyEvtxParser(path).records_json(): pass`` over every file (the floor: it parses the binary XML
  and renders JSON, nothing else);
- parse+hash: the bare loop plus ``orjson.loads`` of each record and the SHA-256 of its text, the least any loader
  that maps fields and keeps ``raw`` with its hash must do (shown to place the target);
- auditlab: ``al.load(folder, format="evtx")``: the full canonical frame (51 columns, raw, SHA-256, unmapped).

Target (DESIGN.md section 8): auditlab within 1.5x of the bare parser. python-evtx (the pure-Python parser, imported
as ``Evtx``) is timed on the smallest sample when it is importable; it is not installed by this script.
``--profile`` prints where auditlab's time goes instead (cProfile of the loader, in this process).

Usage::

    python benchmarks/bench_evtx.py [--mb 200] [--repeat 3] [--tools bare,parse+hash,auditlab]
    python benchmarks/bench_evtx.py --profile
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples" / "windows_evtx"
DATA = ROOT / "benchmarks" / "_data"
TOOLS = ("bare", "parse+hash", "auditlab")
TARGET = 1.5


def grow(megabytes: int) -> Path:
    """Write (once) a folder of copies of every sample .evtx file, at least ``megabytes`` in all."""
    folder = DATA / f"evtx_{megabytes}mb"
    if folder.exists():
        return folder
    samples = sorted(SAMPLES.glob("*.evtx"))
    if not samples:
        sys.exit(f"no .evtx samples in {SAMPLES}")
    partial = folder.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    size, copy = 0, 0
    while size < megabytes * 1_000_000:
        for path in samples:
            target = partial / f"{copy:04d}_{path.name}"
            shutil.copyfile(path, target)
            size += target.stat().st_size
        copy += 1
    partial.rename(folder)
    return folder


def run_tool(tool: str, folder: str, repeat: int) -> None:
    """In a subprocess: time one tool ``repeat`` times and print a JSON line with the times, records and peak RSS."""
    import resource

    sys.path.insert(0, str(ROOT))  # the work tree's auditlab, installed or not
    files = sorted(str(p) for p in Path(folder).iterdir())

    def once() -> int:
        if tool == "auditlab":
            import auditlab as al

            return al.load(folder, format="evtx", progress=False).height
        from evtx import PyEvtxParser

        n = 0
        if tool == "bare":
            for path in files:
                for _ in PyEvtxParser(path).records_json():
                    n += 1
            return n
        import hashlib

        import orjson

        for path in files:
            for record in PyEvtxParser(path).records_json():
                data = record["data"]
                orjson.loads(data)
                hashlib.sha256(data.encode()).hexdigest()
                n += 1
        return n

    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = once()
        times.append(time.perf_counter() - start)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"tool": tool, "times": times, "rows": rows, "rss_mb": rss_mb}))


def python_evtx() -> str:
    """The time python-evtx takes on the smallest sample, or why it was not timed."""
    try:
        from Evtx.Evtx import Evtx  # type: ignore[import-not-found]
    except ImportError:
        return "python-evtx (`Evtx`) is not installed: not timed"
    smallest = min(SAMPLES.glob("*.evtx"), key=lambda p: p.stat().st_size)
    start = time.perf_counter()
    n = 0
    with Evtx(str(smallest)) as log:
        for record in log.records():
            record.xml()
            n += 1
    took = time.perf_counter() - start
    return f"python-evtx: {n} records of {smallest.name} in {took:.3f} s ({n / took:,.0f} records/s)"


def profile(folder: Path) -> None:
    """cProfile of the EVTX loader over the folder, top functions."""
    import cProfile
    import pstats

    sys.path.insert(0, str(ROOT))
    from auditlab.load import evtx
    from auditlab.load._io import expand

    profiler = cProfile.Profile()
    profiler.enable()
    rows = sum(frame.height for source in expand(folder) for frame in evtx.parse(source, batch_rows=100_000))
    profiler.disable()
    print(f"{rows:,} records of {folder}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--profile", action="store_true", help="profile auditlab's loader instead of timing")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: the tool to time in this subprocess
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_tool(args.run, args.path, args.repeat)
        return

    folder = grow(args.mb)
    if args.profile:
        profile(folder)
        return
    files = list(folder.iterdir())
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    results = {}
    for tool in args.tools.split(","):
        if tool not in TOOLS:
            sys.exit(f"--tools: unknown tool {tool!r}; known: {', '.join(TOOLS)}")
        cmd = [sys.executable, __file__, "--run", tool, "--path", str(folder), "--repeat", str(args.repeat)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        if done.returncode != 0:
            sys.exit(f"{tool} failed:\n{done.stderr}")
        results[tool] = json.loads(done.stdout.strip().splitlines()[-1])
    counts = {r["rows"] for r in results.values()}
    if len(counts) != 1:
        sys.exit(f"the tools read different record counts: { {t: r['rows'] for t, r in results.items()} }")

    records = counts.pop()
    print(f"\nEVTX: {len(files)} files, {size_mb:,.0f} MB, {records:,} records; best of {args.repeat}\n")
    print("| tool | best (s) | records/s | time vs bare parser | target | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    bare = min(results["bare"]["times"]) if "bare" in results else None
    for tool, result in results.items():
        best = min(result["times"])
        ratio = f"{best / bare:.2f}x" if bare else "-"
        target = f"{TARGET:.1f}x" if tool == "auditlab" else "-"
        print(f"| {tool} | {best:.2f} | {records / best:,.0f} | {ratio} | {target} | {result['rss_mb']:,.0f} |")
    print(f"\n{python_evtx()}")


if __name__ == "__main__":
    main()
