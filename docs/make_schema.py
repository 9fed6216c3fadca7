"""Write docs/schema.md from the canonical column registry (auditlab.schema.COLUMNS).

Run ``python docs/make_schema.py`` after changing the registry; ``tests/test_schema.py`` fails while the file and
the registry disagree.
"""

from __future__ import annotations

from pathlib import Path

from auditlab import schema

TARGET = Path(__file__).resolve().parent / "schema.md"

HEADER = """# The canonical events schema

One row per normalized audit event; every loader emits these columns, in this order, with these dtypes, and every
analysis reads them. The OCSF path and ECS field of each column are what `auditlab.export.to_ocsf` and
`auditlab.export.to_ecs` write (a dotted path is a nested object; `-` means the column is not written on its own).

This file is generated from `auditlab/schema.py` by `python docs/make_schema.py`; do not edit it by hand.

| # | column | dtype | OCSF | ECS | meaning |
|---|---|---|---|---|---|
"""

FOOTER = """
Rules (see DESIGN.md section 2): ids are strings; unset values (auditd's 4294967295) are null; durations use
`time_us`; sequence gaps are computed per `source_stream` ordered by `source_seq`; the accountable actor of a row
is `coalesce(actor_orig_uid, actor_user_uid)`. Which native field of each source goes to which column is in
[sources.md](sources.md).
"""


def _dtype(dtype: object) -> str:
    unit, zone = getattr(dtype, "time_unit", None), getattr(dtype, "time_zone", None)
    return f"Datetime({unit}, {zone})" if unit and zone else str(dtype)


def _cell(text: str | None) -> str:
    return "-" if text is None else f"`{text}`"


def render() -> str:
    """The whole of docs/schema.md, from the registry."""
    rows = [
        f"| {i} | `{c.name}` | {_dtype(c.dtype)} | {_cell(c.ocsf)} | {_cell(c.ecs)} | {c.meaning.replace('|', '/')} |"
        for i, c in enumerate(schema.COLUMNS.values(), start=1)
    ]
    return HEADER + "\n".join(rows) + "\n" + FOOTER


def main() -> None:
    TARGET.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
