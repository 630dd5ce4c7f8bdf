"""SQLite under concurrency: reads never wait, and a transaction takes the write lock when it first writes.

SQLite allows one writer at a time. Two things made the embedded default fail under load:
- A transaction that read first and then writes fails at once with "database is locked" when
  another connection committed in between (its snapshot is stale), whatever the busy timeout.
- SQLite's busy handler sleeps inside C. Under gevent that stalls every greenlet of the
  process, including the one that holds the lock, so one wait becomes everyone's wait.

So a session's reads run outside any transaction (each sees the latest commits, as under
PostgreSQL's READ COMMITTED, and in WAL mode never waits). Just before its first write the
session begins ``BEGIN IMMEDIATE``, retried with ``time.sleep`` (a cooperative sleep under
gunicorn's gevent workers) until a deadline, then :class:`DatabaseBusy`, which the app
answers with 503 and Retry-After. From there to its commit the session holds the write lock,
so write transactions should be short; rules that must hold at write time are guarded
UPDATEs or unique constraints, as they must be on PostgreSQL too.
"""
import sqlite3
import time
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from flask import current_app, has_request_context

BUSY_TIMEOUT_MS = 5000
# How long a request waits for the write lock before it is answered 503; jobs and commands wait longer.
REQUEST_LOCK_WAIT = 5.0
BACKGROUND_LOCK_WAIT = 120.0
WRITE_KEYWORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP", "ALTER")
WRITING = "sqlite_writing"
_lock_wait_override: ContextVar[float | None] = ContextVar("stagecraft_lock_wait", default=None)


class DatabaseBusy(Exception):
    """The write lock could not be had in time; the caller should try again shortly."""


def engine_options(database_url: str, pool_size: int) -> dict:
    """Pool settings: a bounded pool whose waiters give up (→ 503) instead of stalling."""
    options = {"pool_pre_ping": True, "pool_timeout": REQUEST_LOCK_WAIT}
    if database_url.startswith("sqlite") and ":memory:" not in database_url:
        options.update(pool_size=pool_size, max_overflow=0)
    return options


def is_busy(error: BaseException) -> bool:
    """Whether an error means the database is momentarily overloaded rather than broken."""
    original = getattr(error, "orig", None) or error
    if isinstance(original, (DatabaseBusy, sa.exc.TimeoutError)):
        return True
    return isinstance(original, sqlite3.OperationalError) and "locked" in str(original)


@contextmanager
def lock_wait(seconds: float):
    """Wait at most this long for the write lock inside the block (for bookkeeping that may be skipped)."""
    token = _lock_wait_override.set(seconds)
    try:
        yield
    finally:
        _lock_wait_override.reset(token)


def _lock_wait() -> float:
    override = _lock_wait_override.get()
    if override is not None:
        return override
    if has_request_context():
        return current_app.config.get("SQLITE_LOCK_WAIT", REQUEST_LOCK_WAIT)
    return BACKGROUND_LOCK_WAIT


def _is_sqlite(dbapi_connection) -> bool:
    return isinstance(dbapi_connection, sqlite3.Connection)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """WAL lets readers and one writer work at once; foreign keys are off by default in SQLite."""
    if not _is_sqlite(dbapi_connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
    # We emit BEGIN ourselves (below) instead of letting the sqlite3 module guess when to.
    dbapi_connection.isolation_level = None


@sa.event.listens_for(sa.engine.Engine, "begin")
def _begin_reading(connection):
    # No BEGIN yet: until the first write each read sees the latest commits, as in PostgreSQL's READ COMMITTED.
    if _is_sqlite(connection.connection.driver_connection):
        connection.info[WRITING] = False


@sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _take_write_lock_before_first_write(connection, _cursor, statement, _parameters, _context, _executemany):
    if connection.info.get(WRITING, True) or not statement.lstrip().upper().startswith(WRITE_KEYWORDS):
        return
    dbapi_connection = connection.connection.driver_connection
    if _is_sqlite(dbapi_connection) and not dbapi_connection.in_transaction:
        begin_immediate(dbapi_connection, _lock_wait())
    connection.info[WRITING] = True


def begin_immediate(dbapi_connection: sqlite3.Connection, wait: float) -> None:
    """BEGIN IMMEDIATE, retried with a cooperative sleep until `wait` seconds; DatabaseBusy after that."""
    deadline = time.monotonic() + wait
    delay = 0.001
    dbapi_connection.execute("PRAGMA busy_timeout=0")  # wait here, where a sleep lets other greenlets run
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
            if time.monotonic() + delay > deadline:
                raise DatabaseBusy(f"the database stayed locked for {wait:g} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
