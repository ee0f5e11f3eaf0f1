"""The portal, mobile and admin pages: thin views over the services, tenant-checked."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib import admin
from django.core.files.base import ContentFile

from core.testing.factories import EnterpriseUserFactory, UserFactory
from tasks import services
from tasks.models import PayableWork, ProofFile, Task, TaskAssignment

from .factories import NOW, approve_category, category, published_task, worker

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0" + b"1" * 300


@pytest.fixture(autouse=True)
def _frozen_clock():
    """Views read the clock; pin it to the tests' NOW (the tasks are scheduled relative to it)."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ent(client, enterprise_admin):
    client.force_login(enterprise_admin)
    return client


def worker_client(client, member):
    client.force_login(member.user)
    return client


def form_payload(**overrides):
    values = {"title": "周末仓库盘点", "description": "清点货架商品数量并录入表格，需细心。", "category": "delivery",
              "skills": "盘点，细心", "pricing_mode": "HOUR", "unit_price": "30.00", "quantity_per_worker": "8",
              "headcount": "2", "budget": "480.00", "take_mode": "CLAIM", "address": "天津市河西区友谊路 10 号",
              "city": "天津", "latitude": "39.100000", "longitude": "117.220000", "radius_m": "500",
              "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T17:00", "deadline_at": "2026-11-30T18:00",
              "proof_kinds": ["PHOTO"]}
    values.update(overrides)
    return values


