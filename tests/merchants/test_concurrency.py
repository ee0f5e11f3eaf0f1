"""Races on PostgreSQL with real threads and commits."""


import pytest

from core.exceptions import DomainError
from core.testing.concurrency import race as _race
from core.testing.factories import UserFactory, make_phone, make_uscc
from merchants import services
from merchants.models import Merchant, MerchantDocument, ServiceAgreement
from tests.merchants.conftest import PASSWORD, approved, sign_code

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_applications_for_one_uscc_create_one_merchant(now):
    def start(n):
        return lambda: services.merchant_application_start(
            company_name="天津并发测试有限公司", uscc=make_uscc(5555), username=f"race{n}", password=PASSWORD,
            phone=make_phone(5550 + n), now=now)

    results = _race(start(1), start(2))
    assert Merchant.objects.filter(uscc=make_uscc(5555)).count() == 1
    errors = [r for r in results if isinstance(r, DomainError)]
    assert len(errors) == 1 and errors[0].code == "merchant_uscc_duplicate"


def test_one_code_signs_once_when_submitted_twice_at_the_same_time(now):
    reviewer = UserFactory()
    application = approved(now, reviewer)
    merchant, admin = application.merchant, application.applicant
    code = sign_code(merchant, admin, now)

    def sign():
        return services.service_agreement_sign(merchant=merchant, actor=admin, code=code, now=now, ip="10.0.0.1")

    results = _race(sign, sign)
    assert sum(isinstance(r, ServiceAgreement) for r in results) == 1
    assert ServiceAgreement.objects.filter(merchant=merchant, status="SIGNED").count() == 1
    assert MerchantDocument.objects.filter(merchant=merchant, kind="AGREEMENT").count() == 1
    assert Merchant.objects.get(pk=merchant.pk).status == "ACTIVE"
