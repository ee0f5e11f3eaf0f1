"""Set-based row updates: many rows, different values per row, one statement per 1,000 rows.

Django's ``bulk_update`` builds ``CASE WHEN id = … THEN …`` per field, whose cost grows with the square of the rows
in a statement; on PostgreSQL this writes ``UPDATE t SET … FROM (VALUES …) AS v WHERE t.id = v.id`` instead.
Elsewhere (SQLite in tests) it falls back to ``bulk_update``. Bypasses model ``save()`` (and so FSM protection):
callers have already run the transitions on the instances and pass the resulting values.
"""

from __future__ import annotations

from django.db import connection


def update_rows(model, instances, fields: list[str], *, chunk: int = 1000) -> int:
    """Write ``fields`` of ``instances`` (saved rows of ``model``) back to the database. Returns rows written."""
    instances = list(instances)
    if not instances:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_update(instances, fields, batch_size=500)
        return len(instances)
    meta = model._meta
    pk = meta.pk
    targets = [meta.get_field(name) for name in fields]
    casts = [pk.db_type(connection)] + [field.db_type(connection) for field in targets]
    row_sql = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    names = ", ".join(connection.ops.quote_name(c) for c in [pk.column] + [f.column for f in targets])
    assign = ", ".join(f"{connection.ops.quote_name(f.column)} = v.{connection.ops.quote_name(f.column)}"
                       for f in targets)
    table = connection.ops.quote_name(meta.db_table)
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(instances), chunk):
            part = instances[start:start + chunk]
            params = []
            for obj in part:
                params.append(obj.pk)
                for field in targets:
                    params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
            cursor.execute(f"UPDATE {table} AS t SET {assign} FROM (VALUES {', '.join([row_sql] * len(part))}) "
                           f"AS v({names}) WHERE t.{connection.ops.quote_name(pk.column)} = "
                           f"v.{connection.ops.quote_name(pk.column)}", params)
            written += cursor.rowcount
    return written
