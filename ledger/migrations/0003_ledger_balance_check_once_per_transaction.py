"""Make the PostgreSQL balance rule cheap enough for 100,000-line batches, without weakening it.

0002 checked every posting and every entry with its own row trigger at commit (one aggregate per row: 300,000
of them for a 100,000-line batch). Now the same rule costs one aggregate per transaction:

- every entry records the transaction that wrote it (``created_txid``, default ``txid_current()``: the top-level
  transaction id, also inside a savepoint; the column exists on PostgreSQL only and Django never reads it);
- a statement-level trigger refuses postings added to an entry written by an *earlier* transaction, so all of an
  entry's postings come from the transaction that creates it;
- a statement-level trigger on entries puts a marker row for the transaction into ``ledger_balance_check``, and
  the DEFERRABLE INITIALLY DEFERRED constraint trigger on that marker checks, at commit, every entry the
  transaction wrote (≥ 2 postings, sum 0) in one aggregate, then removes the marker. It remembers how far it got
  (``ledger.checked_upto``, transaction-local), so after ``SET CONSTRAINTS … IMMEDIATE`` mid-transaction the
  entries written later (higher ids, a new marker) are still checked at commit.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE ledger_journalentry ADD COLUMN IF NOT EXISTS created_txid bigint NOT NULL DEFAULT txid_current();
CREATE INDEX IF NOT EXISTS ledger_entry_created_txid ON ledger_journalentry (created_txid, id);

DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_journalentry;

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

DROP TRIGGER IF EXISTS ledger_posting_same_transaction ON ledger_posting;
CREATE TRIGGER ledger_posting_same_transaction AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_same_transaction();

CREATE TABLE IF NOT EXISTS ledger_balance_check (txid bigint PRIMARY KEY);

CREATE OR REPLACE FUNCTION ledger_mark_transaction() RETURNS trigger AS $$
BEGIN
    INSERT INTO ledger_balance_check (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS ledger_entry_mark_transaction ON ledger_journalentry;
CREATE TRIGGER ledger_entry_mark_transaction AFTER INSERT ON ledger_journalentry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_mark_transaction();

CREATE OR REPLACE FUNCTION ledger_entries_must_balance() RETURNS trigger AS $$
DECLARE
    checked bigint := COALESCE(NULLIF(current_setting('ledger.checked_upto', true), ''), '0')::bigint;
    bad record;
    upto bigint;
BEGIN
    -- LATERAL keeps it to one index probe per entry of this transaction: right after a bulk insert the
    -- statistics are stale and a merge join would walk the whole posting index.
    SELECT e.id, s.total, s.lines INTO bad
        FROM ledger_journalentry e
        CROSS JOIN LATERAL (SELECT COALESCE(SUM(p.amount_fen), 0) AS total, COUNT(*) AS lines
                            FROM ledger_posting p WHERE p.entry_id = e.id) s
        WHERE e.created_txid = NEW.txid AND e.id > checked AND (s.total <> 0 OR s.lines < 2)
        ORDER BY e.id LIMIT 1;
    IF FOUND THEN
        IF bad.lines < 2 THEN
            RAISE EXCEPTION 'ledger entry % has % posting(s); an entry needs at least two', bad.id, bad.lines
                USING ERRCODE = '23514';
        END IF;
        RAISE EXCEPTION 'ledger entry % does not balance: its postings sum to % fen, not 0', bad.id, bad.total
            USING ERRCODE = '23514';
    END IF;
    SELECT MAX(id) INTO upto FROM ledger_journalentry WHERE created_txid = NEW.txid;
    PERFORM set_config('ledger.checked_upto', COALESCE(upto, 0)::text, true);
    DELETE FROM ledger_balance_check WHERE txid = NEW.txid;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_balance_check;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_balance_check
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entries_must_balance();
"""

REVERSE = """
DROP TRIGGER IF EXISTS ledger_entries_balanced ON ledger_balance_check;
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_entries_must_balance();
DROP TRIGGER IF EXISTS ledger_entry_mark_transaction ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_mark_transaction();
DROP TABLE IF EXISTS ledger_balance_check;
DROP TRIGGER IF EXISTS ledger_posting_same_transaction ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_postings_same_transaction();
DROP INDEX IF EXISTS ledger_entry_created_txid;
ALTER TABLE ledger_journalentry DROP COLUMN IF EXISTS created_txid;
CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();
CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_ledger_database_rules")]
    operations = [migrations.RunPython(forward, reverse)]
