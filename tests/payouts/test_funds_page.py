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


def test_recent_incoming_transfers_are_listed_with_how_they_were_recognised(client, merchant, enterprise_admin, now):
    from payouts.services import IncomingTransferData, incoming_transfer_receive

    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    account = TopUpAccount.objects.get(merchant=merchant).account_number
    incoming_transfer_receive(data=IncomingTransferData(bank_serial="B-777", amount_fen=888_00, value_date=now.date(),
                                                        virtual_account=account), source="NOTIFICATION", now=now)
    client.force_login(enterprise_admin)
    html = client.get(reverse("enterprise:payouts-funds")).content.decode()
    assert "B-777" in html and "专属账号" in html and "已入账" in html


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


def test_finance_staff_register_a_payer_account_and_see_it_masked(client, merchant, enterprise_admin, now):
    from core.testing.factories import EnterpriseUserFactory
    from payouts.models import PayerAccount

    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    client.force_login(enterprise_admin)
    url = reverse("enterprise:payouts-payer-account-add")
    response = client.post(url, {"account_name": "天津快送同城配送有限公司", "account_number": "6222 0202 0011 2233 445",
                                 "bank_name": "工商银行"})
    assert response.status_code == 302
    payer = PayerAccount.objects.get()
    assert payer.merchant_id == merchant.pk
    page = client.get(reverse("enterprise:payouts-funds")).content.decode()
    assert "6222 **** **** 3445" in page and "6222020200112233445" not in page
    bad = client.post(url, {"account_name": "某公司", "account_number": "12AB"}, follow=True).content.decode()
    assert "8–32 位数字" in bad
    operator = EnterpriseUserFactory(merchant=merchant, role="ENT_OPERATOR")
    client.force_login(operator)
    assert "添加付款账户" not in client.get(reverse("enterprise:payouts-funds")).content.decode()
    client.post(url, {"account_name": "某公司", "account_number": "6222020200112233999"})
    assert PayerAccount.objects.count() == 1
