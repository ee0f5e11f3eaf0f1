"""The whole worker journey over HTTP: invitation SMS → sign in with an SMS code → accept → verify → sign → download."""

import io
import re

import pytest
from pypdf import PdfReader

from accounts.models import SmsOutbox
from core.signing import verify_pdf
from members.models import MemberMerchant
from tests.members.conftest import GOOD_CARD, good_id

pytestmark = pytest.mark.django_db


def sandbox_code(response) -> str:
    return re.search(r"演示沙箱短信：(\d{6})", response.json()["message"]).group(1)


def test_invited_worker_signs_up_verifies_and_signs(client, merchant, enterprise_admin,
                                                    django_capture_on_commit_callbacks):
    merchant.name = "北京云测数据科技有限公司"
    merchant.save()
    client.force_login(enterprise_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/enterprise/workers/invite/", {"name": "李娜", "id_number": good_id(51), "phone": "13911112222"})
    client.logout()
    link = re.search(r"(/m/invite/[\w-]+/)", SmsOutbox.objects.get(template="invitation").body).group(1)

    response = client.get(link)
    assert response.status_code == 302 and response["Location"].startswith("/m/login/")
    code = sandbox_code(client.post("/m/login/code/", {"phone": "13911112222"}))
    response = client.post("/m/login/", {"phone": "13911112222", "code": code, "next": link})
    assert response["Location"] == link
    assert "北京云测数据科技有限公司" in client.get(link).content.decode()
    assert client.post(link)["Location"] == "/m/verify/"

    response = client.post("/m/verify/", {"name": "李娜", "id_number": good_id(51), "bank_card": GOOD_CARD,
                                          "consent": "on"})
    assert response["Location"] == "/m/agreements/"
    relationship = MemberMerchant.objects.get()
    assert relationship.status == MemberMerchant.Status.VERIFIED
    assert f"/m/agreements/sign/{relationship.pk}/" in client.get("/m/agreements/").content.decode()
    # the invitation link doubles as the signing link: now it leads straight to the consent screen
    assert client.get(link)["Location"] == f"/m/agreements/sign/{relationship.pk}/"

    code = sandbox_code(client.post(f"/m/agreements/sign/{relationship.pk}/code/"))
    response = client.post(f"/m/agreements/sign/{relationship.pk}/", {"code": code, "consent": "on"})
    assert response["Location"] == "/m/agreements/"
    relationship.refresh_from_db()
    assert relationship.status == MemberMerchant.Status.SIGNED

    agreement = relationship.agreement
    pdf = b"".join(client.get(f"/m/agreements/{agreement.pk}/download/").streaming_content)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    assert "李娜" in text and "北京云测数据科技有限公司" in text
    assert verify_pdf(pdf).ok

    client.force_login(enterprise_admin)
    page = client.get("/enterprise/workers/?status=SIGNED").content.decode()
    assert "李*" in page and "下载协议" in page
