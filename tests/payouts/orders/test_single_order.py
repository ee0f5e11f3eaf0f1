"""Single payout orders: create → confirm (tax withheld, funds frozen) → dispatch → settle, with every ledger leg."""

from __future__ import annotations

import pytest

from accounts.models import SmsCode
from accounts.services import sms_code_send
from core.testing.factories import EnterpriseUserFactory
from ledger.exceptions import InsufficientBalance
from ledger.models import AccountKind, LedgerAccount
from ledger.selectors import merchant_available_fen, merchant_frozen_fen
from payouts.channels import Outcome, QueryStatus
from payouts.exceptions_orders import MerchantOrderNoTaken, OrderInvalid, OrderNotFound
from payouts.models import PayoutOrder
from payouts.services.dispatch import payout_order_query, payout_orders_dispatch
from payouts.services.orders import payout_order_confirm, payout_order_confirm_with_sms, payout_order_create
from tasks.models import PayableWork
from tax.models import Withholding

pytestmark = pytest.mark.django_db


def platform_balance(kind, channel=""):
    row = LedgerAccount.objects.filter(kind=kind, merchant=None, channel=channel).first()
    return row.balance_fen if row else 0


def create(merchant, actor, payee, now, **kw):
    return payout_order_create(merchant=merchant, actor=actor, payable_id=payee.payable_id,
                               amount_fen=kw.pop("amount_fen", None), channel=kw.pop("channel", "BANK"), now=now, **kw)


def test_quote_shows_fee_and_tax_and_nothing_moves(funded, payees, enterprise_admin, now):
    before = merchant_available_fen(merchant=funded)
    order = create(funded, enterprise_admin, payees[0], now, merchant_order_no="ORD-1")
    assert order.status == PayoutOrder.Status.DRAFT
    assert order.gross_fen == 800_000  # the worker bears the tax by default: the amount is the gross
    assert order.fee_fen == 48_000  # 6% of 8,000.00
    assert order.tax_fen == order.iit_fen + order.vat_fen + order.surcharge_fen > 0
    assert order.payee_fen == order.net_fen == 800_000 - order.tax_fen
    assert order.freeze_fen == 848_000
    assert "6.00%" in order.fee_explanation
    assert merchant_available_fen(merchant=funded) == before
    assert PayableWork.objects.get(pk=payees[0].payable_id).status == PayableWork.Status.RESERVED


def test_confirm_dispatch_success_posts_every_leg(funded, payees, enterprise_admin, channel, now):
    before = merchant_available_fen(merchant=funded)
    order = create(funded, enterprise_admin, payees[0], now)
    payout_order_confirm(merchant=funded, order_id=order.pk, actor=enterprise_admin, now=now)
    assert merchant_available_fen(merchant=funded) == before - 848_000
    assert merchant_frozen_fen(merchant=funded) == 848_000
    assert Withholding.objects.filter(payment_ref=order.order_no).count() == 1
    summary = payout_orders_dispatch(order_ids=[order.pk], now=now)
    assert summary["succeeded"] == 1
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.SUCCEEDED
    assert merchant_frozen_fen(merchant=funded) == 0
    assert platform_balance(AccountKind.PLATFORM_FEE_REVENUE) == 48_000
    assert platform_balance(AccountKind.TAX_PAYABLE_IIT) == order.iit_fen
    assert platform_balance(AccountKind.CHANNEL_CLEARING, "BANK") == -order.payee_fen
    assert PayableWork.objects.get(pk=payees[0].payable_id).status == PayableWork.Status.PAID
    assert channel.submits == [(order.idempotency_key, order.payee_fen)]


def test_failure_releases_funds_reverses_tax_and_frees_the_work(funded, payees, enterprise_admin, channel, now):
    before = merchant_available_fen(merchant=funded)
    order = create(funded, enterprise_admin, payees[0], now)
    channel.outcomes[order.idempotency_key] = Outcome.FAILED
    payout_order_confirm(merchant=funded, order_id=order.pk, actor=enterprise_admin, now=now)
    payout_orders_dispatch(order_ids=[order.pk], now=now)
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.FAILED
    assert order.fail_code == "ACCOUNT_CLOSED"
    assert merchant_available_fen(merchant=funded) == before
    assert merchant_frozen_fen(merchant=funded) == 0
    assert Withholding.objects.filter(payment_ref=order.order_no, kind="REVERSAL").count() == 1
    assert PayableWork.objects.get(pk=payees[0].payable_id).status == PayableWork.Status.READY


