"""The dependency rules as tests: the core and the exporters never import Qt, and the desktop's widgets
and models never import the pages and dialogs built from them."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ["qatt", "exports"]


def _python_files():
    for package in CORE_PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("path", list(_python_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_qt_or_ui(path):
    bad = [name for name in _imported_modules(path)
           if name.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6", "ui"}]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: the core and exporters must stay free of Qt and the UI"


def test_the_rule_checker_finds_a_qt_import(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text("def f():\n    from PySide6.QtCore import QObject\n")
    assert "PySide6.QtCore" in list(_imported_modules(sample))


BUILDING_BLOCKS = ["ui/widgets", "ui/qtmodels"]  # below the pages and dialogs that are made of them


@pytest.mark.parametrize("path", sorted(p for folder in BUILDING_BLOCKS for p in (ROOT / folder).rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_widgets_and_models_never_import_a_page_or_dialog(path):
    bad = [name for name in _imported_modules(path) if name.startswith(("ui.pages", "ui.dialogs", "ui.main_window"))]
    assert not bad, (f"{path.relative_to(ROOT)} imports {bad}: a widget or model serves the pages; what two pages "
                     "share belongs in ui/widgets")
