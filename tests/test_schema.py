"""The canonical schema: the registry, validate(), conform(), and the generated docs/schema.md."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import polars as pl
import pytest

from auditlab import AuditlabError, SchemaError, schema

ROOT = Path(__file__).resolve().parents[1]


def test_every_column_has_a_meaning_and_a_well_formed_name() -> None:
    assert len(schema.COLUMNS) == len(set(schema.COLUMNS)) > 40
    for name, column in schema.COLUMNS.items():
        assert column.name == name
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
        assert len(column.meaning) > 10, name
        for path in (column.ocsf, column.ecs):
            assert path is None or re.fullmatch(r"@?[a-z_]+(\.[a-z_]+)*", path), (name, path)


def test_polars_schema_and_empty_follow_the_registry() -> None:
    expected = [(c.name, c.dtype) for c in schema.COLUMNS.values()]
    assert list(schema.polars_schema().items()) == expected
    assert list(schema.empty().schema.items()) == expected
    assert schema.COLUMNS["time"].dtype == pl.Datetime("us", "UTC")


def test_validate_names_every_missing_column() -> None:
    frame = schema.empty().drop("actor_orig_uid", "source_seq")
    with pytest.raises(SchemaError) as info:
        schema.validate(frame)
    assert info.value.columns == ["actor_orig_uid", "source_seq"]
    assert "missing columns" in str(info.value)
    assert "actor_orig_uid" in str(info.value)
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, AuditlabError)


def test_validate_names_every_wrong_dtype_with_the_expected_one() -> None:
    frame = schema.empty().with_columns(pl.col("time_us").cast(pl.Int32), pl.col("source_seq").cast(pl.String))
    with pytest.raises(SchemaError) as info:
        schema.validate(frame.lazy())
    assert info.value.columns == ["time_us", "source_seq"]
    assert "time_us: Int32 (expected Int64)" in str(info.value)
    schema.validate(frame, strict=False)  # names only


def test_validate_required_subset_and_unknown_names() -> None:
    frame = pl.DataFrame({"time_us": [1], "actor_user_uid": ["1000"]})
    schema.validate(frame, required=["time_us", "actor_user_uid"])
    with pytest.raises(SchemaError, match="missing columns"):
        schema.validate(frame, required=["time_us", "src_ip"])
    with pytest.raises(SchemaError, match="not canonical") as info:
        schema.validate(frame, required=["time_us", "timestamp"])
    assert info.value.columns == ["timestamp"]


def test_validate_accepts_pandas() -> None:
    frame = schema.empty().to_pandas(use_pyarrow_extension_array=True)
    schema.validate(frame)
    with pytest.raises(SchemaError, match="raw"):
        schema.validate(frame.drop(columns=["raw"]))


def test_conform_orders_casts_and_fills() -> None:
    frame = pl.DataFrame({
        "source_seq": [7, 8],  # Int64 already
        "class_uid": [3002, 6003],  # Int64, becomes Int32
        "src_port": [22, None],  # Int64, becomes Int32
        "actor_user_uid": ["0", "1000"],
        "is_synthetic": [True, False],
    })
    out = schema.conform(frame)
    assert out.columns == list(schema.COLUMNS)
    assert out.schema == schema.polars_schema()
    assert out["class_uid"].to_list() == [3002, 6003]
    assert out["src_port"].to_list() == [22, None]
    assert out["raw"].null_count() == 2


def test_conform_refuses_unknown_columns() -> None:
    with pytest.raises(SchemaError) as info:
        schema.conform(pl.DataFrame({"time_us": [1], "user": ["alice"]}))
    assert info.value.columns == ["user"]


def test_docs_schema_md_is_generated_from_the_registry() -> None:
    generator = runpy.run_path(str(ROOT / "docs" / "make_schema.py"))
    committed = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert committed == generator["render"](), "docs/schema.md is stale: run python docs/make_schema.py"
    for name in schema.COLUMNS:
        assert f"| `{name}` |" in committed
