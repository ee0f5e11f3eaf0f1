"""Planner statistics kept fresh where a job writes faster than autovacuum analyses a table.

A table that was analysed while small (a new installation, a new year's tax accounts) and then grows by a large
batch in seconds keeps its old statistics until autovacuum gets to it (a minute or more). Meanwhile the planner
believes the table is tiny and reads, say, "this enterprise's withholdings" by its (merchant, kind) prefix and filters
the 1,000 references, instead of looking the references up: every dispatch chunk of a 100,000-line batch then
read all the rows written before it (100 ms a chunk by the end, measured in docs/benchmarks.md).
``analyze_if_grown`` compares the table's size now with its size at the last ANALYZE and refreshes the statistics
of the columns that queries filter on when it has at least doubled.
"""

from __future__ import annotations

from django.db import connection

MIN_PAGES = 128  # 1 MB: below this a table's plans do not matter


def analyze_if_grown(model, columns: list[str], *, factor: float = 2.0) -> bool:
    """PostgreSQL: ANALYZE ``model``'s table (only ``columns``) when it holds ``factor`` × the pages it held at its
    last ANALYZE (and at least ``MIN_PAGES``). Returns whether it did. Cheap when it does not: one catalogue read
    (the size now is the file's, always current)."""
    if connection.vendor != "postgresql":
        return False
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages, pg_relation_size(oid) / current_setting('block_size')::int "
                       "FROM pg_class WHERE oid = %s::regclass", [table])
        analysed, now = cursor.fetchone()
        if now < MIN_PAGES or now < factor * max(analysed, 1):
            return False
        names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)} ({names})")
    return True
