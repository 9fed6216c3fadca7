"""OCSF and ECS JSON lines, and spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest

from auditlab import export, schema

T0 = datetime(2026, 11, 30, 2, 41, 9, 123456, tzinfo=timezone.utc)


def events() -> pl.DataFrame:
    """Three rows: a denied CloudTrail call, a successful auditd login, a row with almost nothing set."""
    rows: dict[str, list[Any]] = {
        "time": [T0, T0.replace(second=10), None],
        "class_uid": [6003, 3002, 0],
        "activity_id": [1, 1, None],
        "event_code": ["AwsApiCall", "USER_LOGIN", "DAEMON_START"],
        "api_operation": ["CreateUser", "login", None],
        "api_service": ["iam.amazonaws.com", None, None],
        "status_id": [2, 1, None],
        "status_code": ["AccessDenied", None, None],
        "status_detail": ["not authorized", None, None],
        "actor_user_uid": ["AIDAEXAMPLECIBOT00003", "0", None],
        "actor_user_name": ["ci-bot", "root", None],
        "actor_orig_uid": [None, "1000", None],
        "actor_process_pid": [None, 920, None],
        "src_ip": ["192.0.2.77", "203.0.113.10", None],
        "src_port": [None, 52114, None],
        "resource_uid": ["arn:aws:iam::111122223333:user/backup-admin", None, None],
        "resource_type": ["AWS::IAM::User", None, None],
        "cloud_account_uid": ["111122223333", None, None],
        "source_type": ["cloudtrail", "auditd", "auditd"],
        "source_file": ["a.json.gz", "audit.log", "audit.log"],
        "source_seq": [None, 45, 1],
        "raw": ['{"eventName":"CreateUser"}', "type=USER_LOGIN ...", "type=DAEMON_START ..."],
        "raw_sha256": ["ab" * 32, "cd" * 32, "ef" * 32],
        "time_original": ["2026-11-30T02:41:09Z", "1796004069.123:45", None],
        "unmapped": ['{"userAgent":"aws-cli/2.15.30","readOnly":false}', None, "not json"],
        "parse_error": [None, None, "truncated record"],
    }
    return schema.conform(pl.DataFrame(rows))


def ocsf(frame: Any) -> list[dict[str, Any]]:
    out = io.BytesIO()
    count = export.to_ocsf(frame, out)
    records = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(records)
    return records


def ecs(frame: Any) -> list[dict[str, Any]]:
    out = io.BytesIO()
    count = export.to_ecs(frame, out)
    records = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(records)
    return records


def dig(record: dict[str, Any], path: str | None) -> Any:
    """The value at a dotted registry path."""
    assert path is not None
    for key in path.split("."):
        record = record[key]
    return record


def leaves(record: Any) -> list[Any]:
    if isinstance(record, dict):
        return [leaf for value in record.values() for leaf in leaves(value)]
    if isinstance(record, list):
        return [leaf for value in record for leaf in leaves(value)]
    return [record]


def test_ocsf_nests_each_column_at_its_registry_path() -> None:
    denied, login, bare = ocsf(events())
    assert denied["time"] == int(T0.timestamp() * 1000)
    assert (denied["class_uid"], denied["category_uid"], denied["type_uid"]) == (6003, 6, 600301)
    assert denied["actor"]["user"] == {"uid": "AIDAEXAMPLECIBOT00003", "name": "ci-bot"}
    assert denied["api"] == {"operation": "CreateUser", "service": {"name": "iam.amazonaws.com"}}
    assert denied["src_endpoint"] == {"ip": "192.0.2.77"}
    assert denied["cloud"]["account"]["uid"] == "111122223333"
    assert (denied["status_id"], denied["status_code"]) == (2, "AccessDenied")
    assert denied["resources"] == [{"uid": "arn:aws:iam::111122223333:user/backup-admin", "type": "AWS::IAM::User"}]
    assert denied["metadata"]["version"] == export.OCSF_VERSION
    assert denied["metadata"]["product"]["name"] == "CloudTrail"
    assert denied["metadata"]["loggers"] == [{"name": "a.json.gz"}]
    assert denied["raw_data_hash"] == {"algorithm_id": 3, "algorithm": "SHA-256", "value": "ab" * 32}
    assert dig(login, schema.COLUMNS["actor_orig_uid"].ocsf) == "1000"
    assert login["actor"]["process"]["pid"] == 920
    assert login["src_endpoint"] == {"ip": "203.0.113.10", "port": 52114}
    assert login["metadata"]["product"]["name"] == "auditd"
    assert login["metadata"]["sequence"] == 45
    assert bare["type_uid"] == 0
    assert bare["category_uid"] == 0


def test_ocsf_parses_unmapped_back_into_an_object() -> None:
    denied, login, bare = ocsf(events())
    # the native fields, merged with the columns whose OCSF path lies under unmapped
    assert denied["unmapped"] == {"userAgent": "aws-cli/2.15.30", "readOnly": False,
                                  "time_original": "2026-11-30T02:41:09Z"}
    assert login["unmapped"]["time_original"] == "1796004069.123:45"
    assert bare["unmapped"] == {"text": "not json", "parse_error": "truncated record"}


def test_ecs_fields_timestamp_and_outcome() -> None:
    denied, login, bare = ecs(events())
    assert denied["@timestamp"] == "2026-11-30T02:41:09.123456Z"
    assert denied["ecs"] == {"version": export.ECS_VERSION}
    assert denied["event"]["outcome"] == "failure"
    assert denied["event"]["action"] == "CreateUser"
    assert denied["event"]["provider"] == "iam.amazonaws.com"
    assert denied["error"] == {"code": "AccessDenied", "message": "not authorized"}
    assert denied["user"] == {"id": "AIDAEXAMPLECIBOT00003", "name": "ci-bot"}
    assert denied["source"] == {"ip": "192.0.2.77"}
    assert denied["labels"]["unmapped"] == '{"userAgent":"aws-cli/2.15.30","readOnly":false}'
    assert login["event"]["outcome"] == "success"
    assert dig(login, schema.COLUMNS["actor_orig_uid"].ecs) == "1000"
    assert login["process"] == {"pid": 920}
    assert bare["event"]["outcome"] == "unknown"
    assert "@timestamp" not in bare
    assert bare["auditlab"]["parse_error"] == "truncated record"
    assert "error" not in bare


@pytest.mark.parametrize("standard", ["ocsf", "ecs"])
def test_no_two_columns_share_a_field(standard: str) -> None:
    paths = [getattr(c, standard) for c in schema.COLUMNS.values() if getattr(c, standard)]
    assert len(paths) == len(set(paths))
    # and none is the parent object of another (a value and an object cannot share a path), but for OCSF's
    # unmapped object, which the exporter merges with the columns placed under it
    assert not [(a, b) for a in paths for b in paths if b.startswith(a + ".") and a != "unmapped"]


@pytest.mark.parametrize("write", [ocsf, ecs])
def test_nulls_are_omitted(write: Any) -> None:
    records = write(events())
    assert all(None not in leaves(record) for record in records)
    bare = records[2]
    assert "actor" not in bare
    assert "user" not in bare
    assert "src_endpoint" not in bare
    assert "source" not in bare


@pytest.mark.parametrize("write", [ocsf, ecs])
def test_pandas_and_lazy_frames_give_the_same_records(write: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = events()
    expected = write(frame)
    assert write(frame.to_pandas(use_pyarrow_extension_array=True)) == expected
    assert write(frame.to_pandas()) == expected  # numpy dtypes: nullable ints came back as floats
    monkeypatch.setattr(export, "BATCH_ROWS", 2)  # several batches, order kept
    assert write(frame.lazy()) == expected


def test_non_canonical_columns_are_kept_under_a_private_key() -> None:
    frame = events().with_columns(case_id=pl.lit("IR-42"))
    assert ocsf(frame)[0]["unmapped"]["case_id"] == "IR-42"
    assert ecs(frame)[0]["auditlab"]["case_id"] == "IR-42"
    assert "case_id" not in ecs(events())[0]["auditlab"]


def test_writes_to_a_path_and_to_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "events.ocsf.jsonl"
    assert export.to_ocsf(events(), path) == 3
    text = io.StringIO()
    export.to_ocsf(events(), text)
    assert path.read_text(encoding="utf-8") == text.getvalue()
    assert len(text.getvalue().splitlines()) == 3


def test_no_registry_path_is_both_a_value_and_an_object() -> None:
    for standard in ("ocsf", "ecs"):
        paths = [c.ocsf if standard == "ocsf" else c.ecs for c in schema.COLUMNS.values()]
        paths = [p for p in paths if p is not None]
        # "unmapped" is the one object that both holds parsed JSON and receives columns
        clashes = [p for p in paths if p != "unmapped" and any(q.startswith(p + ".") for q in paths)]
        assert clashes == [], standard


FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tsplit", "\rback",
            "\uff1d1+1"]


@pytest.mark.parametrize("lazy", [False, True])
def test_csv_neutralises_formula_prefixes(tmp_path: Path, lazy: bool) -> None:
    safe = ["ls -l", "a=b", "user@example.org", "2026-11-30"]
    frame = schema.conform(pl.DataFrame({
        "process_cmdline": FORMULAS + safe,
        "actor_user_name": ["=1+1"] * len(FORMULAS + safe),
        "actor_process_pid": [-5] * len(FORMULAS + safe),
    }))
    path = tmp_path / "events.csv"
    export.to_csv(frame.lazy() if lazy else frame, path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["process_cmdline"] for r in rows] == ["'" + v for v in FORMULAS] + safe
    assert {r["actor_user_name"] for r in rows} == {"'=1+1"}
    assert {r["actor_process_pid"] for r in rows} == {"-5"}  # numbers are not strings: left alone
    assert list(rows[0]) == list(schema.COLUMNS)


def test_a_frame_with_few_columns_and_foreign_time_dtypes() -> None:
    naive = pl.DataFrame({"time": [datetime(2026, 1, 1, 12)], "class_uid": [1007]})  # naive: taken as UTC
    [record] = ecs(naive)
    assert record == {"@timestamp": "2026-01-01T12:00:00.000000Z", "ecs": {"version": export.ECS_VERSION},
                      "event": {"outcome": "unknown"}}
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"time": pd.to_datetime(["2026-01-01T12:00:00.5Z"]), "class_uid": [1007]})  # ns, UTC
    [record] = ocsf(frame)
    assert record["time"] == 1767268800500
    assert (record["type_uid"], record["metadata"]["product"]) == (100700, {"name": "unknown"})
    assert ecs(pl.DataFrame()) == []
