"""The sandbox's own state: a SQLite file under ``var/`` (never the platform's database).

Orders are kept in a channel-neutral form (state PROCESSING / SUCCESS / FAIL / RETURNED); each channel's handler
renders them in its own dialect. Notifications are queued with their payload and signed when they are sent, so a
retry hours later still carries a fresh timestamp, as the real channels do.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    channel TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, amount_fen INTEGER NOT NULL,
    payee_account TEXT NOT NULL, payee_name TEXT NOT NULL, notify_url TEXT NOT NULL, scenario TEXT NOT NULL,
    state TEXT NOT NULL, fail_code TEXT NOT NULL DEFAULT '', fail_msg TEXT NOT NULL DEFAULT '',
    channel_order_id TEXT NOT NULL, created_at REAL NOT NULL, settle_at REAL NOT NULL, finished_at REAL,
    return_at REAL, returned_at REAL, batch INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, key)
);
CREATE INDEX IF NOT EXISTS orders_settle ON orders (state, settle_at);
CREATE TABLE IF NOT EXISTS attempts (channel TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (channel, key));
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, kind TEXT NOT NULL, notify_id TEXT NOT NULL,
    url TEXT NOT NULL, payload TEXT NOT NULL, due_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at REAL, last_status INTEGER, gave_up INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (delivered_at, gave_up, due_at);
CREATE TABLE IF NOT EXISTS topups (
    serial TEXT PRIMARY KEY, day TEXT NOT NULL, at REAL NOT NULL, amount_fen INTEGER NOT NULL,
    virtual_account TEXT NOT NULL, payer_account TEXT NOT NULL, payer_name TEXT NOT NULL, payer_bank TEXT NOT NULL,
    postscript TEXT NOT NULL
);
"""


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        with self.lock:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(orders)")}
            if "batch" not in columns:  # a state file from an older sandbox
                self.db.execute("ALTER TABLE orders ADD COLUMN batch INTEGER NOT NULL DEFAULT 0")
            if "reverses" not in {row[1] for row in self.db.execute("PRAGMA table_info(topups)")}:
                self.db.execute("ALTER TABLE topups ADD COLUMN reverses TEXT NOT NULL DEFAULT ''")

    def transaction(self):
        """``with store.transaction():`` — many writes, one commit (holds the lock)."""
        store = self

        class _Tx:
            def __enter__(self):
                store.lock.acquire()
                store.db.execute("BEGIN IMMEDIATE")

            def __exit__(self, kind, value, traceback):
                try:
                    store.db.execute("ROLLBACK" if kind else "COMMIT")
                finally:
                    store.lock.release()

        return _Tx()

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def execute(self, sql: str, params=()):
        with self.lock:
            return self.db.execute(sql, params)

    def one(self, sql: str, params=()) -> dict | None:
        with self.lock:
            row = self.db.execute(sql, params).fetchone()
        return dict(row) if row else None

    def all(self, sql: str, params=()) -> list[dict]:
        with self.lock:
            return [dict(row) for row in self.db.execute(sql, params).fetchall()]

    # --- orders ------------------------------------------------------------------------------------------
    def order(self, channel: str, key: str) -> dict | None:
        return self.one("SELECT * FROM orders WHERE channel = ? AND key = ?", (channel, key))

    def attempt(self, channel: str, key: str) -> int:
        """Count a submission attempt for (channel, key); returns the attempt number (1 for the first)."""
        with self.lock:
            self.db.execute("INSERT INTO attempts (channel, key, n) VALUES (?, ?, 1) "
                            "ON CONFLICT (channel, key) DO UPDATE SET n = n + 1", (channel, key))
            return self.db.execute("SELECT n FROM attempts WHERE channel = ? AND key = ?", (channel, key)).fetchone()[0]

    def order_create(self, **fields) -> dict:
        columns = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        with self.lock:
            self.db.execute(f"INSERT INTO orders ({columns}) VALUES ({marks})", tuple(fields.values()))
        return self.order(fields["channel"], fields["key"])

    def order_update(self, channel: str, key: str, **fields) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.execute(f"UPDATE orders SET {assignments} WHERE channel = ? AND key = ?",
                     (*fields.values(), channel, key))

    # --- notifications -----------------------------------------------------------------------------------
    def notify(self, *, channel: str, kind: str, notify_id: str, url: str, payload: dict, due_at: float) -> None:
        self.execute("INSERT INTO notifications (channel, kind, notify_id, url, payload, due_at) VALUES (?,?,?,?,?,?)",
                     (channel, kind, notify_id, url, json.dumps(payload, ensure_ascii=False), due_at))

    def due_notifications(self, *, now: float, limit: int = 200, lease_seconds: float = 60) -> list[dict]:
        """Claim due notifications (leased so no other sender takes them while in flight)."""
        with self.lock:
            rows = [dict(r) for r in self.db.execute(
                "SELECT * FROM notifications WHERE delivered_at IS NULL AND gave_up = 0 AND due_at <= ? "
                "ORDER BY due_at, id LIMIT ?", (now, limit)).fetchall()]
            if rows:
                self.db.executemany("UPDATE notifications SET due_at = ? WHERE id = ?",
                                    [(now + lease_seconds, row["id"]) for row in rows])
        return rows

    def stats(self) -> dict:
        with self.lock:
            orders = {row[0]: row[1] for row in self.db.execute("SELECT state, COUNT(*) FROM orders GROUP BY state")}
            delivered = self.db.execute("SELECT COUNT(*) FROM notifications WHERE delivered_at IS NOT NULL").fetchone()[0]
            pending = self.db.execute(
                "SELECT COUNT(*) FROM notifications WHERE delivered_at IS NULL AND gave_up = 0").fetchone()[0]
        return {"orders": orders, "notifications_delivered": delivered, "notifications_pending": pending,
                "at": time.time()}
