"""load() and scan() over sources: paths, folders, globs, lists, compression, errors, backends, laziness."""

from __future__ import annotations

import bz2
import gzip
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
import zstandard

import auditlab as al
from auditlab import FormatError, InvalidArgument, SourceError, schema
from auditlab.load import _io, _progress

ROOT = Path(__file__).resolve().parents[1]
AUDIT_LOG = ROOT / "datasets" / "foundation" / "linux" / "audit.log"
TRAIL = ROOT / "datasets" / "foundation" / "aws"


def audit_event_count(text: str) -> int:
    """Distinct ``audit(SEC.MS:SERIAL)`` stamps: one event (one row) each."""
    return len(set(re.findall(r"msg=audit\((\d+\.\d+:\d+)\)", text)))


@pytest.fixture
def small_log(tmp_path: Path) -> Path:
    """The first 120 lines of the bundled auditd log, cut at an event boundary."""
    lines = AUDIT_LOG.read_text(encoding="utf-8").splitlines(keepends=True)[:120]
    while "type=SYSCALL" not in lines[-1] and "type=USER_" not in lines[-1]:
        lines.pop()
    lines.pop()
    path = tmp_path / "small.log"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def tree(tmp_path: Path, small_log: Path) -> Path:
    """a/one.log, a/sub/two.log, and hidden entries that must be skipped."""
    root = tmp_path / "a"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    for target in (root / "one.log", root / "sub" / "two.log", root / ".hidden" / "three.log", root / ".four.log"):
        shutil.copy(small_log, target)
    return root


# --- sources, without parsing --------------------------------------------------------------------------------


def test_expand_walks_folders_recursively_and_skips_hidden_entries(tmp_path: Path, small_log: Path) -> None:
    root = tree(tmp_path, small_log)
    assert [s.path for s in _io.expand(root)] == [root / "one.log", root / "sub" / "two.log"]


def test_expand_globs_lists_and_duplicates(tmp_path: Path, small_log: Path) -> None:
    root = tree(tmp_path, small_log)
    assert [s.path.name for s in _io.expand(str(root / "**" / "*.log"))] == ["one.log", "two.log"]
    listed = _io.expand([root / "sub" / "two.log", str(root / "one.log"), root / "one.log"])
    assert [s.path.name for s in listed] == ["two.log", "one.log"]


def test_expand_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no such file or folder: .*missing\.log"):
        _io.expand(tmp_path / "missing.log")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="holds no files"):
        _io.expand(tmp_path / "empty")
    with pytest.raises(SourceError, match="matches no file"):
        _io.expand(str(tmp_path / "*.nothing"))
    with pytest.raises(InvalidArgument, match="paths"):
        _io.expand([42])  # type: ignore[list-item]


def compressed_copies(small_log: Path, folder: Path) -> dict[str, Path]:
    """The same log gzip-, bz2- and zstd-compressed, under names that do not say so."""
    data = small_log.read_bytes()
    folder.mkdir(exist_ok=True)
    out = {
        "gzip": folder / "gz.log",
        "bz2": folder / "bz.txt",
        "zstd": folder / "zst",
    }
    out["gzip"].write_bytes(gzip.compress(data))
    out["bz2"].write_bytes(bz2.compress(data))
    out["zstd"].write_bytes(zstandard.ZstdCompressor().compress(data))
    return out


def test_compression_is_recognised_by_content(tmp_path: Path, small_log: Path) -> None:
    for kind, path in compressed_copies(small_log, tmp_path / "c").items():
        [source] = _io.expand(path)
        assert source.compression == kind
        assert source.head(1 << 20) == small_log.read_bytes()
    assert _io.expand(small_log)[0].compression is None


def test_corrupt_gzip_head_is_a_source_error_naming_the_file(tmp_path: Path, small_log: Path) -> None:
    path = tmp_path / "bad.log.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"\xff" * 64)
    with pytest.raises(SourceError, match=re.escape(str(path))):
        _io.expand(path)[0].head()


def test_unknown_format_lists_the_known_formats(small_log: Path) -> None:
    with pytest.raises(FormatError) as info:
        al.load(small_log, format="syslog-ng")
    message = str(info.value)
    assert "'syslog-ng'" in message
    assert "auditd" in message
    assert "cloudtrail" in message
    with pytest.raises(FormatError, match="known formats"):
        al.scan(small_log, format="nope")  # fails before anything is read


def test_bad_arguments_are_named(small_log: Path) -> None:
    with pytest.raises(InvalidArgument, match="backend"):
        al.load(small_log, backend="spark")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="batch_rows"):
        al.scan(small_log, batch_rows=0)


