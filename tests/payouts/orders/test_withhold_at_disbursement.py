"""A batch's tax is withheld when each order is disbursed (the liability arises on payment), not at confirmation:
the figures are the engine's on the worker's state at that moment, the difference from the quote is frozen or
released, and an order that can no longer be paid fails with its reason and its funds back."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.testing.ledger import fund
from ledger.models import JournalEntry
from ledger.selectors import merchant_available_fen, merchant_frozen_fen
from members.models import Member
from payouts.models import PayoutBatch, PayoutOrder
from payouts.services.batches import payout_batch_check, payout_batch_confirm_verified, payout_batch_upload
from payouts.services.dispatch import payout_orders_dispatch
from payouts.testing_orders import batch_csv, make_payees
from tax.bulk import PaymentItem, tax_withhold_many
from tax.models import Withholding

pytestmark = pytest.mark.django_db


def quoted_batch(merchant, actor, payees, now):
    batch = payout_batch_upload(merchant=merchant, actor=actor, content=batch_csv(payees), filename="pay.csv",
                                channel="BANK", now=now)
    batch = payout_batch_check(batch_id=batch.pk, now=now)
    assert batch.status == PayoutBatch.Status.QUOTED, batch.errors
    return batch


def paid_elsewhere(merchant, member, now, gross_fen=3_000_000):
    """The worker is paid by another payment on the platform between the quote and the disbursement."""
    tax_withhold_many(merchant=merchant, items=[PaymentItem(member=member, payment_ref=f"ELSEWHERE-{member.pk}",
                                                            gross_fen=gross_fen)],
                      bearer="WORKER", liability_date=timezone.localdate(now), now=now)


def test_confirmation_freezes_the_quote_and_disbursement_withholds(funded, payees, enterprise_admin, channel, now):
    batch = quoted_batch(funded, enterprise_admin, payees[:2], now)
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    orders = list(batch.orders.order_by("line_no"))
    assert all(o.status == PayoutOrder.Status.CONFIRMED and o.withheld_at is None for o in orders)
    assert not Withholding.objects.filter(payment_ref__in=[o.order_no for o in orders]).exists()
    assert merchant_frozen_fen(merchant=funded) == batch.freeze_fen
    payout_orders_dispatch(order_ids=[o.pk for o in orders], now=now)
    for order in orders:
        order.refresh_from_db()
        row = Withholding.objects.get(payment_ref=order.order_no, kind=Withholding.Kind.PAYMENT)
        assert order.status == PayoutOrder.Status.SUCCEEDED and order.withheld_at == now
        assert (order.gross_fen, order.tax_fen, order.net_fen) == (
            row.gross_fen, row.iit_fen + row.vat_fen + row.urban_fen + row.education_fen + row.local_education_fen,
            row.net_fen)
    assert not JournalEntry.objects.filter(kind="payout.freeze_adjust").exists()  # nothing changed in between


def test_worker_bears_tax_a_payment_in_between_lowers_what_the_worker_nets(funded, payees, enterprise_admin,
                                                                          channel, now):
    batch = quoted_batch(funded, enterprise_admin, payees[:1], now)
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    order = batch.orders.get()
    quoted = (order.gross_fen, order.tax_fen, order.payee_fen, order.freeze_fen)
    paid_elsewhere(funded, Member.objects.get(pk=order.member_id), now)
    before = merchant_available_fen(merchant=funded)
    payout_orders_dispatch(order_ids=[order.pk], now=now)
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.SUCCEEDED
    assert order.gross_fen == quoted[0] and order.freeze_fen == quoted[3]  # the enterprise pays the same
    assert order.tax_fen > quoted[1] and order.payee_fen == quoted[2] - (order.tax_fen - quoted[1])
    assert channel.submits == [(order.idempotency_key, order.payee_fen)]  # the channel is sent the withheld figure
    assert merchant_available_fen(merchant=funded) == before


def test_enterprise_bears_tax_the_extra_is_frozen_and_the_batch_shows_it(funded, config, payees, enterprise_admin,
                                                                        channel, now):
    config.tax_bearer = "MERCHANT"
    config.save()
    batch = quoted_batch(funded, enterprise_admin, payees[:2], now)
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    order = batch.orders.order_by("line_no").first()
    quoted_payee, quoted_freeze = order.payee_fen, order.freeze_fen
    paid_elsewhere(funded, Member.objects.get(pk=order.member_id), now)
    available = merchant_available_fen(merchant=funded)
    payout_orders_dispatch(order_ids=list(batch.orders.values_list("id", flat=True)), now=now)
    order.refresh_from_db()
    extra = order.freeze_fen - quoted_freeze
    assert extra > 0 and order.payee_fen == quoted_payee  # the worker nets what was agreed
    entry = JournalEntry.objects.get(kind="payout.freeze_adjust")
    assert entry.ref.endswith(f":{order.pk}")
    assert merchant_available_fen(merchant=funded) == available - extra
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.COMPLETED
    assert batch.freeze_fen == sum(batch.orders.values_list("freeze_fen", flat=True))


def test_extra_tax_the_balance_cannot_cover_fails_only_that_order(merchant, config, enterprise_admin,
                                                                         channel, now):
    config.tax_bearer = "MERCHANT"
    config.save()
    payees = make_payees(merchant=merchant, count=2, now=now, amount_fen=800_000, seed=7)
    batch = quoted_batch(merchant, enterprise_admin, payees, now)
    fund(merchant, batch.freeze_fen, now=now)  # exactly the quote: nothing left for more tax
    batch = payout_batch_confirm_verified(merchant=merchant, batch_id=batch.pk, actor=enterprise_admin, now=now)
    order, fine = batch.orders.order_by("line_no")
    paid_elsewhere(merchant, Member.objects.get(pk=order.member_id), now)
    payout_orders_dispatch(order_ids=[order.pk, fine.pk], now=now)
    fine.refresh_from_db()
    assert fine.status == PayoutOrder.Status.SUCCEEDED and fine.withheld_at == now
    assert channel.submits == [(fine.idempotency_key, fine.payee_fen)]
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.FAILED and order.fail_code == "TAX_UNFUNDED"
    assert "余额不足" in order.fail_message
    # the withholding that did not fit was rolled back with the order's other changes: nothing to reverse
    assert not Withholding.objects.filter(payment_ref=order.order_no).exists()
    assert merchant_frozen_fen(merchant=merchant) == 0
    assert merchant_available_fen(merchant=merchant) == batch.freeze_fen - fine.freeze_fen


def test_worker_whose_verification_lapsed_is_not_paid(funded, payees, enterprise_admin, channel, now):
    batch = quoted_batch(funded, enterprise_admin, payees[:2], now)
    before = merchant_available_fen(merchant=funded)
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    lapsed = batch.orders.order_by("line_no").first()
    Member.objects.filter(pk=lapsed.member_id).update(verification_status=Member.Verification.FAILED)
    payout_orders_dispatch(order_ids=list(batch.orders.values_list("id", flat=True)), now=now)
    lapsed.refresh_from_db()
    assert lapsed.status == PayoutOrder.Status.FAILED and lapsed.fail_code == "MEMBER_NOT_VERIFIED"
    assert not Withholding.objects.filter(payment_ref=lapsed.order_no).exists()
    other = batch.orders.order_by("line_no").last()
    assert other.status == PayoutOrder.Status.SUCCEEDED
    assert merchant_available_fen(merchant=funded) == before - other.freeze_fen
