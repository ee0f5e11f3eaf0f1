"""Payout messages in the reader's language: a batch's bad lines (checked by a job, shown later), a refused order, and
an order's fail reason are English on the English pages and stay Chinese by default and in what is stored."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from members.models import Member, MemberMerchant
from payouts.batch_file import line_errors_shown
from payouts.exceptions_orders import BatchHasErrors, OrderInvalid
from payouts.models import PayoutBatch, PayoutOrder
from payouts.services.batches import payout_batch_check, payout_batch_confirm_verified, payout_batch_upload
from payouts.services.dispatch import payout_orders_dispatch
from payouts.services.orders import payout_order_create
from payouts.testing_orders import batch_csv

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u4e00-\u9fff]")


def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


def bad_batch(funded, payees, actor, now, *, job_language=None):
    """Line 3: not signed with this enterprise (a reason with a value); line 4: name does not match; line 7: an amount
    the file reader refuses (a validator's reason)."""
    MemberMerchant.objects.filter(member_id=payees[1].member_id).update(status=MemberMerchant.Status.VERIFIED)
    content = batch_csv(payees).decode().splitlines()
    content[3] = content[3].replace(payees[2].name, "冒名顶替")
    content.append("张三,110101199001011234,13900000000,6222020000000000000,abc,,1,")
    batch = payout_batch_upload(merchant=funded, actor=actor, content=("\n".join(content) + "\n").encode(),
                                filename="pay.csv", channel="BANK", now=now)
    if job_language:  # an in-process job right after an English request must still store the Chinese record
        with translation.override(job_language):
            return payout_batch_check(batch_id=batch.pk, now=now)
    return payout_batch_check(batch_id=batch.pk, now=now)


@pytest.mark.parametrize("job_language", [None, "en"])
def test_bad_lines_are_stored_in_chinese_with_every_language_alongside(funded, payees, enterprise_admin, now,
                                                                        job_language):
    batch = bad_batch(funded, payees, enterprise_admin, now, job_language=job_language)
    assert batch.status == PayoutBatch.Status.INVALID
    by_line = {e["line"]: e for e in batch.errors}
    assert by_line[3]["message"] == f"该灵工人员尚未与“{funded.name}”签署合作协议"
    assert by_line[3]["i18n"]["en"]["message"] == f"This worker has not signed the cooperation agreement with “{funded.name}”"
    assert (by_line[4]["column"], by_line[4]["i18n"]["en"]["column"]) == ("姓名", "Name")
    amount = next(e for e in batch.errors if e["line"] == 7 and e["column"] == "金额")  # a validator's reason
    assert "金额" in amount["message"] and amount["i18n"]["en"]["column"] == "Amount"
    assert "Amount" in amount["i18n"]["en"]["message"] and not CJK.search(amount["i18n"]["en"]["message"])


def test_the_batch_page_shows_bad_lines_in_the_readers_language(client, funded, payees, enterprise_admin, now):
    batch = bad_batch(funded, payees, enterprise_admin, now)
    client.force_login(enterprise_admin)
    url = reverse("enterprise:payouts-batch", args=[batch.pk])
    page = client.get(url).content.decode()
    assert "签署合作协议" in page and "姓名与该身份证号的实名信息不一致" in page

    page = english(client).get(url).content.decode()
    assert f"This worker has not signed the cooperation agreement with “{funded.name}”" in page
    assert "The name does not match the verified identity for this ID number" in page
    assert "签署合作协议" not in page and "实名信息不一致" not in page


def test_confirming_a_batch_with_bad_lines_explains_them_in_english(funded, payees, enterprise_admin, now):
    batch = bad_batch(funded, payees, enterprise_admin, now)
    with translation.override("en"), pytest.raises(BatchHasErrors) as error:
        payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    assert error.value.message.startswith("The batch has 3 line(s) with errors")
    assert {e["line"]: e["column"] for e in error.value.extra["errors"]}[4] == "Name"


def test_records_stored_before_translation_are_looked_up_in_the_catalogue():
    old = [{"line": 2, "column": "任务编号", "message": "该工作已在其他付款中或已付款，不能重复付款"},
           {"line": 3, "column": "风控", "message": "某个带数值的理由 1.00 元"}]
    with translation.override("en"):
        shown = line_errors_shown(old)
    assert shown[0] == {"line": 2, "column": "Task no.",
                        "message": "This work is already in another payment or paid: it cannot be paid twice"}
    assert shown[1] == {"line": 3, "column": "Risk", "message": "某个带数值的理由 1.00 元"}  # as good as it gets


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "The payment amount cannot exceed the accepted amount, CNY 8000.00"),
    ("zh-hans", "付款金额不能超过验收金额 8000.00 元")])
def test_a_refused_order_is_explained_in_the_readers_language(funded, payees, enterprise_admin, now, language,
                                                              expected):
    with translation.override(language), pytest.raises(OrderInvalid) as error:
        payout_order_create(merchant=funded, actor=enterprise_admin, payable_id=payees[0].payable_id,
                            amount_fen=800_001, channel="BANK", now=now)
    assert error.value.message == expected


def test_an_orders_fail_reason_is_stored_in_chinese_and_shown_in_english(client, funded, payees, enterprise_admin,
                                                                         channel, now):
    batch = payout_batch_upload(merchant=funded, actor=enterprise_admin, content=batch_csv(payees[:1]),
                                filename="pay.csv", channel="BANK", now=now)
    batch = payout_batch_check(batch_id=batch.pk, now=now)
    batch = payout_batch_confirm_verified(merchant=funded, batch_id=batch.pk, actor=enterprise_admin, now=now)
    order = batch.orders.get()
    Member.objects.filter(pk=order.member_id).update(verification_status=Member.Verification.FAILED)
    with translation.override("en"):  # the job's language must not leak into the record
        payout_orders_dispatch(order_ids=[order.pk], now=now)
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.FAILED
    assert order.fail_message == "该灵工人员实名认证状态已失效，不能发放；款项已解冻"

    client.force_login(enterprise_admin)
    page = english(client).get(reverse("enterprise:payouts-order", args=[order.pk])).content.decode()
    assert "identity verification has lapsed: not paid, the funds are released" in page
    assert "实名认证状态已失效" not in page
