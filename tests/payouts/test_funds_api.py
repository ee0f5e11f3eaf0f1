import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.testing.factories import EnterpriseUserFactory
from core.testing.ledger import fund
from ledger import services as ledger_services
from payouts.models import TopUpAccount

pytestmark = pytest.mark.django_db


def test_funds_api_with_a_staff_session(merchant, enterprise_admin, now):
    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    fund(merchant, 1234_56, now=now)
    ledger_services.merchant_funds_freeze(merchant=merchant, amount_fen=34_56, kind="payout.freeze", ref="o1", now=now)
    client = APIClient()
    client.force_authenticate(enterprise_admin)
    data = client.get("/api/v1/funds/").json()
    assert data["available"] == "1200.00" and data["frozen"] == "34.56"
    assert data["topup_account"]["account_number"] == TopUpAccount.objects.get(merchant=merchant).account_number
    movements = client.get("/api/v1/funds/movements/").json()
    assert [m["amount"] for m in movements["results"]] == ["-34.56", "1234.56"]
    frozen = client.get("/api/v1/funds/movements/", {"account": "frozen"}).json()
    assert [m["balance_after"] for m in frozen["results"]] == ["34.56"]
    bad = client.get("/api/v1/funds/movements/", {"from": "2026-13-01"})
    assert bad.status_code == 400 and bad.json()["code"] == "validation_failed"


def test_funds_api_with_a_signed_api_key_sees_only_its_tenant(merchant, other_merchant, enterprise_admin, now):
    from merchants.api_auth import sign_request
    from merchants.services import api_key_create

    for m in (merchant, other_merchant):
        ledger_services.merchant_accounts_open(merchant=m, now=now)
    fund(other_merchant, 999_00, now=now)
    key, secret = api_key_create(merchant=merchant, actor=enterprise_admin, label="ERP", now=timezone.now())
    client = APIClient()
    headers = sign_request(secret=secret, key_id=key.key_id, method="GET", path="/api/v1/funds/", body=b"")
    data = client.get("/api/v1/funds/", headers=headers).json()
    assert data["available"] == "0.00"
    other_admin = EnterpriseUserFactory(merchant=other_merchant)
    client.force_authenticate(other_admin)
    assert client.get("/api/v1/funds/").json()["available"] == "999.00"
    assert APIClient().get("/api/v1/funds/").status_code in (401, 403)
