from decimal import Decimal

import pytest

from core.testing.factories import EnterpriseUserFactory
from tasks import matching, selectors, services
from tasks.exceptions import PayableNotFound, PayableStateInvalid, TaskNotFound
from tasks.models import Evaluation, PayableWork, TaskAssignment, WorkerProfile

from .factories import NOW, published_task, worker

pytestmark = pytest.mark.django_db


def accepted_work(merchant, actor, *, quantity="10", **task_overrides):
    task = published_task(merchant, actor, take_mode="CLAIM", proof_kinds=["QUANTITY"], **task_overrides)
    member = worker(merchant)
    a = services.task_claim(member=member, task_id=task.pk, now=NOW)
    later = task.starts_at
    services.assignment_submit_proof(member=member, assignment_id=a.pk, quantity=quantity, now=later)
    return services.assignment_accept(merchant=merchant, assignment_id=a.pk, actor=actor, now=later)


class TestPayables:
    def test_reserve_pay_and_the_ready_list(self, merchant, enterprise_admin):
        first, second = accepted_work(merchant, enterprise_admin), accepted_work(merchant, enterprise_admin)

        services.payable_work_reserve(merchant=merchant, payable_ids=[first.pk], ref="payout:1", now=NOW)
        assert list(selectors.payable_work_list(merchant=merchant)) == [second]
        services.payable_work_mark_paid(merchant=merchant, payable_ids=[first.pk], ref="payout:1", now=NOW)

        first.refresh_from_db()
        assert first.status == PayableWork.Status.PAID and first.amount_fen == 8_000

    def test_reserve_is_idempotent_per_ref_and_exclusive_between_refs(self, merchant, enterprise_admin):
        item = accepted_work(merchant, enterprise_admin)
        services.payable_work_reserve(merchant=merchant, payable_ids=[item.pk], ref="payout:1", now=NOW)
        services.payable_work_reserve(merchant=merchant, payable_ids=[item.pk], ref="payout:1", now=NOW)

        with pytest.raises(PayableStateInvalid, match=f"#{item.pk}（付款处理中）"):
            services.payable_work_reserve(merchant=merchant, payable_ids=[item.pk], ref="payout:2", now=NOW)

    def test_all_or_nothing(self, merchant, enterprise_admin):
        free, taken = accepted_work(merchant, enterprise_admin), accepted_work(merchant, enterprise_admin)
        services.payable_work_reserve(merchant=merchant, payable_ids=[taken.pk], ref="payout:1", now=NOW)

        with pytest.raises(PayableStateInvalid):
            services.payable_work_reserve(merchant=merchant, payable_ids=[free.pk, taken.pk], ref="payout:2",
                                          now=NOW)
        free.refresh_from_db()
        assert free.status == PayableWork.Status.READY

    def test_release_after_a_failed_payout(self, merchant, enterprise_admin):
        item = accepted_work(merchant, enterprise_admin)
        services.payable_work_reserve(merchant=merchant, payable_ids=[item.pk], ref="payout:1", now=NOW)

        with pytest.raises(PayableStateInvalid):
            services.payable_work_release(merchant=merchant, payable_ids=[item.pk], ref="payout:9", now=NOW)
        services.payable_work_release(merchant=merchant, payable_ids=[item.pk], ref="payout:1", now=NOW)

        item.refresh_from_db()
        assert item.status == PayableWork.Status.READY and item.reserved_ref == ""

    def test_cannot_pay_what_was_not_reserved(self, merchant, enterprise_admin):
        item = accepted_work(merchant, enterprise_admin)
        with pytest.raises(PayableStateInvalid, match="未被该付款锁定"):
            services.payable_work_mark_paid(merchant=merchant, payable_ids=[item.pk], ref="payout:1", now=NOW)

    def test_another_enterprise_gets_not_found(self, merchant, enterprise_admin):
        item = accepted_work(merchant, enterprise_admin)
        other = EnterpriseUserFactory().merchant

        with pytest.raises(PayableNotFound, match=f"#{item.pk}"):
            services.payable_work_reserve(merchant=other, payable_ids=[item.pk], ref="payout:1", now=NOW)
        assert list(selectors.payable_work_list(merchant=other)) == []
        with pytest.raises(PayableNotFound):
            selectors.payable_work_get(merchant=other, payable_id=item.pk)


