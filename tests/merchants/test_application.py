import pytest

from accounts.models import Role, User
from core.exceptions import ValidationFailed
from core.models import AuditRecord
from core.testing.factories import make_phone, make_uscc
from merchants import services
from merchants.exceptions import (
    ApplicationIncomplete,
    ApplicationNotEditable,
    ApplicationNotReviewable,
    DuplicateUscc,
    FileRejected,
    PhoneTaken,
    RiskRejected,
    UsernameTaken,
    VerificationFailed,
    VerificationUnavailable,
)
from merchants.models import Merchant, MerchantApplication, MerchantDocument, ServiceAgreement
from risk.models import ListEntry
from tests.merchants.conftest import PDF, PNG, complete, start, submitted

pytestmark = pytest.mark.django_db


class TestStart:
    def test_creates_merchant_login_and_draft(self, now):
        application = start(now, uscc=make_uscc(7001))
        merchant = application.merchant
        assert merchant.status == Merchant.Status.APPLYING and merchant.uscc == make_uscc(7001)
        assert application.status == MerchantApplication.Status.DRAFT
        user = application.applicant
        assert user.role == Role.ENT_ADMIN and user.merchant == merchant and user.check_password("Kuai-song-2026!")
        assert AuditRecord.objects.filter(event="merchants.application.started").count() == 1

    def test_invalid_uscc_is_refused_with_the_reason_and_nothing_is_created(self, now):
        bad = make_uscc(7002)[:-1] + ("0" if make_uscc(7002)[-1] != "0" else "1")
        with pytest.raises(ValidationFailed) as error:
            start(now, uscc=bad)
        assert "校验位错误" in error.value.message and error.value.extra["form_field"] == "uscc"
        assert not Merchant.objects.exists() and not User.objects.exists()

    def test_duplicate_uscc_gets_a_precise_error(self, now):
        start(now, uscc=make_uscc(7003))
        with pytest.raises(DuplicateUscc) as error:
            start(now, uscc=make_uscc(7003).lower())
        assert make_uscc(7003) in error.value.message and "不能重复申请" in error.value.message
        assert Merchant.objects.count() == 1 and User.objects.count() == 1

    def test_username_and_phone_must_be_free(self, now):
        start(now, username="kuaisong", phone=make_phone(42))
        with pytest.raises(UsernameTaken):
            start(now, username="KuaiSong")
        with pytest.raises(PhoneTaken) as error:
            start(now, phone=make_phone(42))
        assert "****" in error.value.message  # the number is masked in the message
        assert Merchant.objects.count() == 1

    def test_weak_password_is_refused(self, now):
        from merchants.services import merchant_application_start

        with pytest.raises(ValidationFailed) as error:
            merchant_application_start(company_name="天津某某科技有限公司", uscc=make_uscc(7004), username="weak",
                                       password="12345", phone=make_phone(7004), now=now)
        assert error.value.extra["form_field"] == "password"
        assert not Merchant.objects.exists()


class TestDraft:
    def test_draft_saves_partially_and_keeps_pii_encrypted(self, now):
        application = start(now)
        services.merchant_application_update(application=application, actor=application.applicant, now=now, step=2,
                                             legal_rep_name="张伟", legal_rep_id_number="11010519491231002x")
        application.refresh_from_db()
        assert application.legal_rep_id_number == "11010519491231002X"
        assert application.legal_rep_id_masked == "1101**********002X"
        assert application.step == 2 and application.legal_rep_id_index
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT legal_rep_id_number FROM merchants_merchantapplication WHERE id=%s",
                           [application.pk])
            assert "11010519491231002X" not in cursor.fetchone()[0]

    @pytest.mark.parametrize(("field", "value", "words"), [
        ("legal_rep_id_number", "110105194912310021", "校验位"),
        ("contact_phone", "12345", "手机号"),
        ("expected_monthly_volume", "-3", "金额"),
        ("industry", "CASINO", "行业"),
    ])
    def test_bad_values_name_the_field_and_change_nothing(self, now, field, value, words):
        application = start(now)
        with pytest.raises(ValidationFailed) as error:
            services.merchant_application_update(application=application, actor=application.applicant, now=now,
                                                 **{field: value})
        assert words in error.value.message
        assert error.value.extra["form_field"] == field
        application.refresh_from_db()
        assert application.step == 1 and application.legal_rep_id_number == "" and application.industry == ""

    def test_changing_the_uscc_in_the_draft_moves_the_merchant_and_checks_duplicates(self, now):
        other = start(now, uscc=make_uscc(7010))
        application = start(now, uscc=make_uscc(7011))
        with pytest.raises(DuplicateUscc):
            services.merchant_application_update(application=application, actor=application.applicant, now=now,
                                                 uscc=make_uscc(7010))
        services.merchant_application_update(application=application, actor=application.applicant, now=now,
                                             uscc=make_uscc(7012), company_name="天津快送物流有限公司")
        application.merchant.refresh_from_db()
        assert application.merchant.uscc == make_uscc(7012) and application.merchant.name == "天津快送物流有限公司"
        assert other.merchant.uscc == make_uscc(7010)


