"""Shared test fixtures: the real public samples, hypothesis profiles, and a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
DATASETS = ROOT / "datasets"

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile(os.environ.get("AUDITLAB_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def sample(*parts: str) -> Path:
    """A file or folder of the real public samples; the test is skipped cleanly where they are absent."""
    path = SAMPLES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the shared samples are not here: {path}")
    return path


@pytest.fixture
def samples_dir() -> Path:
    """The folder of real public samples (``../shared/samples`` beside the checkout)."""
    return sample()