class TestIsolation:
    def test_enterprise_selectors_never_show_another_tenants_rows(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        other = EnterpriseUserFactory().merchant

        assert list(selectors.task_list(merchant=other)) == []
        with pytest.raises(TaskNotFound):
            selectors.task_get(merchant=other, task_id=task.pk)
        with pytest.raises(TaskNotFound):
            matching.recommend_workers(merchant=other, task_id=task.pk)


class TestNearMe:
    def test_open_tasks_are_ordered_by_distance_with_remote_last(self, merchant, enterprise_admin):
        far = published_task(merchant, enterprise_admin, title="远处", latitude=Decimal("39.300000"))
        remote = published_task(merchant, enterprise_admin, title="远程", is_remote=True, latitude=None,
                                longitude=None, proof_kinds=["QUANTITY"])
        near = published_task(merchant, enterprise_admin, title="近处", latitude=Decimal("39.140000"))
        middle = published_task(merchant, enterprise_admin, title="中间", latitude=Decimal("39.200000"))

        rows = selectors.open_task_list(origin=(Decimal("39.136000"), Decimal("117.210000")))

        assert [r.task.pk for r in rows] == [near.pk, middle.pk, far.pk, remote.pk]
        assert rows[0].distance_m == 445 and rows[-1].distance_m is None

    def test_near_me_leaves_out_tasks_beyond_100_km(self, merchant, enterprise_admin):
        published_task(merchant, enterprise_admin, title="上海的", city="上海", latitude=Decimal("31.230400"),
                       longitude=Decimal("121.473700"))
        tianjin = published_task(merchant, enterprise_admin, title="天津的")

        rows = selectors.open_task_list(origin=(Decimal("39.084200"), Decimal("117.200900")))

        assert [r.task.pk for r in rows] == [tianjin.pk]

    def test_typed_city_filters_when_no_location(self, merchant, enterprise_admin):
        tianjin = published_task(merchant, enterprise_admin, title="天津的")
        published_task(merchant, enterprise_admin, title="北京的", city="北京", latitude=Decimal("39.904200"),
                       longitude=Decimal("116.407400"))

        rows = selectors.open_task_list(city="天津市")

        assert [r.task.pk for r in rows] == [tianjin.pk]

    def test_full_tasks_are_not_listed(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, headcount=1, take_mode="CLAIM")
        services.task_claim(member=worker(merchant), task_id=task.pk, now=NOW)

        assert selectors.open_task_list() == []

    def test_filters_by_category_pricing_and_pay(self, merchant, enterprise_admin):
        cheap = published_task(merchant, enterprise_admin, unit_price_fen=500)
        dear = published_task(merchant, enterprise_admin, unit_price_fen=2_000, budget_fen=200_000)

        assert [r.task.pk for r in selectors.open_task_list(min_price_fen=1_000)] == [dear.pk]
        assert [r.task.pk for r in selectors.open_task_list(pricing_mode="HOUR")] == []
        assert {r.task.pk for r in selectors.open_task_list(category="delivery")} == {cheap.pk, dear.pk}


class TestMatching:
    def test_score_is_deterministic_and_explained(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, skills=["骑行", "送餐", "普通话"])
        skilled, idle = worker(merchant), worker(merchant)
        WorkerProfile.objects.create(member=skilled, skills=["骑行", "送餐"], latitude=Decimal("39.137000"),
                                     longitude=Decimal("117.210000"))
        WorkerProfile.objects.create(member=idle, skills=[], city="北京")

        matches = matching.recommend_workers(merchant=merchant, task_id=task.pk)

        assert [m.member.pk for m in matches] == [skilled.pk, idle.pk]
        best = matches[0]
        assert best.score == 26 + 30 + 10 + 0
        assert best.reasons[0] == "技能匹配 2/3（骑行、送餐） +26"
        assert best.reasons[1].startswith("距离 111 米 +30")
        assert matches[1].reasons[1].startswith("距离 1")

    def test_ratings_and_history_raise_the_score(self, merchant, enterprise_admin):
        payable = accepted_work(merchant, enterprise_admin)
        member = payable.member
        task = published_task(merchant, enterprise_admin)
        services.evaluation_of_worker_create(merchant=merchant, assignment_id=payable.assignment_id,
                                             actor=enterprise_admin, stars=5, now=NOW)

        [match] = matching.recommend_workers(merchant=merchant, task_id=task.pk)

        assert match.member == member
        assert "人员评分 5.0★（1 条）+20" in match.reasons and "在该企业已完成 1 次 +2" in match.reasons
        assert Evaluation.objects.count() == 1

    def test_tasks_recommended_to_a_worker_prefer_their_skills(self, merchant, enterprise_admin):
        plain = published_task(merchant, enterprise_admin, skills=["搬运"])
        fitting = published_task(merchant, enterprise_admin, skills=["骑行"])
        member = worker(merchant)
        WorkerProfile.objects.create(member=member, skills=["骑行"], city="天津")

        matches = matching.recommend_tasks(member=member)

        assert [m.task.pk for m in matches] == [fitting.pk, plain.pk]

    def test_already_on_the_task_is_not_recommended(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        member = worker(merchant)
        services.task_apply(member=member, task_id=task.pk, now=NOW)

        assert matching.recommend_workers(merchant=merchant, task_id=task.pk) == []
        assert TaskAssignment.objects.count() == 1


def test_recommending_workers_takes_a_fixed_number_of_queries(merchant, enterprise_admin,
                                                             django_assert_max_num_queries):
    task = published_task(merchant, enterprise_admin)
    for _ in range(8):
        member = worker(merchant)
        WorkerProfile.objects.create(member=member, skills=["骑行"], city="天津")

    with django_assert_max_num_queries(8):
        matches = matching.recommend_workers(merchant=merchant, task_id=task.pk)

    assert len(matches) == 8
