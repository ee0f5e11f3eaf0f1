"""Operations: import a statement file, work the unmatched queue, register payer accounts — all through services."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.testing.factories import UserFactory
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from payouts.models import IncomingTransfer, PayerAccount, StatementImport, TopUpAccount
from payouts.services import IncomingTransferData, incoming_transfer_receive
from tests.payouts.test_funding import DAY, statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    client.force_login(staff)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def upload(ops, content, name="0316.csv"):
    return ops.post("/ops/payouts/statementimport/upload/", {"file": SimpleUploadedFile(name, content)})


def test_statement_upload_with_a_bad_line_shows_its_line_and_imports_nothing(ops, merchant, now):
    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    account = TopUpAccount.objects.get(merchant=merchant).account_number
    bad = statement(f"2026-03-16,10:30:00,B001,贷,1500.00,1500.00,6222020200112233445,某公司,工行,{account},汇款,",
                    "2026-03-16,10:31:00,B002,存,1.00,1501.00,,某公司,工行,,汇款,")
    page = upload(ops, bad).content.decode()
    assert "第 6 行“借贷标志”" in page and "<td>6</td>" in page
    assert IncomingTransfer.objects.count() == 0 and StatementImport.objects.count() == 0
    good = statement(f"2026-03-16,10:30:00,B001,贷,1500.00,1500.00,6222020200112233445,某公司,工行,{account},汇款,")
    assert upload(ops, good).status_code == 302
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 1500_00
    assert "0316.csv" in ops.get("/ops/payouts/statementimport/").content.decode()


def test_queue_actions_match_and_return_through_services(ops, merchant, now):
    first, _ = incoming_transfer_receive(data=IncomingTransferData(bank_serial="Q1", amount_fen=300_00, value_date=DAY),
                                         source="STATEMENT", now=now)
    second, _ = incoming_transfer_receive(data=IncomingTransferData(bank_serial="Q2", amount_fen=5_00, value_date=DAY),
                                          source="STATEMENT", now=now)
    listing = ops.get("/ops/payouts/incomingtransfer/?status__exact=UNMATCHED").content.decode()
    assert "Q1" in listing and "Q2" in listing
    form = ops.post("/ops/payouts/incomingtransfer/", {"action": "match_to_merchant", "_selected_action": [first.pk]})
    assert "认领来账" in form.content.decode()
    ops.post("/ops/payouts/incomingtransfer/", {"action": "match_to_merchant", "_selected_action": [first.pk],
                                                "apply": "1", "merchant": merchant.pk})
    first.refresh_from_db()
    assert first.status == IncomingTransfer.Status.MATCHED and first.match_method == "MANUAL"
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 300_00
    ops.post("/ops/payouts/incomingtransfer/", {"action": "return_to_payer", "_selected_action": [second.pk],
                                                "apply": "1", "reason": "非平台企业付款"})
    second.refresh_from_db()
    assert second.status == IncomingTransfer.Status.RETURNED
    # Fields cannot be edited directly.
    ops.post(f"/ops/payouts/incomingtransfer/{first.pk}/change/", {"amount_fen": 1})
    first.refresh_from_db()
    assert first.amount_fen == 300_00


def test_payer_account_registration_form(ops, merchant):
    ops.post("/ops/payouts/payeraccount/register/", {"merchant": merchant.pk, "account_name": "某公司",
                                                     "account_number": "6222020200112233445", "bank_name": "工行"})
    payer = PayerAccount.objects.get()
    assert payer.account_number == "6222020200112233445"
    page = ops.get("/ops/payouts/payeraccount/").content.decode()
    assert "6222 **** **** 3445" in page and "6222020200112233445" not in page
