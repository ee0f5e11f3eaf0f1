"""``field__any=[…]``: membership in a long list as ONE array parameter on PostgreSQL (``col = ANY(%s)``).

Django's ``__in`` writes one placeholder per value and prepares each value in Python; with the 5,000-value lists
of a payout batch that costs more than the query (psycopg splits the SQL text on every placeholder). ``__any``
sends the list as one array, uses the same index (a ScalarArrayOp scan) and falls back to ``IN`` elsewhere.
Values are passed as they are: give it plain ints or strings of the column's type.
"""

from __future__ import annotations

from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # related fields keep their own lookup table
