"""Synthetic audit events with ground truth, rendered in each source's native format.

Build a :func:`world`, draw benign :func:`baseline` activity in it, add labelled attack :func:`scenario` events (or
take a whole :func:`incident`), then render the story to a native format: the :class:`~auditlab.mock.render.Log`
holds the files, what each record must load as, and the faults injected into it (:func:`inject`).

Examples:
    >>> import auditlab as al
    >>> story = al.mock.scenario("ssh-bruteforce-sudo", seed=7)
    >>> story.events[0].label
    'ssh-bruteforce-sudo/1/T1110.001'
    >>> log = story.render("syslog")
    >>> events = log.load()
    >>> events.height == len(log.records)
    True
    >>> events.filter(events["event_code"] == "sshd.failed").height
    40
    >>> events.group_by("synthetic_label").len().sort("synthetic_label").rows()[1:3]
    [('ssh-bruteforce-sudo/2/T1078.003', 8), ('ssh-bruteforce-sudo/4/T1548.003', 3)]
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from auditlab._errors import InvalidArgument
from auditlab.mock._model import SOURCES, Event, Record
from auditlab.mock.faults import FAULTS, inject
from auditlab.mock.render import FORMATS, Log, formats_for, get_format, label
from auditlab.mock.scenarios import SCENARIOS
from auditlab.mock.world import World, world

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "DEFAULT_START", "FAULTS", "FORMATS", "SCENARIOS", "SOURCES", "Event", "Log", "Record", "Story", "World",
    "baseline", "incident", "inject", "label", "render", "scenario", "world",
]

DEFAULT_START = "2026-11-02T00:00:00Z"  # a Monday
DAY_US = 86_400_000_000


class Story:
    """Synthetic events in one world, in time order: what happened, before any log format is chosen.

    Stories add up (``baseline(w) + scenario("...", world=w)``); :meth:`render` writes one format.
    """

    def __init__(self, world: World, events: Iterable[Event]) -> None:
        self.world = world
        self.events: tuple[Event, ...] = tuple(sorted(events, key=lambda e: e.time_us))

    def __repr__(self) -> str:
        attacks = sorted({e.scenario for e in self.events if e.scenario})
        return f"Story(events={len(self.events)}, sources={list(self.sources)}, scenarios={attacks})"

    def __len__(self) -> int:
        return len(self.events)

    def __add__(self, other: Story) -> Story:
        if not isinstance(other, Story):
            return NotImplemented
        if other.world != self.world:
            raise InvalidArgument("other: stories from different worlds cannot be added; pass world= to both")
        return Story(self.world, self.events + other.events)

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources that have events, in :data:`SOURCES` order."""
        present = {e.source for e in self.events}
        return tuple(s for s in SOURCES if s in present)

    @property
    def formats(self) -> list[str]:
        """The formats that render this story's sources."""
        return [f for s in self.sources for f in formats_for(s)]

    def render(self, format: str) -> Log:  # noqa: A002
        """The native log of ``format`` (see :data:`FORMATS`) for the events of its source."""
        return Log(self.events, format)

    @property
    def truth(self) -> pl.DataFrame:
        """One row per event: ``event`` (its index), time, source, kind, host, actor, success and the labels."""
        import polars as pl

        rows = [{"event": i, "time_us": e.time_us, "source": e.source, "kind": e.kind, "host": e.host,
                 "actor": e.actor, "success": e.success, "scenario": e.scenario, "step": e.step,
                 "technique": e.technique, "synthetic_label": e.label} for i, e in enumerate(self.events)]
        schema = {"event": pl.Int64, "time_us": pl.Int64, "source": pl.String, "kind": pl.String, "host": pl.String,
                  "actor": pl.String, "success": pl.Boolean, "scenario": pl.String, "step": pl.Int64,
                  "technique": pl.String, "synthetic_label": pl.String}
        return pl.DataFrame(rows, schema=schema).with_columns(
            pl.from_epoch("time_us", time_unit="us").dt.replace_time_zone("UTC").alias("time"))


def _span(start: Any, days: float | None, end: Any) -> tuple[int, int]:
    from auditlab.mock.background import to_us

    lo = to_us(start, "start")
    if end is not None:
        hi = to_us(end, "end")
        if hi <= lo:
            raise InvalidArgument(f"end: must be after start, got end={end!r} and start={start!r}")
        return lo, hi
    if days is None or not days > 0:
        raise InvalidArgument(f"days: expected a number of days > 0, got {days!r}")
    return lo, lo + int(days * DAY_US)


def _sources(sources: Sequence[str]) -> tuple[str, ...]:
    if isinstance(sources, str):
        sources = (sources,)
    for source in sources:
        if source not in SOURCES:
            raise InvalidArgument(f"sources: unknown source {source!r}; available: {', '.join(SOURCES)}")
    return tuple(sources)


