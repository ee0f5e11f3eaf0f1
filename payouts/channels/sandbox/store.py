"""The sandbox's own state: kept in memory, written behind to a SQLite file under ``var/`` (never the platform's
database).

Orders are kept in a channel-neutral form (state PROCESSING / SUCCESS / FAIL / RETURNED); each channel's handler
renders them in its own dialect. Notifications are queued with their payload and signed when they are sent, so a
retry hours later still carries a fresh timestamp, as the real channels do.

Why in memory: a real gateway answers thousands of requests a second; one SQLite commit per request under one lock
held the sandbox to a few hundred and made it, not the platform, the thing a benchmark measured. Every change is
made in memory under ``lock`` and marked dirty; ``flush()`` (the scheduler calls it every tick, and ``close()``)
writes the dirty rows in one SQLite transaction. A restarted sandbox loads the file and carries on — orders, their
attempts, pending notifications and top-ups — losing at most the last tick's changes if the process was killed.
"""

from __future__ import annotations

import heapq
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
    return_at REAL, returned_at REAL, batch INTEGER NOT NULL DEFAULT 0, batch_no TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (channel, key)
);
CREATE INDEX IF NOT EXISTS orders_settle ON orders (state, settle_at);
CREATE TABLE IF NOT EXISTS batches (
    channel TEXT NOT NULL, batch_no TEXT NOT NULL, batch_trans_id TEXT NOT NULL, request_hash TEXT NOT NULL,
    created_at REAL NOT NULL, lines TEXT NOT NULL, PRIMARY KEY (channel, batch_no)
);
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

ORDER_COLUMNS = ("channel", "key", "request_hash", "amount_fen", "payee_account", "payee_name", "notify_url",
                 "scenario", "state", "fail_code", "fail_msg", "channel_order_id", "created_at", "settle_at",
                 "finished_at", "return_at", "returned_at", "batch", "batch_no")
BATCH_COLUMNS = ("channel", "batch_no", "batch_trans_id", "request_hash", "created_at", "lines")
NOTIFICATION_COLUMNS = ("id", "channel", "kind", "notify_id", "url", "payload", "due_at", "attempts", "delivered_at",
                        "last_status", "gave_up")
TOPUP_COLUMNS = ("serial", "day", "at", "amount_fen", "virtual_account", "payer_account", "payer_name", "payer_bank",
                 "postscript", "reverses")
PROCESSING, SUCCESS = "PROCESSING", "SUCCESS"


