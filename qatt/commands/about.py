"""`about`: this QATT's version, the database in use and its schema version, the form versions."""

from __future__ import annotations

import argparse

from qatt.cli import Context


def _about(args: argparse.Namespace, ctx: Context) -> int:
    from qatt.about import about, database_label
    from qatt.storage.db import resolve_url

    info = about(ctx.db(), database_label(resolve_url(ctx.db_url)))
    lines = [f"QATT {info.version}", f"database: {info.database} ({info.backend}), schema version "
             f"{info.schema_version} of {info.schema_latest}", "forms:"]
    lines += [f"  {f.form_id:<24} version {f.version:<8} {f.content_hash[:12]}  ({f.stored_versions} stored)"
              for f in info.forms]
    if info.forms_problem:
        lines.append(f"  the form files could not be read: {info.forms_problem}")
    ctx.emit(info.as_dict(), "\n".join(lines))
    return 0


def register(add_command) -> None:
    add_command("about", "show the version, the database in use and its schema version, and the form versions", _about)
