import datetime as dt
import io

import pytest

from core.exceptions import ValidationFailed
from members import services
from members.exceptions import AlreadySigned, IdNumberTaken
from members.models import Agreement, Member, MemberMerchant
from members.selectors import member_for_user, worker_eligibility
from members.testing import make_verified_member
from tests.members.conftest import good_id

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% paper contract scan\n"


def register(merchant, actor, now, **overrides):
    data = {"name": "孙涛", "id_number": good_id(61), "phone": "13700006161", "contract_filename": "合同.pdf",
            "contract_content": PDF, "signed_on": dt.date(2026, 3, 10)}
    data.update(overrides)
    return services.member_register_offline(merchant=merchant, actor=actor, now=now, **data)


class TestOffline:
    def test_offline_registration_signs_with_the_paper_contract(self, merchant, ops_user, now):
        relationship = register(merchant, ops_user, now)
        assert relationship.status == MemberMerchant.Status.SIGNED and relationship.source == "OFFLINE"
        member = relationship.member
        assert member.is_verified and member.verification_method == Member.Method.OFFLINE
        agreement = Agreement.objects.get(relationship=relationship)
        assert agreement.method == Agreement.Method.OFFLINE and agreement.file.open("rb").read() == PDF
        assert agreement.signed_by == ops_user and agreement.signed_at.date() == dt.date(2026, 3, 10)
        assert worker_eligibility(member=member, merchant=merchant).ok

    def test_existing_invitation_is_reused(self, merchant, ops_user, enterprise_admin, now):
        invitation = services.worker_invite(merchant=merchant, name="孙涛", id_number=good_id(61),
                                            phone="13700006161", actor=enterprise_admin, now=now)
        relationship = register(merchant, ops_user, now)
        assert relationship.pk == invitation.pk and MemberMerchant.objects.count() == 1

    @pytest.mark.parametrize(("overrides", "text"), [
        ({"contract_filename": "合同.docx"}, "类型不支持"),
        ({"contract_filename": "合同.pdf", "contract_content": b"\x89PNG...."}, "不是有效的 PDF"),
        ({"id_number": "120101199001010010"}, "校验位错误"),
        ({"signed_on": dt.date(2026, 3, 17)}, "不能晚于今天"),
    ])
    def test_bad_input_changes_nothing(self, merchant, ops_user, now, overrides, text):
        with pytest.raises(ValidationFailed, match=text):
            register(merchant, ops_user, now, **overrides)
        assert not Member.objects.exists() and not MemberMerchant.objects.exists()

    def test_oversized_contract(self, merchant, ops_user, now, settings):
        settings.MEMBERS_CONTRACT_MAX_BYTES = 1024
        with pytest.raises(ValidationFailed, match="合同文件过大"):
            register(merchant, ops_user, now, contract_content=PDF + b"0" * 2048)

    def test_id_number_of_another_account_is_refused(self, merchant, ops_user, now):
        make_verified_member(n=61, now=now, id_number=good_id(61))
        with pytest.raises(IdNumberTaken):
            register(merchant, ops_user, now)
        assert not MemberMerchant.objects.exists()

    def test_registering_twice_is_refused(self, merchant, ops_user, now):
        relationship = register(merchant, ops_user, now)
        with pytest.raises(AlreadySigned):
            register(merchant, ops_user, now)
        assert Agreement.objects.filter(relationship=relationship).count() == 1
        assert member_for_user(user=relationship.member.user).relationships.count() == 1


class TestOfflineAdmin:
    @pytest.fixture
    def ops_client(self, client):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from core.testing.factories import UserFactory

        user = UserFactory(role="OPS_ADMIN", is_superuser=True)
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    def test_add_button_registers_offline_and_agreement_downloads(self, ops_client, merchant):
        url = "/ops/members/membermerchant/add/"
        assert "线下登记" in ops_client.get(url).content.decode()
        contract = io.BytesIO(PDF)
        contract.name = "合同.pdf"
        data = {"merchant": merchant.pk, "name": "孙涛", "id_number": good_id(61), "phone": "13700006161",
                "signed_on": "2026-03-01", "contract": contract}
        response = ops_client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:2000]
        agreement = Agreement.objects.get()
        listing = ops_client.get("/ops/members/membermerchant/").content.decode()
        assert agreement.number in listing and "13700006161" not in listing and "孙*" in listing
        download = ops_client.get(f"/ops/members/agreement/{agreement.pk}/download/")
        assert b"".join(download.streaming_content) == PDF

    def test_bad_contract_shows_the_error_and_saves_nothing(self, ops_client, merchant):
        contract = io.BytesIO(b"not a pdf")
        contract.name = "合同.pdf"
        response = ops_client.post("/ops/members/membermerchant/add/", {
            "merchant": merchant.pk, "name": "孙涛", "id_number": good_id(61), "phone": "13700006161",
            "signed_on": "2026-03-01", "contract": contract})
        assert response.status_code == 200 and "不是有效的 PDF" in response.content.decode()
        assert not MemberMerchant.objects.exists()
