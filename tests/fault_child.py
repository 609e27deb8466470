"""A child process for tests/unit/test_faults.py: starts a write and gets killed part-way.

It prints one marker line per checkpoint on stdout (flushed) so the parent knows the write is
under way, then, at a chosen checkpoint, stops inside the still-open transaction and waits to be
killed. Nothing here decides when to kill: the parent does, after reading a marker.

    python tests/fault_child.py import DB_URL CSV_PATH PAUSE_AT_REPORT
    python tests/fault_child.py save DB_URL REVIEW_ID ACTOR EXPECTED_VERSION ANSWERS_JSON
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qatt.intake import importing  # noqa: E402
from qatt.reviewing import reviews
from qatt.trust import audit
from qatt.storage.db import open_database  # noqa: E402

MARKER = "QATT-FAULT-CHECKPOINT"
# Longer than any test waits: the parent always kills first.
PAUSE_SECONDS = 600


def signal(detail: str) -> None:
    """Tell the parent a checkpoint was reached (the data so far is written, not committed)."""
    sys.stdout.write(f"{MARKER} {detail}\n")
    sys.stdout.flush()


def run_import(url: str, csv_path: str, pause_at: int) -> None:
    """Import the CSV, reporting every progress call; pause at report number `pause_at`."""
    reports = [0]

    def progress(done: int, total: int, message: str) -> None:
        reports[0] += 1
        signal(f"report={reports[0]}")
        if reports[0] >= pause_at:
            time.sleep(PAUSE_SECONDS)

    open_database(url)
    importing.import_population(Path(csv_path), name="Killed import", actor="fault.child", progress=progress)
    signal("finished")  # the parent treats this as a failure to kill in time


def run_save(url: str, review_id: int, actor: str, expected_version: int, answers: dict) -> None:
    """save_answers with the audit write patched to pause after it: every row of the save
    (answers, version bump, audit event, chain head) is written, the commit has not happened."""
    real_record = audit.record

    def record_then_pause(*args, **kwargs):
        event = real_record(*args, **kwargs)
        signal("audit-written")
        time.sleep(PAUSE_SECONDS)
        return event

    audit.record = record_then_pause
    open_database(url)
    reviews.save_answers(review_id, answers, actor, expected_version)
    signal("finished")


def main(argv: list) -> None:
    mode, url = argv[0], argv[1]
    if mode == "import":
        run_import(url, argv[2], int(argv[3]))
    elif mode == "save":
        run_save(url, int(argv[2]), argv[3], int(argv[4]), json.loads(argv[5]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
