"""The CLI behaves the same way everywhere: JSON errors under --json, a quiet end on a closed pipe,
commands in the order of the work, and exports that say why and for whom."""

from __future__ import annotations

import json
import sys

from qatt import cli
from qatt.storage import models as m
from tests.factories import make_user

def test_an_error_under_json_is_json_on_stdout_with_a_non_zero_exit(db, tmp_path, capsys):
    make_user("lead", "qa_lead")
    code = cli.main(["--db", db.qatt_url, "--user", "lead", "--json", "export", "xlsx", "--out",
                     str(tmp_path / "x.xlsx"), "--period", "2024-04"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "--purpose and --recipient" in json.loads(out)["error"]
    assert "--purpose" in err  # a person at a terminal still sees it


def test_export_requires_purpose_and_recipient_and_records_no_disclosure_without_them(db, tmp_path, capsys):
    make_user("lead", "qa_lead")
    before = m.AuditEvent.select().count()
    assert cli.main(["--db", db.qatt_url, "--user", "lead", "export", "xlsx", "--out", str(tmp_path / "x.xlsx"),
                     "--period", "2024-04", "--purpose", "Board"]) == 2
    assert "--recipient" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()
    assert m.AuditEvent.select().where(m.AuditEvent.action == "disclosure").count() == 0
    assert m.AuditEvent.select().count() >= before


def test_the_command_list_follows_the_order_of_the_work():
    text = cli.build_parser().format_help()
    positions = [text.index(f"    {name} ") for name in ("import", "sample ", "review ", "agreement", "export", "backup")]
    assert positions == sorted(positions)


class ClosedPipe:
    """A stdout whose reader has gone (`| head` after its lines)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        pass


def test_a_closed_pipe_ends_quietly(db, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = cli.main(["--db", db.qatt_url, "--json", "populations"])
    assert code == 141
    assert capsys.readouterr().err == ""  # no traceback, no message