def test_progress_bar_is_off_under_pytest() -> None:
    assert _progress.interactive() is False


# --- loading ----------------------------------------------------------------------------------------------------


def test_nothing_is_lost_on_the_bundled_data() -> None:
    events = al.load(AUDIT_LOG)
    assert events.height == audit_event_count(AUDIT_LOG.read_text(encoding="utf-8"))
    assert events.schema == schema.polars_schema()
    both = al.load(ROOT / "datasets" / "foundation")
    assert both.height == events.height + al.load(TRAIL).height
    assert sorted(both["source_type"].unique()) == ["auditd", "cloudtrail"]


def test_files_folders_globs_and_lists(tmp_path: Path, small_log: Path) -> None:
    root = tree(tmp_path, small_log)
    per_file = al.load(small_log).height
    assert per_file == audit_event_count(small_log.read_text(encoding="utf-8"))
    folder = al.load(root)
    assert folder.height == 2 * per_file
    assert sorted(set(folder["source_file"])) == [str(root / "one.log"), str(root / "sub" / "two.log")]
    assert al.load(str(root / "**" / "*.log")).height == 2 * per_file
    assert al.load([root / "one.log", root / "sub" / "two.log", small_log]).height == 3 * per_file


def test_compressed_inputs_load_like_the_plain_file(tmp_path: Path, small_log: Path) -> None:
    plain = al.load(small_log).drop("source_file")
    for path in compressed_copies(small_log, tmp_path / "c").values():
        loaded = al.load(path)
        assert loaded["source_file"].unique().to_list() == [str(path)]
        assert loaded.drop("source_file").equals(plain), path.name


def test_corrupt_gzip_gives_a_parse_error_row_or_an_error_naming_the_file(tmp_path: Path, small_log: Path) -> None:
    data = gzip.compress(small_log.read_bytes())
    path = tmp_path / "truncated.log.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    try:
        events, message = al.load(path, format="auditd"), None
    except SourceError as exc:
        events, message = None, str(exc)
    if events is None:
        assert str(path) in str(message)
    else:
        errors = events.filter(pl.col("parse_error").is_not_null())
        assert errors.height >= 1
        assert errors["source_file"].to_list() == [str(path)] * errors.height


def test_an_unsniffable_file_names_the_formats_tried(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("dear diary, nothing happened today\n", encoding="utf-8")
    with pytest.raises(FormatError) as info:
        al.load(path)
    message = str(info.value)
    assert str(path) in message
    assert "auditd" in message
    assert "cloudtrail" in message


def test_pandas_backend_keeps_arrow_dtypes() -> None:
    pytest.importorskip("pandas")
    frame = al.load(AUDIT_LOG, backend="pandas")
    assert list(frame.columns) == list(schema.COLUMNS)
    assert len(frame) == al.load(AUDIT_LOG).height
    dtypes = {name: str(dtype) for name, dtype in frame.dtypes.items()}
    assert not [name for name, dtype in dtypes.items() if "float" in dtype]
    assert dtypes["source_seq"] == "int64[pyarrow]"
    assert dtypes["actor_process_pid"] == "int64[pyarrow]"
    assert dtypes["time"].startswith("timestamp[us, tz=UTC]")


def test_scan_parses_nothing_until_collect(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditlab.load import auditd

    calls: list[str] = []
    parse = auditd.parse

    def counting(source: _io.Source, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(source.name)
        return parse(source, **kwargs)

    monkeypatch.setattr(auditd, "parse", counting)
    lazy = al.scan(AUDIT_LOG)
    lazy = lazy.filter(pl.col("event_code") == "USER_CMD").select("time", "process_cmdline")
    assert calls == []
    assert lazy.collect().height > 0
    assert calls == [str(AUDIT_LOG)]


def test_scan_projection_predicate_and_head() -> None:
    full = al.load(AUDIT_LOG)
    lazy = al.scan(AUDIT_LOG)
    projected = lazy.select("source_seq", "event_code").collect()
    assert projected.columns == ["source_seq", "event_code"]
    assert projected.equals(full.select("source_seq", "event_code"))
    failed = lazy.filter(pl.col("status_id") == 2).collect()
    assert failed.height > 0
    assert failed.equals(full.filter(pl.col("status_id") == 2))
    assert lazy.head(5).collect().equals(full.head(5))
    streamed = lazy.group_by("event_code").agg(pl.len()).sort("event_code").collect(engine="streaming")
    assert streamed.equals(full.group_by("event_code").agg(pl.len()).sort("event_code"))


def test_load_writes_nothing_to_the_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    al.load(AUDIT_LOG)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
