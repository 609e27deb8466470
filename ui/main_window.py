"""The main window: a sidebar of pages (Ctrl+1, Ctrl+2, ...), menus with shortcuts, and a status bar
naming the database and the user. Pages other than Populations are built the first time they are shown,
so the window opens quickly."""

from __future__ import annotations

import importlib
from typing import Callable, Dict, List, Optional, Tuple

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QMainWindow, QMessageBox, QStackedWidget, QWidget,
)

import qatt
from qatt.trust import users
from qatt.errors import QattError
from ui.context import AppContext, app_settings

# (sidebar label, module, class): the page classes all take (context, parent).
PAGES: List[Tuple[str, str, str]] = [
    ("Populations", "ui.pages.populations", "PopulationsPage"),
    ("Samples", "ui.pages.samples", "SamplesPage"),
    ("Review", "ui.pages.review", "ReviewPage"),
    ("Moderation", "ui.pages.moderation", "ModerationPage"),
    ("Dashboard", "ui.pages.dashboard", "DashboardPage"),
    ("Exports", "ui.pages.exports", "ExportsPage"),
    ("Actions", "ui.pages.actions", "ActionsPage"),
]

REVIEW_PAGE = 2
GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"
START_HINT_KEY = "hints/start_here_shown"
START_HINT = ("Start here: the demo population is loaded — draw a sample from it "
              "(Samples page, Ctrl+2, then Draw sample… or Ctrl+D).")


