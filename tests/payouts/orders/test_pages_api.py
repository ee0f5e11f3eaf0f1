"""Portal pages and the partner API of payouts: query, batch progress, vouchers, receipts, idempotent create."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.testing.factories import EnterpriseUserFactory
from payouts.models import PayoutOrder
from payouts.services.batches import payout_batch_check, payout_batch_upload
from payouts.services.dispatch import payout_orders_dispatch
from payouts.services.orders import payout_order_confirm, payout_order_create
from payouts.testing_orders import batch_csv

pytestmark = pytest.mark.django_db


def paid_order(merchant, actor, payee, now):
    order = payout_order_create(merchant=merchant, actor=actor, payable_id=payee.payable_id, amount_fen=None,
                                merchant_order_no="M-001", channel="BANK", now=now)
    payout_order_confirm(merchant=merchant, order_id=order.pk, actor=actor, now=now)
    payout_orders_dispatch(order_ids=[order.pk], now=now)
    order.refresh_from_db()
    return order


def test_order_query_page_finds_by_numbers_and_worker(client, funded, payees, enterprise_admin, channel, now):
    order = paid_order(funded, enterprise_admin, payees[0], now)
    client.force_login(enterprise_admin)
    url = reverse("enterprise:payouts-orders")
    for query in ({"merchant_order_no": "M-001"}, {"order_no": order.order_no}, {"worker": payees[0].id_number},
                  {"status": "SUCCEEDED"}):
        page = client.get(url, query).content.decode()
        assert order.order_no in page, query
    assert order.order_no not in client.get(url, {"merchant_order_no": "nope"}).content.decode()
    detail = client.get(reverse("enterprise:payouts-order", args=[order.pk]))
    assert detail.status_code == 200 and "电子回单" in detail.content.decode()


def test_receipt_is_a_signed_pdf(client, funded, payees, enterprise_admin, channel, now):
    from core.signing import verify_pdf

    order = paid_order(funded, enterprise_admin, payees[0], now)
    client.force_login(enterprise_admin)
    response = client.get(reverse("enterprise:payouts-order-receipt", args=[order.pk]))
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    assert verify_pdf(content).ok


def test_other_enterprise_gets_not_found(client, funded, payees, enterprise_admin, other_merchant, channel, now):
    order = paid_order(funded, enterprise_admin, payees[0], now)
    client.force_login(EnterpriseUserFactory(merchant=other_merchant))
    assert client.get(reverse("enterprise:payouts-order", args=[order.pk])).status_code == 404
    assert client.get(reverse("enterprise:payouts-order-receipt", args=[order.pk])).status_code == 404
    assert order.order_no not in client.get(reverse("enterprise:payouts-orders")).content.decode()


def test_batch_page_and_progress_json(client, funded, payees, enterprise_admin, now, django_capture_on_commit_callbacks):
    client.force_login(enterprise_admin)
    upload = io.BytesIO(batch_csv(payees))
    upload.name = "pay.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("enterprise:payouts-batches"), {"file": upload, "channel": "BANK"})
    assert response.status_code == 302
    batch_id = int(response["Location"].rstrip("/").split("/")[-1])
    progress = client.get(reverse("enterprise:payouts-batch-progress", args=[batch_id])).json()
    assert progress["status"] == "QUOTED" and progress["order_count"] == 5 and progress["percent"] == 100
    page = client.get(reverse("enterprise:payouts-batch", args=[batch_id])).content.decode()
    assert "余额充足" in page and "确认付款" in page


def test_vouchers_xlsx_lists_the_month_entries(client, funded, payees, enterprise_admin, channel, now):
    from openpyxl import load_workbook

    paid_order(funded, enterprise_admin, payees[0], now)
    client.force_login(enterprise_admin)
    response = client.get(reverse("enterprise:payouts-vouchers"), {"month": f"{now:%Y-%m}"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:6] == ("日期", "凭证号", "科目编码", "科目名称", "借方金额（元）", "贷方金额（元）")
    codes = {row[2] for row in rows[2:]}
    assert {"2241.01", "2241.02", "1012.01", "6001.01", "2221.11"} <= codes
    debit = sum(float(r[4] or 0) for r in rows[2:])
    credit = sum(float(r[5] or 0) for r in rows[2:])
    assert round(debit, 2) == round(credit, 2)


def test_api_create_is_idempotent_and_confirms(funded, payees, enterprise_admin, channel, now):
    api = APIClient()
    api.force_authenticate(enterprise_admin)
    body = {"payable_id": payees[1].payable_id, "merchant_order_no": "API-1", "channel": "BANK"}
    first = api.post("/api/v1/payouts/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    assert first.json()["status"] in ("CONFIRMED", "SUCCEEDED")
    again = api.post("/api/v1/payouts/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201 and again.json()["order_no"] == first.json()["order_no"]
    other = api.post("/api/v1/payouts/orders", {**body, "merchant_order_no": "API-2"}, format="json",
                     HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409
    assert PayoutOrder.objects.filter(merchant=funded).count() == 1
    got = api.get(f"/api/v1/payouts/orders/{first.json()['order_no']}")
    assert got.status_code == 200 and got.json()["merchant_order_no"] == "API-1"
    by_no = api.get("/api/v1/payouts/orders/API-1", {"by": "merchant_order_no"})
    assert by_no.json()["order_no"] == first.json()["order_no"]
    listed = api.get("/api/v1/payouts/orders", {"merchant_order_no": "API-1"}).json()
    assert listed["count"] == 1


def test_api_other_tenant_is_not_found(funded, payees, enterprise_admin, other_merchant, channel, now):
    order = paid_order(funded, enterprise_admin, payees[0], now)
    api = APIClient()
    api.force_authenticate(EnterpriseUserFactory(merchant=other_merchant))
    assert api.get(f"/api/v1/payouts/orders/{order.order_no}").status_code == 404


def test_batch_check_job_runs_on_upload(funded, payees, enterprise_admin, now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batch = payout_batch_upload(merchant=funded, actor=enterprise_admin, content=batch_csv(payees[:2]),
                                    filename="x.csv", channel="BANK", now=now)
    batch.refresh_from_db()
    assert batch.status == "QUOTED"
    assert payout_batch_check(batch_id=batch.pk, now=now).status == "QUOTED"  # running it again changes nothing


def test_admin_lists_batches_and_orders(client, funded, payees, enterprise_admin, channel, now):
    from tests.payouts.test_admin import ops as ops_fixture

    admin_client = ops_fixture.__wrapped__(client)
    order = paid_order(funded, enterprise_admin, payees[0], now)
    for path in ("/ops/payouts/payoutorder/", "/ops/payouts/payoutbatch/", "/ops/payouts/feestatement/",
                 f"/ops/payouts/payoutorder/{order.pk}/change/"):
        response = admin_client.get(path)
        assert response.status_code == 200, path
    assert order.order_no in admin_client.get("/ops/payouts/payoutorder/").content.decode()


def test_api_batch_upload_is_checked_confirmed_and_idempotent(funded, payees, enterprise_admin, channel, now,
                                                             django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from payouts.models import PayoutBatch

    api = APIClient()
    api.force_authenticate(enterprise_admin)

    def upload(content, key):
        return api.post("/api/v1/payouts/batches", {"file": SimpleUploadedFile("pay.csv", content), "channel": "BANK"},
                        format="multipart", HTTP_IDEMPOTENCY_KEY=key)

    content = batch_csv(payees[:2])
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(content, "b-1")
    assert first.status_code == 202, first.json()
    batch_id = first.json()["id"]
    assert upload(content, "b-1").json()["batch_no"] == first.json()["batch_no"]   # same key, same file: replayed
    assert upload(batch_csv(payees[2:4]), "b-1").status_code == 409                 # same key, another file
    assert PayoutBatch.objects.filter(merchant=funded).count() == 1
    progress = api.get(first.json()["progress_url"]).json()
    assert progress["status"] == "QUOTED" and progress["order_count"] == 2

    confirmed = api.post(f"/api/v1/payouts/batches/{batch_id}/confirm", HTTP_IDEMPOTENCY_KEY="c-1")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] in ("CONFIRMED", "DISPATCHING", "COMPLETED")

    other = APIClient()
    other.force_authenticate(EnterpriseUserFactory(merchant=EnterpriseUserFactory().merchant))
    refused = other.post(f"/api/v1/payouts/batches/{batch_id}/confirm", HTTP_IDEMPOTENCY_KEY="c-2")
    assert refused.status_code == 404


def test_api_batch_upload_refuses_a_disabled_channel_with_a_reason(funded, payees, enterprise_admin, now):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = APIClient()
    api.force_authenticate(enterprise_admin)
    response = api.post("/api/v1/payouts/batches", {"file": SimpleUploadedFile("pay.csv", batch_csv(payees[:1])),
                                                    "channel": "PAYPAL"}, format="multipart",
                        HTTP_IDEMPOTENCY_KEY="b-9")
    assert response.status_code == 400 and response.json()["code"] == "validation_failed"


def test_api_answers_are_what_the_openapi_schema_documents(funded, payees, enterprise_admin, channel, now,
                                                          django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from payouts.api_orders import (
        BatchProgressSerializer,
        BatchSerializer,
        BatchUploadedSerializer,
        OrderPageSerializer,
        OrderSerializer,
    )

    api = APIClient()
    api.force_authenticate(enterprise_admin)
    created = api.post("/api/v1/payouts/orders", {"payable_id": payees[1].payable_id, "merchant_order_no": "DOC-1",
                                                  "channel": "BANK"}, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    assert set(created.json()) == set(OrderSerializer().fields)
    assert set(created.json()["tax_lines"][0]) == {"kind", "label", "amount_fen", "formula"}
    listed = api.get("/api/v1/payouts/orders").json()
    assert set(listed) == set(OrderPageSerializer().fields) and set(listed["results"][0]) == set(OrderSerializer().fields)
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = api.post("/api/v1/payouts/batches", {"file": SimpleUploadedFile("pay.csv", batch_csv(payees[2:4])),
                                                        "channel": "BANK"}, format="multipart", HTTP_IDEMPOTENCY_KEY="d-2")
    assert set(uploaded.json()) == set(BatchUploadedSerializer().fields)
    assert set(api.get(uploaded.json()["progress_url"]).json()) == set(BatchProgressSerializer().fields)
    confirmed = api.post(f"/api/v1/payouts/batches/{uploaded.json()['id']}/confirm", HTTP_IDEMPOTENCY_KEY="d-3")
    assert set(confirmed.json()) == set(BatchSerializer().fields)

    schema = api.get("/api/schema/?format=json").json()
    for path, method, status in [("/api/v1/payouts/orders", "post", "201"), ("/api/v1/payouts/orders", "get", "200"),
                                 ("/api/v1/payouts/orders/{order_no}", "get", "200"),
                                 ("/api/v1/payouts/batches", "post", "202"),
                                 ("/api/v1/payouts/batches/{batch_id}/progress", "get", "200"),
                                 ("/api/v1/payouts/batches/{batch_id}/confirm", "post", "200")]:
        operation = schema["paths"][path][method]
        assert "$ref" in operation["responses"][status]["content"]["application/json"]["schema"], (path, method)
        assert operation["summary"]
    assert "409" in schema["paths"]["/api/v1/payouts/orders"]["post"]["responses"]
