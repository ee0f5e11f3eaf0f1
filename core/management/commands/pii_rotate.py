from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core.pii import EncryptedTextField, decrypt, encrypt, key_id_of


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field whose key id is not the active one (PII key rotation)."

    def handle(self, *args, **options):
        active = settings.PII_ACTIVE_KEY_ID
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in fields)
            changed = 0
            with transaction.atomic(), connection.cursor() as cursor:
                # Raw tokens, not decrypted values: only rows still under an old key id are rewritten.
                cursor.execute(f"SELECT {quote(model._meta.pk.column)}, {columns} FROM {quote(model._meta.db_table)}")
                for pk, *tokens in cursor.fetchall():
                    updates = {
                        field.attname: encrypt(decrypt(token))
                        for field, token in zip(fields, tokens, strict=True)
                        if token and key_id_of(token) != active
                    }
                    if updates:
                        model._base_manager.filter(pk=pk).update(**updates)
                        changed += 1
            total += changed
            if changed:
                self.stdout.write(f"{model._meta.label}: {changed} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"done: {total} rows re-encrypted with key {active!r}"))
