import pytest
from django.urls import reverse

from core.testing.factories import EnterpriseUserFactory
from core.testing.ledger import fund
from ledger import services as ledger_services
from payouts.models import TopUpAccount

pytestmark = pytest.mark.django_db


def test_funds_page_shows_balance_virtual_account_and_movements(client, merchant, enterprise_admin, now):
    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    fund(merchant, 1234_56, now=now)
    client.force_login(enterprise_admin)
    response = client.get(reverse("enterprise:payouts-funds"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "¥1,234.56" in html
    assert TopUpAccount.objects.get(merchant=merchant).account_number in html
    assert "+¥1,234.56" in html
    assert "<polyline" in html


def test_another_enterprise_sees_only_its_own_funds(client, merchant, other_merchant, now):
    for m in (merchant, other_merchant):
        ledger_services.merchant_accounts_open(merchant=m, now=now)
    fund(merchant, 999_99, now=now)
    other_user = EnterpriseUserFactory(merchant=other_merchant)
    client.force_login(other_user)
    html = client.get(reverse("enterprise:payouts-funds")).content.decode()
    assert "999.99" not in html
    assert TopUpAccount.objects.get(merchant=merchant).account_number not in html
    assert TopUpAccount.objects.get(merchant=other_merchant).account_number in html


def test_funds_page_needs_an_enterprise_login(client, worker_user):
    response = client.get(reverse("enterprise:payouts-funds"))
    assert response.status_code == 302
    client.force_login(worker_user)
    assert client.get(reverse("enterprise:payouts-funds")).status_code == 302


def test_movements_can_be_filtered_by_account_and_date(client, merchant, enterprise_admin, now):
    import datetime as dt

    from ledger.services import merchant_funds_freeze

    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    fund(merchant, 100_00, now=now - dt.timedelta(days=3))
    merchant_funds_freeze(merchant=merchant, amount_fen=30_00, kind="payout.freeze", ref="o1", now=now)
    client.force_login(enterprise_admin)
    frozen = client.get(reverse("enterprise:payouts-funds"), {"account": "frozen"}).content.decode()
    assert "付款冻结" in frozen and "+¥30.00" in frozen
    recent = client.get(reverse("enterprise:payouts-funds"),
                        {"from": now.date().isoformat(), "to": "not-a-date"}).content.decode()
    assert "-¥30.00" in recent and "+¥100.00" not in recent
