"""Every form shipped in forms/ loads and validates: a broken form never ships."""

from __future__ import annotations

import re

import pytest

from qatt.reviewing import forms

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


# A help text "cites a source" when it reports what an inspection, guidance or review said; it must
# then name the source document (D0-D4, DOMAIN §0) so a reader can check the claim.
SOURCE_TAGS = {"D0", "D1", "D2", "D3", "D4"}
_TAG = re.compile(r"\bD\d+\b")
_CITES = re.compile(r"\bD\d+\b|SafeLives|HMIC|PEEL|inspect|the sources?\b|\bAPP\b|guidance|recommend|"
                    r"\breport|\bfound\b|Domestic Abuse Act|Concordat|coroner|SOP", re.IGNORECASE)


def _help_texts(form):
    for section in form.sections:
        if section.help:
            yield f"section {section.id}", section.help
        for question in section.questions:
            if question.help:
                yield question.id, question.help


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_every_help_text_that_cites_a_source_names_a_source_document(path):
    form = forms.load_form(path, FORMS_DIR)
    for where, text in _help_texts(form):
        tags = set(_TAG.findall(text))
        assert tags <= SOURCE_TAGS, f"{form.id} {where}: {sorted(tags - SOURCE_TAGS)} is not a source document"
        if _CITES.search(text):
            assert tags, f"{form.id} {where} cites a source without naming it (D0-D4): {text!r}"
        assert tags <= set(form.sources), f"{form.id} {where} cites {sorted(tags)}; list them in the form's sources"


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_each_form_names_its_themes_and_they_exist(path):
    form = forms.load_form(path, FORMS_DIR)
    catalogue = forms.load_catalogue(FORMS_DIR).themes
    assert form.themes, f"{form.id} names no themes; list the themes that apply to it (themes: [...])"
    assert set(form.themes) <= set(catalogue), f"{form.id}: unknown themes {set(form.themes) - set(catalogue)}"
    tags = {t for q in form.questions() for t in q.themes}
    assert tags <= set(form.themes)
    for question in (q for q in form.questions() if q.type == "themes"):
        # The reviewer is offered the form's themes, and may add any other one.
        assert [o.id for o in question.options] == list(form.themes)
        assert {o.id for o in question.more_options} == set(catalogue) - set(form.themes)


def test_the_marac_help_says_where_the_repeat_victim_figure_comes_from():
    marac = forms.load_forms(FORMS_DIR)["cp_domestic_abuse"].question("da_marac")
    assert "SafeLives" in marac.help and "D4" in marac.help and "your force" in marac.help


def test_mosovo_m4_and_m13_cannot_be_dodged_and_m19_is_not_counted():
    form = forms.load_forms(FORMS_DIR)["mosovo_di_check"]
    m4, m13, m19 = form.question("m4"), form.question("m13"), form.question("m19")
    assert m4.na_refused({"m2": "no"}) and m4.na_refused({"m3": "no"}) and m4.critical
    assert m13.na_refused({"m13_breach": "yes"}) and not m13.na_refused({"m13_breach": "no"}) and m13.critical
    assert not m19.counts_toward_compliance
    assert {"checked_by", "reviewer_role", "selection_method"} <= {q.id for q in form.sections[0].questions}
