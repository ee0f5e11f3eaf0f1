"""收款账户: the worker's bank cards (ownership checked by the verification provider), Alipay and WeChat accounts."""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import NotFound
from core.pii import blind_index, mask_account, mask_bank_card
from core.validators import validate_bank_card, validate_mobile
from members.adapters.verification import TIMEOUT_MESSAGE, ProviderTimeout, get_verification_adapter
from members.exceptions import (
    NotVerified,
    PayoutAccountDuplicate,
    PayoutAccountInvalid,
    VerificationFailed,
    VerificationUnavailable,
)
from members.models import Member, PayoutAccount

_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _normalise(kind: str, account: str) -> tuple[str, str]:
    """Return (account, masked) or raise PayoutAccountInvalid with what to fix."""
    account = (account or "").strip()
    if kind == PayoutAccount.Kind.BANK:
        try:
            number = validate_bank_card(account).number
        except Exception as error:  # ValidationFailed: keep its precise message
            raise PayoutAccountInvalid(getattr(error, "message", str(error)), extra={"form_field": "account"}) from None
        return number, mask_bank_card(number)
    if kind == PayoutAccount.Kind.ALIPAY:
        if _EMAIL_RE.match(account):
            return account.lower(), mask_account(account.lower())
        try:
            phone = validate_mobile(account, field_label=_("支付宝账号"))
        except Exception:
            raise PayoutAccountInvalid(_("支付宝账号“{account}”不正确：请填写登录支付宝的手机号或邮箱").format(account=account),
                                       extra={"form_field": "account"}) from None
        return phone, mask_account(phone)
    if kind == PayoutAccount.Kind.WECHAT:
        if not _OPENID_RE.match(account):
            raise PayoutAccountInvalid(_("微信 openid 格式不正确：应为 20–64 位字母、数字、“-”或“_”，请在微信内授权后自动获取"),
                                       extra={"form_field": "account"})
        return account, mask_account(account)
    raise PayoutAccountInvalid(_("不支持的收款账户类型“{kind}”，可选：银行卡、支付宝、微信").format(kind=kind), extra={"form_field": "kind"})


def _account_for_member(member: Member, account_id: int) -> PayoutAccount:
    account = (PayoutAccount.objects.select_for_update()
               .filter(pk=account_id, member=member, status=PayoutAccount.Status.ACTIVE).first())
    if account is None:
        raise NotFound(_("未找到该收款账户，请刷新页面"))
    return account


def payout_account_add(*, member: Member, kind: str, account: str, bank_name: str = "", make_default: bool = False,
                       actor, now: dt.datetime, ip: str = "") -> PayoutAccount:
    """Add a payout account. A bank card must belong to the verified member (checked by the provider, three factors).
    The first account becomes the default.

    Raises NotVerified, PayoutAccountInvalid, PayoutAccountDuplicate, VerificationFailed, VerificationUnavailable.
    """
    if not member.is_verified:
        raise NotVerified(_("请先完成实名认证，再添加收款账户（收款账户必须是本人名下）"))
    number, masked = _normalise(kind, account)
    index = blind_index(number, purpose="payout_account")
    active = PayoutAccount.objects.filter(member=member, status=PayoutAccount.Status.ACTIVE)
    if active.filter(kind=kind, account_index=index).exists():
        raise PayoutAccountDuplicate(_("{label} {masked} 已添加过，无需重复添加").format(label=PayoutAccount.Kind(kind).label, masked=masked))
    verified_at = None
    if kind == PayoutAccount.Kind.BANK:
        try:
            result = get_verification_adapter().verify(name=member.name, id_number=member.id_number, bank_card=number)
        except ProviderTimeout:
            raise VerificationUnavailable(TIMEOUT_MESSAGE) from None
        if not result.matched:
            raise VerificationFailed(_("银行卡核验未通过：{message}").format(message=result.message), extra={"reason_code": result.code,
                                                                          "form_field": "account"})
        verified_at = now
    try:
        with transaction.atomic():
            locked = list(PayoutAccount.objects.select_for_update()
                          .filter(member=member, status=PayoutAccount.Status.ACTIVE).order_by("id"))
            is_default = make_default or not locked
            if is_default:
                PayoutAccount.objects.filter(pk__in=[a.pk for a in locked if a.is_default]).update(is_default=False)
            created = PayoutAccount.objects.create(
                member=member, kind=kind, account=number, account_index=index, account_masked=masked,
                bank_name=(bank_name or "").strip()[:100], is_default=is_default, verified_at=verified_at,
            )
            audit.record(event="members.payout_account.added", now=now, actor=actor, subject=created, ip=ip,
                         after={"kind": kind, "account": masked, "is_default": is_default})
    except IntegrityError:
        raise PayoutAccountDuplicate(_("{label} {masked} 已添加过，无需重复添加").format(label=PayoutAccount.Kind(kind).label, masked=masked)) from None
    return created


@transaction.atomic
def payout_account_set_default(*, member: Member, account_id: int, actor, now: dt.datetime, ip: str = "") -> PayoutAccount:
    """Make one account the default (the one payouts use). Raises NotFound."""
    account = _account_for_member(member, account_id)
    previous = (PayoutAccount.objects.select_for_update()
                .filter(member=member, status=PayoutAccount.Status.ACTIVE, is_default=True).exclude(pk=account.pk).first())
    if previous:
        previous.is_default = False
        previous.save(update_fields=["is_default", "updated_at"])
    account.is_default = True
    account.save(update_fields=["is_default", "updated_at"])
    audit.record(event="members.payout_account.default_changed", now=now, actor=actor, subject=account, ip=ip,
                 before={"default": previous.account_masked if previous else None},
                 after={"default": account.account_masked})
    return account


@transaction.atomic
def payout_account_remove(*, member: Member, account_id: int, actor, now: dt.datetime, ip: str = "") -> PayoutAccount:
    """Remove an account (kept, marked removed, for the records of past payouts). The default can be removed only when
    it is the last one. Raises NotFound, PayoutAccountInvalid."""
    account = _account_for_member(member, account_id)
    others = PayoutAccount.objects.filter(member=member, status=PayoutAccount.Status.ACTIVE).exclude(pk=account.pk)
    if account.is_default and others.exists():
        raise PayoutAccountInvalid(_("这是默认收款账户：请先把另一个账户设为默认，再删除它"))
    account.status, account.is_default, account.removed_at = PayoutAccount.Status.REMOVED, False, now
    account.save(update_fields=["status", "is_default", "removed_at", "updated_at"])
    audit.record(event="members.payout_account.removed", now=now, actor=actor, subject=account, ip=ip,
                 before={"account": account.account_masked, "kind": account.kind})
    return account
