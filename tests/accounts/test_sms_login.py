import datetime as dt

import pytest

from accounts import services
from accounts.exceptions import LoginFailed, SmsCodeExpired, SmsCodeInvalid, SmsCodeTooSoon
from accounts.models import Kind, SmsCode, SmsOutbox, User
from core.exceptions import RateLimited, ValidationFailed
from core.models import AuditRecord
from core.pii import blind_index

PHONE = "13912345678"


def _send(now, phone=PHONE, ip="1.2.3.4"):
    return services.sms_code_send(phone=phone, purpose=SmsCode.Purpose.LOGIN, now=now, ip=ip)


@pytest.mark.django_db
class TestSmsCodes:
    def test_code_is_sent_through_the_sandbox_outbox_and_stored_only_as_a_hash(self, now, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            sms = _send(now)
        outbox = SmsOutbox.objects.get()
        assert sms.plain_code in outbox.body and outbox.phone == PHONE
        assert sms.plain_code not in SmsCode.objects.get().code_hash

    def test_a_second_code_within_a_minute_is_refused(self, now):
        _send(now)
        with pytest.raises(SmsCodeTooSoon, match="秒后"):
            _send(now + dt.timedelta(seconds=30))
        _send(now + dt.timedelta(seconds=61))

    def test_more_than_five_codes_an_hour_per_phone_is_refused(self, now):
        for i in range(5):
            _send(now + dt.timedelta(minutes=2 * i))
        with pytest.raises(RateLimited, match="1 小时"):
            _send(now + dt.timedelta(minutes=11))

    def test_per_ip_limit_across_phones(self, now):
        for i in range(20):
            _send(now, phone=f"1391234{i:04d}", ip="9.9.9.9")
        with pytest.raises(RateLimited, match="当前网络"):
            _send(now, phone="13912349999", ip="9.9.9.9")

    def test_invalid_phone_is_refused_before_anything_is_stored(self, now):
        with pytest.raises(ValidationFailed, match="手机号"):
            _send(now, phone="1234")
        assert not SmsCode.objects.exists()

    def test_wrong_code_counts_attempts_then_burns_the_code(self, now):
        sms = _send(now)
        for left in (4, 3, 2, 1):
            with pytest.raises(SmsCodeInvalid, match=f"还可尝试 {left} 次"):
                services.sms_code_verify(phone=PHONE, purpose=SmsCode.Purpose.LOGIN, code="000000"
                                         if sms.plain_code != "000000" else "111111", now=now)
        with pytest.raises(SmsCodeInvalid, match="错误次数过多"):
            services.sms_code_verify(phone=PHONE, purpose=SmsCode.Purpose.LOGIN, code="999999"
                                     if sms.plain_code != "999999" else "888888", now=now)
        with pytest.raises(SmsCodeExpired, match="错误次数过多"):
            services.sms_code_verify(phone=PHONE, purpose=SmsCode.Purpose.LOGIN, code=sms.plain_code, now=now)

    def test_expired_code_is_refused(self, now):
        sms = _send(now)
        with pytest.raises(SmsCodeExpired, match="已过期"):
            services.sms_code_verify(phone=PHONE, purpose=SmsCode.Purpose.LOGIN, code=sms.plain_code,
                                     now=now + dt.timedelta(minutes=6))

    def test_code_is_single_use_and_bound_to_its_purpose(self, now):
        sms = _send(now)
        with pytest.raises(SmsCodeInvalid):
            services.sms_code_verify(phone=PHONE, purpose=SmsCode.Purpose.PAYMENT, code=sms.plain_code, now=now)
        services.sms_code_verify(phone=PHONE, purpose=SmsCode.Purpose.LOGIN, code=sms.plain_code, now=now)
        with pytest.raises(SmsCodeInvalid, match="请先获取"):
            services.sms_code_verify(phone=PHONE, purpose=SmsCode.Purpose.LOGIN, code=sms.plain_code, now=now)


@pytest.mark.django_db
class TestWorkerLogin:
    def test_first_login_registers_a_worker_and_audits_it(self, now):
        sms = _send(now)
        user, created = services.worker_login_with_sms(phone=PHONE, code=sms.plain_code, now=now)
        assert created and user.kind == Kind.WORKER and user.phone == PHONE
        assert user.phone_index == blind_index(PHONE, purpose="phone")
        assert AuditRecord.objects.filter(event="accounts.worker.registered", subject_id=str(user.pk)).exists()

    def test_second_login_finds_the_same_worker(self, now):
        first, _ = services.worker_login_with_sms(phone=PHONE, code=_send(now).plain_code, now=now)
        later = now + dt.timedelta(minutes=2)
        again, created = services.worker_login_with_sms(phone=PHONE, code=_send(later).plain_code, now=later)
        assert again.pk == first.pk and not created
        assert User.objects.filter(kind=Kind.WORKER).count() == 1

    def test_staff_phone_cannot_sign_in_as_a_worker(self, now, enterprise_admin):
        enterprise_admin.set_phone(PHONE)
        enterprise_admin.save()
        with pytest.raises(LoginFailed, match="不能登录灵工人员端"):
            services.worker_login_with_sms(phone=PHONE, code=_send(now).plain_code, now=now)