class TestEnterprisePortal:
    def test_create_submit_and_see_it_in_the_list(self, ent, merchant):
        approve_category(merchant, category())

        response = ent.post("/enterprise/tasks/new/", form_payload())
        task = Task.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/enterprise/tasks/{task.pk}/"
        assert task.unit_price_fen == 3_000 and task.quantity_per_worker == Decimal("8")

        ent.post(f"/enterprise/tasks/{task.pk}/submit/")
        task.refresh_from_db()
        assert task.status == Task.Status.SUBMITTED
        page = ent.get("/enterprise/tasks/").content.decode()
        assert "周末仓库盘点" in page and "待审核" in page

    def test_bad_price_is_shown_on_the_form_and_nothing_saved(self, ent, merchant):
        approve_category(merchant, category())

        response = ent.post("/enterprise/tasks/new/", form_payload(unit_price="-5"))
        assert response.status_code == 200 and "不能为负数" in response.content.decode()
        response = ent.post("/enterprise/tasks/new/", form_payload(unit_price="9999.00", budget="99999.00"))
        assert "超出“同城配送”类目的合理范围" in response.content.decode()
        assert not Task.objects.exists()

    def test_category_not_approved_is_explained(self, ent, merchant):
        approve_category(merchant, category())
        category("labeling", name="数据标注")

        response = ent.post("/enterprise/tasks/new/", form_payload(category="labeling"))

        assert response.status_code == 200 and not Task.objects.exists()

    def test_another_enterprise_gets_404_everywhere(self, client, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        applied = services.task_apply(member=worker(merchant), task_id=task.pk, now=NOW)
        client.force_login(EnterpriseUserFactory())

        for url in (f"/enterprise/tasks/{task.pk}/", f"/enterprise/tasks/{task.pk}/edit/",
                    f"/enterprise/tasks/{task.pk}/match/", f"/enterprise/tasks/assignments/{applied.pk}/"):
            assert client.get(url).status_code == 404, url
        client.post(f"/enterprise/tasks/assignments/{applied.pk}/approve/")
        client.post(f"/enterprise/tasks/{task.pk}/close/")
        applied.refresh_from_db()
        task.refresh_from_db()
        assert applied.status == TaskAssignment.Status.APPLIED and task.status == Task.Status.APPROVED

    def test_finance_staff_may_look_but_not_manage(self, client, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        client.force_login(EnterpriseUserFactory(merchant=merchant, role="ENT_FINANCE"))

        assert client.get(f"/enterprise/tasks/{task.pk}/").status_code == 200
        assert client.post(f"/enterprise/tasks/{task.pk}/close/").status_code == 403
        task.refresh_from_db()
        assert task.status == Task.Status.APPROVED

    def test_accept_proof_and_see_ready_to_pay(self, ent, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, take_mode="CLAIM", proof_kinds=["PHOTO", "QUANTITY"])
        member = worker(merchant)
        a = services.task_claim(member=member, task_id=task.pk, now=NOW)
        services.assignment_submit_proof(member=member, assignment_id=a.pk, quantity="15",
                                         photos=[ContentFile(JPEG, name="a.jpg")], now=task.starts_at)

        page = ent.get(f"/enterprise/tasks/assignments/{a.pk}/").content.decode()
        proof = ProofFile.objects.get()
        assert f"/enterprise/tasks/proofs/{proof.pk}/" in page
        download = ent.get(f"/enterprise/tasks/proofs/{proof.pk}/")
        assert download.status_code == 200 and b"".join(download.streaming_content) == JPEG
        assert download["X-Checksum-SHA256"] == proof.sha256

        ent.post(f"/enterprise/tasks/assignments/{a.pk}/accept/", {"quantity": "15"})
        payable = PayableWork.objects.get()
        assert payable.amount_fen == 12_000
        page = ent.get("/enterprise/tasks/ready-to-pay/").content.decode()
        assert "¥120.00" in page

    def test_invite_recommended_workers(self, ent, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        member = worker(merchant)

        page = ent.get(f"/enterprise/tasks/{task.pk}/match/").content.decode()
        assert f"#{member.pk}" in page and "技能匹配" in page
        ent.post(f"/enterprise/tasks/{task.pk}/match/", {"member_ids": [member.pk]})

        assert TaskAssignment.objects.get().status == TaskAssignment.Status.INVITED

    def test_split_page_creates_parts(self, ent, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        a, b = worker(merchant), worker(merchant)

        ent.post(f"/enterprise/tasks/{task.pk}/split/", {"member_1": a.pk, "title_1": "A 区", "quantity_1": "10",
                                                          "member_2": b.pk, "title_2": "B 区", "quantity_2": "5"})

        assert list(TaskAssignment.objects.order_by("part_no").values_list("part_title", "planned_quantity")) == [
            ("A 区", Decimal("10")), ("B 区", Decimal("5"))]

    def test_home_cards_and_nav(self, ent):
        page = ent.get("/enterprise/").content.decode()
        assert "待验收" in page and "/enterprise/tasks/" in page


class TestWorkerMobile:
    def test_browse_near_me_orders_by_distance(self, client, merchant, enterprise_admin):
        far = published_task(merchant, enterprise_admin, title="远的任务", latitude=Decimal("39.300000"))
        near = published_task(merchant, enterprise_admin, title="近的任务", latitude=Decimal("39.140000"))
        worker_client(client, worker(merchant))

        page = client.get("/m/tasks/", {"sort": "near", "lat": "39.136000", "lng": "117.210000"}).content.decode()

        assert page.index("近的任务") < page.index("远的任务") and "445 米" in page
        assert far.pk and near.pk

    def test_typed_city_fallback(self, client, merchant, enterprise_admin):
        published_task(merchant, enterprise_admin, title="天津的任务")
        worker_client(client, worker(merchant))

        page = client.get("/m/tasks/", {"sort": "near", "city": "天津"}).content.decode()

        assert "天津的任务" in page and "市中心由近到远" in page

    def test_detail_lists_what_is_missing_with_links(self, client, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        worker_client(client, worker(merchant, signed=False))

        page = client.get(f"/m/tasks/{task.pk}/").content.decode()

        assert "接取前还需要" in page and 'href="/m/agreements/"' in page and "签署合作协议" in page

    def test_unsigned_worker_claim_is_refused_and_nothing_created(self, client, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, take_mode="CLAIM")
        worker_client(client, worker(merchant, signed=False))

        response = client.post(f"/m/tasks/{task.pk}/take/", follow=True)

        assert "签署合作协议" in response.content.decode() and not TaskAssignment.objects.exists()

    def test_claim_check_in_and_submit_proof_with_a_photo(self, client, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, take_mode="CLAIM",
                              proof_kinds=["PHOTO", "CHECKIN", "QUANTITY"])
        member = worker(merchant)
        worker_client(client, member)

        client.post(f"/m/tasks/{task.pk}/take/")
        a = TaskAssignment.objects.get()
        with time_machine.travel(task.starts_at + dt.timedelta(minutes=5), tick=False):
            worker_client(client, member)  # a day later: a fresh session
            client.post(f"/m/tasks/assignments/{a.pk}/check-in/", {"latitude": "39.136100",
                                                                   "longitude": "117.210000"})
            response = client.post(f"/m/tasks/assignments/{a.pk}/proof/",
                                   {"quantity": "12", "text": "", "photos": [ContentFile(JPEG, name="p.jpg")]},
                                   follow=True)

        a.refresh_from_db()
        assert a.status == TaskAssignment.Status.SUBMITTED, response.content.decode()
        page = client.get("/m/tasks/mine/").content.decode()
        assert "待验收" in page
        proof = ProofFile.objects.get()
        assert client.get(f"/m/tasks/proofs/{proof.pk}/").status_code == 200

    def test_another_worker_cannot_see_my_assignment_or_files(self, client, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, take_mode="CLAIM", proof_kinds=["PHOTO", "QUANTITY"])
        member = worker(merchant)
        a = services.task_claim(member=member, task_id=task.pk, now=NOW)
        services.assignment_submit_proof(member=member, assignment_id=a.pk, quantity="1",
                                         photos=[ContentFile(JPEG, name="a.jpg")], now=task.starts_at)
        worker_client(client, worker(merchant))

        assert client.get(f"/m/tasks/assignments/{a.pk}/").status_code == 404
        assert client.get(f"/m/tasks/proofs/{ProofFile.objects.get().pk}/").status_code == 404

    def test_media_url_does_not_serve_proofs(self, client, merchant, enterprise_admin):
        assert client.get("/media/task-proofs/").status_code == 404

    def test_profile_saves_skills(self, client, merchant):
        member = worker(merchant)
        worker_client(client, member)

        client.post("/m/tasks/profile/", {"skills": "骑行，送餐", "city": "天津市"})

        assert member.task_profile.skills == ["骑行", "送餐"] and member.task_profile.city == "天津"


class TestOpsAdmin:
    @pytest.fixture
    def ops(self, client, monkeypatch):
        user = UserFactory(role="OPS_REVIEWER", is_superuser=True)
        import config.urls  # noqa: F401  (it turns the admin site into an OTPAdminSite)

        # Signing in with a TOTP device is the accounts app's business; here any active staff user may enter.
        monkeypatch.setattr(admin.site.__class__, "has_permission",
                            lambda self, request: request.user.is_active and request.user.is_staff)
        client.force_login(user)
        return client

    def test_review_queue_send_back_and_history(self, ops, merchant, enterprise_admin):
        approve_category(merchant, category())
        from .factories import task_data

        task = services.task_create(merchant=merchant, data=task_data(), actor=enterprise_admin, now=NOW)
        services.task_submit(merchant=merchant, task_id=task.pk, actor=enterprise_admin, now=NOW)

        assert "午高峰同城配送" in ops.get("/ops/tasks/task/?status__exact=SUBMITTED").content.decode()
        assert "午高峰同城配送" in ops.get("/ops/tasks/taskinreview/").content.decode()
        assert ops.get(f"/ops/tasks/taskinreview/{task.pk}/change/")["Location"] == f"/ops/tasks/task/{task.pk}/change/"
        page = ops.get(f"/ops/tasks/task/{task.pk}/change/").content.decode()
        assert "tasks.task.submitted" in page and "审核通过并发布" in page
        ops.post(f"/ops/tasks/task/{task.pk}/review/", {"decision": "send_back", "reason": ""})
        task.refresh_from_db()
        assert task.status == Task.Status.SUBMITTED
        ops.post(f"/ops/tasks/task/{task.pk}/review/", {"decision": "send_back", "reason": "请补充交付标准"})
        task.refresh_from_db()
        assert task.status == Task.Status.RETURNED and task.review_reason == "请补充交付标准"
        assert "午高峰同城配送" not in ops.get("/ops/tasks/taskinreview/").content.decode()

    def test_approving_a_scenario_for_an_enterprise_is_audited(self, ops, merchant):
        from core.models import AuditRecord
        from tasks.models import MerchantCategory

        cat = category("labeling", name="数据标注")

        response = ops.post("/ops/tasks/merchantcategory/add/", {"merchant": merchant.pk, "category": cat.pk,
                                                                 "note": "协议第 3 条"})

        assert response.status_code == 302, response.content.decode()[-3000:]
        assert response["Location"] == "/ops/tasks/merchantcategory/"
        row = MerchantCategory.objects.get(merchant=merchant, category=cat)
        assert row.approved_at == NOW and row.note == "协议第 3 条"
        assert AuditRecord.objects.filter(event="tasks.merchant_category.granted", merchant_id=merchant.pk).exists()

    def test_resolve_a_dispute(self, ops, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, take_mode="CLAIM", proof_kinds=["QUANTITY"])
        member = worker(merchant)
        a = services.task_claim(member=member, task_id=task.pk, now=NOW)
        services.assignment_submit_proof(member=member, assignment_id=a.pk, quantity="3", now=task.starts_at)
        services.assignment_reject(merchant=merchant, assignment_id=a.pk, actor=enterprise_admin, reason="数量不对",
                                   now=task.starts_at)
        services.assignment_dispute(member=member, assignment_id=a.pk, reason="数量是对的", now=task.starts_at)

        assert "处理申诉" in ops.get(f"/ops/tasks/taskassignment/{a.pk}/change/").content.decode()
        ops.post(f"/ops/tasks/taskassignment/{a.pk}/resolve/", {"decision": "worker", "note": "核实数量无误"})

        a.refresh_from_db()
        assert a.status == TaskAssignment.Status.ACCEPTED and PayableWork.objects.get().amount_fen == 2_400


def test_the_task_list_page_has_a_fixed_query_budget(client, merchant, enterprise_admin, django_assert_max_num_queries):
    for _ in range(6):
        task = published_task(merchant, enterprise_admin, take_mode="CLAIM")
        services.task_claim(member=worker(merchant), task_id=task.pk, now=NOW)
    client.force_login(enterprise_admin)

    with django_assert_max_num_queries(12):
        response = client.get("/enterprise/tasks/")

    assert response.content.decode().count("1/3") == 6
