"""The Moderation page (a stub: another part of the project replaces this file with the real page)."""

from ui.pages._stub import ComingSoonPage


class ModerationPage(ComingSoonPage):
    title = "Moderation"
