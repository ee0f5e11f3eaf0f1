import datetime as dt

import pytest

from core.models import AuditRecord
from merchants.models import MerchantConfiguration
from tasks import services
from tasks.exceptions import (
    BannedWordFound,
    BudgetNotCovered,
    CategoryNotApproved,
    PriceOutOfBounds,
    TaskInvalid,
    TaskNotEditable,
    TaskNotFound,
    TaskStateInvalid,
)
from tasks.models import BannedWord, Task

from .factories import NOW, approve_category, category, task_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(merchant):
    cat = category()
    approve_category(merchant, cat)
    return cat


def create(merchant, actor, **overrides):
    return services.task_create(merchant=merchant, data=task_data(**overrides), actor=actor, now=NOW)


class TestTaskCreate:
    def test_creates_a_draft_and_audits_it(self, merchant, enterprise_admin, delivery):
        task = create(merchant, enterprise_admin)

        assert task.status == Task.Status.DRAFT
        assert task.unit_price_fen == 800 and task.budget_fen == 100_000
        assert AuditRecord.objects.filter(event="tasks.task.created", subject_id=str(task.pk)).exists()

    def test_refuses_a_category_the_enterprise_is_not_approved_for(self, merchant, enterprise_admin, delivery):
        category("labeling", name="数据标注")

        with pytest.raises(CategoryNotApproved, match="未获准发布“数据标注”类任务.*已批准的业务场景：同城配送"):
            create(merchant, enterprise_admin, category_code="labeling")
        assert not Task.objects.exists()

    @pytest.mark.parametrize(("price", "error", "text"), [
        (-100, TaskInvalid, "单价必须大于 0"), (0, TaskInvalid, "单价必须大于 0"),
        (50, PriceOutOfBounds, "超出“同城配送”类目的合理范围 ¥1.00–¥500.00"),
        (99_999_999, PriceOutOfBounds, "超出"),
    ])
    def test_refuses_negative_zero_and_absurd_prices(self, merchant, enterprise_admin, delivery, price, error, text):
        with pytest.raises(error, match=text):
            create(merchant, enterprise_admin, unit_price_fen=price)
        assert not Task.objects.exists()

    def test_refuses_a_budget_that_cannot_pay_the_headcount(self, merchant, enterprise_admin, delivery):
        with pytest.raises(TaskInvalid, match="不足以支付 3 人 × 20 × ¥8.00 = ¥480.00") as info:
            create(merchant, enterprise_admin, budget_fen=47_999)
        assert info.value.extra["field"] == "budget"

    @pytest.mark.parametrize(("overrides", "field"), [
        ({"title": " "}, "title"), ({"headcount": 0}, "headcount"), ({"latitude": None}, "latitude"),
        ({"ends_at": NOW - dt.timedelta(hours=1), "starts_at": NOW - dt.timedelta(hours=3)}, "ends_at"),
        ({"deadline_at": NOW + dt.timedelta(days=5)}, "deadline_at"), ({"proof_kinds": ["SELFIE"]}, "proof_kinds"),
        ({"pricing_mode": "FIXED", "quantity_per_worker": 2}, "quantity_per_worker"),
        ({"radius_m": 10}, "radius_m"), ({"is_remote": True, "proof_kinds": ["CHECKIN"]}, "proof_kinds"),
    ])
    def test_names_the_wrong_field(self, merchant, enterprise_admin, delivery, overrides, field):
        with pytest.raises(TaskInvalid) as info:
            create(merchant, enterprise_admin, **overrides)
        assert info.value.extra["field"] == field

    def test_piecework_always_requires_the_quantity(self, merchant, enterprise_admin, delivery):
        task = create(merchant, enterprise_admin, proof_kinds=["PHOTO"])
        assert task.proof_kinds == ["PHOTO", "QUANTITY"]


