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


def _spark_session():  # one local session for the whole run, or None where pyspark or Java is absent
    import shutil

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return None
    return (
        SparkSession.builder.master("local[1]")
        .appName("auditlab-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


_SPARK: list = []


def spark():
    """The shared local SparkSession (created on first use), or None."""
    if not _SPARK:
        _SPARK.append(_spark_session())
    return _SPARK[0]


def _to_duckdb(frame):
    import duckdb

    return duckdb.from_arrow(frame.to_arrow())


def _to_spark(frame):
    session = spark()
    if session is None:
        pytest.skip("pyspark or Java is not installed")
    return session.createDataFrame(frame.to_arrow())


CONSTRUCTORS = {
    "polars": lambda frame: frame,
    "polars_lazy": lambda frame: frame.lazy(),
    "pandas": lambda frame: frame.to_pandas(use_pyarrow_extension_array=True),
    "duckdb": _to_duckdb,
    "pyspark": _to_spark,
}
"""Each backend an analysis runs on: a function from a polars DataFrame to that backend's frame."""


@pytest.fixture(params=list(CONSTRUCTORS))
def constructor(request):
    """A function turning a polars DataFrame into the frame type under test (narwhals' ``constructor``)."""
    return CONSTRUCTORS[request.param]


def to_polars(result):
    """Any backend's result as a polars DataFrame, for comparing backends."""
    import narwhals as nw

    frame = nw.from_native(result)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect("polars")
    result = frame.to_polars()
    import polars as pl

    return result.with_columns(  # DuckDB names the zone Etc/UTC
        pl.col(pl.Datetime(time_zone="*")).dt.convert_time_zone("UTC")
    )
