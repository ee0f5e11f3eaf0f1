import pytest

from merchants.services.account import close_blockers
from tasks import services

from .factories import NOW, published_task, worker


@pytest.mark.django_db
class TestOpenWorkBlocksClosing:
    def test_a_worker_on_a_task_blocks_closing_until_the_work_is_done(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        assert not any("任务" in reason for reason in close_blockers(merchant))

        applied = services.task_apply(member=worker(merchant), task_id=task.pk, now=NOW)
        services.assignment_approve(merchant=merchant, assignment_id=applied.pk, actor=enterprise_admin, now=NOW)

        reasons = close_blockers(merchant)
        assert any("1 项任务仍在进行" in reason for reason in reasons)

    def test_another_enterprises_work_does_not_block(self, merchant, other_merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        applied = services.task_apply(member=worker(merchant), task_id=task.pk, now=NOW)
        services.assignment_approve(merchant=merchant, assignment_id=applied.pk, actor=enterprise_admin, now=NOW)

        assert not any("任务" in reason for reason in close_blockers(other_merchant))
