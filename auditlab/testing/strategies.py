"""Hypothesis strategies for synthetic audit data: worlds, actors, events, attack scenarios, faults and rendered
native logs with their truth, so that a failing completeness test shrinks to the smallest case that loses an event.

Needs ``pip install 'auditlab[testing]'``.

Examples:
    >>> from hypothesis import given, settings
    >>> from auditlab.testing import strategies as als
    >>> @settings(max_examples=3, deadline=None)
    ... @given(als.audit_logs(format="k8s-audit"))
    ... def test_no_record_lost(log):
    ...     assert log.load().height == len(log.records)
    >>> test_no_record_lost()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditlab._errors import require

require("hypothesis", "testing", "auditlab.testing.strategies")

from hypothesis import strategies as st  # noqa: E402

from auditlab import mock  # noqa: E402
from auditlab.mock import faults as _faults  # noqa: E402
from auditlab.mock.render import FORMATS, get_format  # noqa: E402
from auditlab.mock.scenarios import SCENARIOS, get  # noqa: E402

if TYPE_CHECKING:
    from auditlab.mock import Story

__all__ = ["actors", "audit_logs", "events", "faults", "scenarios", "stories", "worlds"]

# 2001-09-09 .. 2033-05-18: ten-digit epoch seconds, inside every format's timestamp range
_EPOCH = st.integers(1_000_000_000, 1_999_999_999)


def worlds() -> st.SearchStrategy[mock.World]:
    """Small worlds (1 to 6 people, 0 to 2 admins and services, 1 to 2 hosts of each kind, 2 AWS accounts)."""
    return st.builds(
        mock.world, seed=st.integers(0, 2**32 - 1), people=st.integers(1, 6), admins=st.integers(0, 2),
        services=st.integers(0, 2), linux_hosts=st.integers(1, 2), windows_hosts=st.integers(1, 2),
        accounts=st.just(2), clusters=st.just(1),
    )


def actors(world: mock.World | None = None) -> st.SearchStrategy[Any]:
    """Actors of ``world`` (or of drawn worlds): people, admins and service accounts."""
    if world is not None:
        return st.sampled_from(world.actors)
    return worlds().flatmap(lambda w: st.sampled_from(w.actors))


def scenarios(names: list[str] | None = None, *, world: mock.World | None = None) -> st.SearchStrategy[Story]:
    """Attack scenarios (:data:`auditlab.mock.SCENARIOS`, or ``names``) at drawn times, seeds and worlds."""
    chosen = [get(n).name for n in names] if names is not None else list(SCENARIOS)

    @st.composite
    def draw(data: st.DrawFn) -> Story:
        name = data(st.sampled_from(chosen), label="scenario")
        w = world if world is not None else data(worlds(), label="world")
        seed = data(st.integers(0, 2**32 - 1), label="seed")
        return mock.scenario(name, world=w, start=data(_EPOCH, label="start"), seed=seed)

    return draw()


def stories(sources: list[str] | None = None, *, max_hours: int = 36) -> st.SearchStrategy[Story]:
    """Benign activity of ``sources`` over up to ``max_hours``, alone or with a scenario of those sources woven in."""
    wanted = tuple(sources) if sources is not None else mock.SOURCES

    @st.composite
    def draw(data: st.DrawFn) -> Story:
        w = data(worlds(), label="world")
        start = data(_EPOCH, label="start")
        seed = data(st.integers(0, 2**32 - 1), label="seed")
        hours = data(st.integers(1, max_hours), label="hours")
        rate = data(st.sampled_from([0.0, 0.3, 1.0]), label="rate")
        story = mock.baseline(w, start=start, days=hours / 24, sources=wanted, rate=rate, seed=seed)
        fitting = [n for n, s in SCENARIOS.items() if set(s.sources) & set(wanted)]
        if fitting and data(st.booleans(), label="with attack"):
            name = data(st.sampled_from(fitting), label="scenario")
            at = start + data(st.integers(0, hours * 3600), label="attack offset")
            story = story + mock.scenario(name, world=w, start=at, seed=seed)
        return story

    return draw()


def events(source: str | None = None) -> st.SearchStrategy[mock.Event]:
    """Single events (benign or labelled attack steps) of ``source`` (or any)."""
    sources = [source] if source is not None else list(mock.SOURCES)
    for s in sources:
        if s not in mock.SOURCES:
            from auditlab._errors import InvalidArgument

            raise InvalidArgument(f"source: unknown source {s!r}; available: {', '.join(mock.SOURCES)}")

    def pick(story: Story) -> st.SearchStrategy[mock.Event]:
        mine = [e for e in story.events if e.source in sources]
        return st.sampled_from(mine) if mine else st.nothing()

    attack = scenarios([n for n, s in SCENARIOS.items() if set(s.sources) & set(sources)])
    return st.one_of(stories(sources), attack).flatmap(pick)


_PARAMS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "drop_records": st.fixed_dictionaries({"n": st.integers(0, 5)}),
    "drop_range": st.fixed_dictionaries({"minutes": st.sampled_from([1, 10, 60, 240])}),
    "clear_log": st.fixed_dictionaries({"with_event": st.booleans()}),
    "rotate": st.fixed_dictionaries({"lost": st.booleans()}),
    "duplicate": st.fixed_dictionaries({"n": st.integers(0, 5)}),
    "reorder": st.fixed_dictionaries({"seconds": st.sampled_from([0.5, 5.0, 60.0])}),
    "clock_skew": st.fixed_dictionaries({"seconds": st.sampled_from([-7200, -90, 45, 3600])}),
    "clock_jump": st.fixed_dictionaries({"seconds": st.sampled_from([-3600, -300, 600])}),
    "strip_actor": st.fixed_dictionaries({"n": st.integers(0, 3)}),
    "truncate_lines": st.fixed_dictionaries({"n": st.integers(0, 3)}),
    "corrupt_bytes": st.fixed_dictionaries({"n": st.integers(0, 3), "nbytes": st.integers(1, 4)}),
}


def faults(names: list[str] | None = None) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """``(fault, params)`` pairs for :func:`auditlab.mock.inject`, params including a ``seed``."""
    chosen = [_faults.get(n).name for n in names] if names is not None else list(_faults.FAULTS)
    return st.sampled_from(chosen).flatmap(
        lambda name: st.tuples(st.just(name), st.builds(lambda p, s: {**p, "seed": s}, _PARAMS[name],
                                                        st.integers(0, 2**16))))


def audit_logs(format: str | None = None, *, max_faults: int = 0) -> st.SearchStrategy[mock.Log]:  # noqa: A002
    """Rendered native logs of ``format`` (or any), with their truth, after up to ``max_faults`` drawn faults.

    Stories with no record in the format are skipped; a fault that cannot apply (n larger than the log) is not drawn.
    """
    names = [get_format(format).name] if format is not None else list(FORMATS)

    @st.composite
    def draw(data: st.DrawFn) -> mock.Log:
        name = data(st.sampled_from(names), label="format")
        story = data(stories([get_format(name).source]), label="story")
        log = story.render(name)
        if not log.records:
            data(st.nothing())
        source_events = sum(1 for e in story.events if e.source == get_format(name).source)
        for fault, params in data(st.lists(faults(), max_size=max_faults), label="faults"):
            if params.get("n", 0) > min(len(log.records), source_events):
                continue  # more than the log has: not a fault this log can take
            if not get_format(name).lines and fault in ("truncate_lines", "corrupt_bytes", "rotate"):
                continue  # line damage and rotation are for line formats (see auditlab.mock.faults)
            log = log.inject(fault, **params)
        return log

    return draw()
