"""Row locks under real concurrency (PostgreSQL, real threads, real commits)."""


import pytest

from core.exceptions import DomainError
from core.testing.concurrency import race as race_calls
from core.testing.factories import EnterpriseUserFactory, MerchantFactory, UserFactory
from tasks import services
from tasks.models import PayableWork

from .factories import NOW, published_task, worker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(calls) -> list[str]:
    """Each call's outcome as "ok", a DomainError's code, or (anything else: a deadlock, an IntegrityError, which
    fails the test) its repr — sorted."""

    def code(outcome) -> str:
        if isinstance(outcome, DomainError):
            return outcome.code
        return repr(outcome) if isinstance(outcome, Exception) else "ok"

    return sorted(code(outcome) for outcome in race_calls(*calls))


def submitted_work():
    merchant = MerchantFactory()
    admin = EnterpriseUserFactory(merchant=merchant)
    task = published_task(merchant, admin, ops=UserFactory(), take_mode="CLAIM", proof_kinds=["QUANTITY"])
    member = worker(merchant)
    assignment = services.task_claim(member=member, task_id=task.pk, now=NOW)
    services.assignment_submit_proof(member=member, assignment_id=assignment.pk, quantity="5", now=task.starts_at)
    return merchant, admin, assignment


def test_two_acceptances_of_one_proof_make_one_payable_item():
    merchant, admin, assignment = submitted_work()

    outcomes = race([lambda: services.assignment_accept(merchant=merchant, assignment_id=assignment.pk, actor=admin,
                                                        now=NOW)] * 2)

    assert outcomes == ["ok", "task_assignment_state_invalid"]
    assert PayableWork.objects.filter(assignment=assignment).count() == 1


def test_two_payouts_reserving_the_same_work_one_wins():
    merchant, admin, assignment = submitted_work()
    payable = services.assignment_accept(merchant=merchant, assignment_id=assignment.pk, actor=admin, now=NOW)

    outcomes = race([
        lambda: services.payable_work_reserve(merchant=merchant, payable_ids=[payable.pk], ref="payout:a", now=NOW),
        lambda: services.payable_work_reserve(merchant=merchant, payable_ids=[payable.pk], ref="payout:b", now=NOW),
    ])

    assert outcomes == ["ok", "payable_work_state_invalid"]
    payable.refresh_from_db()
    assert payable.status == PayableWork.Status.RESERVED and payable.reserved_ref in ("payout:a", "payout:b")


def test_ten_workers_pressing_claim_on_the_mobile_page_fill_two_slots():
    from django.test import Client

    from tasks.models import TaskAssignment

    merchant = MerchantFactory()
    admin = EnterpriseUserFactory(merchant=merchant)
    task = published_task(merchant, admin, ops=UserFactory(), headcount=2, take_mode="CLAIM")
    clients = []
    for _ in range(10):
        client = Client()
        client.force_login(worker(merchant).user)
        clients.append(client)

    import time_machine

    with time_machine.travel(NOW, tick=False):
        outcomes = race([lambda c=c: c.post(f"/m/tasks/{task.pk}/take/") for c in clients])

    assert outcomes == ["ok"] * 10  # every request answered (a redirect with a message), none crashed
    assert TaskAssignment.objects.filter(task=task, status="CLAIMED").count() == 2
