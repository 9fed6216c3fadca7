"""The README stays true: its commands, its Python session, its sample output, its tables and links."""

from __future__ import annotations

import doctest
import re
import runpy
from pathlib import Path
from typing import TYPE_CHECKING

from click.testing import CliRunner

import auditlab as al
from auditlab import schema
from auditlab.cli import main

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
INSTALL = 'python -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"'


def test_the_two_commands_are_there_exactly() -> None:
    assert f"\n{INSTALL} && auditlab summary datasets/foundation\n" in README
    assert f"\n{INSTALL} && pytest\n" in README


def test_the_ci_script_runs_the_same_install_and_test_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]"' in ci
    assert re.search(r"^\s*pytest\b", ci, re.MULTILINE)
    assert "ruff check ." in ci


def test_the_python_session_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5
    assert result.failed == 0


def test_the_sample_summary_is_what_the_command_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    shown = README.split("auditlab summary datasets/foundation\n```\n\n```\n", 1)[1].split("```", 1)[0]
    result = CliRunner().invoke(main, ["summary", "datasets/foundation"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout == shown


def test_every_format_is_in_the_formats_table_and_has_a_section_in_sources_md() -> None:
    sources = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    for name in al.formats():
        assert f"| `{name}` |" in README
        assert re.search(rf"^## {name} \(`auditlab/load/{name}\.py`\)$", sources, re.MULTILINE), name
    generator = runpy.run_path(str(ROOT / "docs" / "make_sources.py"))
    assert sources == generator["render"](), "docs/sources.md is stale: run python docs/make_sources.py"


def test_analysis_md_is_generated_from_the_analysis_modules() -> None:
    text = (ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
    generator = runpy.run_path(str(ROOT / "docs" / "make_analysis.py"))
    assert text == generator["render"](), "docs/analysis.md is stale: run python docs/make_analysis.py"


def test_mock_md_is_generated_from_the_mock_registries() -> None:
    text = (ROOT / "docs" / "mock.md").read_text(encoding="utf-8")
    generator = runpy.run_path(str(ROOT / "docs" / "make_mock.py"))
    assert text == generator["render"](), "docs/mock.md is stale: run python docs/make_mock.py"


def test_the_column_count_and_the_links_are_right() -> None:
    assert f"All {len(schema.COLUMNS)} columns" in README
    for link in re.findall(r"\]\(([^)#]+)\)", README):
        assert (ROOT / link).exists(), link