class TestLicence:
    def test_pdf_and_png_are_stored_with_their_checksum(self, now):
        import hashlib

        application = start(now)
        document = services.merchant_application_upload_licence(application=application, actor=application.applicant,
                                                                content=PDF, name="执照.pdf", now=now)
        assert document.content_type == "application/pdf" and document.sha256 == hashlib.sha256(PDF).hexdigest()
        assert document.file.read() == PDF and document.merchant_id == application.merchant_id
        application.refresh_from_db()
        assert application.licence == document

    @pytest.mark.parametrize(("content", "name", "words"), [
        (b"MZ\x90\x00 not an image", "licence.png", "文件类型不支持"),
        (b"GIF89a....", "licence.gif", "文件类型不支持"),
        (PNG, "licence.pdf", "与文件内容"),
        (b"", "licence.png", "空的"),
        (b"%PDF-" + b"0" * (5 * 1024 * 1024), "big.pdf", "超过 5 MB"),
    ])
    def test_wrong_type_or_size_is_refused_and_nothing_is_stored(self, now, content, name, words):
        application = start(now)
        with pytest.raises(FileRejected) as error:
            services.merchant_application_upload_licence(application=application, actor=application.applicant,
                                                         content=content, name=name, now=now)
        assert words in error.value.message
        assert not MerchantDocument.objects.exists()


class TestSubmit:
    def test_incomplete_application_lists_what_is_missing(self, now):
        application = start(now)
        with pytest.raises(ApplicationIncomplete) as error:
            services.merchant_application_submit(application=application, actor=application.applicant, now=now)
        assert "法定代表人身份证号" in error.value.message and "营业执照" in error.value.extra["missing"]
        application.refresh_from_db()
        assert application.status == "DRAFT"

    def test_verified_application_goes_to_the_queue_with_the_risk_decision(self, now):
        application = submitted(now)
        assert application.status == MerchantApplication.Status.SUBMITTED
        assert application.verification_status == "PASSED" and application.risk_outcome == "PASS"
        from merchants.selectors import review_queue

        assert list(review_queue()) == [application]

    def test_failed_verification_stops_the_application_with_the_reason(self, now):
        application = complete(start(now, company_name="天津测试失败科技有限公司"), now)
        with pytest.raises(VerificationFailed) as error:
            services.merchant_application_submit(application=application, actor=application.applicant, now=now)
        assert "企业认证未通过" in error.value.message and "不一致" in error.value.message
        application.refresh_from_db()
        assert application.status == "DRAFT" and application.verification_status == "FAILED"
        assert "不一致" in application.verification_reason
        # fix the name, submit again
        services.merchant_application_update(application=application, actor=application.applicant, now=now,
                                             company_name="天津快送同城配送有限公司")
        application = services.merchant_application_submit(application=application, actor=application.applicant,
                                                           now=now)
        assert application.status == "SUBMITTED"

    def test_legal_representative_mismatch_fails(self, now):
        application = complete(start(now), now, legal_rep_name="张不符")
        with pytest.raises(VerificationFailed, match="法定代表人"):
            services.merchant_application_submit(application=application, actor=application.applicant, now=now)

    def test_provider_timeout_changes_nothing(self, now):
        application = complete(start(now, company_name="天津认证超时有限公司"), now)
        with pytest.raises(VerificationUnavailable):
            services.merchant_application_submit(application=application, actor=application.applicant, now=now)
        application.refresh_from_db()
        assert application.status == "DRAFT" and application.verification_status == "NOT_STARTED"

    def test_submitted_application_cannot_be_edited(self, now):
        application = submitted(now)
        with pytest.raises(ApplicationNotEditable):
            services.merchant_application_update(application=application, actor=application.applicant, now=now,
                                                 company_name="改名有限公司")


