"""Importing auditlab does nothing: no heavy modules, no I/O; and every public name is there and documented."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import auditlab

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ["pandas", "polars", "numpy", "pyarrow", "matplotlib", "ipywidgets", "hypothesis", "pyspark", "duckdb"]

# Run in a fresh interpreter: the test session itself has imported everything already. An audit hook (PEP 578)
# sees every file opened, socket used and process started while auditlab is imported.
PROBE = r"""
import json, sys
seen = []
CODE = (".py", ".pyc", ".so", ".pth")
WATCH = ("socket.", "subprocess.", "os.exec", "os.system", "os.posix_spawn", "urllib.", "os.mkdir", "os.remove",
         "os.rename", "shutil.", "os.chmod")
def hook(event, args):
    text = repr(args)
    if "__pycache__" in text:  # the import system caching bytecode is not auditlab doing I/O
        return
    if event == "open" and args and isinstance(args[0], str) and not args[0].endswith(CODE):
        seen.append(["open", args[0]])
    elif event.startswith(WATCH):
        seen.append([event, text[:200]])
sys.addaudithook(hook)
import auditlab
print(json.dumps({"modules": sorted(sys.modules), "io": seen}))
"""


@pytest.fixture(scope="module")
def probe() -> dict[str, list]:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True,
                            timeout=120)
    return json.loads(result.stdout)


def test_import_loads_no_heavy_module(probe: dict[str, list]) -> None:
    loaded = {name.split(".")[0] for name in probe["modules"]}
    assert "auditlab" in loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_import_does_no_io(probe: dict[str, list]) -> None:
    assert probe["io"] == []


def test_every_public_name_resolves_and_is_documented() -> None:
    assert set(auditlab.__all__) == set(dir(auditlab))
    for name in auditlab.__all__:
        value = getattr(auditlab, name)
        if name == "__version__":
            assert isinstance(value, str)
            assert value.count(".") >= 2
            continue
        doc = inspect.getdoc(value)
        assert len(doc or "") > 20, f"auditlab.{name} has no docstring"


def test_public_functions_of_public_modules_are_documented() -> None:
    from auditlab.testing import strategies

    for module in (auditlab.export, auditlab.schema, auditlab.mock, strategies):
        for name in module.__all__:
            value = getattr(module, name)
            if callable(value):
                assert inspect.getdoc(value), f"{module.__name__}.{name} has no docstring"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'lod'"):
        auditlab.lod  # noqa: B018


def test_the_pytest_plugin_imports_nothing_of_auditlab() -> None:
    code = "import sys, _auditlab_pytestplugin; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('auditlab', 'polars', 'hypothesis')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            timeout=120)
    assert result.stdout.strip() == "[]"
