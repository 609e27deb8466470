"""Which QATT this is: `--version` on both entry points, the build stamp and its fallback, `about`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import qatt
from qatt import about, version
from qatt.cli import main as cli_main
from qatt.storage import migrations

ROOT = Path(__file__).resolve().parents[2]


def test_a_build_stamp_wins_over_the_repository(monkeypatch):
    monkeypatch.setattr(qatt, "__build__", "v1.2-3-gabc1234")
    assert version.version_text() == f"{qatt.__version__} (build v1.2-3-gabc1234)"


def test_a_source_checkout_asks_git_and_says_so_when_it_cannot(monkeypatch, tmp_path):
    monkeypatch.setattr(qatt, "__build__", "")
    described = version.describe_repository()
    if (ROOT / ".git").exists():
        assert described and version.version_text() == f"{qatt.__version__} (source {described})"
    assert version.describe_repository(tmp_path) is None  # no repository there
    monkeypatch.setattr(version, "describe_repository", lambda root=ROOT: None)
    assert version.version_text() == f"{qatt.__version__} (source; repository version unknown)"


def test_write_stamp_writes_an_importable_file(tmp_path):
    target = tmp_path / "_build_version.py"
    stamp = version.write_stamp(target)
    namespace: dict = {}
    exec(target.read_text(encoding="utf-8"), namespace)
    assert namespace["BUILD"] == stamp == (version.describe_repository() or "unknown")


@pytest.mark.parametrize("command, prog", [([sys.executable, "-m", "qatt", "--version"], "qatt"),
                                           ([sys.executable, "run.py", "--version"], "QATT desktop")])
def test_both_entry_points_print_the_version_on_stdout_and_exit_0(command, prog):
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{prog} {version.version_text()}"


def test_about_names_the_database_its_schema_and_every_form_version(sqlite_db, capsys):
    from qatt.reviewing import forms

    forms.sync_builtin_forms("tester")
    assert cli_main(["--db", sqlite_db.qatt_url, "--json", "about"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["database"] == sqlite_db.qatt_url and info["backend"] == "SQLite"
    assert info["schema_version"] == info["schema_latest"] == migrations.LATEST
    loaded = forms.load_forms()
    assert {f["form_id"]: (f["version"], f["content_hash"], f["stored_versions"]) for f in info["forms"]} == \
        {form.id: (form.version, form.content_hash, 1) for form in loaded.values()}


def test_the_database_label_never_shows_a_password():
    label = about.database_label("postgresql://qa:secret@db.example:5433/qatt")
    assert label == "PostgreSQL db.example:5433/qatt" and "secret" not in label
