"""Every form shipped in forms/ loads and validates: a broken form never ships."""

from __future__ import annotations

import pytest

from qatt import forms

FORMS_DIR = forms.default_forms_dir()
FORM_FILES = forms.form_files(FORMS_DIR)


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_builtin_form_loads_and_is_named_after_its_id(path):
    form = forms.load_form(path, FORMS_DIR)
    assert path.stem == form.id, f"{path.name} defines the form {form.id}; name the file {form.id}.yaml"
    assert form.questions()
    # The stored content rebuilds the identical form (what old reviews rely on).
    assert forms.form_from_content(form.content).content_hash == form.content_hash


def test_builtin_forms_folder_loads_as_a_whole():
    loaded = forms.load_forms(FORMS_DIR)
    assert set(loaded) == {forms.load_form(p, FORMS_DIR).id for p in FORM_FILES}
    assert "mosovo_di_check" in loaded


def test_mosovo_supervisor_rationale_shows_only_after_a_no_on_m2_or_m3():
    form = forms.load_forms(FORMS_DIR)["mosovo_di_check"]
    shown = lambda answers: {q.id for q in forms.visible_questions(form, answers)}  # noqa: E731
    assert "m4" not in shown({"m2": "yes", "m3": "yes"})
    assert "m4" in shown({"m2": "yes", "m3": "no"})
    assert "m4_rationale" in shown({"m2": "no", "m4": "yes"})
    missing = {q.id for q in forms.missing_required(form, {"m2": "no", "m4": "yes"})}
    assert "m4_rationale" in missing
