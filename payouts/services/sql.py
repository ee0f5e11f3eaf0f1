"""Set-based row updates: many rows, different values per row, one statement per 1,000 rows.

Django's ``bulk_update`` builds ``CASE WHEN id = … THEN …`` per field, whose cost grows with the square of the rows
in a statement; on PostgreSQL this writes ``UPDATE t SET … FROM unnest(<one array per column>) AS v WHERE t.id = v.id``
instead.
Elsewhere (SQLite in tests) it falls back to ``bulk_update``. Bypasses model ``save()`` (and so FSM protection):
callers have already run the transitions on the instances and pass the resulting values.
"""

from __future__ import annotations

import time
from operator import attrgetter
from types import SimpleNamespace

from django.db import connection
from django.utils import timezone

# Seconds and statements spent in COPY by this process (the benchmark reads them; COPY bypasses execute wrappers).
COPY_STATS = {"seconds": 0.0, "statements": 0}


def update_rows(model, instances, fields: list[str], *, chunk: int = 10000) -> int:
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
    quote = connection.ops.quote_name
    # one array parameter per column (unnest), not one placeholder per value: psycopg's query conversion and the
    # server's parse stay constant in the number of rows
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in [pk, *targets])
    names = ", ".join(quote(c) for c in [pk.column] + [f.column for f in targets])
    assign = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in targets)
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assign} FROM unnest({arrays}) AS v({names}) "
           f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}")
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(instances), chunk):
            part = instances[start:start + chunk]
            params = [[obj.pk for obj in part]]
            for field in targets:
                params.append([field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in part])
            cursor.execute(sql, params)
            written += cursor.rowcount
    return written


def new_rows(model, rows) -> list[SimpleNamespace]:
    """New rows of ``model`` as plain objects carrying every column's attribute (defaults filled in), for
    ``copy_insert``. A model instance costs ~100 µs to create (field defaults, descriptors, FSM protection, init
    signals) — more than the rest of a batch line's work; these cost ~5 µs. Give foreign keys by ``attname``
    (``merchant_id``)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    made = [f for f in fields if f.has_default() and callable(f.default)]  # a fresh list/dict per row
    fixed = {f.attname: f.get_default() for f in fields if f not in made}  # constants (None, "" or the default)
    out = []
    for row in rows:
        values = fixed | row
        for f in made:
            if f.attname not in row:
                values[f.attname] = f.get_default()
        out.append(SimpleNamespace(**values))
    return out


def copy_insert(model, instances, *, chunk: int = 20000) -> int:
    """Insert new rows of ``model`` with PostgreSQL's COPY (the physical floor for bulk writes); ``bulk_create``
    elsewhere. Instances get no primary key back — use it for rows read back by query, not by reference.

    Values are taken as they are on the instances (plain numbers, strings, dates, Decimals, dicts/lists for JSON
    fields); ``auto_now``/``auto_now_add`` fields are filled by their ``pre_save``. Encrypted and other custom
    fields go through their own ``get_db_prep_save``."""
    from django.db.models import JSONField
    from psycopg.types.json import Jsonb

    instances = list(instances)
    if not instances:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create([obj if isinstance(obj, model) else model(**vars(obj)) for obj in instances],
                                  batch_size=2000)
        return len(instances)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f is meta.pk and getattr(f, "db_returning", False))]
    plain = {"CharField", "TextField", "BigIntegerField", "IntegerField", "PositiveIntegerField",
             "PositiveSmallIntegerField", "SmallIntegerField", "BooleanField", "DateField", "DecimalField",
             "ForeignKey", "OneToOneField", "FSMField"}
    special = []  # (position, getter) of the columns whose value is not the attribute as it is
    stamp = timezone.now()  # one time for every row of the call, as ``pre_save`` would give each (auto_now)

    def stamped(obj, name):
        setattr(obj, name, stamp)
        return stamp

    for position, f in enumerate(fields):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            special.append((position, lambda obj, name=f.attname: stamped(obj, name)))
        elif isinstance(f, JSONField):
            special.append((position, lambda obj, f=f: None if getattr(obj, f.attname) is None
                            else Jsonb(getattr(obj, f.attname))))
        elif type(f).__name__ in plain or f.get_internal_type() in ("DateTimeField",):
            continue
        else:  # FileField, encrypted fields, …: the field prepares its own value
            special.append((position, lambda obj, f=f: f.get_db_prep_save(f.pre_save(obj, True), connection)))
    plain_values = attrgetter(*[f.attname for f in fields])  # every attribute in one call; the special ones replaced

    def row_of(obj) -> list:
        row = list(plain_values(obj))
        for position, get in special:
            row[position] = get(obj)
        return row

    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(meta.db_table)
    types = [_copy_type(f) for f in fields]
    connection.ensure_connection()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for start in range(0, len(instances), chunk):
            rows = [row_of(obj) for obj in instances[start:start + chunk]]
            began = time.perf_counter()
            # binary: the values go as PostgreSQL's own representations (psycopg's C dumpers), nothing to parse
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            COPY_STATS["seconds"] += time.perf_counter() - began
            COPY_STATS["statements"] += 1
    return len(instances)


def _copy_type(field) -> str:
    """The PostgreSQL type name a binary COPY declares for ``field``'s column ("varchar(32)" → "varchar")."""
    name = field.db_type(connection).split("(")[0].strip().lower()
    return {"timestamp with time zone": "timestamptz", "double precision": "float8"}.get(name, name)
