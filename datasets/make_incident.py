#!/usr/bin/env python3
"""Generate ``datasets/incident``: three days of benign activity across two Linux hosts, two AWS accounts, a Windows
domain, a Kubernetes cluster and a GCP project, with one intrusion woven through them and an insider at night,
written by :mod:`auditlab.mock` in each source's native format, with the truth of every record.

Same seed, same bytes: the test suite regenerates it and compares. What happens is told in ``datasets/README.md``.

Usage::

    python datasets/make_incident.py [OUT_DIR]     # default: datasets/incident beside this script
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import polars as pl

import auditlab as al

SEED = 2026
HERE = Path(__file__).resolve().parent
# one native format per source: (folder, format)
WRITTEN = (("linux", "auditd"), ("linux", "syslog"), ("aws", "cloudtrail"), ("windows", "windows-xml"),
           ("k8s", "k8s-audit"), ("gcp", "gcp-audit"))


def story() -> al.mock.Story:
    """The incident: :func:`auditlab.mock.incident` with the dataset's seed."""
    return al.mock.incident(seed=SEED, days=3, rate=0.75)


def logs(incident: al.mock.Story) -> dict[str, al.mock.Log]:
    """Each format's log. The intruder's ``truncate -s 0 /var/log/auth.log`` empties web1's auth.log at that moment:
    the clear_log fault, whose truth lists every line it took."""
    out = {fmt: incident.render(fmt) for _, fmt in WRITTEN}
    truncate = next(e for e in incident.events if e.kind == "command" and "/var/log/auth.log" in e.fields["argv"])
    host = truncate.host
    out["syslog"] = out["syslog"].inject("clear_log", file=f"{host}/var/log/auth.log", at=truncate.time_us / 1e6,
                                         with_event=False)
    return out


def write(out: Path) -> None:
    """Write the native files and the truth tables under ``out`` (replacing what was there)."""
    if out.exists():
        shutil.rmtree(out)
    incident = story()
    records, faults = [], []
    for (folder, fmt), log in zip(WRITTEN, logs(incident).values(), strict=True):
        log.write(out / "logs" / folder)
        truth = log.truth.select(
            pl.lit(fmt).alias("format"), (pl.lit(folder + "/") + pl.col("file")).alias("file"), "line", "rid",
            "event", "synthetic_label")
        records.append(truth)
        faults.append(log.fault_truth.select(pl.lit(fmt).alias("format"), pl.all()))
    (out / "truth").mkdir(parents=True)
    incident.truth.drop("time").write_csv(out / "truth" / "events.csv")
    pl.concat(records).write_csv(out / "truth" / "records.csv")
    pl.concat(faults).write_csv(out / "truth" / "faults.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=HERE / "incident")
    write(parser.parse_args().out)


if __name__ == "__main__":
    main()
