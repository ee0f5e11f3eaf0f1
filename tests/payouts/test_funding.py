import datetime as dt

import pytest

from core.exceptions import NotFound, ValidationFailed
from core.testing.factories import MerchantFactory
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger.models import AccountKind, JournalEntry, LedgerAccount
from payouts.exceptions import (
    IncomingTransferConflict,
    StatementAlreadyImported,
    StatementFileInvalid,
    TransferNotUnmatched,
)
from payouts.models import IncomingTransfer, StatementImport, TopUpAccount
from payouts.services import (
    IncomingTransferData,
    incoming_transfer_match,
    incoming_transfer_receive,
    incoming_transfer_return,
    payer_account_register,
    statement_import,
)
from payouts.services.funding import luhn_valid, reference_code, topup_account_number

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 16)


@pytest.fixture
def topup(merchant, now):
    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    return TopUpAccount.objects.get(merchant=merchant)


def data(serial="S0001", amount_fen=1500_00, **kwargs):
    return IncomingTransferData(bank_serial=serial, amount_fen=amount_fen, value_date=DAY, **kwargs)


def suspense_fen():
    account = LedgerAccount.objects.filter(kind=AccountKind.SUSPENSE).first()
    return account.balance_fen if account else 0


def test_opening_accounts_gives_a_virtual_account_with_a_check_digit(merchant, topup):
    assert topup.account_number == topup_account_number(merchant.pk)
    assert len(topup.account_number) == 17 and luhn_valid(topup.account_number)
    assert topup.reference_code == reference_code(merchant.pk)
    assert not luhn_valid(topup.account_number[:-1] + str((int(topup.account_number[-1]) + 1) % 10))


def test_transfer_to_the_virtual_account_is_credited(merchant, topup, now):
    transfer, created = incoming_transfer_receive(data=data(virtual_account=topup.account_number),
                                                  source="NOTIFICATION", now=now)
    assert created and transfer.status == IncomingTransfer.Status.MATCHED
    assert transfer.match_method == IncomingTransfer.MatchMethod.VIRTUAL_ACCOUNT
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 1500_00
    custody = LedgerAccount.objects.get(kind=AccountKind.CUSTODY_BANK)
    assert custody.balance_fen == 1500_00


def test_reference_in_the_postscript_is_recognised(merchant, topup, now):
    transfer, _ = incoming_transfer_receive(data=data(postscript=f"货款 {topup.reference_code[:4]} {topup.reference_code[4:]}"),
                                            source="STATEMENT", now=now)
    assert transfer.merchant_id == merchant.pk
    assert transfer.match_method == IncomingTransfer.MatchMethod.REFERENCE


def test_registered_payer_account_and_name_are_recognised(merchant, topup, enterprise_admin, now):
    payer_account_register(merchant=merchant, account_name="天津快送同城配送有限公司",
                           account_number="6222 0202 0011 2233 445", actor=enterprise_admin, now=now)
    transfer, _ = incoming_transfer_receive(
        data=data(payer_account_number="6222020200112233445", payer_account_name="天津快送同城配送有限公司"),
        source="STATEMENT", now=now)
    assert transfer.match_method == IncomingTransfer.MatchMethod.PAYER
    # The same account with another name is not enough.
    other, _ = incoming_transfer_receive(
        data=data("S0002", payer_account_number="6222020200112233445", payer_account_name="别的公司"),
        source="STATEMENT", now=now)
    assert other.status == IncomingTransfer.Status.UNMATCHED


def test_payer_account_registration_checks_its_input(merchant, enterprise_admin, now):
    with pytest.raises(ValidationFailed, match="8–32 位数字"):
        payer_account_register(merchant=merchant, account_name="某公司", account_number="12AB", actor=enterprise_admin,
                               now=now)


def test_duplicate_notification_posts_once(merchant, topup, now):
    first, created = incoming_transfer_receive(data=data(virtual_account=topup.account_number), source="NOTIFICATION",
                                               now=now)
    again, created_again = incoming_transfer_receive(data=data(virtual_account=topup.account_number),
                                                     source="STATEMENT", now=now)
    assert created and not created_again and again.pk == first.pk
    assert JournalEntry.objects.filter(kind="funding.incoming").count() == 1
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 1500_00


def test_same_serial_with_another_amount_is_a_conflict(merchant, topup, now):
    incoming_transfer_receive(data=data(virtual_account=topup.account_number), source="NOTIFICATION", now=now)
    with pytest.raises(IncomingTransferConflict):
        incoming_transfer_receive(data=data(amount_fen=1, virtual_account=topup.account_number), source="STATEMENT",
                                  now=now)
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 1500_00