def test_timeout_leaves_unknown_and_query_settles_without_a_new_key(funded, payees, enterprise_admin, channel, now):
    order = create(funded, enterprise_admin, payees[0], now)
    channel.outcomes[order.idempotency_key] = Outcome.UNKNOWN
    payout_order_confirm(merchant=funded, order_id=order.pk, actor=enterprise_admin, now=now)
    payout_orders_dispatch(order_ids=[order.pk], now=now)
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.UNKNOWN
    assert merchant_frozen_fen(merchant=funded) == order.freeze_fen  # still frozen: not a failure
    key = order.idempotency_key
    channel.query_answers[key] = QueryStatus.SUCCEEDED
    order = payout_order_query(order_id=order.pk, now=now)
    assert order.status == PayoutOrder.Status.SUCCEEDED
    assert order.idempotency_key == key
    assert [k for k, _ in channel.submits] == [key]  # queried, never resent


def test_not_found_after_a_while_resubmits_with_the_same_key(funded, payees, enterprise_admin, channel, now):
    import datetime as dt

    order = create(funded, enterprise_admin, payees[0], now)
    channel.outcomes[order.idempotency_key] = Outcome.UNKNOWN
    payout_order_confirm(merchant=funded, order_id=order.pk, actor=enterprise_admin, now=now)
    payout_orders_dispatch(order_ids=[order.pk], now=now)
    payout_order_query(order_id=order.pk, now=now + dt.timedelta(minutes=1))  # NOT_FOUND, too early: wait
    assert len(channel.submits) == 1
    channel.outcomes[order.idempotency_key] = Outcome.SUCCEEDED
    order = payout_order_query(order_id=order.pk, now=now + dt.timedelta(minutes=11))
    assert order.status == PayoutOrder.Status.SUCCEEDED
    assert {k for k, _ in channel.submits} == {order.idempotency_key} and len(channel.submits) == 2


def test_insufficient_balance_writes_nothing(merchant, config, enterprise_admin, now):
    from core.testing.ledger import fund
    from payouts.testing_orders import make_payees

    fund(merchant, 1_000, now=now)
    payee = make_payees(merchant=merchant, count=1, now=now, amount_fen=800_000, seed=7)[0]
    order = create(merchant, enterprise_admin, payee, now)
    with pytest.raises(InsufficientBalance):
        payout_order_confirm(merchant=merchant, order_id=order.pk, actor=enterprise_admin, now=now)
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.DRAFT
    assert not Withholding.objects.filter(payment_ref=order.order_no).exists()
    assert merchant_available_fen(merchant=merchant) == 1_000


def test_merchant_order_no_is_unique_per_enterprise(funded, payees, enterprise_admin, now):
    create(funded, enterprise_admin, payees[0], now, merchant_order_no="DUP-1")
    with pytest.raises(MerchantOrderNoTaken):
        create(funded, enterprise_admin, payees[1], now, merchant_order_no="DUP-1")
    assert PayableWork.objects.get(pk=payees[1].payable_id).status == PayableWork.Status.READY


def test_amount_above_the_accepted_work_is_refused(funded, payees, enterprise_admin, now):
    with pytest.raises(OrderInvalid) as error:
        create(funded, enterprise_admin, payees[0], now, amount_fen=800_001)
    assert "验收金额" in error.value.message


def test_other_enterprise_cannot_confirm(funded, payees, enterprise_admin, other_merchant, now):
    order = create(funded, enterprise_admin, payees[0], now)
    with pytest.raises(OrderNotFound):
        payout_order_confirm(merchant=other_merchant, order_id=order.pk, actor=None, now=now)


def test_confirm_with_sms_code(funded, payees, now, channel):
    finance = EnterpriseUserFactory(merchant=funded)
    if not finance.phone:
        finance.set_phone("13900000077")
        finance.save()
    order = create(funded, finance, payees[0], now)
    from accounts.exceptions import SmsCodeInvalid

    with pytest.raises(SmsCodeInvalid):
        payout_order_confirm_with_sms(merchant=funded, order_id=order.pk, actor=finance, sms_code="000000", now=now)
    code = sms_code_send(phone=finance.phone, purpose=SmsCode.Purpose.PAYMENT, now=now).plain_code
    order = payout_order_confirm_with_sms(merchant=funded, order_id=order.pk, actor=finance, sms_code=code, now=now)
    assert order.status == PayoutOrder.Status.CONFIRMED


def test_an_unsettled_payout_blocks_closing_the_account(funded, payees, enterprise_admin, channel, now):
    from merchants.services.account import close_blockers

    order = create(funded, enterprise_admin, payees[0], now)
    payout_order_confirm(merchant=funded, order_id=order.pk, actor=enterprise_admin, now=now)
    assert any("1 笔付款尚未结束" in reason for reason in close_blockers(funded))
    payout_orders_dispatch(order_ids=[order.pk], now=now)
    assert not any("付款尚未结束" in reason for reason in close_blockers(funded))
