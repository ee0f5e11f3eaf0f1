import datetime as dt
import hashlib
import io

import pytest
from pypdf import PdfReader

from accounts.exceptions import SmsCodeExpired, SmsCodeInvalid
from core.exceptions import NotFound
from core.models import AuditRecord
from core.signing import verify_pdf
from core.testing.factories import WorkerUserFactory
from members import services
from members.exceptions import AlreadySigned, NotVerified
from members.models import Agreement, MemberMerchant
from members.selectors import member_for_user, worker_eligibility
from tests.members.conftest import GOOD_CARD, good_id, sign_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(merchant, worker_user, now):
    """A verified worker whose relationship with ``merchant`` is VERIFIED (ready to sign)."""
    merchant.name = "天津快送同城配送有限公司"
    merchant.save()
    services.member_verify(user=worker_user, name="张伟", id_number=good_id(11), bank_card=GOOD_CARD, now=now)
    member = member_for_user(user=worker_user)
    relationship = MemberMerchant.objects.create(merchant=merchant, member=member, status=MemberMerchant.Status.VERIFIED)
    return relationship


def sign(user, relationship, now, code=None):
    code = code or sign_code(user=user, now=now)
    return services.agreement_sign(user=user, relationship_id=relationship.pk, code=code, now=now, ip="10.1.2.3")


class TestSign:
    def test_signed_pdf_names_both_parties_and_carries_a_valid_platform_signature(self, ready, worker_user, now,
                                                                                 merchant):
        agreement = sign(worker_user, ready, now)
        content = agreement.file.open("rb").read()
        assert hashlib.sha256(content).hexdigest() == agreement.sha256
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
        for expected in ("合作协议", "张伟", "天津快送同城配送有限公司", "不构成劳动关系", "代扣代缴", "个人信息",
                         "争议解决", "10.1.2.3", agreement.number):
            assert expected in text.replace("\n", ""), expected
        assert good_id(11) not in text  # the ID number is printed masked
        assert "\ufffd" not in text and "□" not in text  # no missing glyphs
        check = verify_pdf(content)
        assert check.ok and "电子签章" in check.signer
        assert agreement.signed_ip == "10.1.2.3" and agreement.signed_at == now and agreement.method == "ONLINE"
        assert agreement.template_version == "cooperation-v1" and agreement.unsigned_sha256 != agreement.sha256
        ready.refresh_from_db()
        assert ready.status == MemberMerchant.Status.SIGNED and ready.signed_at == now
        assert worker_eligibility(member=member_for_user(user=worker_user), merchant=merchant).ok
        assert AuditRecord.objects.filter(event="members.agreement.signed", subject_id=str(agreement.pk)).exists()

    def test_signing_twice_is_refused_precisely(self, ready, worker_user, now):
        sign(worker_user, ready, now)
        later = now + dt.timedelta(minutes=5)
        with pytest.raises(AlreadySigned, match="无需重复签署"):
            services.agreement_sign_code_send(user=worker_user, relationship_id=ready.pk, now=later)
        with pytest.raises(AlreadySigned, match="无需重复签署"):
            services.agreement_sign(user=worker_user, relationship_id=ready.pk, code="123456", now=later)
        assert Agreement.objects.count() == 1

    def test_wrong_code_changes_nothing(self, ready, worker_user, now):
        real = sign_code(user=worker_user, now=now)
        wrong = "000000" if real != "000000" else "111111"
        with pytest.raises(SmsCodeInvalid, match="验证码不正确"):
            sign(worker_user, ready, now, code=wrong)
        ready.refresh_from_db()
        assert ready.status == MemberMerchant.Status.VERIFIED and not Agreement.objects.exists()

    def test_expired_code_changes_nothing(self, ready, worker_user, now):
        code = sign_code(user=worker_user, now=now)
        with pytest.raises(SmsCodeExpired, match="已过期"):
            sign(worker_user, ready, now + dt.timedelta(minutes=6), code=code)
        assert not Agreement.objects.exists()

    def test_a_login_code_does_not_sign(self, ready, worker_user, now):
        from accounts.models import SmsCode
        from accounts.services import sms_code_send

        code = sms_code_send(phone=worker_user.phone, purpose=SmsCode.Purpose.LOGIN, now=now).plain_code
        with pytest.raises(SmsCodeInvalid):
            sign(worker_user, ready, now, code=code)

    def test_unverified_worker_cannot_sign(self, merchant, now):
        user = WorkerUserFactory()
        member = services.member_ensure(user=user)
        relationship = MemberMerchant.objects.create(merchant=merchant, member=member,
                                                     status=MemberMerchant.Status.REGISTERED)
        with pytest.raises(NotVerified, match="请先完成实名认证"):
            services.agreement_sign_code_send(user=user, relationship_id=relationship.pk, now=now)

    def test_another_workers_relationship_is_not_found(self, ready, now):
        intruder = WorkerUserFactory()
        services.member_ensure(user=intruder)
        with pytest.raises(NotFound):
            services.agreement_sign_code_send(user=intruder, relationship_id=ready.pk, now=now)
        with pytest.raises(NotFound):
            services.agreement_sign(user=intruder, relationship_id=ready.pk, code="123456", now=now)


