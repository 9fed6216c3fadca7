"""Helpers shared by the JSON loaders' tests (CloudTrail, Kubernetes audit, GCP audit)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import auditlab as al

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl


def load(path: Path | str, **kwargs: Any) -> pl.DataFrame:
    return al.load(path, progress=False, **kwargs)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def jsonl(tmp_path: Path, *records: Any, name: str = "records.jsonl") -> Path:
    """A JSON-lines file of ``records`` (a string is written as it is, anything else as its JSON)."""
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def one(tmp_path: Path, rec: dict[str, Any]) -> dict[str, Any]:
    """The only row loaded from a file holding ``rec``."""
    frame = load(jsonl(tmp_path, rec))
    assert frame.height == 1
    return frame.row(0, named=True)


def by_id(frame: pl.DataFrame, uid: str) -> dict[str, Any]:
    """The only row whose ``source_record_uid`` is ``uid``."""
    rows = frame.filter(frame["source_record_uid"] == uid).to_dicts()
    assert len(rows) == 1, f"{len(rows)} rows with source_record_uid {uid}"
    return rows[0]


def walk(value: Any, path: tuple[str | int, ...]) -> Any:
    """A field map path followed plainly (independently of ``_json_records.Fields``): None where a step misses."""
    for step in path:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and len(value) > step else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
    return value
