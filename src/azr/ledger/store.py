"""The ledger: an append-only, hash-chained SQLite record of everything a run did.

One writer per run directory (held by a lock file), any number of readers in other
processes (WAL mode lets them read while the writer commits). Each self-play step is one
transaction closed by a ``step_end`` record, so a crash leaves either the whole step or
nothing of it, and ``last_complete_step()`` says where to resume.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Iterator, Sequence

from azr.ledger.anchor import HeadAnchor, anchor_mismatch, read_anchor, write_anchor
from azr.ledger.chain import GENESIS_HASH, canonical_json, record_hash
from azr.ledger.errors import LedgerError
from azr.ledger.kept import KeptHead
from azr.ledger.records import Record
from azr.ledger.schema import STEP_END_KIND, create_schema
from azr.ledger.verify import VerifyReport, verify_ledger

log = logging.getLogger(__name__)

DB_NAME = "ledger.sqlite"
LOCK_NAME = "ledger.lock"
BUSY_TIMEOUT_S = 10.0
READ_BATCH = 1000
PAGE_BYTES = 8192


class StepTransaction:
    """The handle a step's body writes through; valid only inside ``with ledger.step(n)``."""

    def __init__(self, ledger: "Ledger", step: int) -> None:
        self._ledger = ledger
        self.step = step
        self.count = 0
        self._open = True

    def append(self, kind: str, payload: dict[str, Any]) -> int:
        """Add one record to this step; returns its id. Nothing is visible until the step commits."""
        if not self._open:
            raise LedgerError(f"the transaction of step {self.step} is closed; append inside its `with` block")
        _check_kind(kind)
        record_id = self._ledger._insert(self.step, kind, payload)
        self.count += 1
        return record_id


