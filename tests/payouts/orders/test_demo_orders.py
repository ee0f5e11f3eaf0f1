import pytest

from payouts.models import PayoutBatch, PayoutOrder
from tasks.models import PayableWork

pytestmark = pytest.mark.django_db


def test_demo_has_a_paid_batch_and_work_ready_to_pay_idempotently(now, settings, tmp_path):
    from accounts import demo as accounts_demo
    from ledger import demo as ledger_demo
    from merchants import demo as merchants_demo
    from payouts import demo

    settings.VAR_DIR = tmp_path
    accounts_demo.load(now=now)
    merchants_demo.load(now=now)
    ledger_demo.load(now=now)
    for _ in range(2):
        lines = demo.load(now=now)
    batch = PayoutBatch.objects.get(title__startswith="演示批次")
    assert batch.status == PayoutBatch.Status.COMPLETED
    statuses = sorted(batch.orders.values_list("status", flat=True))
    assert statuses == [PayoutOrder.Status.RETURNED] + [PayoutOrder.Status.SUCCEEDED] * 5
    # the returned payment's work was paid again by a single order
    returned = batch.orders.get(status=PayoutOrder.Status.RETURNED)
    again = PayoutOrder.objects.get(payable_id=returned.payable_id, batch=None)
    assert again.status == PayoutOrder.Status.SUCCEEDED
    assert PayableWork.objects.get(pk=returned.payable_id).status == PayableWork.Status.PAID
    ready = PayableWork.objects.filter(merchant=batch.merchant, status=PayableWork.Status.READY,
                                       task__title="门店促销与配送服务")
    assert ready.count() == 6
    assert (tmp_path / "demo" / "demo-batch-kuaisong.csv").exists()
    assert any(batch.batch_no in line for line in lines)
