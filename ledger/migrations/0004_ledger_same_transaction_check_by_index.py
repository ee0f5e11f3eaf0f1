"""The statement trigger that keeps every posting on an entry of its own transaction probes the entries by primary
key, one index lookup per new entry, whatever the statistics say.

0003's query joined the statement's new postings to ``ledger_journalentry``; right after a bulk load the planner
believes the journal nearly empty and nests a scan of the *whole* journal inside the new postings (or the other
way round): measured on the payout round trip, a 3,000-posting COPY took 44 ms on the first settlement and 1.1 s
on the tenth — quadratic in the journal's size. Here the distinct entry ids of the new postings drive a LATERAL
probe behind an optimisation fence (``OFFSET 0``, so it cannot be flattened into a join), and the function runs
with sequential scans off, so each probe is the primary-key index. The rule itself is unchanged.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION ledger_postings_same_transaction() RETURNS trigger
    SET enable_seqscan = off
AS $$
DECLARE
    foreign_entry bigint;
BEGIN
    SELECT n.entry_id INTO foreign_entry
        FROM (SELECT DISTINCT entry_id FROM new_postings) n
        CROSS JOIN LATERAL (SELECT e.created_txid FROM ledger_journalentry e WHERE e.id = n.entry_id OFFSET 0) e
        WHERE e.created_txid <> txid_current() LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % was written by an earlier transaction: postings cannot be added to it, post a correcting entry instead',
            foreign_entry USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

REVERSE = """
CREATE OR REPLACE FUNCTION ledger_postings_same_transaction() RETURNS trigger AS $$
DECLARE
    foreign_entry bigint;
BEGIN
    SELECT e.id INTO foreign_entry FROM new_postings n JOIN ledger_journalentry e ON e.id = n.entry_id
        WHERE e.created_txid <> txid_current() LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % was written by an earlier transaction: postings cannot be added to it, post a correcting entry instead',
            foreign_entry USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
ALTER FUNCTION ledger_postings_same_transaction() RESET ALL;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_ledger_balance_check_once_per_transaction")]
    operations = [migrations.RunPython(forward, reverse)]