class Ledger:
    """An open ledger. Use :meth:`open`; close it (or use it as a context manager) when done."""

    def __init__(self, run_dir: Path, conn: sqlite3.Connection, readonly: bool, lock_fd: int | None) -> None:
        self.run_dir = run_dir
        self.readonly = readonly
        self._conn = conn
        self._lock_fd = lock_fd
        self._tx: StepTransaction | None = None
        self._last_id, self._last_hash, self._record_count = 0, GENESIS_HASH, 0

    @classmethod
    def open(cls, run_dir: str | os.PathLike[str], readonly: bool = False) -> "Ledger":
        """Open (and for writers create) ``run_dir/ledger.sqlite``.

        A writer takes an exclusive lock on the run directory and refuses to start when the
        table no longer reaches its head anchor (records cut off or edited), so a tampered
        ledger is never silently extended. Readers take no lock and never write.
        """
        run_dir = Path(run_dir)
        db_path = run_dir / DB_NAME
        if readonly:
            if not db_path.exists():
                raise LedgerError(f"no ledger at {db_path}: is {run_dir} a run directory?")
            conn = sqlite3.connect(
                db_path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S
            )
            with _closing_on_error(conn, db_path):
                conn.execute("PRAGMA query_only = ON")
                conn.execute("SELECT 1 FROM records LIMIT 1")
            return cls(run_dir, conn, readonly=True, lock_fd=None)
        run_dir.mkdir(parents=True, exist_ok=True)
        lock_fd = _take_writer_lock(run_dir)
        try:
            conn = sqlite3.connect(db_path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
            with _closing_on_error(conn, db_path):
                # Before the first table exists; a no-op on an existing ledger. Payloads of 1-3 kB
                # (prompts, completions) pack about 17% tighter than in the default 4 kB pages.
                conn.execute(f"PRAGMA page_size = {PAGE_BYTES}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                create_schema(conn)
                ledger = cls(run_dir, conn, readonly=False, lock_fd=lock_fd)
                ledger._load_head()
                ledger._reconcile_anchor()
        except BaseException:
            os.close(lock_fd)
            raise
        return ledger

    @contextmanager
    def step(self, step: int) -> Iterator[StepTransaction]:
        """One step as one transaction: commits with a closing record on exit, rolls back on error."""
        self._require_writer()
        _check_step(step)
        last = self.last_complete_step()
        if last is not None and step <= last:
            raise LedgerError(f"step {step} is already in the ledger (last complete step: {last}); resume at {last + 1}")
        tx = StepTransaction(self, step)
        with self._transaction(tx):
            yield tx
            first_id = self._last_id - tx.count + 1
            self._insert(step, STEP_END_KIND, {"records": tx.count, "first_id": first_id})

    def append(self, kind: str, payload: dict[str, Any], step: int | None = None) -> int:
        """One record in its own transaction, for events outside a step (run start, acks)."""
        self._require_writer()
        _check_kind(kind)
        if step is not None:
            _check_step(step)
        with self._transaction(None):
            return self._insert(step, kind, payload)

    def records(
        self,
        kind: str | None = None,
        since_step: int | None = None,
        until_step: int | None = None,
        after_id: int = 0,
    ) -> Iterator[Record]:
        """Records in id order, filtered by kind and an inclusive step range.

        Read in pages by id, so a long iteration never holds a read transaction open
        against the writer; ``after_id`` lets a live reader continue where it stopped.
        """
        where, params = ["id > ?"], []
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if since_step is not None:
            where.append("step >= ?")
            params.append(since_step)
        if until_step is not None:
            where.append("step <= ?")
            params.append(until_step)
        sql = (
            "SELECT id, step, kind, created_at, payload, hash FROM records "
            f"WHERE {' AND '.join(where)} ORDER BY id LIMIT {READ_BATCH}"
        )
        cursor_id = after_id
        while True:
            rows = self._conn.execute(sql, [cursor_id, *params]).fetchall()
            for row in rows:
                yield Record.from_row(row)
            if len(rows) < READ_BATCH:
                return
            cursor_id = rows[-1][0]

    def counts(self) -> dict[str, int]:
        """How many records of each kind the ledger holds."""
        rows = self._conn.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind ORDER BY kind").fetchall()
        return {kind: count for kind, count in rows}

    def last_complete_step(self) -> int | None:
        """The highest step whose transaction committed, or None before the first step."""
        row = self._conn.execute("SELECT MAX(step) FROM records WHERE kind = ?", (STEP_END_KIND,)).fetchone()
        return row[0]

    def verify(self, kept: Sequence[KeptHead] = ()) -> VerifyReport:
        """Re-check the whole chain, the append-only guards, the head anchor and any heads kept elsewhere."""
        return verify_ledger(self._conn, self.run_dir, kept)

    def first_hash(self) -> str | None:
        """The hash of record 1: it names this ledger in an anchor file (None while empty)."""
        row = self._conn.execute("SELECT hash FROM records WHERE id = 1").fetchone()
        return row[0] if row else None

    def close(self) -> None:
        """Close the connection and release the writer lock. Safe to call twice."""
        if self._tx is not None:
            raise LedgerError(f"cannot close the ledger inside the transaction of step {self._tx.step}")
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self, tx: StepTransaction | None) -> Iterator[None]:
        """BEGIN IMMEDIATE .. COMMIT, undoing the in-memory head too when anything fails."""
        if self._tx is not None:
            raise LedgerError(
                f"the transaction of step {self._tx.step} is still open; write through its handle (tx.append)"
            )
        saved = (self._last_id, self._last_hash, self._record_count)
        self._write_sql("BEGIN IMMEDIATE")
        self._tx = tx
        try:
            yield
            self._write_sql("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._last_id, self._last_hash, self._record_count = saved
            raise
        finally:
            self._tx = None
            if tx is not None:
                tx._open = False
        self._write_anchor()

    def _insert(self, step: int | None, kind: str, payload: dict[str, Any]) -> int:
        payload_json = canonical_json(payload, kind)
        record_id = self._last_id + 1
        created_at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        digest = record_hash(self._last_hash, record_id, step, kind, created_at, payload_json)
        self._write_sql(
            "INSERT INTO records (id, step, kind, created_at, payload, hash) VALUES (?, ?, ?, ?, ?, ?)",
            (record_id, step, kind, created_at, payload_json, digest),
        )
        self._last_id, self._last_hash = record_id, digest
        self._record_count += 1
        return record_id

    def _write_sql(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run one writing statement; a full disk surfaces as OSError(ENOSPC) like any other write."""
        try:
            self._conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode == sqlite3.SQLITE_FULL:
                raise OSError(errno.ENOSPC, f"no space left for the ledger in {self.run_dir}") from exc
            if exc.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                raise LedgerError(
                    f"the ledger in {self.run_dir} stayed locked for {BUSY_TIMEOUT_S:.0f} s; "
                    "is another tool holding a write transaction on it?"
                ) from exc
            raise

    def _load_head(self) -> None:
        """Where the next record links on: only a writer needs this, so readers skip the count."""
        row = self._conn.execute("SELECT id, hash FROM records ORDER BY id DESC LIMIT 1").fetchone()
        self._last_id, self._last_hash = (row[0], row[1]) if row else (0, GENESIS_HASH)
        self._record_count = self._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]

    def _write_anchor(self) -> None:
        write_anchor(self.run_dir, HeadAnchor(last_id=self._last_id, last_hash=self._last_hash, records=self._record_count))

    def _reconcile_anchor(self) -> None:
        """Check the table against the anchor before writing; advance an anchor left behind by a crash."""
        anchor = read_anchor(self.run_dir)
        if anchor is None:
            if self._last_id:
                raise LedgerError(
                    f"the head anchor of {self.run_dir / DB_NAME} is missing, so a cut-off end cannot be ruled "
                    f"out; run `azr ledger verify {self.run_dir}` and start a new run directory"
                )
            self._write_anchor()
            return
        row = self._conn.execute("SELECT hash FROM records WHERE id = ?", (anchor.last_id,)).fetchone()
        problem = anchor_mismatch(anchor, self._last_id, row[0] if row else None)
        if problem:
            raise LedgerError(f"refusing to extend {self.run_dir / DB_NAME}: {problem}; run `azr ledger verify`")
        if self._last_id > anchor.last_id:
            log.info("ledger head anchor was %d record(s) behind (crash after a commit); advancing it",
                     self._last_id - anchor.last_id)
            self._write_anchor()

    def _require_writer(self) -> None:
        if self.readonly:
            raise LedgerError(f"the ledger of {self.run_dir} was opened read-only; open it without readonly=True to write")


def _check_kind(kind: str) -> None:
    if not isinstance(kind, str) or not kind:
        raise LedgerError(f"a record kind must be a non-empty string, not {kind!r}")
    if kind == STEP_END_KIND:
        raise LedgerError(f"the kind {STEP_END_KIND!r} is reserved: the ledger writes it when a step commits")


def _check_step(step: int) -> None:
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise LedgerError(f"a step number must be a non-negative int, not {step!r}")


@contextmanager
def _closing_on_error(conn: sqlite3.Connection, db_path: Path) -> Iterator[None]:
    """Close a half-opened connection, and name the file when it is not a ledger at all."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise LedgerError(f"{db_path} is not a readable azr ledger ({exc})") from exc
    except BaseException:
        conn.close()
        raise


def _take_writer_lock(run_dir: Path) -> int:
    """An exclusive, non-blocking lock so two runs never write one ledger."""
    fd = os.open(run_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise LedgerError(f"another process is writing the ledger in {run_dir}; one writer per run directory") from exc
    return fd
