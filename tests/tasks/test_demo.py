import pytest

from core.testing.factories import EnterpriseUserFactory, MerchantFactory, UserFactory
from tasks import demo
from tasks.models import PayableWork, Task, TaskAssignment

from .factories import NOW


@pytest.mark.django_db
def test_demo_covers_every_state_and_is_idempotent():
    for name in (demo.KUAISONG, demo.YUNCE):
        EnterpriseUserFactory(merchant=MerchantFactory(name=name))
    UserFactory(username="ops_reviewer", role="OPS_REVIEWER")

    demo.load(now=NOW)
    demo.load(now=NOW)

    statuses = set(Task.objects.values_list("status", flat=True))
    assert {"DRAFT", "SUBMITTED", "RETURNED", "APPROVED", "COMPLETED"} <= statuses
    assert {"INVITED", "APPLIED", "ASSIGNED", "CLAIMED", "SUBMITTED", "ACCEPTED", "DISPUTED"} <= set(
        TaskAssignment.objects.values_list("status", flat=True))
    assert TaskAssignment.objects.filter(part_no__isnull=False).count() == 3
    assert PayableWork.objects.filter(status="READY").count() == 4
    assert Task.objects.count() == 9
