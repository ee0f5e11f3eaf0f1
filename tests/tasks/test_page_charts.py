"""The charts on the enterprise task pages count the enterprise's own tasks and payable work only."""

import pytest
import time_machine
from django.core.files.base import ContentFile

from core.testing.factories import EnterpriseUserFactory
from tasks import services

from .factories import NOW, published_task, worker

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0" + b"1" * 300


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_tasks_per_status_counts_every_task_of_this_enterprise_only(client, merchant, other_merchant, enterprise_admin):
    published_task(merchant, enterprise_admin)
    published_task(merchant, enterprise_admin)
    published_task(other_merchant, EnterpriseUserFactory(merchant=other_merchant))
    client.force_login(enterprise_admin)

    # a filter narrows the table, not the chart
    response = client.get("/enterprise/tasks/", {"status": "DRAFT"})

    chart = response.context["status_chart"]
    assert [(g.label, g.bars[0].value) for g in chart.groups] == [("已发布", 2)]
    assert "各状态的任务数" in response.content.decode()


def test_no_tasks_no_chart(client, enterprise_admin):
    client.force_login(enterprise_admin)

    response = client.get("/enterprise/tasks/")

    assert response.context["status_chart"].empty
    assert "各状态的任务数" not in response.content.decode()


def test_ready_to_pay_per_month(client, merchant, enterprise_admin):
    task = published_task(merchant, enterprise_admin, take_mode="CLAIM", proof_kinds=["PHOTO", "QUANTITY"])
    member = worker(merchant)
    a = services.task_claim(member=member, task_id=task.pk, now=NOW)
    services.assignment_submit_proof(member=member, assignment_id=a.pk, quantity="15",
                                     photos=[ContentFile(JPEG, name="a.jpg")], now=task.starts_at)
    client.force_login(enterprise_admin)
    client.post(f"/enterprise/tasks/assignments/{a.pk}/accept/", {"quantity": "15"})

    response = client.get("/enterprise/tasks/ready-to-pay/")

    chart = response.context["month_chart"]
    assert [(g.label, g.bars[0].value) for g in chart.groups] == [("2026-03", 12_000)]
    assert "<title>2026-03 ¥120.00</title>" in response.content.decode()