class TestReview:
    def test_approve_issues_the_agreement_with_the_configured_fees(self, now, ops_user,
                                                                   django_capture_on_commit_callbacks):
        application = submitted(now)
        with django_capture_on_commit_callbacks(execute=True):
            services.merchant_application_approve(application=application, actor=ops_user, now=now)
        application.refresh_from_db()
        merchant = application.merchant
        merchant.refresh_from_db()
        assert application.status == "APPROVED" and merchant.status == Merchant.Status.APPROVED
        agreement = ServiceAgreement.objects.get(merchant=merchant)
        assert agreement.status == "PENDING" and agreement.terms["fee_rate_percent"] == "6.00%"
        assert agreement.terms["merchant_name"] == merchant.name
        from accounts.models import SmsOutbox

        assert any("审核通过" in sms.body for sms in SmsOutbox.objects.all())

    def test_reject_needs_a_reason(self, now, ops_user):
        application = submitted(now)
        with pytest.raises(ValidationFailed, match="驳回原因"):
            services.merchant_application_reject(application=application, actor=ops_user, reason=" ", now=now)
        services.merchant_application_reject(application=application, actor=ops_user, reason="业务场景与经营范围不符",
                                             now=now)
        application.refresh_from_db()
        application.merchant.refresh_from_db()
        assert application.status == "REJECTED" and application.review_note == "业务场景与经营范围不符"
        assert application.merchant.status == Merchant.Status.REJECTED
        with pytest.raises(ApplicationNotReviewable):
            services.merchant_application_approve(application=application, actor=ops_user, now=now)

    def test_request_more_information_then_resubmit(self, now, ops_user):
        application = submitted(now)
        services.merchant_application_request_info(application=application, actor=ops_user,
                                                   message="请补充门店照片说明", now=now)
        application.refresh_from_db()
        assert application.status == "INFO_REQUESTED" and application.editable
        services.merchant_application_update(application=application, actor=application.applicant, now=now,
                                             business_scenario="同城即时配送：骑手按单取送货，门店位于天津滨海新区")
        application = services.merchant_application_submit(application=application, actor=application.applicant,
                                                           now=now)
        assert application.status == "SUBMITTED"
        services.merchant_application_approve(application=application, actor=ops_user, now=now)

    def test_blacklisted_uscc_cannot_be_approved(self, now, ops_user):
        application = submitted(now)
        ListEntry.objects.create(list_type="BLACK", subject="USCC", value=application.uscc, reason="涉嫌虚开发票",
                                 created_at=now)
        with pytest.raises(RiskRejected) as error:
            services.merchant_application_approve(application=application, actor=ops_user, now=now)
        assert "黑名单" in error.value.message
        application.refresh_from_db()
        assert application.status == "SUBMITTED"
        assert not ServiceAgreement.objects.exists()

    def test_review_outcome_needs_a_note(self, now, ops_user):
        application = complete(start(now), now, industry="OTHER")
        application = services.merchant_application_submit(application=application, actor=application.applicant,
                                                           now=now)
        assert application.risk_outcome == "REVIEW"
        with pytest.raises(ValidationFailed, match="复核意见"):
            services.merchant_application_approve(application=application, actor=ops_user, now=now)
        services.merchant_application_approve(application=application, actor=ops_user, now=now,
                                              note="电话核实：社区家政服务")


def test_rejected_application_can_be_corrected_and_submitted_again(now, ops_user):
    application = submitted(now)
    services.merchant_application_reject(application=application, actor=ops_user, reason="营业执照不清晰", now=now)
    services.merchant_application_reopen(application=application, actor=application.applicant, now=now)
    application.refresh_from_db()
    application.merchant.refresh_from_db()
    assert application.status == "DRAFT" and application.merchant.status == Merchant.Status.APPLYING
    assert application.review_note == "营业执照不清晰"  # the reason stays visible while correcting
    services.merchant_application_upload_licence(application=application, actor=application.applicant, content=PDF,
                                                 name="清晰执照.pdf", now=now)
    application = services.merchant_application_submit(application=application, actor=application.applicant, now=now)
    assert application.status == "SUBMITTED"
    with pytest.raises(ApplicationNotEditable):
        services.merchant_application_reopen(application=application, actor=application.applicant, now=now)
