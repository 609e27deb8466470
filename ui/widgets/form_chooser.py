"""The Review page's form chooser: shown only for a case whose form cannot be told from its sample,
its population's area choices or the forms' own areas (an extract's "Bicycle theft", say)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QWidget

from qatt.reviewing import area_forms, forms, reviews
from qatt.trust import users
from qatt.errors import QattError
from qatt.storage import models as m


class FormChooser(QWidget):
    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.form = QComboBox()
        self.form.setAccessibleName("Form to review this case with")
        self.keep_for_area = QCheckBox()
        self.keep_for_area.setAccessibleName("Use this form for every case of the area in this population")
        self.keep_for_area.setChecked(True)
        self.forms_by_id: Dict[str, Any] = {}
        self.population_id: Optional[int] = None
        self.area = ""
        self.needed = False
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow(self.note)
        layout.addRow("F&orm:", self.form)
        layout.addRow(self.keep_for_area)
        self.hide()

    def prepare(self, sample_item_id: int, actor: str) -> bool:
        """Show the chooser if this case needs a form chosen; True when it does."""
        self.clear()
        item = m.SampleItem.get_or_none(m.SampleItem.id == sample_item_id)
        if item is None:
            return False
        try:
            self.forms_by_id = forms.load_forms()
        except QattError:
            return False  # starting the review reports the broken folder
        try:
            reviews.choose_form_id(item, self.forms_by_id, None)
            return False
        except QattError as exc:
            message = str(exc)
        self.population_id, self.area = item.case.population_id, item.case.area
        self.note.setText(message.split(";")[0] + ". Choose the form to review it with.")
        self.form.clear()
        self.form.addItem("(choose a form)", "")
        covering = area_forms.forms_covering(self.area, self.forms_by_id)
        for form_id, form in sorted(self.forms_by_id.items(), key=lambda pair: (pair[0] not in covering, pair[1].title)):
            self.form.addItem(form.title, form_id)
        self.keep_for_area.setText(f"Use this form for every case of “{self.area or 'no area'}” in this population")
        # Keeping a form for an area shapes others' reviews, so it needs the rights a draw needs.
        allowed = users.has_role(actor, area_forms.ROLE)
        self.keep_for_area.setChecked(allowed)
        self.keep_for_area.setVisible(allowed)
        self.needed = True
        self.show()
        return True

    def clear(self) -> None:
        self.needed = False
        self.hide()

    def chosen_form_id(self) -> str:
        return (self.form.currentData() or "") if self.needed else ""

    def keep(self, actor: str) -> None:
        """Keep the choice for the case's area on its population, if asked to (QattError if not allowed)."""
        form_id = self.chosen_form_id()
        if form_id and self.keep_for_area.isChecked() and self.population_id is not None:
            area_forms.keep_area_forms(self.population_id, {self.area: form_id}, actor, self.forms_by_id)
