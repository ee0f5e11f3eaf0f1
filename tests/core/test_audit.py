import datetime as dt
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from core import audit
from core.models import AuditRecord

NOW = dt.datetime(2026, 3, 16, 10, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
class TestAuditChain:
    def test_records_link_into_a_verifiable_chain(self, merchant, enterprise_admin):
        first = audit.record(event="merchants.merchant.approved", now=NOW, actor=enterprise_admin, subject=merchant,
                             before={"status": "APPLYING"}, after={"status": "ACTIVE"}, ip="10.0.0.1")
        second = audit.record(event="core.test", now=NOW + dt.timedelta(seconds=1))
        assert first.prev_hash == audit.GENESIS
        assert second.prev_hash == first.hash
        assert first.merchant_id == merchant.pk
        assert first.actor_label == enterprise_admin.username
        report = audit.verify_chain()
        assert report.ok and report.checked == 2

    def test_worker_actor_label_has_no_personal_data(self, worker_user):
        row = audit.record(event="core.test", now=NOW, actor=worker_user)
        assert row.actor_label == f"worker:{worker_user.pk}"

    def test_a_changed_record_is_detected(self):
        audit.record(event="a", now=NOW)
        target = audit.record(event="b", now=NOW, after={"amount_fen": 100})
        audit.record(event="c", now=NOW)
        if connection.vendor == "postgresql":
            pytest.skip("on PostgreSQL the trigger refuses the change; see test_database_refuses_updates")
        AuditRecord.objects.filter(pk=target.pk).update(after={"amount_fen": 999})
        report = audit.verify_chain()
        assert not report.ok and report.broken_at == target.seq
        with pytest.raises(CommandError, match=f"#{target.seq}"):
            call_command("audit_verify")

    def test_a_deleted_record_breaks_the_link(self):
        audit.record(event="a", now=NOW)
        middle = audit.record(event="b", now=NOW)
        last = audit.record(event="c", now=NOW)
        if connection.vendor == "postgresql":
            pytest.skip("on PostgreSQL the trigger refuses the delete")
        AuditRecord.objects.filter(pk=middle.pk).delete()
        report = audit.verify_chain()
        assert not report.ok and report.broken_at == last.seq


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestAuditOnPostgres:
    def test_database_refuses_updates_and_deletes(self):
        row = audit.record(event="a", now=NOW)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditRecord.objects.filter(pk=row.pk).update(event="x")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditRecord.objects.filter(pk=row.pk).delete()

    def test_concurrent_writers_keep_one_unbroken_chain(self):
        errors = []

        def write(n):
            try:
                for i in range(10):
                    with transaction.atomic():
                        audit.record(event=f"t{n}.{i}", now=NOW)
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        report = audit.verify_chain()
        assert report.ok and report.checked == 80