class TestReviewFlow:
    def test_submit_approve_publishes_with_findings(self, merchant, enterprise_admin, ops_user, delivery):
        task = create(merchant, enterprise_admin)

        services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)
        task = services.task_approve(task_id=task.pk, actor=ops_user, now=NOW)

        assert task.status == Task.Status.APPROVED and task.published_at == NOW
        assert {f["rule"] for f in task.review_findings} == {"category", "price", "banned_words", "budget_cover"}
        events = list(AuditRecord.objects.filter(subject_id=str(task.pk), subject_type="tasks.task")
                      .order_by("seq").values_list("event", flat=True))
        assert events == ["tasks.task.created", "tasks.task.submitted", "tasks.task.approved"]

    def test_banned_words_refuse_the_submission(self, merchant, enterprise_admin, delivery):
        BannedWord.objects.create(word="刷单")
        task = create(merchant, enterprise_admin, description="帮忙刷单，每单结算，日结。")

        with pytest.raises(BannedWordFound, match="违禁词：刷单"):
            services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)
        task.refresh_from_db()
        assert task.status == Task.Status.DRAFT

    def test_budget_must_be_covered_when_the_configuration_says_so(self, merchant, enterprise_admin, delivery):
        MerchantConfiguration.objects.create(merchant=merchant, require_budget_cover=True)
        task = create(merchant, enterprise_admin)

        with pytest.raises(BudgetNotCovered, match="超过企业可用余额 ¥300.00；请先充值至少 ¥700.00"):
            services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW,
                                 available_fen_of=lambda merchant: 30_000)
        services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW,
                             available_fen_of=lambda merchant: 100_000)
        task.refresh_from_db()
        assert task.status == Task.Status.SUBMITTED

    def test_budget_cover_reads_the_ledger_balance_by_default(self, merchant, enterprise_admin, delivery, monkeypatch):
        MerchantConfiguration.objects.create(merchant=merchant, require_budget_cover=True)
        task = create(merchant, enterprise_admin)

        with pytest.raises(BudgetNotCovered, match="可用余额 ¥0.00"):  # no ledger account yet
            services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)
        import ledger.selectors

        monkeypatch.setattr(ledger.selectors, "merchant_available_fen", lambda *, merchant: 250_000)
        task = services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)
        assert "可用余额 ¥2,500.00 覆盖预算" in task.review_findings[-1]["message"]

    def test_send_back_then_edit_then_resubmit(self, merchant, enterprise_admin, ops_user, delivery):
        task = create(merchant, enterprise_admin)
        services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)

        services.task_send_back(task_id=task.pk, actor=ops_user, reason="请写明交付标准", now=NOW)
        services.task_update(merchant=merchant, task_id=task.pk, data=task_data(title="修改后的任务"),
                             actor=enterprise_admin, now=NOW)
        task = services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)

        assert task.status == Task.Status.SUBMITTED and task.title == "修改后的任务" and task.version == 2

    def test_reject_needs_a_reason_and_is_final(self, merchant, enterprise_admin, ops_user, delivery):
        task = create(merchant, enterprise_admin)
        services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)

        with pytest.raises(TaskInvalid, match="请写明原因"):
            services.task_reject(task_id=task.pk, actor=ops_user, reason="", now=NOW)
        services.task_reject(task_id=task.pk, actor=ops_user, reason="业务内容与场景不符", now=NOW)

        with pytest.raises(TaskStateInvalid, match="审核驳回"):
            services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)

    def test_an_approved_task_is_not_editable_until_reopened(self, merchant, enterprise_admin, ops_user, delivery):
        task = create(merchant, enterprise_admin)
        services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)
        services.task_approve(task_id=task.pk, actor=ops_user, now=NOW)

        with pytest.raises(TaskNotEditable, match="已发布的任务请先点“修改（重新审核）”"):
            services.task_update(merchant=merchant, task_id=task.pk, data=task_data(unit_price_fen=900),
                                 actor=enterprise_admin, now=NOW)
        services.task_reopen_for_change(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)
        task = services.task_update(merchant=merchant, task_id=task.pk, data=task_data(unit_price_fen=900),
                                    actor=enterprise_admin, now=NOW)

        assert task.status == Task.Status.DRAFT and task.unit_price_fen == 900

    def test_withdraw_returns_to_draft(self, merchant, enterprise_admin, delivery):
        task = create(merchant, enterprise_admin)
        services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)

        task = services.task_withdraw(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)

        assert task.status == Task.Status.DRAFT

    def test_another_enterprise_gets_not_found_and_nothing_changes(self, merchant, other_merchant, enterprise_admin,
                                                                   delivery):
        task = create(merchant, enterprise_admin)

        for call in (services.task_submit, services.task_cancel, services.task_withdraw):
            with pytest.raises(TaskNotFound):
                call(merchant=other_merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)
        with pytest.raises(TaskNotFound):
            services.task_update(merchant=other_merchant, task_id=task.pk, data=task_data(), actor=None, now=NOW)
        task.refresh_from_db()
        assert task.status == Task.Status.DRAFT and task.version == 1


class TestCloseExpired:
    def test_closes_published_tasks_past_their_deadline_only(self, merchant, enterprise_admin, ops_user, delivery):
        from tasks.jobs import close_expired

        from .factories import published_task, worker

        expired = published_task(merchant, enterprise_admin, ops=ops_user)
        later = published_task(merchant, enterprise_admin, ops=ops_user,
                               deadline_at=NOW + dt.timedelta(days=1, hours=1))
        pending = services.task_apply(member=worker(merchant), task_id=expired.pk, now=NOW)

        closed = services.task_close_expired(now=NOW + dt.timedelta(hours=21))

        expired.refresh_from_db()
        later.refresh_from_db()
        pending.refresh_from_db()
        assert closed == 1 and expired.status == Task.Status.CLOSED and later.status == Task.Status.APPROVED
        assert pending.status == "DECLINED"
        assert close_expired.name == "tasks.close_expired"


class TestReopenedTaskWithPeople:
    def test_headcount_cannot_drop_below_people_on_it_and_it_cannot_be_cancelled(self, merchant, enterprise_admin,
                                                                                 ops_user, delivery):
        from .factories import published_task, worker

        task = published_task(merchant, enterprise_admin, ops=ops_user, take_mode="CLAIM")
        for _ in range(2):
            services.task_claim(member=worker(merchant), task_id=task.pk, now=NOW)
        services.task_reopen_for_change(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)

        with pytest.raises(TaskInvalid, match="已有 2 人接取，需要人数不能少于 2"):
            services.task_update(merchant=merchant, task_id=task.pk, data=task_data(headcount=1, take_mode="CLAIM"),
                                 actor=enterprise_admin, now=NOW)
        with pytest.raises(TaskStateInvalid, match="已有人员报名或接取，不能取消"):
            services.task_cancel(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)
        task.refresh_from_db()
        assert task.headcount == 3 and task.status == Task.Status.DRAFT