def test_unmatched_transfer_waits_in_the_queue_then_is_matched(merchant, topup, ops_user, now):
    transfer, _ = incoming_transfer_receive(data=data(virtual_account="99999999999999999", postscript="货款"),
                                            source="STATEMENT", now=now)
    assert transfer.status == IncomingTransfer.Status.UNMATCHED
    assert suspense_fen() == 1500_00
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 0
    from payouts.selectors import unmatched_transfer_queue

    assert list(unmatched_transfer_queue()) == [transfer]
    incoming_transfer_match(transfer_id=transfer.pk, merchant=merchant, actor=ops_user, now=now)
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 1500_00
    assert suspense_fen() == 0
    assert list(unmatched_transfer_queue()) == []
    with pytest.raises(TransferNotUnmatched):
        incoming_transfer_match(transfer_id=transfer.pk, merchant=merchant, actor=ops_user, now=now)
    with pytest.raises(TransferNotUnmatched):
        incoming_transfer_return(transfer_id=transfer.pk, reason="x", actor=ops_user, now=now)


def test_unmatched_transfer_can_be_returned(ops_user, now):
    transfer, _ = incoming_transfer_receive(data=data(), source="STATEMENT", now=now)
    with pytest.raises(ValidationFailed, match="退回原因"):
        incoming_transfer_return(transfer_id=transfer.pk, reason=" ", actor=ops_user, now=now)
    incoming_transfer_return(transfer_id=transfer.pk, reason="付款方非平台企业", actor=ops_user, now=now)
    transfer.refresh_from_db()
    assert transfer.status == IncomingTransfer.Status.RETURNED
    assert suspense_fen() == 0
    assert LedgerAccount.objects.get(kind=AccountKind.CUSTODY_BANK).balance_fen == 0
    with pytest.raises(NotFound):
        incoming_transfer_return(transfer_id=10**9, reason="x", actor=ops_user, now=now)


