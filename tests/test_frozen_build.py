"""The frozen desktop build (packaging/qatt.spec, tools/build.py) builds and works on this machine.

Builds the one-folder application with PyInstaller into a temporary folder, then runs what IT
would run after deployment: both executables' --version (stamped from the repository), the
desktop's --self-test (offscreen: database, forms, demo, draw, window, workbook, back-up checked
by the CLI executable), and a CLI command against a database of its own. Prints the folder's size."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import build  # noqa: E402  tools/build.py

# One worker builds once for the whole module (pytest-xdist runs the group on one worker).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("frozen_build")]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    assert importlib.util.find_spec("PyInstaller") is not None, \
        "PyInstaller is missing: install requirements-dev.txt (or requirements-build.txt)"
    work = tmp_path_factory.mktemp("frozen")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "build.py"), "--dist", str(work / "dist"),
                           "--work", str(work / "build")], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert not (ROOT / "qatt" / "_build_version.py").exists(), "the build must not leave its stamp in the source tree"
    return work / "dist" / "QATT"


def run(folder: Path, name: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    # No QATT_USER: the frozen programs act as the operating-system account, as on a desktop.
    env = {k: v for k, v in os.environ.items() if k not in ("QATT_DB", "PYTHONPATH", "QATT_USER")}
    env.pop("QT_QPA_PLATFORM", None)  # the self-test must choose offscreen by itself
    return subprocess.run([str(build.executable(folder, name)), *args], capture_output=True, text=True,
                          timeout=600, env=env, stdin=subprocess.DEVNULL, **kwargs)


def test_the_frozen_build_holds_both_executables_and_the_forms_and_no_unused_qt(built, capsys):
    size = build.folder_size(built)
    with capsys.disabled():
        print(f"\nfrozen build: {built} is {size / 2**20:.0f} MB")
    internal = built / "_internal"
    assert build.executable(built, "QATT").is_file() and build.executable(built, "qatt-cli").is_file()
    def files(folder: Path) -> list:
        return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())

    assert files(internal / "forms") == files(ROOT / "forms")
    # Help > Getting started finds its guide where ui/dialogs/getting_started.py looks for it.
    assert (internal / "docs" / "getting-started.md").read_text(encoding="utf-8") == (
        ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    names = {p.name for p in internal.rglob("*")}
    for unused in ("QtWebEngineCore.abi3.so", "QtQml.abi3.so", "QtPdf.abi3.so", "QtMultimedia.abi3.so",
                   "libQt6Quick.so.6", "libQt6Pdf.so.6", "numpy", "sklearn", "pytest", "PyInstaller"):
        assert unused not in names, f"{unused} is in the build"


def test_both_executables_report_the_version_stamped_from_the_repository(built):
    from qatt.version import describe_repository

    described = describe_repository()
    for name, prog in (("qatt-cli", "qatt"), ("QATT", "QATT desktop")):
        done = run(built, name, "--version")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"{prog} 0.1.0 (build {described or 'unknown'})"


def test_the_desktop_self_test_passes(built):
    done = run(built, "QATT", "--self-test")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "frozen build" in lines[0]
    for step in ("database", "forms", "demo", "draw", "window", "exports", "back-up"):
        assert any(line.startswith(f"ok   {step}:") for line in lines), (step, done.stdout)
    assert "copy checked by qatt-cli" in done.stdout
    assert lines[-1] == "QATT self-test passed"


def test_the_cli_executable_runs_commands_on_a_database_of_its_own(built, tmp_path):
    db = str(tmp_path / "frozen.sqlite3")
    done = run(built, "qatt-cli", "--db", db, "demo", "--cases", "40")
    assert done.returncode == 0, done.stderr
    done = run(built, "qatt-cli", "--db", db, "--json", "about")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["database"] == db and info["schema_version"] == info["schema_latest"]
    from qatt.reviewing.forms import form_files

    assert len(info["forms"]) == len(form_files(ROOT / "forms")) > 0
    bad = run(built, "qatt-cli", "--db", db, "restore", str(ROOT / "README.md"), "--yes")
    assert bad.returncode == 2 and "it is not an SQLite database file" in bad.stderr
