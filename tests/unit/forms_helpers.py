"""Small forms written inside tests: a temporary forms folder with the real scales and themes."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from qatt.reviewing import forms

REPO_FORMS = forms.default_forms_dir()

BASIC_FORM = """\
id: basic
title: Basic test form
area: Testing
version: "1.0"
scale: compliance
grading:
  critical_fail: lowest
  no_share:
    - {up_to: 0.10, grade: compliant}
    - {up_to: 0.35, grade: partially_compliant}
    - {otherwise: non_compliant}
sections:
  - id: main
    title: Main
    questions:
      - {id: q1, type: yes_no, text: First check, themes: [supervision]}
      - {id: q2, type: yes_no, text: Second check}
      - id: q3
        type: yes_no_na
        text: Exception ratified
        show_if: {any: [{question: q1, equals: no}, {question: q2, equals: no}]}
      - id: q3_reason
        type: text
        text: Rationale
        required: true
        show_if: {question: q3, equals: yes}
      - {id: q4, type: yes_no_na, text: Critical check, critical: true}
      - {id: days, type: number, text: Days taken, unit: days, min: 0, max: 365, required: false}
"""


def forms_dir(tmp_path: Path) -> Path:
    """A forms folder holding the real _scales.yaml and _themes.yaml."""
    folder = tmp_path / "forms"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("_scales.yaml", "_themes.yaml"):
        shutil.copy(REPO_FORMS / name, folder / name)
    return folder


def write_form(folder: Path, text: str, name: str = "basic") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str, name: str = "basic") -> forms.Form:
    folder = forms_dir(tmp_path)
    return forms.load_form(write_form(folder, text, name), folder)
