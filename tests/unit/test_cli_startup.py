"""`python -m qatt --help` stays cheap: building the parser imports no database or reporting stack.

Checked in a fresh interpreter (sys.modules of this test process already holds everything).
No timing asserts: what is asserted is which modules get imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("peewee", "psycopg2", "yaml", "openpyxl", "qatt.reporting", "qatt.reports", "qatt.stats",
         "qatt.intake.importing", "qatt.intake.extract_tables", "qatt.intake.row_checks", "qatt.intake.case_writer",
         "qatt.intake.stored_fingerprint", "qatt.storage", "qatt.trust.users", "qatt.demo",
         "qatt.selection.assignments", "exports")


def _modules_after(code: str) -> list:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True,
                          stdin=subprocess.DEVNULL)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _heavy(modules: list) -> list:
    return [name for name in modules if any(name == h or name.startswith(h + ".") for h in HEAVY)]


def test_building_the_parser_imports_no_database_or_reporting_module():
    modules = _modules_after("from qatt.cli import build_parser\nbuild_parser()")
    assert "qatt.commands.agreement" in modules  # every command module was discovered and registered
    assert _heavy(modules) == []


def test_help_imports_no_database_or_reporting_module():
    code = ("import sys\nfrom qatt.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "try:\n    main(['import', '--help'])\nexcept SystemExit:\n    pass\n")
    assert _heavy(_modules_after(code)) == []


def test_the_import_options_offer_the_importers_own_choices_and_defaults():
    from qatt import demo
    from qatt.intake import extract_dates, importing, mapping
    from qatt.commands import importing as command

    assert command.BLANK_REFERENCES == importing.BLANK_REFERENCES
    assert command.DUPLICATE_REFERENCES == importing.DUPLICATE_REFERENCES
    assert command.DATE_FORMATS == mapping.DATE_FORMATS
    assert command.DATE_PRECISIONS == extract_dates.PRECISION_CHOICES
    assert (command.DEFAULT_CASES, command.DEFAULT_SEED) == (demo.DEFAULT_CASES, demo.DEFAULT_SEED)


def test_a_command_still_runs_after_the_lazy_imports(tmp_path):
    """`agreement --pairs` needs the statistics stack that is no longer imported at start-up."""
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("case_ref,first_grade,second_grade\nA1,good,good\nA2,good,requires improvement\n"
                     "A3,inadequate,inadequate\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "qatt", "--db", str(tmp_path / "q.db"), "--json", "agreement",
                           "--pairs", str(pairs)], cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["source"] == "pairs from pairs.csv"


def test_the_register_commands_offer_the_registers_own_choices():
    from qatt.loop import register
    from qatt.commands import register as command
    from qatt.storage.models import RegisterEvidence

    assert command.KINDS == register.KINDS and command.STATUSES == register.STATUSES
    assert command.EVIDENCE_KINDS == RegisterEvidence.KINDS


def test_the_action_commands_offer_the_models_own_statuses():
    from qatt.commands import actions as command
    from qatt.storage.models import Action

    assert command.STATUSES == tuple(Action.STATUSES)
