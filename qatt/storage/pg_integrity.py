"""PostgreSQL: every case belongs to a population, checked once per statement instead of per row.

A foreign key on case.population_id makes the server look up the population for each row it
stores (4-6 µs a row: a third or more of a million-row import). These triggers enforce the same
rule, by the server and against every role but the owner, with one set-based step per statement:

- after an INSERT (COPY included) or UPDATE of cases, one query over the statement's new rows
  (a transition table) finds the populations they name and claims each of them with a no-op
  update, which a concurrent delete of that population must wait for (read committed) or fails
  on (repeatable read, serializable), as it would on the foreign key's row lock; a population
  that does not exist refuses the statement (SQLSTATE 23503, as the foreign key did);
- deleting populations deletes their cases (the foreign key's ON DELETE CASCADE); a population's
  id never changes; TRUNCATE of population is refused while cases remain.

The functions belong to the schema owner (SECURITY DEFINER, fixed search_path, every name
qualified) and the triggers are ENABLE ALWAYS, so session_replication_role does not switch them
off; a desktop role owns neither the tables nor the functions, so it cannot alter, disable or drop
them. SQLite keeps its ordinary foreign key.
"""

from __future__ import annotations

from typing import List

import peewee

from qatt.storage.sql_names import quote_ident


def install_sql(schema: str) -> List[str]:
    """The functions and triggers; idempotent."""
    s = quote_ident(schema)
    path = f"SET search_path = {s}, pg_catalog, pg_temp"
    out = [
        f"""CREATE OR REPLACE FUNCTION {s}.qatt_case_population_check() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER {path} AS $$
        DECLARE
            named bigint; claimed bigint; missing bigint;
        BEGIN
            -- One pass over the new rows: the populations they name, each claimed once.
            WITH named AS (SELECT DISTINCT population_id FROM qatt_new_cases),
                 claim AS (UPDATE {s}.population p SET id = p.id FROM named n
                           WHERE p.id = n.population_id RETURNING 1)
            SELECT (SELECT count(*) FROM named), (SELECT count(*) FROM claim) INTO named, claimed;
            IF claimed < named THEN
                SELECT n.population_id INTO missing FROM qatt_new_cases n
                    WHERE NOT EXISTS (SELECT 1 FROM {s}.population p WHERE p.id = n.population_id) LIMIT 1;
                RAISE EXCEPTION 'insert or update on table "case" violates its population check'
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'case', COLUMN = 'population_id',
                          DETAIL = format('Key (population_id)=(%s) is not present in table "population".', missing);
            END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.qatt_population_cases_delete() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER {path} AS $$
        BEGIN
            DELETE FROM {s}."case" c USING qatt_old_populations o WHERE c.population_id = o.id;
            RETURN NULL;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.qatt_population_keeps_cases() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER {path} AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                RAISE EXCEPTION 'a population''s id never changes (population %)', OLD.id
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'population';
            END IF;
            IF EXISTS (SELECT 1 FROM {s}."case") THEN
                RAISE EXCEPTION 'cannot truncate table "population" while table "case" holds cases; truncate both'
                    USING ERRCODE = 'foreign_key_violation', TABLE = 'population';
            END IF;
            RETURN NULL;
        END $$""",
        f"REVOKE ALL ON FUNCTION {s}.qatt_case_population_check(), {s}.qatt_population_cases_delete(), "
        f"{s}.qatt_population_keeps_cases() FROM PUBLIC",
    ]
    triggers = [
        ("case", "qatt_population_check_insert",
         "AFTER INSERT", "REFERENCING NEW TABLE AS qatt_new_cases FOR EACH STATEMENT", "qatt_case_population_check"),
        ("case", "qatt_population_check_update",
         "AFTER UPDATE", "REFERENCING NEW TABLE AS qatt_new_cases FOR EACH STATEMENT", "qatt_case_population_check"),
        ("population", "qatt_cases_cascade",
         "AFTER DELETE", "REFERENCING OLD TABLE AS qatt_old_populations FOR EACH STATEMENT",
         "qatt_population_cases_delete"),
        ("population", "qatt_population_id_kept",
         "BEFORE UPDATE OF id", "FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)", "qatt_population_keeps_cases"),
        ("population", "qatt_population_truncate", "AFTER TRUNCATE", "FOR EACH STATEMENT",
         "qatt_population_keeps_cases"),
    ]
    for table, name, timing, rest, function in triggers:
        t = f"{s}.{quote_ident(table)}"
        out.append(f"DROP TRIGGER IF EXISTS {name} ON {t}")
        out.append(f"CREATE TRIGGER {name} {timing} ON {t} {rest} EXECUTE FUNCTION {s}.{function}()")
        out.append(f"ALTER TABLE {t} ENABLE ALWAYS TRIGGER {name}")
    return out


def replace_foreign_key(db: peewee.Database) -> None:
    """Migration 13: install the triggers and drop the foreign key of case.population_id, in the
    caller's transaction (the rule is never unenforced). Existing cases all have their population:
    the foreign key held until now."""
    schema = db.execute_sql("SELECT current_schema()").fetchone()[0]
    cursor = db.cursor()
    for statement in install_sql(schema):
        cursor.execute(statement)
    names = [row[0] for row in db.execute_sql(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = to_regclass(%s) "
        "AND confrelid = to_regclass(%s)", [f'{quote_ident(schema)}."case"', f"{quote_ident(schema)}.population"])]
    for name in names:
        cursor.execute(f'ALTER TABLE {quote_ident(schema)}."case" DROP CONSTRAINT {quote_ident(name)}')