class MainWindow(QMainWindow):
    def __init__(self, context: AppContext, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("QATT — case file quality assurance")
        self.pages: Dict[int, QWidget] = {}

        self.sidebar = QListWidget()
        self.sidebar.setAccessibleName("Pages")
        self.stack = QStackedWidget()
        for number, (label, _module, _cls) in enumerate(PAGES, start=1):
            self.sidebar.addItem(f"{label}\tCtrl+{number}")
            self.stack.addWidget(QWidget())  # a placeholder until the page is first shown
        # A fixed width: a page with a wide layout (Exports) must not squeeze the shortcuts off the list.
        self.sidebar.setFixedWidth(self.sidebar.sizeHintForColumn(0) + 4 * self.sidebar.frameWidth() + 24)
        self.sidebar.currentRowChanged.connect(self.show_page)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        role = users.role_of(context.actor)
        self.status_label = QLabel(f"Database: {context.db_label}    User: {context.actor} ({role.replace('_', ' ')})")
        self.status_label.setAccessibleName("Database and user")
        self.statusBar().addPermanentWidget(self.status_label)
        self._build_menus()
        self._restore_geometry()
        self.sidebar.setCurrentRow(0)

    # -- pages ------------------------------------------------------------------------------------

    def page(self, index: int) -> QWidget:
        """The page at `index`, built on first use."""
        if index not in self.pages:
            _label, module_name, class_name = PAGES[index]
            page_class = getattr(importlib.import_module(module_name), class_name)
            page = page_class(self.context, self)
            placeholder = self.stack.widget(index)
            self.stack.insertWidget(index, page)
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
            self.pages[index] = page
            self._connect_page(page)
        return self.pages[index]

    def _connect_page(self, page: QWidget) -> None:
        imported = getattr(page, "population_imported", None)
        if imported is not None:
            imported.connect(lambda _population_id: self.refresh_pages())
        review_requested = getattr(page, "open_review_requested", None)
        if review_requested is not None:
            review_requested.connect(self.open_review)

    def open_review(self, review_id: int) -> None:
        """Show a review on the Review page (from the Moderation page's 'Start second review')."""
        self.show_page(REVIEW_PAGE)
        self.page(REVIEW_PAGE).open_review(review_id)

    def show_page(self, index: int) -> None:
        if not 0 <= index < len(PAGES):
            return
        built_before = index in self.pages
        page = self.page(index)
        self.stack.setCurrentIndex(index)
        if self.sidebar.currentRow() != index:
            self.sidebar.setCurrentRow(index)
        refresh = getattr(page, "refresh", None)
        if built_before and callable(refresh):
            refresh()  # another page may have changed the data since this one was last shown

    def refresh_pages(self) -> None:
        for page in self.pages.values():
            refresh = getattr(page, "refresh", None)
            if callable(refresh):
                refresh()

    # -- menus --------------------------------------------------------------------------------------

    def _action(self, text: str, shortcut: Optional[str | QKeySequence.StandardKey], slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.import_action = self._action("&Import case list…", "Ctrl+I", self.import_case_list)
        file_menu.addAction(self.import_action)
        self.backup_action = self._action("&Back up…", None, self.back_up)
        file_menu.addAction(self.backup_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", QKeySequence.StandardKey.Quit, self.close))

        samples_menu = self.menuBar().addMenu("&Samples")
        self.draw_action = self._action("&Draw sample…", "Ctrl+D", self.draw_sample)
        samples_menu.addAction(self.draw_action)

        view_menu = self.menuBar().addMenu("&View")
        self.page_actions = []
        for number, (label, _module, _cls) in enumerate(PAGES, start=1):
            action = self._action(f"&{label}", f"Ctrl+{number}", lambda index=number - 1: self.show_page(index))
            view_menu.addAction(action)
            self.page_actions.append(action)
        view_menu.addSeparator()
        view_menu.addAction(self._action("&Refresh", QKeySequence.StandardKey.Refresh, self.refresh_pages))

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("&Getting started", QKeySequence.StandardKey.HelpContents, self.show_getting_started))
        help_menu.addAction(self._action("&About QATT", None, self.show_about))

    def import_case_list(self):
        """Open the import wizard (returned, so callers can follow it)."""
        self.show_page(0)
        return self.page(0).open_import_wizard()

    def draw_sample(self):
        """Open the draw dialog for the chosen population (returned, so callers can follow it)."""
        populations = self.page(0)
        self.show_page(1)
        return self.page(1).open_draw_dialog(populations.selected_population_id())

    def back_up(self):
        """File > Back up…: ask for a file, then back up in a worker (returned, so callers can follow it)."""
        from ui import backup

        target = backup.choose_target(self)
        return None if target is None else backup.start_backup(self, self.context, target)

    def show_getting_started(self):
        """Help > Getting started: the guide from docs/getting-started.md (returned, so callers can follow it)."""
        from ui.dialogs.getting_started import GettingStartedDialog
        from ui.messages import show_problem

        try:
            dialog = GettingStartedDialog(self)
        except QattError as exc:
            show_problem(self, "Getting started", str(exc))
            return None
        dialog.open()
        return dialog

    def show_about(self):
        """Help > About QATT (returned, so callers can follow it)."""
        from ui.dialogs.about import AboutDialog

        dialog = AboutDialog(self.context, self)
        dialog.open()
        return dialog

    # -- first run hint, geometry --------------------------------------------------------------------

    def show_start_hint(self) -> None:
        self.statusBar().showMessage(START_HINT)

    def show_start_hint_once(self) -> None:
        """After the demo population is loaded on first run; never again after that."""
        settings = app_settings()
        if settings.value(START_HINT_KEY, False, type=bool):
            return
        settings.setValue(START_HINT_KEY, True)
        self.show_start_hint()

    def _restore_geometry(self) -> None:
        settings = app_settings()
        geometry = settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            state = settings.value(STATE_KEY)
            if isinstance(state, QByteArray):
                self.restoreState(state)
        else:
            # A first start: size the window from the screen rather than from fixed pixels.
            screen = self.screen().availableGeometry()
            self.resize(screen.width() * 3 // 4, screen.height() * 3 // 4)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        for page in self.pages.values():
            flush = getattr(page, "flush", None)
            if callable(flush):
                flush()  # e.g. a review draft typed in the last moment before closing
        settings = app_settings()
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(STATE_KEY, self.saveState())
        super().closeEvent(event)