class TestSignPages:
    def test_consent_screen_code_sign_list_and_download(self, client, ready, worker_user):
        client.force_login(worker_user)
        page = client.get(f"/m/agreements/sign/{ready.pk}/").content.decode()
        assert "第一条　合作性质" in page and "第七条　争议解决" in page and "张伟" in page
        response = client.post(f"/m/agreements/sign/{ready.pk}/code/")
        assert response.status_code == 200
        code = response.json()["message"].split("演示沙箱短信：")[1].rstrip("）")
        response = client.post(f"/m/agreements/sign/{ready.pk}/", {"code": code})
        assert response.status_code == 400 and "请先勾选" in response.content.decode()
        response = client.post(f"/m/agreements/sign/{ready.pk}/", {"code": code, "consent": "on"})
        assert response.status_code == 302
        agreement = Agreement.objects.get()
        listing = client.get("/m/agreements/").content.decode()
        assert agreement.number in listing and "已签署" in listing
        download = client.get(f"/m/agreements/{agreement.pk}/download/")
        assert b"".join(download.streaming_content).startswith(b"%PDF")
        assert client.post(f"/m/agreements/sign/{ready.pk}/code/").json()["code"] == "already_signed"

    def test_enterprise_downloads_its_own_workers_agreement_only(self, client, ready, worker_user, now,
                                                                 enterprise_admin, other_merchant):
        from core.testing.factories import EnterpriseUserFactory

        agreement = sign(worker_user, ready, now)
        client.force_login(enterprise_admin)
        response = client.get(f"/enterprise/workers/{ready.pk}/agreement/")
        assert response.status_code == 200 and b"".join(response.streaming_content) == agreement.file.open("rb").read()
        client.force_login(EnterpriseUserFactory(merchant=other_merchant))
        assert client.get(f"/enterprise/workers/{ready.pk}/agreement/").status_code == 404

    def test_another_worker_cannot_download(self, client, ready, worker_user, now):
        agreement = sign(worker_user, ready, now)
        intruder = WorkerUserFactory()
        client.force_login(intruder)
        response = client.get(f"/m/agreements/{agreement.pk}/download/")
        assert response.status_code == 302 and response["Location"] == "/m/agreements/"


def test_the_cjk_font_has_a_glyph_for_every_character_of_the_agreement(ready, worker_user):
    """WeasyPrint falls back to the CJK font of documents/base.html; a character it lacks would print as a box."""
    import re
    import shutil
    import subprocess

    from django.utils.html import strip_tags
    from fontTools.ttLib import TTCollection

    fc_match = shutil.which("fc-match")
    if fc_match is None:
        pytest.skip("fontconfig is not installed")
    path = subprocess.run([fc_match, "-f", "%{file}", "WenQuanYi Micro Hei"], capture_output=True, text=True,
                          check=True).stdout
    if "wqy" not in path:
        pytest.skip("the CJK font of documents/base.html is not installed")
    cmap = TTCollection(path).fonts[0].getBestCmap()
    text = strip_tags(services.agreement_text_html(relationship=ready, member=member_for_user(user=worker_user)))
    missing = {char for char in re.sub(r"\s", "", text) if ord(char) not in cmap}
    assert not missing
