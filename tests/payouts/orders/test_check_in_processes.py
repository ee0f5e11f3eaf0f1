"""A large batch is checked in several processes (forked, split by worker) on PostgreSQL: the result must be what one
process gives — the same orders with the same figures, the same bad lines with the same reasons, the enterprise's
daily limit applied once over the whole batch in line order."""

from __future__ import annotations

import os

import pytest

from core.testing.factories import EnterpriseUserFactory, MerchantFactory
from core.testing.ledger import assert_ledger_ok, fund
from merchants.models import MerchantConfiguration
from payouts.models import PayoutBatch, PayoutOrder
from payouts.services.batches import payout_batch_cancel, payout_batch_check, payout_batch_upload
from payouts.testing_orders import batch_csv, make_payees
from tasks.models import PayableWork

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FIGURES = ("line_no", "member_id", "payable_id", "payout_account_id", "amount_fen", "gross_fen", "iit_fen", "vat_fen",
           "surcharge_fen", "fee_fen", "payee_fen", "freeze_fen", "tax_lines", "fee_explanation")


def _file(payees, prefix="A") -> bytes:
    lines = batch_csv(payees, channel="BANK").decode().splitlines()
    lines.append(lines[3])  # the same work twice: the second line is refused (the same worker's carry)
    lines[6] = lines[6].replace(payees[5].id_number, payees[5].id_number[:-4] + "0000")  # nobody's ID number
    cells = lines[9].split(",")
    cells[4] = "99999.00"  # above the accepted work
    lines[9] = ",".join(cells)
    for index in range(1, len(lines)):  # enterprise order numbers; line 13 repeats line 2's (another worker)
        cells = lines[index].split(",")
        cells[7] = f"{prefix}-{2 if index == 12 else index + 1}"  # (a cancelled batch's numbers stay taken)
        lines[index] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


def _check(merchant, actor, content, now):
    batch = payout_batch_upload(merchant=merchant, actor=actor, content=content, filename="pay.csv", channel="BANK",
                                now=now)
    return payout_batch_check(batch_id=batch.pk, now=now)


def _orders(batch):
    return list(PayoutOrder.objects.filter(batch=batch).exclude(status=PayoutOrder.Status.CANCELLED)
                .order_by("line_no").values_list(*FIGURES))


def test_a_batch_checked_in_two_processes_equals_one_process(now, settings, monkeypatch):
    merchant = MerchantFactory()
    # the day's limit is crossed part-way through the file: the lines after it are refused, in line order
    config = MerchantConfiguration.objects.create(merchant=merchant, enabled_channels=["BANK"],
                                                  daily_limit_fen=30 * 200_000 + 50_000,
                                                  second_approval_threshold_fen=10**12)
    actor = EnterpriseUserFactory(merchant=merchant)
    # 10 % large enough to withhold IIT; amounts vary so the daily limit falls inside the file
    payees = make_payees(merchant=merchant, count=40, now=now, seed=77,
                         amount_fen=lambda i: 900_000 if i % 10 == 3 else 100_000 + i * 1_000)
    fund(merchant, 10**10, now=now)
    content = _file(payees)

    forks = []
    real_fork = os.fork

    def counting_fork():
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    settings.PAYOUTS_CHECK_PARALLEL_MIN_LINES = 1
    settings.PAYOUTS_CHECK_PROCESSES = 2
    parallel = _check(merchant, actor, content, now)
    assert forks == [1]
    parallel_orders, parallel_errors = _orders(parallel), parallel.errors
    assert parallel.checked_lines == parallel.line_count == 41
    payout_batch_cancel(merchant=merchant, batch_id=parallel.pk, actor=actor, now=now)
    assert not PayableWork.objects.filter(merchant=merchant, status=PayableWork.Status.RESERVED).exists()

    settings.PAYOUTS_CHECK_PROCESSES = 1
    single = _check(merchant, actor, _file(payees, prefix="B"), now)
    assert forks == [1]  # no process this time

    assert parallel.status == single.status == PayoutBatch.Status.INVALID
    assert parallel_orders == _orders(single)
    assert [(e["line"], e["column"], e["message"], e["i18n"]) for e in parallel_errors] == \
        [(e["line"], e["column"], e["message"], e["i18n"]) for e in single.errors]
    assert parallel.error_count == single.error_count
    by_line = {e["line"]: e for e in single.errors}
    assert "已在其他付款中" in by_line[42]["message"]  # the repeated line (header is line 1)
    assert by_line[7]["column"] == "身份证号"
    assert "验收金额" in by_line[10]["message"]
    assert by_line[13]["column"] == "企业订单号" and "第 2 行" in by_line[13]["message"]
    daily = [e["line"] for e in single.errors if "每日限额" in e["message"]]
    assert daily and min(daily) > 11  # the limit bites part-way through, and every later line is refused
    assert (parallel.order_count, parallel.gross_fen, parallel.freeze_fen, parallel.tax_fen) == \
        (single.order_count, single.gross_fen, single.freeze_fen, single.tax_fen)
    reserved = set(PayableWork.objects.filter(merchant=merchant, status=PayableWork.Status.RESERVED)
                   .values_list("pk", flat=True))
    assert reserved == {row[2] for row in _orders(single)}
    assert config.daily_limit_fen >= single.gross_fen
    assert_ledger_ok()


def test_a_failed_check_process_fails_the_job_and_a_rerun_starts_over(now, settings, monkeypatch):
    merchant = MerchantFactory()
    MerchantConfiguration.objects.create(merchant=merchant, enabled_channels=["BANK"])
    actor = EnterpriseUserFactory(merchant=merchant)
    payees = make_payees(merchant=merchant, count=30, now=now, seed=78, amount_fen=100_000)
    fund(merchant, 10**10, now=now)
    settings.PAYOUTS_CHECK_PARALLEL_MIN_LINES = 1
    settings.PAYOUTS_CHECK_PROCESSES = 2
    monkeypatch.setattr("payouts.services.batches.enqueue_on_commit", lambda *a, **k: None)  # this test is the worker
    batch = payout_batch_upload(merchant=merchant, actor=actor, content=batch_csv(payees), filename="pay.csv",
                                channel="BANK", now=now)
    from payouts.services import batches

    real = batches._check_lines
    parent = os.getpid()

    def dies_in_the_child(**kwargs):
        if os.getpid() != parent:
            raise RuntimeError("the child dies")
        return real(**kwargs)

    monkeypatch.setattr(batches, "_check_lines", dies_in_the_child)
    with pytest.raises(RuntimeError, match="exited with status"):
        payout_batch_check(batch_id=batch.pk, now=now)
    assert PayoutBatch.objects.get(pk=batch.pk).status == PayoutBatch.Status.CHECKING
    monkeypatch.setattr(batches, "_check_lines", real)
    batch = payout_batch_check(batch_id=batch.pk, now=now)  # the retry starts over and ends like a single run
    assert batch.status == PayoutBatch.Status.QUOTED and batch.order_count == 30
    assert PayableWork.objects.filter(merchant=merchant, status=PayableWork.Status.RESERVED).count() == 30
    assert_ledger_ok()
