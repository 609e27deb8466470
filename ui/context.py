"""What every page needs to know: the open database, who is acting, and where settings are kept."""

from __future__ import annotations

from dataclasses import dataclass

import peewee
from PySide6.QtCore import QSettings


def app_settings() -> QSettings:
    """The user's desktop settings (window geometry, last folders, hints seen), organisation "QATT"."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "QATT", "QATT")


@dataclass
class AppContext:
    db: peewee.Database
    db_label: str  # the file path or server shown in the status bar (never a password)
    actor: str
