"""Enterprise verification (企业认证): is the company real and does the data match the business registry?

The production path calls ``get_verification_adapter().verify(...)`` whatever the provider is (e.g. a registry data
service checking name + USCC + legal representative). ``SandboxEnterpriseVerification`` gives deterministic outcomes
by test data, documented in docs/guide-enterprise.md:

- a company name containing "测试失败"        → failed: 企业名称与统一社会信用代码不一致
- a company name containing "经营异常"        → failed: 企业处于经营异常名录
- a company name containing "已注销"          → failed: 企业登记状态为注销或吊销
- a legal representative name containing "不符" → failed: 法定代表人与工商登记信息不一致
- a company name containing "认证超时"        → the provider does not answer (VerificationUnavailable: retry later)
- anything else                                → passed
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class VerificationResult:
    passed: bool
    reason: str
    reference: str
    provider: str


class ProviderUnavailable(Exception):
    """The provider did not answer; nothing is known, the caller may retry later."""


class EnterpriseVerificationAdapter(ABC):
    name = "abstract"

    @abstractmethod
    def verify(self, *, company_name: str, uscc: str, legal_rep_name: str, legal_rep_id_number: str) -> VerificationResult:
        """Check the enterprise against the registry. Raise ProviderUnavailable when there is no answer."""


class SandboxEnterpriseVerification(EnterpriseVerificationAdapter):
    name = "sandbox"

    FAILURES = (
        ("company_name", "测试失败", gettext_lazy("企业名称与统一社会信用代码不一致，请按营业执照填写企业全称")),
        ("company_name", "经营异常", gettext_lazy("企业被列入经营异常名录，请移出后再申请")),
        ("company_name", "已注销", gettext_lazy("企业登记状态为注销或吊销，不能入驻")),
        ("legal_rep_name", "不符", gettext_lazy("法定代表人与工商登记信息不一致，请按营业执照填写法定代表人")),
    )

    def verify(self, *, company_name: str, uscc: str, legal_rep_name: str, legal_rep_id_number: str) -> VerificationResult:
        values = {"company_name": company_name, "legal_rep_name": legal_rep_name}
        if "认证超时" in company_name:
            raise ProviderUnavailable("sandbox timeout")
        reference = "SBXV" + hashlib.sha256(f"{uscc}|{company_name}".encode()).hexdigest()[:16].upper()
        for field_name, marker, reason in self.FAILURES:
            if marker in values[field_name]:
                return VerificationResult(False, str(reason), reference, self.name)
        return VerificationResult(True, _("企业名称、统一社会信用代码与法定代表人一致，登记状态正常"), reference, self.name)


def get_verification_adapter() -> EnterpriseVerificationAdapter:
    path = getattr(settings, "MERCHANT_VERIFICATION_ADAPTER",
                   "merchants.adapters.verification.SandboxEnterpriseVerification")
    return import_string(path)()
