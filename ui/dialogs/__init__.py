"""Dialogs and wizards opened from the pages."""
