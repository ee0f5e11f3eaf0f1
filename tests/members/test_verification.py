import datetime as dt

import pytest
from django.db import connection

from core.exceptions import ValidationFailed
from core.models import AuditRecord
from core.testing.factories import WorkerUserFactory, make_resident_id
from members import services
from members.exceptions import (
    AgeNotAllowed,
    AlreadyVerified,
    IdNumberTaken,
    VerificationAttemptsExceeded,
    VerificationFailed,
    VerificationUnavailable,
)
from members.models import Member, MemberMerchant, PayoutAccount, VerificationAttempt
from members.rules import statutory_retirement
from members.selectors import payout_account_default
from tests.members.conftest import GOOD_CARD, good_id, sandbox_id

pytestmark = pytest.mark.django_db


def verify(user, now, **overrides):
    data = {"name": "张伟", "id_number": good_id(11), "bank_card": GOOD_CARD, "bank_name": "中国工商银行"}
    data.update(overrides)
    return services.member_verify(user=user, now=now, ip="10.0.0.8", **data)


class TestVerifySuccess:
    def test_verified_member_gets_identity_default_card_and_audit(self, worker_user, now):
        member = verify(worker_user, now)
        member.refresh_from_db()
        assert member.is_verified and member.verified_at == now
        assert member.verification_method == Member.Method.FOUR_FACTOR
        assert member.name == "张伟" and member.birth_date == dt.date(1990, 1, 1)
        account = payout_account_default(member=member)
        assert account.kind == PayoutAccount.Kind.BANK and account.account == GOOD_CARD
        assert account.account_masked == "6222 **** **** 3445" and account.verified_at == now
        attempt = VerificationAttempt.objects.get(member=member)
        assert attempt.outcome == "PASSED" and attempt.factors == 4
        record = AuditRecord.objects.get(event="members.member.verified")
        assert "张伟" not in str(record.after) and good_id(11) not in str(record.after)
        worker_user.refresh_from_db()
        assert worker_user.full_name == "张伟"

    def test_raw_rows_hold_no_plaintext_id_card_or_phone(self, worker_user, now):
        member = verify(worker_user, now)
        number = good_id(11)
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, id_number, id_number_index FROM members_member WHERE id = %s", [member.pk])
            name, id_raw, index = cursor.fetchone()
            cursor.execute("SELECT account, account_masked FROM members_payoutaccount WHERE member_id = %s", [member.pk])
            account_raw, masked = cursor.fetchone()
            cursor.execute("SELECT * FROM members_verificationattempt WHERE member_id = %s", [member.pk])
            attempt_row = " ".join(str(v) for v in cursor.fetchone())
        assert "张伟" not in name and number not in id_raw and number not in index
        assert GOOD_CARD not in account_raw and GOOD_CARD not in masked
        assert number not in attempt_row and GOOD_CARD not in attempt_row and worker_user.phone not in attempt_row

    def test_verification_moves_registered_relationships_to_verified(self, worker_user, merchant, now):
        member = services.member_ensure(user=worker_user)
        relationship = MemberMerchant.objects.create(merchant=merchant, member=member,
                                                     status=MemberMerchant.Status.REGISTERED)
        verify(worker_user, now)
        relationship.refresh_from_db()
        assert relationship.status == MemberMerchant.Status.VERIFIED

    def test_three_factor_setting_does_not_send_the_phone(self, settings, now):
        settings.MEMBERS_VERIFICATION_FACTORS = 3
        user = WorkerUserFactory(phone="13900000000")  # four factors: the sandbox refuses phones ending 0000
        member = verify(user, now)
        assert member.verification_method == Member.Method.THREE_FACTOR


