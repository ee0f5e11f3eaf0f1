"""Room on each page of the cumulative-state table, so the update after every withholding is a heap-only (HOT)
update: none of its indexed columns (worker, entity, year) changes, and with free space on the page PostgreSQL
writes no index entry at all. Pages written from now on keep 30 % free; existing ones fill as they are rewritten."""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tax_taxaccount SET (fillfactor = 70)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tax_taxaccount RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [("tax", "0002_rule_sets")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
