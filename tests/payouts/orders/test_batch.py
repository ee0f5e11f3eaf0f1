"""Batches: upload → line checks with line numbers → quote → confirm (one freeze entry) → dispatch → settle."""

from __future__ import annotations

import pytest

from core.testing.factories import EnterpriseUserFactory
from ledger.models import JournalEntry
from ledger.selectors import merchant_available_fen, merchant_frozen_fen
from members.models import MemberMerchant
from payouts.channels import Outcome
from payouts.exceptions_orders import BatchHasErrors, BatchNotFound, SecondApprovalRequired
from payouts.models import PayoutBatch, PayoutOrder
from payouts.services.batches import (
    payout_batch_cancel,
    payout_batch_check,
    payout_batch_confirm_verified,
    payout_batch_remove_invalid,
    payout_batch_upload,
)
from payouts.services.dispatch import payout_orders_dispatch
from payouts.testing_orders import batch_csv
from tasks.models import PayableWork

pytestmark = pytest.mark.django_db


def upload(merchant, actor, content, now, filename="pay.csv", channel="BANK"):
    batch = payout_batch_upload(merchant=merchant, actor=actor, content=content, filename=filename, channel=channel,
                                now=now)
    return payout_batch_check(batch_id=batch.pk, now=now)


def test_valid_batch_is_quoted_and_paid_end_to_end(funded, payees, enterprise_admin, channel, now):
    before = merchant_available_fen(merchant=funded)
    batch = upload(funded, enterprise_admin, batch_csv(payees), now)
    assert batch.status == PayoutBatch.Status.QUOTED, batch.errors
    assert batch.order_count == 5 and batch.error_count == 0
    assert batch.fee_fen == 5 * 48_000
    assert batch.freeze_fen == batch.gross_fen + batch.fee_fen
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    assert batch.status == PayoutBatch.Status.CONFIRMED
    assert JournalEntry.objects.filter(kind="payout.freeze", ref=f"payouts.payoutbatch:{batch.pk}").count() == 1
    assert merchant_frozen_fen(merchant=funded) == batch.freeze_fen
    ids = list(batch.orders.values_list("id", flat=True))
    payout_orders_dispatch(order_ids=ids, now=now)
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.COMPLETED
    assert merchant_frozen_fen(merchant=funded) == 0
    assert merchant_available_fen(merchant=funded) == before - batch.freeze_fen
    assert set(PayableWork.objects.filter(pk__in=[p.payable_id for p in payees]).values_list("status", flat=True)) == {
        PayableWork.Status.PAID}


