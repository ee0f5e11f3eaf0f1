import datetime as dt
import io
import time

import pytest
from pypdf import PdfReader
from rest_framework.test import APIClient

from core.signing import verify_pdf
from core.testing.jobs import run_job
from merchants import services
from merchants.api_auth import SCHEME, sign_request, signature, string_to_sign
from merchants.models import ApiNonce
from tests.merchants.conftest import signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(now, ops_user):
    merchant, admin, agreement = signed(now, ops_user)
    services.merchant_configuration_set(merchant=merchant, actor=ops_user, now=now, fee_rate="0.0550",
                                        enabled_channels=["BANK", "ALIPAY"])
    key, secret = services.api_key_create(merchant=merchant, actor=admin, now=now)
    return {"merchant": merchant, "agreement": agreement, "key": key, "secret": secret}


def call(partner, path, *, method="GET", body=b"", **overrides):
    headers = sign_request(secret=partner["secret"], key_id=partner["key"].key_id, method=method, path=path, body=body,
                           **overrides)
    client = APIClient()
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.generic(method, path, body, content_type="application/json", **extra), headers


class TestSignedRequests:
    def test_valid_signature_reads_own_profile_and_configuration(self, partner):
        response, _ = call(partner, "/api/v1/merchant/")
        assert response.status_code == 200, response.content
        data = response.json()
        assert data["uscc"] == partner["merchant"].uscc and data["status"] == "ACTIVE"
        assert data["topup_account_number"] and data["available_balance"] == "0.00"
        assert "*" in data["legal_rep_name_masked"]
        response, _ = call(partner, "/api/v1/merchant/configuration/")
        # the fee set after signing waits for a 补充协议; the channels apply at once
        assert response.json()["fee_rate"] == "0.0600" and response.json()["enabled_channels"] == ["BANK", "ALIPAY"]
        merchant, admin = partner["merchant"], partner["merchant"].application.applicant
        later = partner["agreement"].signed_at + dt.timedelta(minutes=2)
        code = services.terms_amendment_send_code(merchant=merchant, actor=admin, now=later).plain_code
        services.terms_amendment_sign(merchant=merchant, actor=admin, code=code, now=later)
        response, _ = call(partner, "/api/v1/merchant/configuration/")
        assert response.json()["fee_rate"] == "0.0550"
        response, _ = call(partner, "/api/v1/merchant/terms-amendments/")
        [amendment] = response.json()
        assert amendment["status"] == "SIGNED" and amendment["agreement_number"] == partner["agreement"].number
        assert amendment["changes"] == {"fee_rate": {"before": "0.0600", "after": "0.0550"}}
        assert amendment["rows"][0]["after"] == "5.50%"
        pdf, _ = call(partner, f"/api/v1/merchant/terms-amendments/{amendment['id']}/pdf/")
        assert pdf.status_code == 200 and pdf["X-Content-SHA256"] == amendment["sha256"]
        assert verify_pdf(pdf.content).ok
        partner["key"].refresh_from_db()
        assert partner["key"].last_used_at is not None

    def test_query_string_is_signed_too(self, partner):
        response, _ = call(partner, "/api/v1/merchant/agreements/?limit=5")
        assert response.status_code == 200
        assert response.json()[0]["number"] == partner["agreement"].number

    def test_agreement_pdf_is_the_signed_file(self, partner):
        agreement = partner["agreement"]
        response, _ = call(partner, f"/api/v1/merchant/agreements/{agreement.pk}/pdf/")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response["X-Content-SHA256"] == agreement.sha256
        assert verify_pdf(response.content).ok
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        assert partner["merchant"].name in text

    def test_bad_signature_is_refused(self, partner):
        headers = sign_request(secret="lgs_wrong", key_id=partner["key"].key_id, method="GET",
                               path="/api/v1/merchant/")
        response = APIClient().get("/api/v1/merchant/", **{f"HTTP_{k.upper().replace('-', '_')}": v
                                                           for k, v in headers.items()})
        assert response.status_code == 401 and response.json()["code"] == "api_signature_mismatch"

    def test_changed_body_breaks_the_signature(self, partner):
        headers = sign_request(secret=partner["secret"], key_id=partner["key"].key_id, method="POST",
                               path="/api/v1/merchant/", body=b'{"a":1}')
        response = APIClient().generic("POST", "/api/v1/merchant/", b'{"a":2}', content_type="application/json",
                                       **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
        assert response.status_code == 401 and response.json()["code"] == "api_signature_mismatch"

    def test_replayed_nonce_is_refused(self, partner):
        first, headers = call(partner, "/api/v1/merchant/", nonce="nonce-0123456789abcdef")
        assert first.status_code == 200
        replay = APIClient().get("/api/v1/merchant/", **{f"HTTP_{k.upper().replace('-', '_')}": v
                                                         for k, v in headers.items()})
        assert replay.status_code == 401 and replay.json()["code"] == "api_nonce_replayed"
        assert ApiNonce.objects.count() == 1

    @pytest.mark.parametrize("offset", [-301, 400])
    def test_stale_or_future_timestamp_is_refused(self, partner, offset):
        response, _ = call(partner, "/api/v1/merchant/", timestamp=int(time.time()) + offset)
        assert response.status_code == 401 and response.json()["code"] == "api_timestamp_stale"
        assert not ApiNonce.objects.exists()

    def test_revoked_key_is_refused(self, partner, now):
        services.api_key_revoke(merchant=partner["merchant"], actor=partner["key"].created_by,
                                key_id=partner["key"].key_id, now=now)
        response, _ = call(partner, "/api/v1/merchant/")
        assert response.status_code == 401 and response.json()["code"] == "api_key_invalid"

    def test_malformed_header_and_no_credentials(self, partner):
        response = APIClient().get("/api/v1/merchant/", HTTP_AUTHORIZATION=f"{SCHEME} KeyId=x")
        assert response.status_code == 401 and response.json()["code"] == "api_signature_malformed"
        assert APIClient().get("/api/v1/merchant/").status_code in (401, 403)

    def test_another_enterprises_agreement_is_not_found(self, partner, now, ops_user):
        other_merchant, _, other_agreement = signed(now, ops_user, company_name="北京云测数据科技有限公司")
        response, _ = call(partner, f"/api/v1/merchant/agreements/{other_agreement.pk}/pdf/")
        assert response.status_code == 404 and response.json()["code"] == "not_found"

    def test_another_enterprises_terms_amendment_is_neither_listed_nor_found(self, partner, now, ops_user):
        other_merchant, other_admin, other_agreement = signed(now, ops_user, company_name="北京云测数据科技有限公司")
        services.merchant_configuration_set(merchant=other_merchant, actor=ops_user, now=now, fee_rate="0.0450")
        later = other_agreement.signed_at + dt.timedelta(minutes=2)
        code = services.terms_amendment_send_code(merchant=other_merchant, actor=other_admin, now=later).plain_code
        other = services.terms_amendment_sign(merchant=other_merchant, actor=other_admin, code=code, now=later)
        listed, _ = call(partner, "/api/v1/merchant/terms-amendments/")
        assert [a["status"] for a in listed.json()] == ["PENDING"]  # only the partner's own (its 5.50 % proposal)
        assert listed.json()[0]["pdf_url"] is None  # not signed yet: nothing to download
        response, _ = call(partner, f"/api/v1/merchant/terms-amendments/{other.pk}/pdf/")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


class TestWorkedExample:
    def test_docs_example_matches_the_implementation(self):
        """The worked example in docs/api.md, computed step by step."""
        body = b'{"hello":"world"}'
        message = string_to_sign(method="POST", path="/api/v1/example/?x=1", timestamp="1774000000",
                                 nonce="7f3c2a9d1e4b8c60", body=body)
        assert message.split("\n")[0] == SCHEME and message.split("\n")[-1] == (
            "93a23971a914e5eacbf0a8d25154cda309c3c1c72fbb9914d47c60f3cb681588")
        import hashlib

        key = hashlib.sha256(b"lgs_example_secret_do_not_use").hexdigest()
        sig = signature(signing_key=key, method="POST", path="/api/v1/example/?x=1", timestamp="1774000000",
                        nonce="7f3c2a9d1e4b8c60", body=body)
        assert key == "a38b22d5f30e17159322cfcc8a2ed380f9002f4692f8d4533da4137135c0838f"
        assert sig == "045d81c4a1a312ddb9f7dca54a5f2d4fe394eb421bf44ed2cac80205b033b991"


class TestSchema:
    def test_endpoints_are_in_the_openapi_schema(self):
        response = APIClient().get("/api/schema/?format=json")
        assert response.status_code == 200
        paths = response.json()["paths"]
        for path in ("/api/v1/merchant/", "/api/v1/merchant/configuration/", "/api/v1/merchant/agreements/",
                     "/api/v1/merchant/agreements/{agreement_id}/pdf/"):
            assert path in paths


def test_old_nonces_are_purged(partner, now):
    import datetime as dt

    from django.utils import timezone

    from merchants.jobs import api_nonces_purge

    call(partner, "/api/v1/merchant/")
    ApiNonce.objects.create(api_key=partner["key"], nonce="old-nonce-0123456789",
                            seen_at=timezone.now() - dt.timedelta(hours=1))
    assert run_job(api_nonces_purge) == 1
    assert ApiNonce.objects.count() == 1
