"""The SQLite layout: one append-only table of records, guarded by triggers.

Readers page through records by id, so the indexes put ``id`` last: (kind, id) serves
"all records of one kind, in order" without a sort; (kind, step) and (step) serve step
ranges and the resume point.

The triggers stop an honest mistake (an UPDATE or DELETE from a tool or a bug) at the
database; a deliberate edit can drop them, which is what the hash chain and the head
anchor are for.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 1
STEP_END_KIND = "step_end"
GUARD_TRIGGERS = ("records_no_update", "records_no_delete")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    id         INTEGER PRIMARY KEY,
    step       INTEGER,
    kind       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    payload    TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_kind_step ON records (kind, step);
CREATE INDEX IF NOT EXISTS records_kind_id ON records (kind, id);
CREATE INDEX IF NOT EXISTS records_step ON records (step);
CREATE TRIGGER IF NOT EXISTS {GUARD_TRIGGERS[0]} BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: records cannot be updated'); END;
CREATE TRIGGER IF NOT EXISTS {GUARD_TRIGGERS[1]} BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: records cannot be deleted'); END;
"""


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables, indexes and guards if absent, and stamp the schema version."""
    conn.executescript(SCHEMA)
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def missing_guards(conn: sqlite3.Connection) -> list[str]:
    """Names of the append-only triggers that are no longer in the database."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    present = {name for (name,) in rows}
    return [name for name in GUARD_TRIGGERS if name not in present]
