"""Reusable widgets of the desktop: the grading form and its grade panel."""