def test_payer_pii_is_encrypted_at_rest(now):
    from django.db import connection

    incoming_transfer_receive(data=data(payer_account_number="6222020200112233445", payer_account_name="张三"),
                              source="STATEMENT", now=now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT payer_account_number, payer_account_name FROM payouts_incomingtransfer")
        number, name = cursor.fetchone()
    assert "6222020200112233445" not in number and "张三" not in name


# --- statement files --------------------------------------------------------------------------------------


def statement(*rows: str) -> bytes:
    lines = ["账户交易明细", "账号,122908660000000000,户名,灵工共享经济服务（天津）有限公司,币种,人民币",
             "起始日期,2026-03-16,截止日期,2026-03-16",
             "交易日期,交易时间,交易流水号,借贷标志,交易金额,账户余额,对方账号,对方户名,对方开户行,收款虚拟账号,摘要,附言,冲补账标志,原交易流水号",
             *rows, "合计,笔数,0,金额,0.00"]
    return "\r\n".join(lines).encode("gb18030")


def test_statement_import_credits_matched_lines_and_queues_the_rest(merchant, topup, ops_user, now):
    content = statement(
        f"2026-03-16,10:30:00,B001,贷,1500.00,1500.00,6222020200112233445,某某公司,工商银行,{topup.account_number},汇款,",
        "2026-03-16,11:00:00,B002,贷,200.50,1700.50,6222020200112233446,未知公司,建设银行,,汇款,货款",
        "2026-03-16,12:00:00,B003,借,10.00,1690.50,6222020200112233447,退款,建设银行,,退款,",
    )
    record = statement_import(content=content, filename="0316.csv", source="ADMIN", actor=ops_user, now=now)
    assert (record.lines, record.created_transfers, record.duplicates, record.skipped) == (2, 2, 0, 1)
    assert record.statement_date == DAY
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 1500_00
    assert suspense_fen() == 200_50
    with pytest.raises(StatementAlreadyImported):
        statement_import(content=content, filename="0316-again.csv", source="ADMIN", actor=ops_user, now=now)


def test_statement_with_a_bad_line_reports_its_line_number_and_writes_nothing(merchant, topup, ops_user, now):
    content = statement(
        f"2026-03-16,10:30:00,B001,贷,1500.00,1500.00,6222020200112233445,某某公司,工商银行,{topup.account_number},汇款,",
        "2026-03-16,11:00:00,B002,贷,12.345,1700.50,6222020200112233446,未知公司,建设银行,,汇款,货款",
        "2026-13-40,11:00:00,B004,贷,1.00,1700.50,,未知公司,建设银行,,汇款,货款",
    )
    with pytest.raises(StatementFileInvalid) as error:
        statement_import(content=content, filename="bad.csv", source="ADMIN", actor=ops_user, now=now)
    assert error.value.message.startswith("第 6 行“交易金额”")
    assert [(e["line"], e["column"]) for e in error.value.extra["errors"]] == [(6, "交易金额"), (7, "交易日期")]
    assert IncomingTransfer.objects.count() == 0
    assert StatementImport.objects.count() == 0
    assert JournalEntry.objects.count() == 0


def test_statement_without_a_header_is_refused(ops_user, now):
    with pytest.raises(StatementFileInvalid, match="未找到表头"):
        statement_import(content=b"hello,world\n", filename="x.csv", source="ADMIN", actor=ops_user, now=now)


def test_statement_and_notification_of_the_same_transfer_credit_once(merchant, topup, ops_user, now):
    incoming_transfer_receive(data=data("B001", virtual_account=topup.account_number), source="NOTIFICATION", now=now)
    content = statement(
        f"2026-03-16,10:30:00,B001,贷,1500.00,1500.00,6222020200112233445,某某公司,工商银行,{topup.account_number},汇款,")
    record = statement_import(content=content, filename="0316.csv", source="PULL", now=now)
    assert (record.created_transfers, record.duplicates) == (0, 1)
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 1500_00


def test_other_merchants_transfers_are_not_listed(merchant, topup, now):
    from payouts.selectors import incoming_transfer_list

    other = MerchantFactory()
    incoming_transfer_receive(data=data(virtual_account=topup.account_number), source="NOTIFICATION", now=now)
    assert incoming_transfer_list(merchant=merchant).count() == 1
    assert incoming_transfer_list(merchant=other).count() == 0


def test_a_reversal_takes_a_credited_transfer_back_once(merchant, topup, now):
    from payouts.services.funding import incoming_transfer_reverse  # noqa: F401  (reached through receive)

    incoming_transfer_receive(data=data("S1", virtual_account=topup.account_number), source="NOTIFICATION", now=now)
    reversal = data("R1", reverses_serial="S1")
    for _ in range(2):
        transfer, created = incoming_transfer_receive(data=reversal, source="NOTIFICATION", now=now)
        assert not created
    assert transfer.status == IncomingTransfer.Status.REVERSED and transfer.reversal_serial == "R1"
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 0
    assert LedgerAccount.objects.get(kind=AccountKind.CUSTODY_BANK).balance_fen == 0
    with pytest.raises(IncomingTransferConflict):
        incoming_transfer_receive(data=data("R2", reverses_serial="S1"), source="STATEMENT", now=now)


def test_a_reversal_of_spent_money_or_an_unknown_credit_is_refused(merchant, topup, now):
    from ledger.exceptions import InsufficientBalance

    incoming_transfer_receive(data=data("S1", virtual_account=topup.account_number), source="NOTIFICATION", now=now)
    ledger_services.merchant_funds_freeze(merchant=merchant, amount_fen=1000_00, kind="payout.freeze", ref="o1",
                                          now=now)
    with pytest.raises(InsufficientBalance):
        incoming_transfer_receive(data=data("R1", reverses_serial="S1"), source="NOTIFICATION", now=now)
    assert IncomingTransfer.objects.get(bank_serial="S1").status == IncomingTransfer.Status.MATCHED
    with pytest.raises(NotFound):
        incoming_transfer_receive(data=data("R9", reverses_serial="NOPE"), source="NOTIFICATION", now=now)


def test_a_reversal_of_an_unmatched_transfer_empties_suspense(now):
    incoming_transfer_receive(data=data("S1"), source="STATEMENT", now=now)
    incoming_transfer_receive(data=data("R1", reverses_serial="S1"), source="STATEMENT", now=now)
    assert IncomingTransfer.objects.get(bank_serial="S1").status == IncomingTransfer.Status.REVERSED
    assert suspense_fen() == 0


def test_statement_reversal_line_is_applied(merchant, topup, ops_user, now):
    content = statement(
        f"2026-03-16,10:30:00,B001,贷,1500.00,1500.00,6222020200112233445,某某公司,工商银行,{topup.account_number},汇款,",
        f"2026-03-16,15:00:00,R001,借,1500.00,0.00,6222020200112233445,某某公司,工商银行,{topup.account_number},冲正,,*,B001",
        "2026-03-16,16:00:00,R002,借,1.00,0.00,,某某公司,工商银行,,冲正,,*,",
    )
    with pytest.raises(StatementFileInvalid, match="第 7 行“原交易流水号”"):
        statement_import(content=content, filename="r.csv", source="ADMIN", actor=ops_user, now=now)
    good = statement(*[line for line in content.decode("gb18030").splitlines()[4:6]])
    statement_import(content=good, filename="r.csv", source="ADMIN", actor=ops_user, now=now)
    assert IncomingTransfer.objects.get(bank_serial="B001").status == IncomingTransfer.Status.REVERSED
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 0


def test_a_statement_line_that_contradicts_a_known_transfer_is_reported_by_line(merchant, topup, ops_user, now):
    incoming_transfer_receive(data=data("B002", amount_fen=5_00), source="NOTIFICATION", now=now)
    content = statement(
        f"2026-03-16,10:30:00,B001,贷,1500.00,1500.00,6222020200112233445,某某公司,工商银行,{topup.account_number},汇款,",
        "2026-03-16,10:31:00,B002,贷,6.00,1506.00,6222020200112233445,某某公司,工商银行,,汇款,",
    )
    with pytest.raises(StatementFileInvalid, match="第 6 行") as error:
        statement_import(content=content, filename="x.csv", source="ADMIN", actor=ops_user, now=now)
    assert "5.00 元" in error.value.message
    assert not IncomingTransfer.objects.filter(bank_serial="B001").exists()
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 0
    assert StatementImport.objects.count() == 0