class TestVerifyRefusals:
    def test_invalid_id_number_is_refused_before_anything_is_written(self, worker_user, now):
        bad = good_id(11)[:-1] + ("0" if good_id(11)[-1] != "0" else "1")
        with pytest.raises(ValidationFailed, match="校验位错误"):
            verify(worker_user, now, id_number=bad)
        assert not Member.objects.exists() and not VerificationAttempt.objects.exists()

    def test_bad_name_is_refused(self, worker_user, now):
        with pytest.raises(ValidationFailed, match="姓名"):
            verify(worker_user, now, name="张3")

    def test_duplicate_id_number_names_the_other_account_masked(self, worker_user, now):
        verify(worker_user, now)
        other = WorkerUserFactory()
        with pytest.raises(IdNumberTaken) as error:
            verify(other, now)
        assert worker_user.phone[:3] + "****" + worker_user.phone[-4:] in error.value.message
        assert not Member.objects.get(user=other).is_verified
        assert not VerificationAttempt.objects.filter(member__user=other).exists()

    def test_under_eighteen_is_refused_with_the_rule(self, worker_user, now):
        young = make_resident_id(12, birth="20080317")  # 17 on 2026-03-16, 18 the next day
        with pytest.raises(AgeNotAllowed, match="未满 18 周岁"):
            verify(worker_user, now, id_number=young)
        assert not VerificationAttempt.objects.exists()
        verify(worker_user, now + dt.timedelta(days=1), id_number=young)

    def test_past_statutory_retirement_age_is_refused(self, worker_user, now):
        # a man born 1965-06-01 retires at 60 years 2 months: 2025-08-01
        with pytest.raises(AgeNotAllowed, match="法定退休年龄（60 周岁 2 个月）"):
            verify(worker_user, now, id_number=make_resident_id(13, birth="19650601"))

    def test_age_limits_are_settings(self, worker_user, now, settings):
        settings.MEMBERS_MIN_AGE = 40
        with pytest.raises(AgeNotAllowed, match="未满 40 周岁"):
            verify(worker_user, now)
        settings.MEMBERS_MIN_AGE = 18
        settings.MEMBERS_MAX_AGE = 30
        with pytest.raises(AgeNotAllowed, match="上限为 30 周岁"):
            verify(worker_user, now)

    def test_name_mismatch_is_recorded_as_failed_with_the_reason(self, worker_user, now):
        with pytest.raises(VerificationFailed, match="姓名与身份证号不一致") as error:
            verify(worker_user, now, id_number=sandbox_id("444"))
        assert error.value.extra == {"reason_code": "NAME_ID_MISMATCH", "attempts_left": 4}
        member = Member.objects.get(user=worker_user)
        assert member.verification_status == Member.Verification.FAILED
        assert "姓名与身份证号不一致" in member.failure_reason
        assert not member.id_number_index and not PayoutAccount.objects.exists()

    def test_abnormal_card_tells_the_worker_to_use_another(self, worker_user, now):
        with pytest.raises(VerificationFailed, match="银行卡状态异常"):
            verify(worker_user, now, bank_card="6222020200112230000")
        verify(worker_user, now)  # a FAILED member may try again and pass
        assert Member.objects.get(user=worker_user).is_verified

    def test_phone_not_owned_fails_four_factor(self, now):
        user = WorkerUserFactory(phone="13700000000")
        with pytest.raises(VerificationFailed, match="手机号不是本人实名登记"):
            verify(user, now)

    def test_timeout_asks_to_retry_and_is_not_counted(self, worker_user, now, settings):
        settings.MEMBERS_VERIFY_ATTEMPTS_PER_DAY = 1
        with pytest.raises(VerificationUnavailable, match="请稍后重新提交"):
            verify(worker_user, now, bank_card="6222020200112239999")
        assert VerificationAttempt.objects.get().outcome == "ERROR"
        assert Member.objects.get(user=worker_user).verification_status == Member.Verification.UNVERIFIED
        verify(worker_user, now)  # the one counted attempt of the day is still available

    def test_attempts_are_limited_per_day(self, worker_user, now):
        for _ in range(5):
            with pytest.raises(VerificationFailed):
                verify(worker_user, now, id_number=sandbox_id("444"))
        with pytest.raises(VerificationAttemptsExceeded, match="每日 5 次上限"):
            verify(worker_user, now)
        assert VerificationAttempt.objects.count() == 5
        # the limit is per calendar day (Asia/Shanghai): just after local midnight it is lifted
        tomorrow = now.replace(hour=0, minute=0, second=1) + dt.timedelta(days=1)
        assert verify(worker_user, tomorrow).is_verified

    def test_verifying_twice_is_refused(self, worker_user, now):
        verify(worker_user, now)
        with pytest.raises(AlreadyVerified):
            verify(worker_user, now, id_number=good_id(21))
        assert Member.objects.get(user=worker_user).id_number == good_id(11)


