"""Partner API: the whole lifecycle over HTTP, errors as {"code", "message", "extra"}, tenants isolated."""

import pytest
import time_machine
from rest_framework.test import APIClient

from core.testing.factories import EnterpriseUserFactory
from tasks import services
from tasks.models import PayableWork, Task, TaskAssignment

from .factories import NOW, approve_category, category, published_task, worker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api(enterprise_admin):
    client = APIClient()
    client.force_authenticate(enterprise_admin)
    return client


def body(**overrides):
    values = {"title": "数据采集", "description": "在门店拍摄货架照片并上传，按件计费。", "category": "delivery",
              "pricing_mode": "PIECE", "unit_price": "5.00", "headcount": 2, "quantity_per_worker": "10",
              "budget": "100.00", "take_mode": "CLAIM", "is_remote": False, "address": "天津市南开区 1 号",
              "city": "天津", "latitude": "39.130000", "longitude": "117.200000", "radius_m": 800,
              "starts_at": "2026-03-17T09:00:00+08:00", "ends_at": "2026-03-17T18:00:00+08:00",
              "deadline_at": "2026-03-17T08:00:00+08:00", "proof_kinds": ["PHOTO", "QUANTITY"]}
    values.update(overrides)
    return values


class TestLifecycle:
    def test_create_submit_approve_claim_prove_accept_and_list_ready_to_pay(self, api, merchant, ops_user):
        approve_category(merchant, category())

        created = api.post("/api/v1/tasks/create/", body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert created.status_code == 201, created.data
        task_id = created.data["id"]
        assert created.data["unit_price"] == "5.00" and created.data["budget"] == "100.00"
        replay = api.post("/api/v1/tasks/create/", body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert replay["Idempotent-Replayed"] == "true" and Task.objects.count() == 1

        assert api.post(f"/api/v1/tasks/{task_id}/submit/").data["status"] == "SUBMITTED"
        services.task_approve(task_id=task_id, actor=ops_user, now=NOW)
        member = worker(merchant)
        assignment = services.task_claim(member=member, task_id=task_id, now=NOW)
        services.assignment_submit_proof(member=member, assignment_id=assignment.pk, quantity="10", now=NOW.replace(
            day=17, hour=10), photos=[__import__("django.core.files.base", fromlist=["ContentFile"]).ContentFile(
                b"\xff\xd8\xff" + b"2" * 50, name="x.jpg")])

        listed = api.get(f"/api/v1/tasks/{task_id}/assignments/")
        assert listed.data[0]["status"] == "SUBMITTED" and listed.data[0]["proof_files"][0]["sha256"]
        file_id = listed.data[0]["proof_files"][0]["id"]
        assert api.get(f"/api/v1/tasks/proof-files/{file_id}/").status_code == 200
        accepted = api.post(f"/api/v1/tasks/assignments/{assignment.pk}/accept/", {"quantity": "9"}, format="json",
                            HTTP_IDEMPOTENCY_KEY="acc-1")
        assert accepted.status_code == 201 and accepted.data["amount"] == "45.00"
        ready = api.get("/api/v1/tasks/payable-work/")
        assert [row["amount"] for row in ready.data] == ["45.00"]
        rated = api.post(f"/api/v1/tasks/assignments/{assignment.pk}/evaluate/", {"stars": 5}, format="json")
        assert rated.status_code == 201

    def test_floats_and_bad_values_get_precise_errors_and_nothing_is_created(self, api, merchant):
        approve_category(merchant, category())

        as_float = api.post("/api/v1/tasks/create/", body(unit_price=5.0), format="json",
                            HTTP_IDEMPOTENCY_KEY="f-1")
        absurd = api.post("/api/v1/tasks/create/", body(unit_price="100000.00"), format="json",
                          HTTP_IDEMPOTENCY_KEY="f-2")
        negative = api.post("/api/v1/tasks/create/", body(unit_price="-1.00"), format="json",
                            HTTP_IDEMPOTENCY_KEY="f-3")

        assert as_float.status_code == 400 and as_float.data["code"] == "validation_failed"
        assert "unit_price" in as_float.data["message"]
        assert absurd.status_code == 400 and absurd.data["code"] == "task_price_out_of_bounds"
        assert negative.status_code == 400 and "不能为负数" in negative.data["message"]
        assert not Task.objects.exists()

    def test_category_outside_approved_scenarios(self, api, merchant):
        approve_category(merchant, category())
        category("labeling", name="数据标注")

        response = api.post("/api/v1/tasks/create/", body(category="labeling"), format="json",
                            HTTP_IDEMPOTENCY_KEY="c-1")

        assert response.status_code == 400 and response.data["code"] == "task_category_not_approved"
        assert [c["code"] for c in api.get("/api/v1/tasks/categories/").data] == ["delivery"]

    def test_missing_idempotency_key_is_refused(self, api, merchant):
        approve_category(merchant, category())
        response = api.post("/api/v1/tasks/create/", body(), format="json")
        assert response.status_code == 400 and response.data["code"] == "idempotency_key_missing"


class TestIsolation:
    def test_another_enterprise_gets_404_with_a_code(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        applied = services.task_apply(member=worker(merchant), task_id=task.pk, now=NOW)
        outsider = APIClient()
        outsider.force_authenticate(EnterpriseUserFactory())

        assert outsider.get(f"/api/v1/tasks/{task.pk}/").data["code"] == "task_not_found"
        assert outsider.post(f"/api/v1/tasks/{task.pk}/close/").status_code == 404
        assert outsider.post(f"/api/v1/tasks/assignments/{applied.pk}/approve/").status_code == 404
        assert outsider.get(f"/api/v1/tasks/{task.pk}/assignments/").status_code == 404
        assert outsider.get("/api/v1/tasks/").data["results"] == []
        task.refresh_from_db()
        applied.refresh_from_db()
        assert task.status == Task.Status.APPROVED and applied.status == TaskAssignment.Status.APPLIED
        assert not PayableWork.objects.exists()

    def test_workers_and_anonymous_callers_are_refused(self, worker_user):
        anonymous = APIClient()
        assert anonymous.get("/api/v1/tasks/").status_code in (401, 403)
        as_worker = APIClient()
        as_worker.force_authenticate(worker_user)
        assert as_worker.get("/api/v1/tasks/").status_code == 403

    def test_finance_role_can_read_but_not_write(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin)
        finance = APIClient()
        finance.force_authenticate(EnterpriseUserFactory(merchant=merchant, role="ENT_FINANCE"))

        assert finance.get(f"/api/v1/tasks/{task.pk}/").status_code == 200
        assert finance.post(f"/api/v1/tasks/{task.pk}/close/").status_code == 403


def test_the_lifecycle_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/").content.decode()
    for operation in ("tasks_create", "tasks_submit", "tasks_invite", "tasks_split", "tasks_assignment_accept",
                      "tasks_assignment_reject", "tasks_payable_work_list", "tasks_recommendations"):
        assert operation in schema, operation


class TestSignedPartnerRequests:
    """A partner system signs its requests with an API key (merchants.api_auth) instead of a staff session."""

    def test_create_and_accept_with_an_api_key(self, merchant, enterprise_admin, ops_user):
        import json

        from core.models import AuditRecord
        from merchants.api_auth import sign_request
        from merchants.services import api_key_create
        from tasks.models import Evaluation

        approve_category(merchant, category())
        key, secret = api_key_create(merchant=merchant, actor=enterprise_admin, label="ERP", now=NOW)
        client = APIClient()

        def post(path, payload, **headers):
            raw = json.dumps(payload).encode()
            signed = sign_request(secret=secret, key_id=key.key_id, method="POST", path=path, body=raw)
            return client.post(path, raw, content_type="application/json",
                               headers={**signed, **headers})

        created = post("/api/v1/tasks/create/", body(), **{"Idempotency-Key": "erp-1"})
        assert created.status_code == 201, created.content
        task = Task.objects.get(pk=created.data["id"])
        assert task.created_by is None
        assert AuditRecord.objects.filter(event="tasks.task.created", actor_label=f"api:{key.key_id}").exists()

        post(f"/api/v1/tasks/{task.pk}/submit/", {})
        services.task_approve(task_id=task.pk, actor=ops_user, now=NOW)
        member = worker(merchant)
        a = services.task_claim(member=member, task_id=task.pk, now=NOW)
        services.assignment_submit_proof(member=member, assignment_id=a.pk, quantity="3", now=task.starts_at,
                                         photos=[__import__("django.core.files.base", fromlist=["ContentFile"])
                                                 .ContentFile(b"\xff\xd8\xff" + b"9" * 40, name="p.jpg")])
        accepted = post(f"/api/v1/tasks/assignments/{a.pk}/accept/", {}, **{"Idempotency-Key": "erp-2"})
        rated = post(f"/api/v1/tasks/assignments/{a.pk}/evaluate/", {"stars": 4})

        assert accepted.status_code == 201 and accepted.data["amount"] == "15.00"
        assert rated.status_code == 201 and Evaluation.objects.get().created_by is None
