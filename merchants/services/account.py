"""开立账户, 配置项, 账户变更, 账户注销."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext, gettext_lazy
from django_fsm import can_proceed

from accounts.models import User
from core import audit, money
from core.exceptions import ValidationFailed
from core.pii import blind_index, mask_id_number, mask_name, mask_phone
from core.validators import validate_mobile, validate_resident_id
from merchants import locks
from merchants.documents import TERMS_FIELDS
from merchants.exceptions import (
    ChangeNotAllowed,
    CloseNotAllowed,
    DuplicateUscc,
    MerchantNotActive,
    RiskRejected,
)
from merchants.models import (
    ApiKey,
    Industry,
    Merchant,
    MerchantChangeRequest,
    MerchantConfiguration,
    ServiceAgreement,
    TermsAmendment,
)

# --- 开立账户 ---------------------------------------------------------------------------------------------------

@transaction.atomic
def merchant_account_open(*, merchant: Merchant, actor, now) -> Merchant:
    """Open the accounts of a signed merchant: the ledger accounts (available, frozen, worker payable) and the
    dedicated top-up account (virtual account number for 来账识别, by payouts). Idempotent on the ledger side.

    Raises MerchantNotActive when the agreement is not signed.
    """
    from ledger.services import merchant_accounts_open
    from payouts.services import topup_account_open

    merchant = locks.merchant_for_update(merchant_id=merchant.pk)
    if not can_proceed(merchant.open_account):
        raise MerchantNotActive(gettext("企业状态为“{status}”，签署服务协议后才能开户").format(status=merchant.get_status_display()))
    merchant_accounts_open(merchant=merchant, now=now, actor=actor)
    topup = topup_account_open(merchant=merchant, now=now)
    merchant.open_account(at=now)
    merchant.save()
    audit.record(event="merchants.merchant.account_opened", now=now, actor=actor, subject=merchant,
                 after={"status": merchant.status, "topup_account": topup.account_number})
    return merchant


# --- 配置项 -----------------------------------------------------------------------------------------------------

CONFIG_FIELDS = ("fee_rate", "fee_fixed_fen", "fee_minimum_fen", "fee_tiers", "fee_bearer", "fee_timing", "tax_bearer",
                 "enabled_channels", "single_payment_limit_fen", "worker_monthly_limit_fen", "daily_limit_fen",
                 "second_approval_threshold_fen", "require_budget_cover")
CHANNELS = ("BANK", "ALIPAY", "WECHAT")


def _config_snapshot(config: MerchantConfiguration) -> dict:
    return {name: (str(getattr(config, name)) if name == "fee_rate" else getattr(config, name)) for name in CONFIG_FIELDS}


def _clean_config(values: dict) -> dict:
    cleaned = dict(values)
    if "fee_rate" in cleaned:
        try:
            rate = Decimal(str(cleaned["fee_rate"]))
        except InvalidOperation:
            raise ValidationFailed(gettext("服务费率应为小数，例如 0.0600 表示 6%"), extra={"form_field": "fee_rate"}) from None
        if not (Decimal("0") <= rate < Decimal("1")) or rate.as_tuple().exponent < -4:
            raise ValidationFailed(gettext("服务费率应在 0 到 1 之间、最多 4 位小数（0.0600 表示 6%）"),
                                   extra={"form_field": "fee_rate"})
        cleaned["fee_rate"] = rate
    for name in ("fee_fixed_fen", "fee_minimum_fen"):
        if name in cleaned and (not isinstance(cleaned[name], int) or cleaned[name] < 0):
            raise ValidationFailed(gettext("固定费和最低服务费不能为负数"), extra={"form_field": name})
    for name in ("single_payment_limit_fen", "worker_monthly_limit_fen", "daily_limit_fen",
                 "second_approval_threshold_fen"):
        if name in cleaned and (not isinstance(cleaned[name], int) or cleaned[name] <= 0):
            raise ValidationFailed(gettext("限额必须大于 0"), extra={"form_field": name})
    for name, choices in (("fee_bearer", MerchantConfiguration.Bearer.values),
                          ("tax_bearer", MerchantConfiguration.Bearer.values),
                          ("fee_timing", MerchantConfiguration.FeeTiming.values)):
        if name in cleaned and cleaned[name] not in choices:
            raise ValidationFailed(gettext("{kind} 的取值应为 {value}").format(kind=name, value='/'.join(choices)), extra={"form_field": name})
    if "enabled_channels" in cleaned:
        channels = list(dict.fromkeys(cleaned["enabled_channels"] or []))
        bad = [c for c in channels if c not in CHANNELS]
        if bad or not channels:
            raise ValidationFailed(gettext("请至少开通一个付款通道（BANK、ALIPAY、WECHAT）"), extra={"form_field": "enabled_channels"})
        cleaned["enabled_channels"] = channels
    if "fee_tiers" in cleaned:
        tiers = []
        for tier in cleaned["fee_tiers"] or []:
            try:
                tiers.append({"from_fen": int(tier["from_fen"]), "rate": str(Decimal(str(tier["rate"])))})
            except (KeyError, TypeError, ValueError, InvalidOperation):
                raise ValidationFailed(gettext('阶梯费率格式应为 [{"from_fen": 0, "rate": "0.0600"}]'),
                                       extra={"form_field": "fee_tiers"}) from None
        cleaned["fee_tiers"] = sorted(tiers, key=lambda t: t["from_fen"])
    return cleaned


@transaction.atomic
def merchant_configuration_set(*, merchant: Merchant, actor, now, reason: str = "", **values) -> MerchantConfiguration:
    """Operations set the configuration items (配置项); audited with before/after. Fields: see ``CONFIG_FIELDS``.

    Before the service agreement is signed everything applies at once (the agreement issued afterwards takes the terms
    from here). Once it is signed, the commercial terms (``TERMS_FIELDS``: rate, fixed fee, minimum, tiers, bearers,
    timing) are not written: a 补充协议 is proposed instead (``reason`` goes into it) and they apply when the
    enterprise signs it; the other items still apply at once. The returned configuration carries the pending
    amendment of this call in ``proposed_amendment`` (transient, None when no terms were proposed).

    Raises ValidationFailed (with ``extra.form_field``).
    """
    from merchants.services.amendment import signed_agreement, terms_amendment_propose

    unknown = set(values) - set(CONFIG_FIELDS)
    if unknown:
        raise ValueError(f"unknown configuration fields: {sorted(unknown)}")
    cleaned = _clean_config(values)
    locks.merchant_for_update(merchant_id=merchant.pk)
    config, _ = MerchantConfiguration.objects.get_or_create(merchant=merchant)
    amendment = None
    agreement = signed_agreement(merchant)
    if agreement is not None:
        terms = {name: cleaned.pop(name) for name in TERMS_FIELDS if name in cleaned}
        amendment = terms_amendment_propose(merchant=merchant, agreement=agreement, config=config, values=terms,
                                            actor=actor, now=now, reason=reason)
    before = _config_snapshot(config)
    for name, value in cleaned.items():
        setattr(config, name, value)
    config.save()
    after = _config_snapshot(config)
    changed = {k for k in CONFIG_FIELDS if before[k] != after[k]}
    if changed or amendment is None:
        audit.record(event="merchants.configuration.changed", now=now, actor=actor, subject=config, merchant=merchant,
                     before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    config.proposed_amendment = amendment
    return config


# --- 账户变更 ---------------------------------------------------------------------------------------------------

CHANGE_FIELDS = {
    "company_name": gettext_lazy("企业名称"),
    "uscc": gettext_lazy("统一社会信用代码"),
    "legal_rep_name": gettext_lazy("法定代表人姓名"),
    "legal_rep_id_number": gettext_lazy("法定代表人身份证号"),
    "contact_name": gettext_lazy("联系人姓名"),
    "contact_phone": gettext_lazy("联系人手机号"),
    "contact_email": gettext_lazy("联系人邮箱"),
    "registered_address": gettext_lazy("注册地址"),
    "industry": gettext_lazy("所属行业"),
    "business_scenario": gettext_lazy("业务场景"),
}
SECRET_FIELDS = {"legal_rep_name": mask_name, "legal_rep_id_number": mask_id_number, "contact_name": mask_name,
                 "contact_phone": mask_phone}


def _masked(name: str, value: str) -> str:
    return SECRET_FIELDS[name](value) if name in SECRET_FIELDS else value


def _clean_change(merchant: Merchant, changes: dict, now) -> dict:
    from merchants.services.application import check_uscc_free

    cleaned = {}
    for name, value in changes.items():
        if name not in CHANGE_FIELDS:
            raise ValidationFailed(gettext("“{kind}”不是可变更的信息").format(kind=name))
        value = (value or "").strip()
        if not value and name not in ("contact_email", "registered_address"):
            continue
        if name == "uscc":
            value = check_uscc_free(value, merchant=merchant)
        elif name == "legal_rep_id_number":
            value = validate_resident_id(value, today=now.date(), field_label=gettext("法定代表人身份证号")).number
        elif name == "contact_phone":
            value = validate_mobile(value, field_label=gettext("联系人手机号"))
        elif name == "industry" and value not in Industry.values:
            raise ValidationFailed(gettext("请选择所属行业"), extra={"form_field": "industry"})
        elif name == "company_name" and len(value) < 4:
            raise ValidationFailed(gettext("请填写营业执照上的企业全称（至少 4 个字）"), extra={"form_field": "company_name"})
        cleaned[name] = value
    return cleaned


def _current_values(merchant: Merchant) -> dict:
    application = merchant.application
    return {name: getattr(application, name) for name in CHANGE_FIELDS}


@transaction.atomic
def merchant_change_request(*, merchant: Merchant, actor, changes: dict, reason: str, now,
                            ip: str = "") -> MerchantChangeRequest:
    """The enterprise asks to change key data; operations re-review it (risk check included). One pending at a time.

    Raises MerchantNotActive, ChangeNotAllowed (one pending already / nothing changes), ValidationFailed, DuplicateUscc.
    """
    merchant = locks.merchant_for_update(merchant_id=merchant.pk)
    if merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.SUSPENDED):
        raise MerchantNotActive(gettext("开户后才能申请账户变更"))
    if MerchantChangeRequest.objects.filter(merchant=merchant, status=MerchantChangeRequest.Status.PENDING).exists():
        raise ChangeNotAllowed(gettext("已有一份待审核的变更或注销申请，请等待审核结果后再提交"))
    cleaned = _clean_change(merchant, changes, now)
    current = _current_values(merchant)
    cleaned = {name: value for name, value in cleaned.items() if value != current[name]}
    if not cleaned:
        raise ChangeNotAllowed(gettext("填写的信息与当前信息相同，没有需要变更的内容"))
    if not (reason or "").strip():
        raise ValidationFailed(gettext("请说明变更原因"), extra={"form_field": "reason"})
    from risk.services import check_merchant_application

    decision = check_merchant_application(
        merchant=merchant, uscc=cleaned.get("uscc", current["uscc"]),
        name=cleaned.get("company_name", current["company_name"]),
        industry=cleaned.get("industry", current["industry"]),
        scenario=cleaned.get("business_scenario", current["business_scenario"]), now=now,
    )
    secret = {name: value for name, value in cleaned.items() if name in SECRET_FIELDS}
    change = MerchantChangeRequest.objects.create(
        merchant=merchant, kind=MerchantChangeRequest.Kind.CHANGE,
        changes={name: value for name, value in cleaned.items() if name not in SECRET_FIELDS},
        changes_secret=json.dumps(secret, ensure_ascii=False) if secret else "",
        changes_masked={name: _masked(name, value) for name, value in cleaned.items()},
        previous={name: _masked(name, current[name]) for name in cleaned},
        reason=reason.strip(), requested_by=actor, requested_at=now,
        risk_outcome=decision.outcome, risk_reasons=decision.reasons_as_dicts(),
    )
    audit.record(event="merchants.change.requested", now=now, actor=actor, subject=change, ip=ip,
                 before=change.previous, after=change.changes_masked)
    return change


def _pending_change(change: MerchantChangeRequest) -> tuple[Merchant, MerchantChangeRequest]:
    merchant = locks.merchant_for_update(merchant_id=change.merchant_id)
    change = locks.change_for_update(change_id=change.pk)
    if change.status != MerchantChangeRequest.Status.PENDING:
        raise ChangeNotAllowed(gettext("该申请状态为“{status}”，不能再审核").format(status=change.get_status_display()))
    return merchant, change


@transaction.atomic
def merchant_change_approve(*, change: MerchantChangeRequest, actor, now, note: str = "") -> MerchantChangeRequest:
    """Apply an approved change (after the risk check runs again), or close the account for a closing request.

    Raises ChangeNotAllowed, RiskRejected, DuplicateUscc, CloseNotAllowed.
    """
    merchant, change = _pending_change(change)
    if change.kind == MerchantChangeRequest.Kind.CLOSE:
        merchant_close(merchant=merchant, actor=actor, now=now, reason=change.reason)
        change.approve(by=actor, at=now, note=note)
        change.save()
        return change
    values = {**change.changes, **(json.loads(change.changes_secret) if change.changes_secret else {})}
    application = merchant.application
    current = _current_values(merchant)
    from risk.services import check_merchant_application

    decision = check_merchant_application(
        merchant=merchant, uscc=values.get("uscc", current["uscc"]),
        name=values.get("company_name", current["company_name"]), industry=values.get("industry", current["industry"]),
        scenario=values.get("business_scenario", current["business_scenario"]), now=now,
    )
    if decision.rejected:
        raise RiskRejected(gettext("风控检查未通过：{value}。请驳回该变更申请").format(value=decision.summary()),
                           extra={"reasons": decision.reasons_as_dicts()})
    for name, value in values.items():
        setattr(application, name, value)
    if "legal_rep_id_number" in values:
        application.legal_rep_id_index = blind_index(values["legal_rep_id_number"], purpose="id_number")
    application.save()
    merchant.name, merchant.uscc = application.company_name, application.uscc
    try:
        with transaction.atomic():
            merchant.save(update_fields=["name", "uscc", "updated_at"])
    except IntegrityError:
        raise DuplicateUscc(gettext("统一社会信用代码 {uscc} 已被另一家企业使用").format(uscc=merchant.uscc)) from None
    change.approve(by=actor, at=now, note=note)
    change.save()
    audit.record(event="merchants.change.approved", now=now, actor=actor, subject=change,
                 before=change.previous, after=change.changes_masked)
    return change


@transaction.atomic
def merchant_change_reject(*, change: MerchantChangeRequest, actor, reason: str, now) -> MerchantChangeRequest:
    """Raises ChangeNotAllowed, ValidationFailed (no reason)."""
    if not (reason or "").strip():
        raise ValidationFailed(gettext("请填写驳回原因"), extra={"form_field": "reason"})
    _, change = _pending_change(change)
    change.reject(by=actor, at=now, note=reason.strip())
    change.save()
    audit.record(event="merchants.change.rejected", now=now, actor=actor, subject=change, after={"reason": reason})
    return change


@transaction.atomic
def merchant_change_withdraw(*, merchant: Merchant, actor, change_id: int, now) -> MerchantChangeRequest:
    """The enterprise withdraws its own pending change or closing request. Raises NotFound, ChangeNotAllowed."""
    from core.tenancy import get_for_tenant

    change = get_for_tenant(MerchantChangeRequest.objects.all(), merchant=merchant, message=gettext("未找到该申请"),
                            pk=change_id)
    _, change = _pending_change(change)
    change.withdraw(at=now)
    change.save()
    audit.record(event="merchants.change.withdrawn", now=now, actor=actor, subject=change)
    return change


# --- 账户注销 ---------------------------------------------------------------------------------------------------

# Later apps (tasks, payouts) add what *they* have in flight for an enterprise, without merchants importing them:
# each check is ``fn(merchant) -> list[str]`` of reasons, registered from the app's ``ready()``.
CLOSE_CHECKS: list = []


def register_close_check(check):
    """Register ``check(merchant) -> list[str]``: reasons the enterprise cannot close while they hold."""
    if check not in CLOSE_CHECKS:
        CLOSE_CHECKS.append(check)
    return check


def close_blockers(merchant: Merchant) -> list[str]:
    """Why the account cannot be closed now (empty when it can): a balance, frozen (in-flight) funds, and whatever
    the registered checks of later apps report (open tasks with workers on them, unsettled payouts)."""
    from ledger import selectors as ledger_selectors

    blockers = []
    for check in CLOSE_CHECKS:
        blockers += check(merchant)
    available = ledger_selectors.merchant_available_fen(merchant=merchant)
    frozen = ledger_selectors.merchant_frozen_fen(merchant=merchant)
    if available:
        blockers.append(gettext("可用余额为 {available} 元，须先申请退款或用完，余额为 0 才能注销").format(available=money.format_yuan(available)))
    if frozen:
        blockers.append(gettext("有在途付款（冻结资金 {frozen} 元），须全部完成后才能注销").format(frozen=money.format_yuan(frozen)))
    return blockers


@transaction.atomic
def merchant_close_request(*, merchant: Merchant, actor, reason: str, now, ip: str = "") -> MerchantChangeRequest:
    """The enterprise asks to close its account (注销); checked now and again when operations approve.

    Raises MerchantNotActive, ChangeNotAllowed, CloseNotAllowed, ValidationFailed.
    """
    merchant = locks.merchant_for_update(merchant_id=merchant.pk)
    if merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.SUSPENDED):
        raise MerchantNotActive(gettext("企业状态为“{status}”，不能申请注销").format(status=merchant.get_status_display()))
    if MerchantChangeRequest.objects.filter(merchant=merchant, status=MerchantChangeRequest.Status.PENDING).exists():
        raise ChangeNotAllowed(gettext("已有一份待审核的变更或注销申请，请等待审核结果后再提交"))
    if not (reason or "").strip():
        raise ValidationFailed(gettext("请说明注销原因"), extra={"form_field": "reason"})
    blockers = close_blockers(merchant)
    if blockers:
        raise CloseNotAllowed(gettext("暂不能注销：") + "；".join(blockers), extra={"blockers": blockers})
    change = MerchantChangeRequest.objects.create(
        merchant=merchant, kind=MerchantChangeRequest.Kind.CLOSE, reason=reason.strip(), requested_by=actor,
        requested_at=now,
    )
    audit.record(event="merchants.close.requested", now=now, actor=actor, subject=change, ip=ip)
    return change


@transaction.atomic
def merchant_close(*, merchant: Merchant, actor, now, reason: str = "") -> Merchant:
    """Close the account: only with a zero balance and nothing in flight. Staff logins are disabled, API keys
    revoked, the agreement terminated (a pending 补充协议 withdrawn), and the merchant flagged for the archive
    (``archive_pending``).

    Raises CloseNotAllowed.
    """
    merchant = locks.merchant_for_update(merchant_id=merchant.pk)
    if not can_proceed(merchant.close):
        raise CloseNotAllowed(gettext("企业状态为“{status}”，不能注销").format(status=merchant.get_status_display()))
    blockers = close_blockers(merchant)
    if blockers:
        raise CloseNotAllowed(gettext("暂不能注销：") + "；".join(blockers), extra={"blockers": blockers})
    merchant.close(at=now)
    merchant.save()
    disabled = User.objects.filter(merchant=merchant, is_active=True).update(is_active=False)
    revoked = ApiKey.objects.filter(merchant=merchant, revoked_at__isnull=True).update(revoked_at=now, revoked_by=actor)
    for agreement in ServiceAgreement.objects.filter(merchant=merchant, status=ServiceAgreement.Status.SIGNED):
        agreement.terminate(at=now)
        agreement.save()
    withdrawn = []
    for amendment in TermsAmendment.objects.filter(merchant=merchant, status=TermsAmendment.Status.PENDING):
        amendment.withdraw(at=now)
        amendment.save()
        withdrawn.append(amendment.number)
    audit.record(event="merchants.merchant.closed", now=now, actor=actor, subject=merchant,
                 after={"reason": reason, "staff_disabled": disabled, "api_keys_revoked": revoked,
                        "archive_pending": True, "terms_amendments_withdrawn": withdrawn})
    return merchant


# --- 冻结 / 解冻 (operations) -------------------------------------------------------------------------------------

@transaction.atomic
def merchant_suspend(*, merchant: Merchant, actor, reason: str, now) -> Merchant:
    """Operations freeze an active account (e.g. a risk alert); staff can still sign in and read. Raises
    MerchantNotActive, ValidationFailed (no reason)."""
    if not (reason or "").strip():
        raise ValidationFailed(gettext("请填写冻结原因"), extra={"form_field": "reason"})
    merchant = locks.merchant_for_update(merchant_id=merchant.pk)
    if not can_proceed(merchant.suspend):
        raise MerchantNotActive(gettext("企业状态为“{status}”，不能冻结").format(status=merchant.get_status_display()))
    merchant.suspend()
    merchant.save()
    audit.record(event="merchants.merchant.suspended", now=now, actor=actor, subject=merchant,
                 after={"reason": reason.strip()})
    return merchant


@transaction.atomic
def merchant_resume(*, merchant: Merchant, actor, now) -> Merchant:
    """Lift a freeze. Raises MerchantNotActive."""
    merchant = locks.merchant_for_update(merchant_id=merchant.pk)
    if not can_proceed(merchant.resume):
        raise MerchantNotActive(gettext("企业状态为“{status}”，不能解冻").format(status=merchant.get_status_display()))
    merchant.resume()
    merchant.save()
    audit.record(event="merchants.merchant.resumed", now=now, actor=actor, subject=merchant)
    return merchant