class TestRetirementAge:
    @pytest.mark.parametrize(("birth", "male", "base", "years", "months"), [
        (dt.date(1964, 12, 1), True, None, 60, 0),
        (dt.date(1965, 1, 1), True, None, 60, 1),
        (dt.date(1965, 5, 1), True, None, 60, 2),
        (dt.date(1976, 8, 1), True, None, 62, 11),
        (dt.date(1976, 9, 1), True, None, 63, 0),
        (dt.date(1990, 1, 1), True, None, 63, 0),
        (dt.date(1970, 1, 1), False, 55, 55, 1),
        (dt.date(1981, 12, 1), False, 55, 58, 0),
        (dt.date(1975, 3, 1), False, 50, 50, 2),
        (dt.date(1984, 12, 1), False, 50, 55, 0),
    ])
    def test_statutory_retirement_follows_the_2024_decision(self, birth, male, base, years, months):
        retirement = statutory_retirement(birth_date=birth, is_male=male, female_base=base)
        assert (retirement.years, retirement.months) == (years, months)

    def test_retirement_date_of_a_month_end_birthday(self):
        retirement = statutory_retirement(birth_date=dt.date(1965, 1, 31), is_male=True)
        assert retirement.on == dt.date(2025, 2, 28)


class TestVerifyPage:
    def test_page_verifies_and_redirects_to_agreements(self, client, worker_user):
        client.force_login(worker_user)
        assert client.get("/m/verify/").status_code == 200
        response = client.post("/m/verify/", {"name": "张伟", "id_number": good_id(11), "bank_card": GOOD_CARD,
                                              "consent": "on"})
        assert response.status_code == 302 and response["Location"] == "/m/agreements/"
        page = client.get("/m/verify/").content.decode()
        assert "已实名" in page and "张*" in page and good_id(11) not in page

    def test_page_shows_the_reason_of_a_failure(self, client, worker_user):
        client.force_login(worker_user)
        response = client.post("/m/verify/", {"name": "张伟", "id_number": sandbox_id("444"), "bank_card": GOOD_CARD,
                                              "consent": "on"})
        assert response.status_code == 400
        assert "姓名与身份证号不一致" in response.content.decode()

    def test_page_needs_a_worker(self, client, enterprise_admin):
        client.force_login(enterprise_admin)
        assert client.get("/m/verify/").status_code == 302


def test_me_page_links_every_step(client, now):
    from members.testing import make_verified_member

    member = make_verified_member(n=3, now=now, name="李娜")
    client.force_login(member.user)
    page = client.get("/m/me/").content.decode()
    for url in ("/m/verify/", "/m/agreements/", "/m/enterprises/", "/m/accounts/"):
        assert url in page
    assert "已实名" in page and "**** 0003" in page


def test_home_cards_lead_a_new_worker_to_verification(client, worker_user, merchant, enterprise_admin, now):
    from members.services import worker_invite

    worker_invite(merchant=merchant, name="王芳", id_number=good_id(31), phone=worker_user.phone,
                  actor=enterprise_admin, now=now)
    client.force_login(worker_user)
    page = client.get("/m/").content.decode()
    assert "实名认证" in page and "/m/verify/" in page and "1 家企业邀请您加入" in page
    client.force_login(enterprise_admin)
    assert "已签约人员" in client.get("/enterprise/").content.decode()
