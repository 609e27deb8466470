"""Load run: many desktops, each its own process, connection and PostgreSQL login role, drawing,
saving and submitting reviews against one database for a bounded time. Not a test.

    python bench/bench_pg_load.py [--desktops 50] [--moderators 5] [--duration 120] [--think 0.3]
                                  [--url postgresql://postgres@127.0.0.1:5432/test]

--url must be a superuser's or the database owner's: the run makes a throw-away schema, migrates it
(group roles, grants, row-level security, triggers), adds one login role per desktop through
`users add`, and drops all of them afterwards. Moderators draw samples of their own population;
reviewers pick an unreviewed sampled case, start a review, save answers three times, save the
grade and submit, with a random pause (mean --think seconds) between actions.

Afterwards it checks, as the owner: no save lost or duplicated (every save a desktop saw succeed
is one alteration event with the version it produced, and each review's version is one more than
its saves), the audit chain verifies, and no row change happened outside QATT. It prints saves,
conflicts, and the median and 95th-percentile save time (one save = one save_answers,
save_details or submit_review call, from the desktop's side).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.pop("QATT_USER", None)

from qatt.reviewing import reviews  # noqa: E402
from qatt.selection import sampling
from qatt.trust import audit, users
from qatt.errors import ConflictError, QattError  # noqa: E402
from qatt.storage import db as dbmod  # noqa: E402
from qatt.storage import models as m  # noqa: E402
from qatt.storage import pg_security  # noqa: E402
from tests.factories import COMPLETE_ANSWERS, form_dict, make_population, write_form  # noqa: E402

CASES_PER_POPULATION = 4000
SAMPLE_SIZE = 10
ANSWER_STEPS = ({"c1": "yes"}, {"c2": "yes", "c3": "yes"}, {"c3_days": 2, "c9": "effective"})


def with_login(base: str, login: str) -> str:
    scheme, rest = base.split("://", 1)
    rest = rest.split("@", 1)[1] if "@" in rest else rest
    return f"{scheme}://{login}@{rest}"


def schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def pause(think: float) -> None:
    time.sleep(random.expovariate(1 / think) if think > 0 else 0)


def desktop(index: int, role: str, login: str, url: str, forms_dir: str, population_id: int, deadline: float,
            think: float, out: "mp.Queue") -> None:
    random.seed(index)
    result = {"login": login, "role": role, "saves": [], "save_seconds": [], "conflicts": 0, "errors": [],
              "draws": 0, "submitted": 0, "record_seconds": []}
    # Time spent in audit.record: waiting for the chain head's row lock, then writing the event.
    record = audit.record

    def timed_record(*a, **k):
        started = time.perf_counter()
        try:
            return record(*a, **k)
        finally:
            result["record_seconds"].append(time.perf_counter() - started)

    audit.record = timed_record
    database = dbmod.open_database(url)
    actor = pg_security.session_identity(database, None)  # the login: QATT's identity on PostgreSQL
    users.register_login(actor)
    period_index = 0
    try:
        while time.time() < deadline:
            pause(think)
            if role == "moderator":
                period_index += 1
                period = f"{2000 + period_index // 12}-{period_index % 12 + 1:02d}"
                sampling.draw_sample(sampling.SampleRequest(population_id, size=SAMPLE_SIZE, period=period,
                                                            form_id="test_form", name=f"load {period}"), actor)
                result["draws"] += 1
                continue
            item = database.execute_sql(
                "SELECT si.id FROM sample_item si WHERE si.active AND NOT si.is_reserve AND NOT EXISTS "
                "(SELECT 1 FROM review r WHERE r.sample_item_id = si.id AND r.role = 'first') "
                "ORDER BY random() LIMIT 1").fetchone()
            if item is None:
                continue
            try:
                review = reviews.start_review(item[0], actor, forms_dir=Path(forms_dir))
            except ConflictError:
                result["conflicts"] += 1
                continue
            except QattError as exc:
                if "already holds" in str(exc):
                    result["conflicts"] += 1
                    continue
                raise
            version = review.version
            steps = [("answers", step) for step in ANSWER_STEPS] + [("details", None), ("submit", None)]
            for kind, step in steps:
                if time.time() >= deadline and kind != "submit":
                    break
                pause(think)
                started = time.perf_counter()
                try:
                    if kind == "answers":
                        saved = reviews.save_answers(review.id, step, actor, expected_version=version)
                    elif kind == "details":
                        saved = reviews.save_details(review.id, actor, version, strengths="Clear plan",
                                                     feedback="Discussed with the officer")
                    else:
                        saved = reviews.submit_review(review.id, actor, expected_version=version)
                except ConflictError:
                    result["conflicts"] += 1
                    break
                result["save_seconds"].append(time.perf_counter() - started)
                version = saved.version
                result["saves"].append([review.id, version])
                if kind == "submit":
                    result["submitted"] += 1
    except Exception as exc:  # reported, not hidden: the run fails if any desktop failed
        result["errors"].append(f"{type(exc).__name__}: {exc}")
    finally:
        database.close()
        out.put(result)


def watch_lock_waits(url: str, logins_like: str, deadline: float) -> list:
    """Every 0.1 s until the deadline, how many of the desktops' sessions wait for a lock."""
    watcher = dbmod.make_database(url)
    watcher.connect()
    counts = []
    try:
        while time.time() < deadline:
            counts.append(watcher.execute_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE usename LIKE %s AND wait_event_type = 'Lock'",
                [logins_like]).fetchone()[0])
            time.sleep(0.1)
    finally:
        watcher.close()
    return counts


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("QATT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--desktops", type=int, default=50)
    parser.add_argument("--moderators", type=int, default=5)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load (default 120)")
    parser.add_argument("--think", type=float, default=0.3, help="mean pause between a desktop's actions (s)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    schema = "qatt_load_" + uuid.uuid4().hex[:10]
    suffix = uuid.uuid4().hex[:6]
    owner_plain = dbmod.make_database(args.url)
    owner_plain.connect()
    owner_plain.execute_sql(f'CREATE SCHEMA "{schema}"')
    owner_plain.close()
    owner_url = schema_url(args.url, schema)
    logins = []
    try:
        owner = dbmod.open_database(owner_url)
        users.register_login("load.owner")
        tmp = tempfile.mkdtemp(prefix="qatt-load-")
        forms_dir = Path(tmp) / "forms"
        write_form(forms_dir, form_dict())
        from qatt.reviewing import forms

        forms.register_form_version(forms.load_forms(forms_dir)["test_form"], "load.owner")
        plan = []
        for i in range(args.desktops):
            role = "moderator" if i < args.moderators else "reviewer"
            login = f"ql_{suffix}_{role[:3]}{i:02d}"
            users.add_user("load.owner", login, role)
            logins.append(login)
            population = make_population(CASES_PER_POPULATION, name=f"load {i}").id if role == "moderator" else 0
            plan.append((i, role, login, population))
        # A first sample from each moderator's population, so reviewers have work from the start.
        for i, role, login, population in plan:
            if role == "moderator":
                sampling.draw_sample(sampling.SampleRequest(population, size=SAMPLE_SIZE, period="1999-01",
                                                            form_id="test_form"), "load.owner")
        owner.execute_sql("DELETE FROM row_change")  # the set-up's own inserts by the owner
        events_before = m.AuditEvent.select().count()
        owner.close()

        ctx = mp.get_context("fork")
        out = ctx.Queue()
        deadline = time.time() + args.duration
        procs = [ctx.Process(target=desktop, args=(i, role, login, with_login(owner_url, login), str(forms_dir),
                                                   population, deadline, args.think, out))
                 for i, role, login, population in plan]
        started = time.time()
        for p in procs:
            p.start()
        waiting = watch_lock_waits(args.url, f"ql_{suffix}_%", deadline)
        results = [out.get(timeout=args.duration + 600) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        elapsed = time.time() - started

        owner = dbmod.open_database(owner_url)
        saves = [tuple(s) for r in results for s in r["saves"]]
        seconds = [x for r in results for x in r["save_seconds"]]
        records = [x for r in results for x in r["record_seconds"]]
        errors = [f"{r['login']}: {e}" for r in results for e in r["errors"]]
        # Lost or duplicated: each save a desktop saw succeed is exactly one alteration event with its version.
        recorded = {}
        for object_id, details in (m.AuditEvent.select(m.AuditEvent.object_id, m.AuditEvent.details)
                                   .where(m.AuditEvent.object_type == "review", m.AuditEvent.action == "alteration",
                                          m.AuditEvent.id > events_before).tuples()):
            key = (int(object_id), details.get("version"))
            recorded[key] = recorded.get(key, 0) + 1
        lost = sorted(set(saves) - set(recorded))
        duplicated = sorted(k for k, n in recorded.items() if n > 1) + sorted(
            k for k in set(saves) if len(saves) != len(set(saves)) and saves.count(k) > 1)
        extra = sorted(set(recorded) - set(saves))
        version_mismatch = []
        per_review = {}
        for review_id, version in saves:
            per_review[review_id] = per_review.get(review_id, 0) + 1
        for review_id, n in per_review.items():
            if m.Review.get_by_id(review_id).version != 1 + n:
                version_mismatch.append(review_id)
        chain = audit.verify_chain()
        outside = pg_security.outside_changes(owner)
        summary = {
            "desktops": args.desktops, "moderators": args.moderators, "duration_s": args.duration,
            "elapsed_s": round(elapsed, 1), "think_s": args.think,
            "saves": len(saves), "saves_per_s": round(len(saves) / elapsed, 1),
            "submitted": sum(r["submitted"] for r in results), "draws": sum(r["draws"] for r in results),
            "conflicts": sum(r["conflicts"] for r in results),
            "lost": len(lost), "duplicated": len(duplicated), "unexplained_events": len(extra),
            "version_mismatches": len(version_mismatch),
            "audit_events_written": m.AuditEvent.select().count() - events_before,
            "chain_ok": chain.ok, "chain_events": chain.events, "outside_changes": len(outside),
            "median_save_ms": round(1000 * statistics.median(seconds), 1) if seconds else None,
            "p95_save_ms": round(1000 * percentile(seconds, 0.95), 1) if seconds else None,
            "max_save_ms": round(1000 * max(seconds), 1) if seconds else None,
            "median_audit_record_ms": round(1000 * statistics.median(records), 1) if records else None,
            "p95_audit_record_ms": round(1000 * percentile(records, 0.95), 1) if records else None,
            "mean_sessions_waiting_on_a_lock": round(statistics.mean(waiting), 2) if waiting else None,
            "max_sessions_waiting_on_a_lock": max(waiting) if waiting else None,
            "errors": errors[:10],
        }
        owner.close()
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            for key, value in summary.items():
                print(f"{key:>22}: {value}")
        ok = (not errors and not lost and not duplicated and not extra and not version_mismatch and chain.ok
              and not outside)
        return 0 if ok else 1
    finally:
        cleanup = dbmod.make_database(args.url)
        cleanup.connect()
        cleanup.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        database_name = cleanup.execute_sql("SELECT current_database()").fetchone()[0]
        for login in logins:
            cleanup.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [login])
            cleanup.execute_sql(f'DROP ROLE IF EXISTS "{login}"')
        pg_security.drop_group_roles(cleanup, database_name, schema)
        cleanup.close()


if __name__ == "__main__":
    sys.exit(main())
