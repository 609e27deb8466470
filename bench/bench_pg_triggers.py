"""What the PostgreSQL safeguards of migration 10 cost: an import, a draw and review saves with the
row_change / append-only triggers and row-level security on, and with them switched off.

    python bench/bench_pg_triggers.py [--rows 100000] [--saves 300] [--draw 1000] [--repeat 3]
                                      [--url postgresql://postgres@127.0.0.1:5432/test]

Everything runs as desktop logins (a moderator imports and draws, a reviewer saves), as in a
force-wide set-up; the owner switches the triggers and policies off and on between rounds
(ALTER TABLE ... DISABLE TRIGGER / DISABLE ROW LEVEL SECURITY). The case table, the one an
import fills, has no trigger. Rounds alternate and the best time of each is reported, because a
shared machine's load changes from one run to the next. Not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.pop("QATT_USER", None)

from qatt import demo  # noqa: E402
from qatt.intake import importing
from qatt.reviewing import reviews
from qatt.selection import sampling
from qatt.trust import users
from qatt.storage import db as dbmod  # noqa: E402
from qatt.storage import pg_security  # noqa: E402
from tests.factories import form_dict, write_form  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pg_load import schema_url, with_login  # noqa: E402

RLS_TABLES = ("review", "answer", "action", "case_study", "user", "setting")


def switch(owner_url: str, on: bool) -> None:
    owner = dbmod.make_database(owner_url)
    owner.connect()
    verb = "ENABLE ALWAYS" if on else "DISABLE"
    for table in list(pg_security.TRACKED) + ["audit_event"]:
        owner.execute_sql(f'ALTER TABLE "{table}" {verb} TRIGGER qatt_row_change')
    for table in ("audit_event", "row_change"):
        owner.execute_sql(f'ALTER TABLE "{table}" {verb} TRIGGER qatt_append_only')
    for table in RLS_TABLES:
        owner.execute_sql(f'ALTER TABLE "{table}" {"ENABLE" if on else "DISABLE"} ROW LEVEL SECURITY')
    owner.close()


def timed_round(owner_url: str, people: dict, csv_path: Path, forms_dir: Path, args, round_no: int) -> dict:
    out = {}
    moderator, reviewer = people["moderator"], people["reviewer"]
    database = dbmod.open_database(with_login(owner_url, moderator))
    started = time.perf_counter()
    result = importing.import_population(csv_path, name=f"bench {round_no}", actor=moderator)
    out["import_s"] = time.perf_counter() - started
    started = time.perf_counter()
    drawn = sampling.draw_sample(sampling.SampleRequest(result.population_id, size=args.draw, form_id="test_form",
                                                        period="2024-01"), moderator)
    out["draw_s"] = time.perf_counter() - started
    item_id = database.execute_sql("SELECT id FROM sample_item WHERE sample_id = %s ORDER BY position LIMIT 1",
                                   [drawn.sample_id]).fetchone()[0]
    database.close()
    database = dbmod.open_database(with_login(owner_url, reviewer))
    review = reviews.start_review(item_id, reviewer, forms_dir=forms_dir)
    version = review.version
    started = time.perf_counter()
    for i in range(args.saves):
        version = reviews.save_answers(review.id, {"c1": "yes" if i % 2 else "no"}, reviewer, version).version
    out["save_ms"] = 1000 * (time.perf_counter() - started) / args.saves
    database.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("QATT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--draw", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    schema = "qatt_trig_" + uuid.uuid4().hex[:10]
    suffix = uuid.uuid4().hex[:6]
    people = {"moderator": f"qb_{suffix}_mod", "reviewer": f"qb_{suffix}_rev"}
    plain = dbmod.make_database(args.url)
    plain.connect()
    plain.execute_sql(f'CREATE SCHEMA "{schema}"')
    database_name = plain.execute_sql("SELECT current_database()").fetchone()[0]
    plain.close()
    owner_url = schema_url(args.url, schema)
    try:
        owner = dbmod.open_database(owner_url)
        users.register_login("bench.owner")
        for role, login in people.items():
            users.add_user("bench.owner", login, role)
        tmp = Path(tempfile.mkdtemp(prefix="qatt-trig-"))
        csv_path = tmp / "extract.csv"
        demo.write_csv(csv_path, n=args.rows)
        forms_dir = tmp / "forms"
        form = form_dict()
        form["area"] = "Load bench"  # the sample names the form
        write_form(forms_dir, form)
        from qatt.reviewing import forms

        forms.register_form_version(forms.load_forms(forms_dir)["test_form"], "bench.owner")
        owner.close()
        best = {True: {}, False: {}}
        for round_no in range(args.repeat * 2):
            on = round_no % 2 == 0
            switch(owner_url, on)
            figures = timed_round(owner_url, people, csv_path, forms_dir, args, round_no)
            for key, value in figures.items():
                best[on][key] = min(best[on].get(key, value), value)
        switch(owner_url, True)
        print(f"{args.rows:,} cases imported, {args.draw:,} cases drawn, {args.saves} saves; best of {args.repeat}")
        print(f"{'':>10} {'triggers+RLS on':>16} {'off':>10} {'cost':>8}")
        for key, label in (("import_s", "import s"), ("draw_s", "draw s"), ("save_ms", "save ms")):
            on, off = best[True][key], best[False][key]
            print(f"{label:>10} {on:16.3f} {off:10.3f} {100 * (on - off) / off:+7.1f}%")
        return 0
    finally:
        cleanup = dbmod.make_database(args.url)
        cleanup.connect()
        cleanup.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        for login in people.values():
            cleanup.execute_sql(f'DROP ROLE IF EXISTS "{login}"')
        pg_security.drop_group_roles(cleanup, database_name, schema)
        cleanup.close()


if __name__ == "__main__":
    sys.exit(main())
