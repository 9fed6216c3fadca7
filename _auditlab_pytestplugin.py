"""The auditlab pytest plugin: seeded fixtures for audit-completeness tests.

Registered under the ``pytest11`` entry point, so pytest loads it in every session; like hypothesis' own plugin it is
a top-level module that imports nothing of auditlab (nor polars) until a fixture is used.

Fixtures:
    auditlab_seed: an int, ``--auditlab-seed`` if given, else a stable number from the test's id; a failing test's
        report shows it, so ``pytest --auditlab-seed=N`` replays the same data.
    mock_world: ``auditlab.mock.world(seed=auditlab_seed)``.
    mock_log: a factory ``mock_log(format, scenario=None, *, days=1, faults=())`` returning a rendered
        :class:`auditlab.mock.render.Log` (files and truth) from the seeded world; ``faults`` is a sequence of fault
        names or ``(name, params)`` pairs.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

_SEED_KEY = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("auditlab")
    group.addoption("--auditlab-seed", type=int, default=None, metavar="N",
                    help="seed every auditlab mock fixture with N (default: a stable number per test)")


def _seed(request: pytest.FixtureRequest) -> int:
    given = request.config.getoption("--auditlab-seed")
    if given is not None:
        return int(given)
    digest = hashlib.blake2b(request.node.nodeid.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


@pytest.fixture
def auditlab_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this test's synthetic data (shown in the report of a failure)."""
    seed = _seed(request)
    request.node.stash[_SEED_KEY] = seed
    return seed


@pytest.fixture
def mock_world(auditlab_seed: int) -> Any:
    """A synthetic world seeded by ``auditlab_seed``."""
    from auditlab import mock

    return mock.world(seed=auditlab_seed)


@pytest.fixture
def mock_log(mock_world: Any, auditlab_seed: int) -> Any:
    """A factory of rendered native logs with their truth: ``mock_log("auditd", "ssh-bruteforce-sudo")``."""
    from auditlab import mock
    from auditlab.mock.render import get_format
    from auditlab.mock.scenarios import get as get_scenario

    def make(format: str, scenario: str | None = None, *, days: float = 1,  # noqa: A002
             faults: tuple[Any, ...] = ()) -> Any:
        source = get_format(format).source
        story = mock.baseline(mock_world, days=days, sources=[source], seed=auditlab_seed)
        if scenario is not None and source not in get_scenario(scenario).sources:
            from auditlab._errors import InvalidArgument

            raise InvalidArgument(f"scenario: {scenario!r} writes no {format} records (its sources: "
                                  f"{', '.join(get_scenario(scenario).sources)})")
        if scenario is not None:
            story = story + mock.scenario(scenario, world=mock_world, seed=auditlab_seed,
                                          start=story.events[len(story.events) // 2].time_us / 1e6
                                          if story.events else None)
        log = story.render(format)
        for fault in faults:
            name, params = (fault, {}) if isinstance(fault, str) else fault
            log = log.inject(name, **{"seed": auditlab_seed, **params})
        return log

    return make


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    seed = item.stash.get(_SEED_KEY, None)
    if seed is not None and report.failed:
        report.sections.append(("auditlab", f"mock data seed {seed}: replay with --auditlab-seed={seed}"))
    return report