def test_partial_failure_releases_only_the_failed_lines(funded, payees, enterprise_admin, channel, now):
    before = merchant_available_fen(merchant=funded)
    batch = upload(funded, enterprise_admin, batch_csv(payees), now)
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    failing = batch.orders.get(line_no=3)
    channel.outcomes[failing.idempotency_key] = Outcome.FAILED
    payout_orders_dispatch(order_ids=list(batch.orders.values_list("id", flat=True)), now=now)
    failing.refresh_from_db()
    assert failing.status == PayoutOrder.Status.FAILED
    assert merchant_available_fen(merchant=funded) == before - batch.freeze_fen + failing.freeze_fen
    assert PayableWork.objects.get(pk=failing.payable_id).status == PayableWork.Status.READY


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_paid(funded, payees, enterprise_admin, now,
                                                                       other_merchant):
    MemberMerchant.objects.filter(member_id=payees[1].member_id).update(status=MemberMerchant.Status.VERIFIED)
    content = batch_csv(payees).decode().splitlines()
    content[3] = content[3].replace(payees[2].bank_card, "6222020000000000000")  # not the worker's account
    content[4] = content[4].replace(payees[3].name, "冒名顶替")  # name does not match the ID number
    content.append("张三,110101199001011234,13900000000,6222020000000000000,abc,,1,")  # format errors
    batch = upload(funded, enterprise_admin, ("\n".join(content) + "\n").encode(), now)
    assert batch.status == PayoutBatch.Status.INVALID
    by_line = {e["line"]: e for e in batch.errors}
    assert set(by_line) >= {3, 4, 5, 7}
    assert "签署" in by_line[3]["message"]
    assert by_line[4]["column"] == "收款账号"
    assert by_line[5]["column"] == "姓名"
    with pytest.raises(BatchHasErrors):
        payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    assert merchant_frozen_fen(merchant=funded) == 0
    batch = payout_batch_remove_invalid(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    assert batch.status == PayoutBatch.Status.QUOTED and batch.order_count == 2
    with pytest.raises(BatchNotFound):
        payout_batch_remove_invalid(merchant=other_merchant, batch_id=batch.pk, actor=None, now=now)


def test_the_same_work_cannot_be_paid_twice(funded, payees, enterprise_admin, now):
    first = upload(funded, enterprise_admin, batch_csv(payees[:2]), now)
    assert first.status == PayoutBatch.Status.QUOTED
    second = upload(funded, enterprise_admin, batch_csv(payees[:1]), now)
    assert second.status == PayoutBatch.Status.INVALID
    assert "已在其他付款中" in second.errors[0]["message"]
    payout_batch_cancel(merchant=funded, batch_id=first.pk, actor=enterprise_admin, now=now)
    assert PayableWork.objects.get(pk=payees[0].payable_id).status == PayableWork.Status.READY


def test_risk_limit_rejects_the_line_that_crosses_it(funded, config, payees, enterprise_admin, now):
    config.single_payment_limit_fen = 700_000
    config.save()
    batch = upload(funded, enterprise_admin, batch_csv(payees[:1]), now)
    assert batch.status == PayoutBatch.Status.INVALID
    assert batch.errors[0]["column"] == "风控" and "单笔限额" in batch.errors[0]["message"]


def test_second_approver_above_threshold(funded, config, payees, enterprise_admin, channel, now):
    config.second_approval_threshold_fen = 1_000_000
    config.save()
    batch = upload(funded, enterprise_admin, batch_csv(payees), now)
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    assert batch.status == PayoutBatch.Status.AWAITING_APPROVAL
    assert merchant_frozen_fen(merchant=funded) == 0
    with pytest.raises(SecondApprovalRequired):
        payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    second = EnterpriseUserFactory(merchant=funded)
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=second, now=now)
    assert batch.status == PayoutBatch.Status.CONFIRMED and batch.approved_by == second
    assert merchant_frozen_fen(merchant=funded) == batch.freeze_fen


def test_fee_during_is_frozen_at_disbursement_and_after_goes_to_the_statement(funded, config, payees,
                                                                               enterprise_admin, channel, now):
    import datetime as dt

    from payouts.models import FeeStatement
    from payouts.services.fees import fee_statement_issue

    config.fee_timing = "AFTER"
    config.save()
    batch = upload(funded, enterprise_admin, batch_csv(payees[:2]), now)
    assert batch.freeze_fen == batch.gross_fen  # no fee frozen now
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    payout_orders_dispatch(order_ids=list(batch.orders.values_list("id", flat=True)), now=now)
    before = merchant_available_fen(merchant=funded)
    statement = fee_statement_issue(merchant=funded, year=now.year, month=now.month, now=now + dt.timedelta(days=20))
    assert statement.status == FeeStatement.Status.PAID and statement.fee_fen == 2 * 48_000
    assert merchant_available_fen(merchant=funded) == before - 2 * 48_000
    config.fee_timing = "DURING"
    config.save()
    batch = upload(funded, enterprise_admin, batch_csv(payees[2:3]), now)
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    channel.default = Outcome.ACCEPTED
    payout_orders_dispatch(order_ids=list(batch.orders.values_list("id", flat=True)), now=now)
    order = batch.orders.get()
    assert order.fee_frozen_fen == 48_000
    assert merchant_frozen_fen(merchant=funded) == order.freeze_fen + 48_000


def test_a_file_that_cannot_be_read_at_all_makes_the_batch_invalid_with_the_reason(funded, enterprise_admin, now):
    from django.utils import translation

    from payouts.batch_file import line_errors_shown

    batch = upload(funded, enterprise_admin, "姓名,金额\n张三,1.00\n".encode(), now)
    assert batch.status == PayoutBatch.Status.INVALID and batch.order_count == 0
    assert batch.error_count == 1 and batch.errors[0]["line"] == 1
    assert "缺少列" in batch.errors[0]["message"]
    with translation.override("en"):
        shown = line_errors_shown(batch.errors)[0]
    assert "缺少列" not in shown["message"] and shown["message"]
    empty = upload(funded, enterprise_admin, b"", now)
    assert empty.status == PayoutBatch.Status.INVALID and "空" in empty.errors[0]["message"]
