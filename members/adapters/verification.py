"""Real-name verification providers (实名认证: 三要素 / 四要素, bank card ownership).

The production path calls ``get_verification_adapter().verify(...)`` whatever the provider is. Each adapter answers
with a ``VerificationResult`` (matched or not, a stable reason code and a Chinese message) or raises
``ProviderTimeout`` when nothing was decided.

``SandboxVerificationAdapter`` behaves like a real provider, deterministically by the test data (documented in
docs/guide-worker.md, 附录 沙箱测试数据):

- ID number whose 顺序码 (characters 15–17) is ``444`` → 姓名与身份证号不一致;
- ``555`` → 身份证号不存在（公安库无此号）; ``666`` → the provider times out;
- bank card ending ``0000`` → 银行卡状态异常（挂失、冻结或已销户）; ending ``1111`` → 银行卡开户信息与姓名/身份证号不一致;
  ending ``9999`` → the provider times out;
- phone ending ``0000`` (four factors) → 手机号不是本人实名登记;
- anything else matches. ``MEMBERS_SANDBOX_TIMEOUT_RATE`` adds random timeouts.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from members import conf


class ProviderTimeout(Exception):
    """The provider did not answer in time; the check may be retried."""


@dataclass(frozen=True)
class VerificationResult:
    matched: bool
    code: str = "OK"
    message: str = ""
    provider_ref: str = ""


class VerificationAdapter(ABC):
    name = "abstract"

    @abstractmethod
    def verify(self, *, name: str, id_number: str, bank_card: str, phone: str | None = None) -> VerificationResult:
        """Check that name, ID number and bank card (and, when given, the phone) belong to one person."""


# What to tell the worker for each reason code: what went wrong and what to do next.
REASONS = {
    "NAME_ID_MISMATCH": _("姓名与身份证号不一致，请核对姓名（含生僻字、少数民族姓名中的“·”）和身份证号后重试"),
    "ID_NOT_FOUND": _("身份证号在公安数据库中不存在，请核对号码；如证件刚更换，请以新证件号码重试"),
    "CARD_ABNORMAL": _("银行卡状态异常（挂失、冻结或已销户），请更换一张本人名下正常使用的借记卡"),
    "CARD_MISMATCH": _("银行卡开户人信息与姓名/身份证号不一致，请使用本人名下的银行卡"),
    "PHONE_MISMATCH": _("手机号不是本人实名登记的号码，请使用本人实名的手机号登录后重试，或联系客服改用三要素认证"),
}
TIMEOUT_MESSAGE = _("认证通道响应超时，本次不计入认证次数，请稍后重新提交")


class SandboxVerificationAdapter(VerificationAdapter):
    name = "sandbox"

    def verify(self, *, name: str, id_number: str, bank_card: str, phone: str | None = None) -> VerificationResult:
        sequence = id_number[14:17]
        rate = float(conf.get("MEMBERS_SANDBOX_TIMEOUT_RATE") or 0)
        if sequence == "666" or bank_card.endswith("9999") or (rate and random.random() < rate):  # noqa: S311
            raise ProviderTimeout("sandbox: simulated timeout")
        ref = "SBXV" + hashlib.sha256(f"{id_number}|{bank_card}|{phone}".encode()).hexdigest()[:16].upper()
        for code, failed in (
            ("NAME_ID_MISMATCH", sequence == "444"),
            ("ID_NOT_FOUND", sequence == "555"),
            ("CARD_ABNORMAL", bank_card.endswith("0000")),
            ("CARD_MISMATCH", bank_card.endswith("1111")),
            ("PHONE_MISMATCH", bool(phone) and phone.endswith("0000")),
        ):
            if failed:
                return VerificationResult(False, code, str(REASONS[code]), ref)
        return VerificationResult(True, "OK", "一致", ref)


def get_verification_adapter() -> VerificationAdapter:
    return import_string(conf.get("MEMBERS_VERIFICATION_ADAPTER"))()
