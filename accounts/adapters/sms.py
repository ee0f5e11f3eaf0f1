"""SMS providers. The production path calls ``get_sms_adapter().send(...)`` whatever the provider is.

``SandboxSmsAdapter`` behaves like a provider that accepted the message: it returns a provider message id and writes
the message to ``SmsOutbox``, which operations can read in the admin (and the demo user can read their code there).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod

from django.conf import settings
from django.utils.module_loading import import_string

TEMPLATES = {
    "login_code": "【灵工】您的验证码为 {code}，{minutes} 分钟内有效。请勿泄露给他人。",
    "sign_code": "【灵工】您正在签署《{document}》，验证码 {code}，{minutes} 分钟内有效。",
    "payment_code": "【灵工】您正在确认付款 {amount} 元，验证码 {code}，{minutes} 分钟内有效。",
    "change_code": "【灵工】您正在变更账户信息，验证码 {code}，{minutes} 分钟内有效。",
    "invitation": "【灵工】{merchant} 邀请您加入灵工平台承接任务，点击 {link} 完成注册与签约。",
    "notice": "【灵工】{text}",
}


class SmsAdapter(ABC):
    name = "abstract"

    @abstractmethod
    def send(self, *, phone: str, template: str, params: dict, now) -> str:
        """Send one message; return the provider's message id. Raise SmsSendFailed when the provider refuses."""


class SmsSendFailed(Exception):
    pass


class SandboxSmsAdapter(SmsAdapter):
    name = "sandbox"

    def send(self, *, phone: str, template: str, params: dict, now) -> str:
        from accounts.models import SmsOutbox

        body = TEMPLATES[template].format(**params)
        message_id = f"SBX{uuid.uuid4().hex[:20].upper()}"
        SmsOutbox.objects.create(
            phone=phone, template=template, body=body, provider=self.name, provider_message_id=message_id,
            created_at=now,
        )
        return message_id


def get_sms_adapter() -> SmsAdapter:
    return import_string(settings.SMS_ADAPTER)()
