"""Persistence: connection handling (db), models, and versioned migrations."""
