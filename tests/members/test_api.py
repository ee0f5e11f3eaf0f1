import pytest

from core.testing.factories import EnterpriseUserFactory, WorkerUserFactory
from members import services
from members.models import MemberMerchant
from tests.members.conftest import GOOD_CARD, good_id, sign_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, enterprise_admin):
    client.force_login(enterprise_admin)
    return client


def create(api, key="k-1", **overrides):
    body = {"name": "王芳", "id_number": good_id(31), "phone": "13912345678", **overrides}
    return api.post("/api/v1/workers/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


class TestWorkersApi:
    def test_create_is_idempotent_and_masked(self, api):
        response = create(api)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "INVITED" and body["name"] == "王*" and body["phone"] == "139****5678"
        assert body["id_number"].startswith("1201") and good_id(31) not in response.content.decode()
        assert body["signing"]["status"] == "NOT_READY" and "/m/invite/" in body["signing"]["sign_url"]
        again = create(api)
        assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
        assert MemberMerchant.objects.count() == 1
        assert MemberMerchant.objects.get().source == MemberMerchant.Source.API

    def test_create_errors_are_precise(self, api):
        response = create(api, key="k-2", id_number="123")
        assert response.status_code == 400 and response.json()["code"] == "validation_failed"
        assert response.json()["extra"]["column"] == "身份证号"
        create(api, key="k-3")
        response = create(api, key="k-4", phone="13912340000")
        assert response.status_code == 409 and response.json()["code"] == "already_invited"
        assert MemberMerchant.objects.count() == 1

    def test_full_flow_verification_signing_and_pdf(self, api, now):
        worker_id = create(api).json()["id"]
        user = WorkerUserFactory(phone="13912345678")
        relationship = MemberMerchant.objects.get(pk=worker_id)
        services.invitation_accept(user=user, token=relationship.invite_token, now=now)
        assert api.get(f"/api/v1/workers/{worker_id}/verification/").json()["status"] == "UNVERIFIED"
        assert api.get(f"/api/v1/workers/{worker_id}/agreement.pdf").status_code == 404
        services.member_verify(user=user, name="王芳", id_number=good_id(31), bank_card=GOOD_CARD, now=now)
        verification = api.get(f"/api/v1/workers/{worker_id}/verification/").json()
        assert verification["status"] == "VERIFIED" and verification["method"] == "FOUR_FACTOR"
        assert api.get(f"/api/v1/workers/{worker_id}/signing/").json()["status"] == "READY"
        services.agreement_sign(user=user, relationship_id=worker_id, code=sign_code(user=user, now=now), now=now)
        signing = api.get(f"/api/v1/workers/{worker_id}/signing/").json()
        assert signing["status"] == "SIGNED" and len(signing["agreement_sha256"]) == 64 and signing["sign_url"] == ""
        pdf = api.get(f"/api/v1/workers/{worker_id}/agreement.pdf")
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        assert b"".join(pdf.streaming_content).startswith(b"%PDF")
        listing = api.get("/api/v1/workers/?status=SIGNED").json()
        assert [row["id"] for row in listing["results"]] == [worker_id]
        assert api.get("/api/v1/workers/?status=DONE").json()["code"] == "validation_failed"
        assert signing["terminated_at"] is None and signing["terminated_by"] == ""
        services.relationship_terminate_by_member(user=user, relationship_id=worker_id, now=now, reason="另有安排")
        signing = api.get(f"/api/v1/workers/{worker_id}/signing/").json()
        assert signing["status"] == "TERMINATED" and signing["terminated_by"] == "WORKER" and signing["terminated_at"]
        assert api.get(f"/api/v1/workers/{worker_id}/").json()["status"] == "TERMINATED"

    def test_another_enterprises_worker_is_not_found(self, client, api, other_merchant):
        worker_id = create(api).json()["id"]
        client.force_login(EnterpriseUserFactory(merchant=other_merchant))
        for suffix in ("", "verification/", "signing/", "agreement.pdf"):
            response = client.get(f"/api/v1/workers/{worker_id}/{suffix}")
            assert response.status_code == 404 and response.json()["code"] == "not_found", suffix
        assert client.get("/api/v1/workers/").json()["results"] == []

    def test_workers_cannot_use_the_partner_api(self, client, worker_user):
        client.force_login(worker_user)
        assert client.get("/api/v1/workers/").status_code == 403

    def test_schema_documents_the_endpoints(self, client):
        schema = client.get("/api/schema/").content.decode()
        for path in ("/api/v1/workers/", "/api/v1/workers/{worker_id}/verification/",
                     "/api/v1/workers/{worker_id}/signing/", "/api/v1/workers/{worker_id}/agreement.pdf"):
            assert path in schema, path


def test_finance_staff_cannot_invite_through_the_api(client, merchant):
    from accounts.models import Role

    client.force_login(EnterpriseUserFactory(merchant=merchant, role=Role.ENT_FINANCE))
    response = create(client, key="k-fin")
    assert response.status_code == 403 and response.json()["code"] == "role_required"
    assert not MemberMerchant.objects.exists()


def test_a_signed_partner_request_invites_and_is_audited_by_its_key(merchant, enterprise_admin, now):
    import json

    from rest_framework.test import APIClient

    from core.models import AuditRecord
    from merchants.api_auth import sign_request
    from merchants.services import api_key_create

    key, secret = api_key_create(merchant=merchant, actor=enterprise_admin, now=now)
    body = json.dumps({"name": "王芳", "id_number": good_id(31), "phone": "13912345678"}).encode()
    headers = sign_request(secret=secret, key_id=key.key_id, method="POST", path="/api/v1/workers/", body=body)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = APIClient().generic("POST", "/api/v1/workers/", body, content_type="application/json",
                                   HTTP_IDEMPOTENCY_KEY="erp-1", **extra)
    assert response.status_code == 201, response.content
    relationship = MemberMerchant.objects.get()
    assert relationship.merchant == merchant and relationship.invited_by is None
    record = AuditRecord.objects.get(event="members.worker.invited")
    assert record.actor_label == f"api:{key.key_id}"


def test_listing_does_not_query_per_worker(api, merchant, now, django_assert_max_num_queries):
    from members.testing import make_signed_worker

    for n in range(5):
        make_signed_worker(merchant=merchant, n=n, now=now)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/workers/").json()["results"]) == 5
