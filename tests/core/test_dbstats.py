"""Planner statistics refreshed when a table has doubled since its last ANALYZE (core.dbstats)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from accounts.models import SmsCode
from core import dbstats

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def pages_seen() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages FROM pg_class WHERE oid = %s::regclass", [SmsCode._meta.db_table])
        return cursor.fetchone()[0]


def add_codes(count: int, start: int) -> None:
    now = dt.datetime(2026, 3, 16, tzinfo=dt.UTC)
    SmsCode.objects.bulk_create([SmsCode(phone_index=f"p{start + i:012d}", purpose="LOGIN", code_hash="x" * 100,
                                         created_at=now, expires_at=now) for i in range(count)], batch_size=2000)


def test_a_table_that_doubled_is_analysed_and_one_that_did_not_is_left(monkeypatch):
    monkeypatch.setattr(dbstats, "MIN_PAGES", 8)
    add_codes(2000, 0)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {SmsCode._meta.db_table}")
    before = pages_seen()
    assert before >= 8
    add_codes(500, 2000)  # +25 %: left alone
    assert dbstats.analyze_if_grown(SmsCode, ["phone_index", "purpose"]) is False
    assert pages_seen() == before
    add_codes(3000, 2500)  # now 2.75 × the pages of the last ANALYZE
    assert dbstats.analyze_if_grown(SmsCode, ["phone_index", "purpose"]) is True
    assert pages_seen() > 2 * before


def test_a_small_table_is_never_analysed():
    add_codes(10, 0)
    assert dbstats.analyze_if_grown(SmsCode, ["phone_index"]) is False
