"""Write docs/mock.md from the mock generator's registries: formats, scenarios and their steps, faults and their
parameters, and the event kinds.

Run ``python docs/make_mock.py`` after changing any of them; ``tests/test_readme.py`` fails while the file and the
code disagree.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from auditlab.mock import _model
from auditlab.mock.faults import FAULTS
from auditlab.mock.render import FORMATS
from auditlab.mock.scenarios import SCENARIOS

TARGET = Path(__file__).resolve().parent / "mock.md"

HEADER = """# Synthetic attacks and faults: `auditlab.mock`

The generator writes audit logs that travel through the real loaders, your pipeline and your detections, with the
truth of every record: which event it renders, its label (scenario, step, ATT&CK technique), what it must load as,
and what each injected fault removed, added or changed. Same seed, same bytes.

```python
import auditlab as al

w = al.mock.world(seed=1)                                    # people, admins, services, hosts, accounts, a cluster
story = al.mock.baseline(w, days=7) + al.mock.scenario("ssh-bruteforce-sudo", world=w, start="2026-11-04T22:00Z")
story = al.mock.incident(seed=1)                             # or: three days across every source, one intrusion
log = story.render("auditd")                                 # native files + truth
log.files                                                    # {"web1/var/log/audit/audit.log": b"type=..."}
log.truth                                                    # one row per record: rid, file, line, label, expect_*
hit = log.inject("drop_range", minutes=30, seed=2)           # faults: a new Log, with hit.fault_truth
events = hit.load()                                          # al.load of the files, labelled from the truth
log.write("out/")                                            # or write them where your pipeline reads
```

**The world.** Each person has one identity in every source: `alice` is uid 1001 on Linux, `CORP\\\\alice` (one SID)
on Windows, the IAM user `alice` with her own access key, and `alice@example.com` in Kubernetes and GCP. Admins may
sudo and assume `ops-admin`; service accounts work around the clock (cron, controllers, a deploy role).

**The baseline.** People work on weekdays (now and then a weekend day) from their own start hour, about nine hours
with a lunch break, their actions a Poisson process at their own rate; internet scanners knock on sshd at any hour.
Gap detection and review thus see a daily and weekly rhythm.

**What a log is.** The records as a central collector received them. auditd writes nothing on a host after auditing
was disabled there (`auditctl -e 0`, the daemon stopped) until it starts again: those events are in the story, not
in the log. What an attacker does to local files (a cleared `auth.log`, a cleared Security log) is a fault to
inject, with its truth; `datasets/incident` does so for the intruder's `truncate -s 0 /var/log/auth.log`.

**Round trip.** For every record the renderer states the canonical values `al.load` must give (from the loaders'
documented field maps, never by calling them); `tests/test_mock*.py` check every format against them, on every
scenario and on hypothesis-drawn stories, awkward strings and faults.

**In tests.** `auditlab.testing.strategies` gives `worlds()`, `actors()`, `events()`, `stories()`, `scenarios()`,
`faults()` and `audit_logs(format=..., max_faults=...)`. The pytest plugin (installed with the package, entry point
`pytest11`) gives the fixtures `auditlab_seed`, `mock_world` and `mock_log(format, scenario=None, days=1,
faults=())`; a failing test's report names its seed, and `pytest --auditlab-seed=N` replays it.

```python
from hypothesis import given
from auditlab.testing import strategies as als

@given(als.audit_logs(format="cloudtrail", max_faults=2))
def test_my_pipeline_keeps_every_record(log):
    out = my_pipeline(log.files)                       # your code
    kept = ...                                         # what it stored, read back
    lost = set(log.truth["rid"]) - set(kept["rid"])    # compare with log.truth and log.fault_truth
    assert not lost
```
"""


def render() -> str:
    out = [HEADER, "## Formats\n", "| format | source | read back by | what |", "|---|---|---|---|"]
    out += [f"| `{f.name}` | {f.source} | `{f.loader}` | {f.description} |" for f in FORMATS.values()]
    signature = "`al.mock.scenario(name, world=None, start=None, seed=0, victim=None, attacker_ip=None)`"
    out += ["", "## Scenarios\n", signature, "", "| scenario | sources | steps (ATT&CK technique: what) |",
            "|---|---|---|"]
    for s in SCENARIOS.values():
        steps = "<br>".join(f"{i}. `{t}`: {what}" for i, (t, what) in enumerate(s.steps, 1))
        out.append(f"| `{s.name}` | {', '.join(s.sources)} | {s.description}.<br>{steps} |")
    out += ["", "## Faults\n", "`log.inject(name, seed=0, **params)`; every fault's truth is `log.fault_truth`: "
            "`fault`, `rid`, `effect` (dropped, inserted, moved, duplicated, time_shifted, actor_stripped, "
            "truncated, corrupted), `detail`.", "", "| fault | what | parameters (default) | acts on |",
            "|---|---|---|---|"]
    for f in FAULTS.values():
        params = ", ".join(f"`{k}={v!r}`" for k, v in f.params().items()) or "-"
        phases = " and ".join(p for p, fn in (("events", f.on_events), ("records", f.on_records)) if fn)
        out.append(f"| `{f.name}` | {f.description} | {params} | {phases} |")
    kinds = inspect.getdoc(_model).split("\n\n", 2)[2]
    out += ["", "## Event kinds\n", kinds, ""]
    return "\n".join(out)


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