def baseline(
    world: World | None = None,
    *,
    start: Any = DEFAULT_START,
    days: float | None = 7,
    end: Any = None,
    sources: Sequence[str] = SOURCES,
    rate: float = 1.0,
    seed: int = 0,
) -> Story:
    """Benign activity in ``world`` from ``start`` for ``days`` (or until ``end``), with daily and weekly rhythm.

    Args:
        world: the world (default ``world(seed)``).
        start, end: a datetime, an ISO 8601 string or epoch seconds (UTC when no zone is given).
        sources: which of :data:`SOURCES` to draw.
        rate: a multiplier of every actor's activity (0 gives only the services' fixed schedules).
        seed: the same seed gives the same events.

    Examples:
        >>> import auditlab as al
        >>> story = al.mock.baseline(days=1, sources=["linux"], seed=3)
        >>> story.sources, {e.label for e in story.events}
        (('linux',), {'benign'})
    """
    from auditlab.mock import background as _baseline

    lo, hi = _span(start, days, end)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not rate >= 0:
        raise InvalidArgument(f"rate: expected a number >= 0, got {rate!r}")
    world = world if world is not None else globals()["world"](seed)
    events = _baseline.generate(world, lo, hi, sources=_sources(sources), rate=float(rate), seed=seed)
    return Story(world, events)


def scenario(
    name: str,
    *,
    world: World | None = None,
    start: Any = None,
    seed: int = 0,
    victim: str | None = None,
    attacker_ip: str | None = None,
) -> Story:
    """The labelled events of attack scenario ``name`` (see :data:`SCENARIOS`).

    Args:
        world: the world (default ``world(seed)``).
        start: when the attack begins (default: the Tuesday night after :data:`DEFAULT_START`, 22:00 UTC).
        victim: the key of the account the attacker takes over (default: the first admin; for the insider, the
            last user who is not an admin).
        attacker_ip: where the attacker comes from (default: an address in 203.0.113.0/24 drawn from ``seed``).

    Examples:
        >>> import auditlab as al
        >>> story = al.mock.scenario("windows-password-spray", seed=1)
        >>> sorted({e.technique for e in story.events})[:3]
        ['T1070.001', 'T1078.002', 'T1098.007']
    """
    from auditlab.mock import scenarios as _scenarios
    from auditlab.mock.background import to_us

    spec = _scenarios.get(name)
    world = world if world is not None else globals()["world"](seed)
    begin = to_us(DEFAULT_START, "start") + DAY_US + 22 * 3600 * 1_000_000 if start is None else to_us(start, "start")
    events = _scenarios.build(spec.name, world, begin, seed=seed, victim=victim, attacker_ip=attacker_ip)
    return Story(world, events)


def incident(
    *,
    world: World | None = None,
    start: Any = DEFAULT_START,
    days: float = 3,
    scenarios: Sequence[str] = tuple(SCENARIOS),
    rate: float = 1.0,
    seed: int = 0,
) -> Story:
    """Benign activity across every source for ``days``, with one intrusion woven through it.

    The attacker brute-forces ssh into the first Linux host as the first admin on the night of the middle day, uses
    the same person's cloud credentials from the same address, sprays the Windows domain from the Linux host it holds
    and takes over the Kubernetes cluster; the insider (if chosen) reads payroll at night all along. In a story
    shorter than two days the intrusion is in its middle; scenario events that would fall after the end are left out.

    Examples:
        >>> import auditlab as al
        >>> story = al.mock.incident(days=1, scenarios=["ssh-bruteforce-sudo"], seed=4)
        >>> story.sources, sorted({e.scenario for e in story.events})
        (('linux', 'aws', 'windows', 'k8s', 'gcp'), ['', 'ssh-bruteforce-sudo'])
    """
    from auditlab.mock import scenarios as _scenarios

    if isinstance(scenarios, str):
        scenarios = [scenarios]
    for name in scenarios:
        _scenarios.get(name)
    story = baseline(world, start=start, days=days, rate=rate, seed=seed)
    lo, hi = _span(start, days, None)
    night = lo - lo % DAY_US + int(days // 2) * DAY_US + 22 * 3600 * 1_000_000
    if night + 6 * 3600 * 1_000_000 > hi:  # a short story: the intrusion in its middle
        night = max(lo, lo + (hi - lo) // 2 - 3 * 3600 * 1_000_000)
    w = story.world
    victim = (w.admins() or w.people())[0].key
    ip = f"203.0.113.{random.Random(seed).randrange(2, 250)}"
    linux = w.linux_hosts()
    plan = {
        "ssh-bruteforce-sudo": (night + 10 * 60_000_000, ip),
        "aws-account-takeover": (night + 90 * 60_000_000, ip),
        "windows-password-spray": (night + 195 * 60_000_000, linux[0].ip if linux else ip),
        "k8s-cluster-takeover": (night + 280 * 60_000_000, ip),
        "insider-exfiltration": (lo, None),
    }
    events = list(story.events)
    for name in scenarios:
        at, source_ip = plan[name]
        built = _scenarios.build(name, w, at, seed=seed, attacker_ip=source_ip,
                                 victim=None if name == "insider-exfiltration" else victim)
        events += [e for e in built if e.time_us < hi]  # the insider's nights after the end do not happen
    return Story(w, events)


def render(story: Story, format: str) -> Log:  # noqa: A002
    """``story.render(format)``: the native log of ``format`` with its truth."""
    get_format(format)
    return story.render(format)
