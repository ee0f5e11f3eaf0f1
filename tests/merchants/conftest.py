"""Helpers for the onboarding tests: a complete application, approval, and signing with the sandbox SMS code."""

from __future__ import annotations

import pytest

from accounts.models import SmsCode
from core.testing.factories import make_phone, make_resident_id, make_uscc
from merchants import services
from merchants.models import MerchantApplication

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.4\n% licence\n" + b"0" * 200
PASSWORD = "Kuai-song-2026!"

_n = iter(range(500, 10_000))


def start(now, *, company_name="天津快送同城配送有限公司", uscc=None, username=None, phone=None):
    n = next(_n)
    return services.merchant_application_start(
        company_name=company_name, uscc=uscc or make_uscc(n), username=username or f"applicant{n}",
        password=PASSWORD, phone=phone or make_phone(n), full_name="王经理", now=now, ip="10.0.0.8",
    )


def complete(application: MerchantApplication, now, **overrides) -> MerchantApplication:
    n = next(_n)
    fields = {
        "legal_rep_name": "张伟", "legal_rep_id_number": make_resident_id(n, birth="19800101"),
        "contact_name": "王芳", "contact_phone": make_phone(n + 20_000), "contact_email": "ops@example.com",
        "registered_address": "天津市滨海新区某路 1 号", "industry": "LOGISTICS",
        "business_scenario": "同城即时配送：骑手按单完成取送货，按单结算服务费",
        "expected_monthly_volume": "500000.00", "expected_monthly_workers": 300,
    }
    fields.update(overrides)
    application = services.merchant_application_update(application=application, actor=application.applicant,
                                                       now=now, step=3, **fields)
    services.merchant_application_upload_licence(application=application, actor=application.applicant,
                                                 content=PNG, name="licence.png", now=now)
    application.refresh_from_db()
    return application


def submitted(now, **kwargs) -> MerchantApplication:
    application = complete(start(now, **kwargs), now)
    return services.merchant_application_submit(application=application, actor=application.applicant, now=now)


def approved(now, reviewer, **kwargs) -> MerchantApplication:
    application = submitted(now, **kwargs)
    return services.merchant_application_approve(application=application, actor=reviewer, now=now)


def sign_code(merchant, user, now) -> str:
    return services.service_agreement_send_code(merchant=merchant, actor=user, now=now).plain_code


def signed(now, reviewer, **kwargs):
    application = approved(now, reviewer, **kwargs)
    merchant, admin = application.merchant, application.applicant
    code = sign_code(merchant, admin, now)
    agreement = services.service_agreement_sign(merchant=merchant, actor=admin, code=code, now=now, ip="10.0.0.9")
    merchant.refresh_from_db()
    return merchant, admin, agreement


@pytest.fixture
def reviewer(ops_user):
    return ops_user


__all__ = ["PNG", "PDF", "PASSWORD", "SmsCode", "start", "complete", "submitted", "approved", "sign_code", "signed"]
