"""What the JSON renderers (CloudTrail, GCP, Kubernetes) share: RFC 3339 seconds from a per-hour cache (no datetime
per record), a value made safe as a path component, and, to state their truth, reading a path in a record, a value
as the loaders' text columns hold it, the first value that is set."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import lru_cache
from typing import Any

import orjson

TWO = tuple(f"{n:02d}" for n in range(60))
"""0 to 59 as two digits."""
_HOURS: dict[int, str] = {}
"""Hour since the epoch -> ``YYYY-MM-DDTHH:``, for the hours seen."""


def _hour(hour: int) -> str:
    t = dt.datetime(1970, 1, 1) + dt.timedelta(hours=hour)
    if len(_HOURS) >= 1 << 16:
        _HOURS.clear()
    _HOURS[hour] = text = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:"
    return text


def iso_second(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of a second since the epoch (UTC)."""
    return f"{_HOURS.get(seconds // 3600) or _hour(seconds // 3600)}{TWO[seconds // 60 % 60]}:{TWO[seconds % 60]}"


@lru_cache(maxsize=4096)
def component(text: str) -> str:
    """A value made safe as one path component (account ids, regions, projects and clusters mostly are already)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", text)
    if len(safe) > 64:
        safe = safe[:48] + "-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:15]
    return safe if safe.strip(".") else "_" + safe


def at(value: Any, *path: str | int) -> Any:
    for step in path:
        if isinstance(step, int):
            value = value[step] if type(value) is list and len(value) > step else None
        else:
            value = value.get(step) if type(value) is dict else None
    return value


def as_text(value: Any) -> str | None:
    """A value as the loader's column holds it: text as is, other JSON as its text, empty text as null."""
    if value is None:
        return None
    if type(value) is str:
        text = value
    elif type(value) is int:
        text = str(value)
    else:
        text = orjson.dumps(value).decode()
    return text or None


def coalesce(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)
