"""On PostgreSQL the database itself keeps the journal honest:

- a DEFERRABLE INITIALLY DEFERRED constraint trigger checks, at commit, that every entry touched by the
  transaction has at least two postings and that they sum to zero (hordak's approach);
- a trigger refuses UPDATE and DELETE of entries and postings: the journal is append-only, corrections are new
  entries. (TRUNCATE, which Django's test flush uses, fires no row triggers.)

SQLite, the embedded default, gets neither; the same rules are checked in ``ledger.services`` and by
``ledger_check``.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION ledger_entry_must_balance() RETURNS trigger AS $$
DECLARE
    target bigint;
    total numeric;
    lines integer;
BEGIN
    IF TG_TABLE_NAME = 'ledger_posting' THEN
        target := NEW.entry_id;
    ELSE
        target := NEW.id;
    END IF;
    SELECT COALESCE(SUM(amount_fen), 0), COUNT(*) INTO total, lines FROM ledger_posting WHERE entry_id = target;
    IF lines < 2 THEN
        RAISE EXCEPTION 'ledger entry % has % posting(s); an entry needs at least two', target, lines
            USING ERRCODE = '23514';
    END IF;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger entry % does not balance: its postings sum to % fen, not 0', target, total
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;
CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_journalentry;
CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();

CREATE OR REPLACE FUNCTION ledger_journal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the journal is append-only, post a correcting entry instead',
        TG_OP, TG_TABLE_NAME USING ERRCODE = '42501';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS ledger_posting_no_change ON ledger_posting;
CREATE TRIGGER ledger_posting_no_change BEFORE UPDATE OR DELETE ON ledger_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_append_only();
DROP TRIGGER IF EXISTS ledger_entry_no_change ON ledger_journalentry;
CREATE TRIGGER ledger_entry_no_change BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS ledger_entry_no_change ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_posting_no_change ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_journal_append_only();
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_journalentry;
DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting;
DROP FUNCTION IF EXISTS ledger_entry_must_balance();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