def _upsert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()  # guards the in-memory state
        self._db_lock = threading.Lock()  # guards the SQLite connection (flushes run outside ``lock``)
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(orders)")}
        if "batch" not in columns:  # a state file from an older sandbox
            self.db.execute("ALTER TABLE orders ADD COLUMN batch INTEGER NOT NULL DEFAULT 0")
        if "batch_no" not in columns:
            self.db.execute("ALTER TABLE orders ADD COLUMN batch_no TEXT NOT NULL DEFAULT ''")
        if "reverses" not in {row[1] for row in self.db.execute("PRAGMA table_info(topups)")}:
            self.db.execute("ALTER TABLE topups ADD COLUMN reverses TEXT NOT NULL DEFAULT ''")
        self._orders: dict[tuple[str, str], dict] = {}
        self._attempts: dict[tuple[str, str], int] = {}
        self._notifications: dict[int, dict] = {}
        self._topups: dict[str, dict] = {}
        # batch requests (Alipay 批量转账): lines = [[key, amount_fen, detail_id, error_code, error_msg], ...] in
        # request order; a line with an error code created no order
        self._batches: dict[tuple[str, str], dict] = {}
        self._settle_heap: list[tuple[float, str, str]] = []  # PROCESSING orders by settle_at
        self._return_heap: list[tuple[float, str, str]] = []  # paid orders that will be returned, by return_at
        self._due_heap: list[tuple[float, int]] = []  # undelivered notifications by due_at (stale entries skipped)
        self._dirty: dict[str, set] = {"orders": set(), "attempts": set(), "notifications": set(), "topups": set(),
                                       "batches": set()}
        self._load()

    def _load(self) -> None:
        for row in self.db.execute("SELECT * FROM orders"):
            self._put_order(dict(row))
        for row in self.db.execute("SELECT channel, key, n FROM attempts"):
            self._attempts[(row["channel"], row["key"])] = row["n"]
        for row in self.db.execute("SELECT * FROM notifications"):
            note = dict(row)
            note["payload"] = json.loads(note["payload"])
            self._notifications[note["id"]] = note
            if note["delivered_at"] is None and not note["gave_up"]:
                heapq.heappush(self._due_heap, (note["due_at"], note["id"]))
        for row in self.db.execute("SELECT * FROM topups"):
            self._topups[row["serial"]] = dict(row)
        for row in self.db.execute("SELECT * FROM batches"):
            self._batches[(row["channel"], row["batch_no"])] = {**dict(row), "lines": json.loads(row["lines"])}
        self._next_id = max(self._notifications, default=0) + 1

    def _put_order(self, order: dict) -> None:
        key = (order["channel"], order["key"])
        self._orders[key] = order
        if order["state"] == PROCESSING:
            heapq.heappush(self._settle_heap, (order["settle_at"], *key))
        if order["state"] == SUCCESS and order["return_at"] is not None:
            heapq.heappush(self._return_heap, (order["return_at"], *key))

    def transaction(self):
        """``with store.transaction():`` — many changes seen by other threads all at once (holds the lock)."""
        return self.lock

    def flush(self) -> int:
        """Write the rows changed since the last flush to the SQLite file, in one transaction. Returns rows written."""
        with self.lock:
            dirty, self._dirty = self._dirty, {name: set() for name in self._dirty}
            orders = [tuple(self._orders[k][c] for c in ORDER_COLUMNS) for k in dirty["orders"]]
            attempts = [(*k, self._attempts[k]) for k in dirty["attempts"]]
            notes = [tuple(self._notifications[i][c] for c in NOTIFICATION_COLUMNS[:5]) + (self._payload_text(i),)
                     + tuple(self._notifications[i][c] for c in NOTIFICATION_COLUMNS[6:])
                     for i in dirty["notifications"]]
            topups = [tuple(self._topups[s].get(c, "") for c in TOPUP_COLUMNS) for s in dirty["topups"]]
            batches = [tuple(json.dumps(self._batches[k][c]) if c == "lines" else self._batches[k][c]
                             for c in BATCH_COLUMNS) for k in dirty["batches"]]
        if not (orders or attempts or notes or topups or batches):
            return 0
        with self._db_lock:
            self.db.execute("BEGIN")
            try:
                self.db.executemany(_upsert("orders", ORDER_COLUMNS), orders)
                self.db.executemany(_upsert("attempts", ("channel", "key", "n")), attempts)
                self.db.executemany(_upsert("notifications", NOTIFICATION_COLUMNS), notes)
                self.db.executemany(_upsert("topups", TOPUP_COLUMNS), topups)
                self.db.executemany(_upsert("batches", BATCH_COLUMNS), batches)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                with self.lock:  # written next time
                    for name, keys in dirty.items():
                        self._dirty[name] |= keys
                raise
        return len(orders) + len(attempts) + len(notes) + len(topups) + len(batches)

    def _payload_text(self, note_id: int) -> str:
        """The payload as stored (JSON), encoded once: a notification is written again when leased and answered."""
        note = self._notifications[note_id]
        if "_payload_text" not in note:
            note["_payload_text"] = json.dumps(note["payload"], ensure_ascii=False)
        return note["_payload_text"]

    def close(self) -> None:
        self.flush()
        with self._db_lock:
            self.db.close()

    # --- orders ------------------------------------------------------------------------------------------
    def order(self, channel: str, key: str) -> dict | None:
        with self.lock:
            order = self._orders.get((channel, key))
            return dict(order) if order else None

    def attempt(self, channel: str, key: str) -> int:
        """Count a submission attempt for (channel, key); returns the attempt number (1 for the first)."""
        with self.lock:
            n = self._attempts.get((channel, key), 0) + 1
            self._attempts[(channel, key)] = n
            self._dirty["attempts"].add((channel, key))
            return n

    def order_create(self, **fields) -> dict:
        order = {column: fields.get(column) for column in ORDER_COLUMNS}
        for column in ("fail_code", "fail_msg"):
            order[column] = order[column] or ""
        order["batch"] = order["batch"] or 0
        order["batch_no"] = order["batch_no"] or ""
        with self.lock:
            self._put_order(order)
            self._dirty["orders"].add((order["channel"], order["key"]))
            return dict(order)

    def order_update(self, channel: str, key: str, **fields) -> None:
        with self.lock:
            order = self._orders[(channel, key)]
            order.update(fields)
            if "return_at" in fields and fields["return_at"] is not None and order["state"] == SUCCESS:
                heapq.heappush(self._return_heap, (order["return_at"], channel, key))
            self._dirty["orders"].add((channel, key))

    def orders_to_settle(self, *, now: float, limit: int) -> list[dict]:
        """PROCESSING orders whose ``settle_at`` has come, earliest first."""
        found = []
        with self.lock:
            heap = self._settle_heap
            while heap and heap[0][0] <= now and len(found) < limit:
                _, channel, key = heapq.heappop(heap)
                order = self._orders.get((channel, key))
                if order and order["state"] == PROCESSING:
                    found.append(dict(order))
        return found

    def orders_to_return(self, *, now: float, limit: int) -> list[dict]:
        """Paid orders whose ``return_at`` has come."""
        found = []
        with self.lock:
            heap = self._return_heap
            while heap and heap[0][0] <= now and len(found) < limit:
                _, channel, key = heapq.heappop(heap)
                order = self._orders.get((channel, key))
                if order and order["state"] == SUCCESS and order["return_at"] is not None:
                    found.append(dict(order))
        return found

    def orders_finished_between(self, channel: str, start: float, end: float) -> list[dict]:
        """Orders of ``channel`` finished or returned in [start, end), by finish time and key (statement files)."""
        with self.lock:
            rows = [dict(o) for o in self._orders.values() if o["channel"] == channel and (
                (o["finished_at"] is not None and start <= o["finished_at"] < end)
                or (o["returned_at"] is not None and start <= o["returned_at"] < end))]
        return sorted(rows, key=lambda o: (o["finished_at"] or 0, o["key"]))

    # --- batches -----------------------------------------------------------------------------------------
    def batch(self, channel: str, batch_no: str) -> dict | None:
        with self.lock:
            batch = self._batches.get((channel, batch_no))
            return {**batch, "lines": [list(line) for line in batch["lines"]]} if batch else None

    def batch_create(self, *, channel: str, batch_no: str, batch_trans_id: str, request_hash: str, created_at: float,
                     lines: list[list]) -> None:
        with self.lock:
            self._batches[(channel, batch_no)] = {
                "channel": channel, "batch_no": batch_no, "batch_trans_id": batch_trans_id,
                "request_hash": request_hash, "created_at": created_at, "lines": [list(line) for line in lines]}
            self._dirty["batches"].add((channel, batch_no))

    # --- notifications -----------------------------------------------------------------------------------
    def notify(self, *, channel: str, kind: str, notify_id: str, url: str, payload: dict, due_at: float) -> None:
        with self.lock:
            note_id = self._next_id
            self._next_id += 1
            self._notifications[note_id] = {
                "id": note_id, "channel": channel, "kind": kind, "notify_id": notify_id, "url": url,
                "payload": dict(payload), "due_at": due_at, "attempts": 0, "delivered_at": None, "last_status": None,
                "gave_up": 0}
            heapq.heappush(self._due_heap, (due_at, note_id))
            self._dirty["notifications"].add(note_id)

    def due_notifications(self, *, now: float, limit: int = 200, lease_seconds: float = 60) -> list[dict]:
        """Claim due notifications, earliest first (leased so no other sender takes them while in flight)."""
        rows = []
        with self.lock:
            heap = self._due_heap
            while heap and heap[0][0] <= now and len(rows) < limit:
                due_at, note_id = heapq.heappop(heap)
                note = self._notifications[note_id]
                if note["delivered_at"] is not None or note["gave_up"] or note["due_at"] != due_at:
                    continue  # delivered, given up or rescheduled since this entry was queued
                rows.append(dict(note))
                note["due_at"] = now + lease_seconds
                heapq.heappush(heap, (note["due_at"], note_id))
                self._dirty["notifications"].add(note_id)
        return rows

    def notification_delivered(self, note_id: int, *, at: float, status: int) -> None:
        with self.lock:
            note = self._notifications[note_id]
            note.update(delivered_at=at, attempts=note["attempts"] + 1, last_status=status)
            self._dirty["notifications"].add(note_id)

    def notification_failed(self, note_id: int, *, attempts: int, status: int, retry_at: float | None) -> None:
        """A delivery that was not acknowledged: retried at ``retry_at``, or given up when it is None."""
        with self.lock:
            note = self._notifications[note_id]
            note.update(attempts=attempts, last_status=status)
            if retry_at is None:
                note["gave_up"] = 1
            else:
                note["due_at"] = retry_at
                heapq.heappush(self._due_heap, (retry_at, note_id))
            self._dirty["notifications"].add(note_id)

    def notifications(self) -> list[dict]:
        with self.lock:
            return [{k: v for k, v in n.items() if k not in ("payload", "_payload_text", "url", "due_at")}
                    for _, n in sorted(self._notifications.items())]

    # --- top-ups -----------------------------------------------------------------------------------------
    def topup_add(self, row: dict) -> None:
        with self.lock:
            self._topups[row["serial"]] = {column: row.get(column, "") for column in TOPUP_COLUMNS}
            self._dirty["topups"].add(row["serial"])

    def topup(self, serial: str) -> dict | None:
        """A credit that is not itself a reversal."""
        with self.lock:
            row = self._topups.get(serial)
            return dict(row) if row and not row["reverses"] else None

    def topups_on(self, day: str) -> list[dict]:
        with self.lock:
            rows = [dict(r) for r in self._topups.values() if r["day"] == day]
        return sorted(rows, key=lambda r: (r["at"], r["serial"]))

    def stats(self) -> dict:
        with self.lock:
            orders: dict[str, int] = {}
            for order in self._orders.values():
                orders[order["state"]] = orders.get(order["state"], 0) + 1
            delivered = sum(1 for n in self._notifications.values() if n["delivered_at"] is not None)
            pending = sum(1 for n in self._notifications.values() if n["delivered_at"] is None and not n["gave_up"])
        return {"orders": orders, "notifications_delivered": delivered, "notifications_pending": pending,
                "at": time.time()}
