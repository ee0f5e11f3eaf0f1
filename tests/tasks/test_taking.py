import datetime as dt
from decimal import Decimal

import pytest

from core.testing.concurrency import race_each
from core.testing.factories import EnterpriseUserFactory, MerchantFactory, UserFactory
from members.models import MemberMerchant
from tasks import services
from tasks.exceptions import (
    AlreadyTaken,
    AssignmentNotFound,
    HeadcountFull,
    QuantityInvalid,
    TaskClosedForTaking,
    WorkerNotEligible,
)
from tasks.inputs import PartData
from tasks.models import TaskAssignment

from .factories import NOW, published_task, worker


@pytest.mark.django_db
class TestApplyAndApprove:
    def test_apply_then_approve_takes_a_slot(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        member = worker(merchant)

        applied = services.task_apply(member=member, task_id=task.pk, now=NOW)
        approved = services.assignment_approve(merchant=merchant, assignment_id=applied.pk, actor=enterprise_admin,
                                               now=NOW)

        assert approved.status == TaskAssignment.Status.ASSIGNED and approved.planned_quantity == Decimal("20")

    @pytest.mark.parametrize(("signed", "verified", "codes"), [
        (False, True, ["not_signed"]), (True, False, ["not_verified"]), (False, False, ["not_verified", "not_signed"]),
    ])
    def test_unverified_or_unsigned_worker_is_told_what_is_missing(self, merchant, enterprise_admin, signed,
                                                                   verified, codes):
        task = published_task(merchant, enterprise_admin)
        member = worker(merchant, signed=signed, verified=verified)

        with pytest.raises(WorkerNotEligible) as info:
            services.task_apply(member=member, task_id=task.pk, now=NOW)

        assert [m["code"] for m in info.value.extra["missing"]] == codes
        assert all(m["url"].startswith("/m/") for m in info.value.extra["missing"])
        assert not TaskAssignment.objects.exists()

    def test_worker_signed_with_another_enterprise_only_is_refused(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        member = worker(MerchantFactory())

        with pytest.raises(WorkerNotEligible, match="签署合作协议"):
            services.task_apply(member=member, task_id=task.pk, now=NOW)

    def test_applying_twice_is_refused(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        member = worker(merchant)
        services.task_apply(member=member, task_id=task.pk, now=NOW)

        with pytest.raises(AlreadyTaken):
            services.task_apply(member=member, task_id=task.pk, now=NOW)

    def test_deadline_and_unpublished_tasks_refuse_takers(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        member = worker(merchant)

        with pytest.raises(TaskClosedForTaking, match="报名已截止"):
            services.task_apply(member=member, task_id=task.pk, now=NOW + dt.timedelta(days=1))
        services.task_close(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)
        with pytest.raises(TaskClosedForTaking, match="停止接取"):
            services.task_apply(member=member, task_id=task.pk, now=NOW)

    def test_approving_beyond_headcount_is_refused(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, headcount=1)
        first, second = worker(merchant), worker(merchant)
        a = services.task_apply(member=first, task_id=task.pk, now=NOW)
        services.assignment_approve(merchant=merchant, assignment_id=a.pk, actor=enterprise_admin, now=NOW)

        with pytest.raises(HeadcountFull, match="名额已满（共 1 人，已有 1 人）"):
            services.task_apply(member=second, task_id=task.pk, now=NOW)

    def test_another_enterprise_cannot_approve(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        applied = services.task_apply(member=worker(merchant), task_id=task.pk, now=NOW)
        outsider = EnterpriseUserFactory()

        with pytest.raises(AssignmentNotFound):
            services.assignment_approve(merchant=outsider.merchant, assignment_id=applied.pk, actor=outsider, now=NOW)
        applied.refresh_from_db()
        assert applied.status == TaskAssignment.Status.APPLIED

    def test_withdraw_frees_the_slot(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, headcount=1, take_mode="CLAIM")
        first, second = worker(merchant), worker(merchant)
        claimed = services.task_claim(member=first, task_id=task.pk, now=NOW)

        services.assignment_withdraw(member=first, assignment_id=claimed.pk, now=NOW)
        again = services.task_claim(member=second, task_id=task.pk, now=NOW)

        assert again.status == TaskAssignment.Status.CLAIMED

    def test_a_worker_cannot_withdraw_someone_elses(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, take_mode="CLAIM")
        claimed = services.task_claim(member=worker(merchant), task_id=task.pk, now=NOW)

        with pytest.raises(AssignmentNotFound):
            services.assignment_withdraw(member=worker(merchant), assignment_id=claimed.pk, now=NOW)
        with pytest.raises(AssignmentNotFound):
            services.assignment_withdraw(member=None, assignment_id=claimed.pk, now=NOW)


@pytest.mark.django_db
class TestClaim:
    def test_claim_mode_refuses_apply_and_vice_versa(self, merchant, enterprise_admin):
        claim_task = published_task(merchant, enterprise_admin, take_mode="CLAIM")
        apply_task = published_task(merchant, enterprise_admin)
        member = worker(merchant)

        with pytest.raises(TaskClosedForTaking, match="先到先得"):
            services.task_apply(member=member, task_id=claim_task.pk, now=NOW)
        with pytest.raises(TaskClosedForTaking, match="报名"):
            services.task_claim(member=member, task_id=apply_task.pk, now=NOW)

    def test_last_slot_goes_to_the_first(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, headcount=2, take_mode="CLAIM")
        members = [worker(merchant) for _ in range(3)]

        services.task_claim(member=members[0], task_id=task.pk, now=NOW)
        services.task_claim(member=members[1], task_id=task.pk, now=NOW)
        with pytest.raises(HeadcountFull):
            services.task_claim(member=members[2], task_id=task.pk, now=NOW)

        assert TaskAssignment.objects.filter(task=task, status__in=TaskAssignment.HOLDING).count() == 2


@pytest.mark.django_db
class TestInvite:
    def test_invited_worker_accepts_and_takes_a_slot(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        member = worker(merchant)

        [invited] = services.task_invite(merchant=merchant, task_id=task.pk, member_ids=[member.pk],
                                         actor=enterprise_admin, now=NOW, scores={member.pk: 77})
        accepted = services.assignment_respond_invitation(member=member, assignment_id=invited.pk, accept=True,
                                                          now=NOW)

        assert invited.match_score == 77 and accepted.status == TaskAssignment.Status.ASSIGNED

    def test_inviting_an_unsigned_worker_refuses_the_whole_batch(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        good, unsigned = worker(merchant), worker(merchant, signed=False)

        with pytest.raises(WorkerNotEligible, match=f"灵工人员 #{unsigned.pk}"):
            services.task_invite(merchant=merchant, task_id=task.pk, member_ids=[good.pk, unsigned.pk],
                                 actor=enterprise_admin, now=NOW)
        assert not TaskAssignment.objects.exists()

    def test_declining_an_invitation(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        member = worker(merchant)
        [invited] = services.task_invite(merchant=merchant, task_id=task.pk, member_ids=[member.pk],
                                         actor=enterprise_admin, now=NOW)

        declined = services.assignment_respond_invitation(member=member, assignment_id=invited.pk, accept=False,
                                                          now=NOW)

        assert declined.status == TaskAssignment.Status.DECLINED


@pytest.mark.django_db
class TestSplit:
    def test_split_into_parts_each_with_its_own_quantity(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, headcount=3)
        a, b = worker(merchant), worker(merchant)

        parts = services.task_split(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW, parts=[
            PartData(member_id=a.pk, title="和平区 1–10 号楼", quantity=Decimal("12")),
            PartData(member_id=b.pk, title="和平区 11–20 号楼", quantity=Decimal("8")),
        ])

        assert [(p.part_no, p.planned_quantity, p.status) for p in parts] == [
            (1, Decimal("12"), "ASSIGNED"), (2, Decimal("8"), "ASSIGNED")]

    def test_split_beyond_budget_is_refused_and_nothing_created(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, headcount=3, budget_fen=48_000)
        a = worker(merchant)

        with pytest.raises(QuantityInvalid, match="超过任务预算 ¥480.00"):
            services.task_split(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW,
                                parts=[PartData(member_id=a.pk, title="全部", quantity=Decimal("61"))])
        assert not TaskAssignment.objects.exists()

    def test_split_beyond_headcount_is_refused(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, headcount=1)
        a, b = worker(merchant), worker(merchant)

        with pytest.raises(HeadcountFull):
            services.task_split(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW, parts=[
                PartData(member_id=a.pk, title="一", quantity=Decimal("1")),
                PartData(member_id=b.pk, title="二", quantity=Decimal("1"))])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_workers_claiming_three_slots_at_once_get_exactly_three():
    merchant = MerchantFactory()
    admin = EnterpriseUserFactory(merchant=merchant)
    task = published_task(merchant, admin, ops=UserFactory(), headcount=3, take_mode="CLAIM")
    members = [worker(merchant) for _ in range(20)]
    outcomes = [("full" if isinstance(o, HeadcountFull) else repr(o) if isinstance(o, Exception) else "ok")
                for o in race_each(20, lambda i: services.task_claim(member=members[i], task_id=task.pk, now=NOW))]
    assert sorted(outcomes) == ["full"] * 17 + ["ok"] * 3
    assert TaskAssignment.objects.filter(task=task, status="CLAIMED").count() == 3
    assert MemberMerchant.objects.filter(merchant=merchant).count() == 20


@pytest.mark.django_db
def test_invited_and_approved_workers_get_an_sms_after_commit(merchant, enterprise_admin,
                                                              django_capture_on_commit_callbacks):
    from accounts.models import SmsOutbox

    task = published_task(merchant, enterprise_admin)
    invited, applicant = worker(merchant), worker(merchant)
    applied = services.task_apply(member=applicant, task_id=task.pk, now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        services.task_invite(merchant=merchant, task_id=task.pk, member_ids=[invited.pk], actor=enterprise_admin,
                             now=NOW)
        services.assignment_approve(merchant=merchant, assignment_id=applied.pk, actor=enterprise_admin, now=NOW)

    bodies = sorted(SmsOutbox.objects.values_list("body", flat=True))
    assert len(bodies) == 2
    assert any("邀请您参加任务“午高峰同城配送”" in b for b in bodies)
    assert any("您已被录用" in b for b in bodies)
