"""Write docs/sources.md from the loader modules' docstrings, which are the reference for each source's mapping.

Run ``python docs/make_sources.py`` after changing a loader's docstring or adding a format; ``tests/test_readme.py``
fails while the file and the docstrings disagree.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from auditlab.load import _formats

TARGET = Path(__file__).resolve().parent / "sources.md"

HEADER = """# Sources: which native field goes where

For each supported format, the exact mapping from native fields to the canonical columns
([schema.md](schema.md)), how records become rows, what `source_stream`, `source_seq` and `source_record_uid` are,
and which native fields stay in `unmapped`. The rules every source follows: ids are strings, unset values are null,
every input record is one row (or a `parse_error` row keeping `raw`), and the accountable actor of a row is
`coalesce(actor_orig_uid, actor_user_uid)`.

This file is generated from the loader modules' docstrings (`auditlab/load/<format>.py`, written in
reStructuredText) by `python docs/make_sources.py`; do not edit it by hand. Formats are listed in sniffing order.
"""


SHARED = [
    ("auditlab.load._authlog",
     "Linux authentication messages (`auditlab/load/_authlog.py`, read by syslog and journald)"),
    ("auditlab.load._windows",
     "Windows events (`auditlab/load/_windows.py`, read by evtx, windows_xml and windows_json)"),
]
"""Private modules that hold mapping tables several formats share."""


def render() -> str:
    """The text of docs/sources.md."""
    parts = [HEADER]
    for name in _formats.names():
        module = _formats.get(name)
        doc = inspect.cleandoc(module.__doc__ or "").strip()
        parts.append(f"\n## {name} (`auditlab/load/{name}.py`)\n\n{module.DESCRIPTION}.\n\n```rst\n{doc}\n```\n")
    for module_name, title in SHARED:
        doc = inspect.cleandoc(importlib.import_module(module_name).__doc__ or "").strip()
        parts.append(f"\n## {title}\n\n```rst\n{doc}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
