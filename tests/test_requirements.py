"""The runtime install stays lean: requirements.txt holds only what the app needs to run, and the
app and the CLI never import a test-only or build-only package, at import time or inside a function.

The import check runs in a child process that makes those packages unimportable (as they are in a
runtime-only install), imports every module under qatt/, exports/ and ui/ plus run.py, and drives
the CLI through a demo import, a draw and a workbook export."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_PACKAGES = ["qatt", "exports", "ui"]

# pip name -> the top-level modules it (and what it pulls in) provides
TEST_ONLY = {
    "pytest": ["pytest", "_pytest"],
    "pytest-qt": ["pytestqt"],
    "pytest-xdist": ["xdist", "execnet"],
    "hypothesis": ["hypothesis"],
    "pypdf": ["pypdf"],
    "scikit-learn": ["sklearn", "scipy", "numpy", "joblib", "threadpoolctl"],
    "statsmodels": ["statsmodels", "pandas", "patsy"],
    "pyinstaller": ["PyInstaller"],
}


def requirement_names(path: Path) -> set:
    """Package names in a requirements file, following -r includes, normalised (PEP 503)."""
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            names |= requirement_names(path.parent / line[2:].strip())
            continue
        names.add(re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", line, 1)[0]).lower())
    return names


def test_runtime_requirements_hold_no_test_or_build_package():
    runtime = requirement_names(ROOT / "requirements.txt")
    assert runtime, "requirements.txt lists nothing"
    assert not runtime & set(TEST_ONLY), f"requirements.txt holds test/build-only packages: {runtime & set(TEST_ONLY)}"
    assert "pyside6" not in runtime, "the PySide6 meta-package adds QtWebEngine and QtPdf, which QATT never uses"


def test_dev_requirements_include_the_runtime_ones_and_every_test_package():
    dev = requirement_names(ROOT / "requirements-dev.txt")
    assert requirement_names(ROOT / "requirements.txt") <= dev
    assert set(TEST_ONLY) <= dev
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")


def _app_files():
    yield ROOT / "run.py"
    for package in APP_PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_no_app_module_names_a_test_only_package_even_inside_a_function():
    banned = {module for modules in TEST_ONLY.values() for module in modules}
    found = []
    for path in _app_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in banned]
    assert not found, f"the app imports test-only packages: {found}"


CHILD = r"""
import importlib, importlib.abc, os, pkgutil, sys, tempfile
BANNED = set(os.environ["QATT_BANNED"].split(","))

class Refuse(importlib.abc.MetaPathFinder):
    # As in an install from requirements.txt alone: these packages are not there.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BANNED:
            raise ModuleNotFoundError(f"No module named {name!r} (test-only)", name=name)
        return None

sys.meta_path.insert(0, Refuse())
sys.path.insert(0, os.getcwd())
for package in ("qatt", "exports", "ui"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
        if not info.name.endswith(".__main__"):  # `python -m qatt` itself; it would run the CLI
            importlib.import_module(info.name)
import run  # the desktop launcher
from qatt.cli import main
os.environ.pop("QATT_USER", None)  # act as the operating-system account, the first user (administrator)
folder = tempfile.mkdtemp()
db = os.path.join(folder, "q.sqlite3")
for argv in (["demo", "--cases", "80"], ["sample", "1", "--size", "10", "--seed", "5"],
             ["export", "xlsx", "--out", os.path.join(folder, "qa.xlsx"), "--purpose", "test", "--recipient", "test"]):
    assert main(["--db", db, *argv]) == 0, argv
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BANNED)
assert not loaded, loaded
print("OK", len(sys.modules))
"""


@pytest.mark.slow
def test_the_app_and_cli_run_without_any_test_only_package():
    banned = sorted({module for modules in TEST_ONLY.values() for module in modules})
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "QATT_BANNED": ",".join(banned)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1].startswith("OK")
