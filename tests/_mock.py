"""Shared checks for the mock generator's tests: a rendered log loads back as its truth says."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from auditlab.mock.render import Log


def mismatches(log: Log, loaded: pl.DataFrame | None = None) -> list[dict[str, Any]]:
    """Every (record, column) whose loaded value differs from the truth's expected one, and records not found."""
    loaded = log.load() if loaded is None else loaded
    truth = log.truth
    by_rid = {row["rid"]: row for row in loaded.filter(pl.col("rid").is_not_null()).to_dicts()}
    out = []
    for row in truth.to_dicts():
        got = by_rid.get(row["rid"])
        if got is None:
            out.append({"rid": row["rid"], "column": None, "problem": "not loaded"})
            continue
        if got["parse_error"] is not None:
            out.append({"rid": row["rid"], "column": "parse_error", "got": got["parse_error"], "raw": got["raw"]})
            continue
        for column in row["checked"]:
            want = row[f"expect_{column}"]
            value = got[column]
            if column == "time":
                value = None if value is None else int(value.timestamp() * 1_000_000)
            if value != want:
                out.append({"rid": row["rid"], "column": column, "want": want, "got": value})
    return out


def assert_round_trip(log: Log) -> pl.DataFrame:
    """Load ``log``; every record is one row (no more, no fewer) and carries its expected values."""
    loaded = log.load()
    assert loaded.height == len(log.records), (loaded.height, len(log.records))
    problems = mismatches(log, loaded)
    assert not problems, problems[:10]
    return loaded
