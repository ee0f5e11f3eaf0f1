"""入驻申请: start (creates the applicant's login), save the draft step by step, upload the licence, submit (with
enterprise verification and the risk check), and the operations review (approve / reject / request information)."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext, gettext_lazy
from django_fsm import can_proceed

from accounts.models import Role, User
from accounts.services import sms_send
from core import audit, money
from core.exceptions import ValidationFailed
from core.pii import blind_index, mask_phone
from core.validators import validate_mobile, validate_resident_id, validate_uscc
from merchants import files, locks
from merchants.adapters.verification import ProviderUnavailable, get_verification_adapter
from merchants.exceptions import (
    ApplicationIncomplete,
    ApplicationNotEditable,
    ApplicationNotReviewable,
    DuplicateUscc,
    PhoneTaken,
    RiskRejected,
    UsernameTaken,
    VerificationFailed,
    VerificationUnavailable,
)
from merchants.models import Industry, Merchant, MerchantApplication, MerchantConfiguration, MerchantDocument

REQUIRED_FIELDS = {
    "company_name": gettext_lazy("企业名称"),
    "uscc": gettext_lazy("统一社会信用代码"),
    "legal_rep_name": gettext_lazy("法定代表人姓名"),
    "legal_rep_id_number": gettext_lazy("法定代表人身份证号"),
    "contact_name": gettext_lazy("联系人姓名"),
    "contact_phone": gettext_lazy("联系人手机号"),
    "industry": gettext_lazy("所属行业"),
    "business_scenario": gettext_lazy("业务场景"),
    "expected_monthly_volume_fen": gettext_lazy("预计月发放金额"),
    "licence": gettext_lazy("营业执照"),
}
EDITABLE_FIELDS = (
    "company_name", "uscc", "legal_rep_name", "legal_rep_id_number", "contact_name", "contact_phone",
    "contact_email", "registered_address", "industry", "business_scenario", "expected_monthly_volume",
    "expected_monthly_workers",
)


def _duplicate_uscc_message(uscc: str) -> str:
    return (gettext("统一社会信用代码 {uscc} 已在平台提交过入驻申请或已开户，不能重复申请。如为贵司的申请，请使用原账号登录继续；如非贵司提交，请联系客服核实。").format(uscc=uscc))


def check_uscc_free(uscc: str, *, merchant: Merchant | None = None) -> str:
    """Validate a USCC and make sure no other merchant holds it. Raises ValidationFailed, DuplicateUscc."""
    code = validate_uscc(uscc)
    others = Merchant.objects.filter(uscc=code)
    if merchant is not None:
        others = others.exclude(pk=merchant.pk)
    if others.exists():
        raise DuplicateUscc(_duplicate_uscc_message(code), extra={"form_field": "uscc"})
    return code


def _field_error(error: ValidationFailed, field: str) -> ValidationFailed:
    error.extra = {**error.extra, "form_field": field}
    return error


def merchant_application_start(*, company_name: str, uscc: str, username: str, password: str, phone: str,
                               full_name: str = "", now, ip: str = "") -> MerchantApplication:
    """Step 1 of 入驻: create the merchant (APPLYING), the applicant's login (enterprise admin) and the draft.

    Raises ValidationFailed (bad USCC, phone or password), DuplicateUscc, UsernameTaken, PhoneTaken.
    """
    company_name = (company_name or "").strip()
    if len(company_name) < 4:
        raise ValidationFailed(gettext("请填写营业执照上的企业全称（至少 4 个字）"), extra={"form_field": "company_name"})
    try:
        code = check_uscc_free(uscc)
    except ValidationFailed as error:
        raise _field_error(error, "uscc") from None
    username = (username or "").strip()
    if not username:
        raise ValidationFailed(gettext("请设置登录名"), extra={"form_field": "username"})
    try:
        phone = validate_mobile(phone)
    except ValidationFailed as error:
        raise _field_error(error, "phone") from None
    if User.objects.filter(username__iexact=username).exists():
        raise UsernameTaken(gettext("登录名“{username}”已被使用，请换一个").format(username=username), extra={"form_field": "username"})
    if User.objects.filter(phone_index=blind_index(phone, purpose="phone")).exists():
        raise PhoneTaken(gettext("手机号 {phone} 已注册平台账号，请使用其他手机号或联系客服").format(phone=mask_phone(phone)),
                         extra={"form_field": "phone"})
    try:
        validate_password(password, User(username=username))
    except DjangoValidationError as error:
        raise ValidationFailed("；".join(error.messages), extra={"form_field": "password"}) from None
    try:
        with transaction.atomic():
            merchant = Merchant.objects.create(name=company_name, uscc=code, status=Merchant.Status.APPLYING)
            user = User.objects.create_user(username, password, role=Role.ENT_ADMIN, merchant=merchant, phone=phone,
                                            full_name=full_name.strip())
            application = MerchantApplication.objects.create(
                merchant=merchant, applicant=user, company_name=company_name, uscc=code, step=1,
                contact_phone=phone, contact_name=full_name.strip(),
            )
            audit.record(event="merchants.application.started", now=now, actor=user, subject=application,
                         merchant=merchant, ip=ip, after={"company_name": company_name, "uscc": code})
    except IntegrityError:
        # Lost a race with a concurrent application for the same USCC, login name or phone.
        raise DuplicateUscc(_duplicate_uscc_message(code), extra={"form_field": "uscc"}) from None
    return application


def _require_editable(application: MerchantApplication) -> None:
    if not application.editable:
        raise ApplicationNotEditable(
            gettext("申请当前状态为“{status}”，不能修改").format(status=application.get_status_display())
            + (gettext("；如需修改关键信息，请在开户后提交账户变更申请") if application.status == "APPROVED" else ""))


@transaction.atomic
def merchant_application_update(*, application: MerchantApplication, actor, now, step: int | None = None,
                                ip: str = "", **fields) -> MerchantApplication:
    """Save part of the draft (a step of the guided form). Only the given fields are checked and saved; blank
    values are allowed in a draft (submit checks completeness).

    Fields: company_name, uscc, legal_rep_name, legal_rep_id_number, contact_name, contact_phone, contact_email,
    registered_address, industry, business_scenario, expected_monthly_volume (yuan text), expected_monthly_workers.
    Raises ApplicationNotEditable, ValidationFailed (with ``extra.form_field``), DuplicateUscc.
    """
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown application fields: {sorted(unknown)}")
    merchant = locks.merchant_for_update(merchant_id=application.merchant_id)
    application = locks.application_for_update(application_id=application.pk)
    _require_editable(application)
    changed: list[str] = []

    def put(name: str, value) -> None:
        if getattr(application, name) != value:
            setattr(application, name, value)
            changed.append(name)

    for name in ("company_name", "legal_rep_name", "contact_name", "registered_address", "business_scenario"):
        if name in fields:
            put(name, (fields[name] or "").strip())
    if "company_name" in fields and len(application.company_name) < 4:
        raise ValidationFailed(gettext("请填写营业执照上的企业全称（至少 4 个字）"), extra={"form_field": "company_name"})
    if fields.get("uscc"):
        try:
            put("uscc", check_uscc_free(fields["uscc"], merchant=merchant))
        except ValidationFailed as error:
            raise _field_error(error, "uscc") from None
    if "legal_rep_id_number" in fields:
        value = (fields["legal_rep_id_number"] or "").strip().upper()
        if value:
            try:
                value = validate_resident_id(value, today=now.date(), field_label=gettext("法定代表人身份证号")).number
            except ValidationFailed as error:
                raise _field_error(error, "legal_rep_id_number") from None
        put("legal_rep_id_number", value)
        application.legal_rep_id_index = blind_index(value, purpose="id_number") if value else ""
    if "contact_phone" in fields:
        value = (fields["contact_phone"] or "").strip()
        if value:
            try:
                value = validate_mobile(value, field_label=gettext("联系人手机号"))
            except ValidationFailed as error:
                raise _field_error(error, "contact_phone") from None
        put("contact_phone", value)
    if "contact_email" in fields:
        put("contact_email", (fields["contact_email"] or "").strip())
    if "industry" in fields:
        value = fields["industry"] or ""
        if value and value not in Industry.values:
            raise ValidationFailed(gettext("请选择所属行业"), extra={"form_field": "industry"})
        put("industry", value)
    if "expected_monthly_volume" in fields:
        text = (fields["expected_monthly_volume"] or "").strip() if isinstance(fields["expected_monthly_volume"], str) \
            else fields["expected_monthly_volume"]
        value = None
        if text not in (None, ""):
            try:
                value = money.parse_yuan(str(text), allow_zero=False, field=gettext("预计月发放金额"))
            except ValidationFailed as error:
                raise _field_error(error, "expected_monthly_volume") from None
        put("expected_monthly_volume_fen", value)
    if "expected_monthly_workers" in fields:
        value = fields["expected_monthly_workers"]
        put("expected_monthly_workers", int(value) if value not in (None, "") else None)
    if step:
        application.step = max(application.step, step)
    application.save()
    if application.company_name != merchant.name or application.uscc != merchant.uscc:
        merchant.name, merchant.uscc = application.company_name, application.uscc
        merchant.save(update_fields=["name", "uscc", "updated_at"])
    audit.record(event="merchants.application.saved", now=now, actor=actor, subject=application, ip=ip,
                 after={"fields": sorted(changed), "step": application.step})
    return application


@transaction.atomic
def merchant_application_upload_licence(*, application: MerchantApplication, actor, content: bytes, name: str,
                                        now, ip: str = "") -> MerchantDocument:
    """Store the business licence (JPG, PNG or PDF up to 5 MB, checked by content) with its SHA-256.

    Raises ApplicationNotEditable, FileRejected.
    """
    checked = files.check_licence_file(content=content, name=name)
    application = locks.application_for_update(application_id=application.pk)
    _require_editable(application)
    document = MerchantDocument(
        merchant_id=application.merchant_id, kind=MerchantDocument.Kind.LICENCE, content_type=checked.content_type,
        size=len(checked.content), sha256=checked.sha256, original_name=checked.name, uploaded_by=actor,
    )
    document.file.save(checked.name, files.as_django_file(checked), save=False)
    document.save()
    application.licence = document
    application.step = max(application.step, 4)
    application.save(update_fields=["licence", "step", "updated_at"])
    audit.record(event="merchants.application.licence_uploaded", now=now, actor=actor, subject=document, ip=ip,
                 after={"sha256": checked.sha256, "size": len(checked.content), "type": checked.content_type})
    return document


def missing_fields(application: MerchantApplication) -> list[str]:
    return [str(label) for name, label in REQUIRED_FIELDS.items()
            if getattr(application, name if name != "licence" else "licence_id") in (None, "")]


def merchant_application_submit(*, application: MerchantApplication, actor, now, ip: str = "") -> MerchantApplication:
    """Submit for review: completeness, then enterprise verification through the provider (a failure stops here
    and is recorded with its reason), then the risk check whose decision the reviewer sees.

    Raises ApplicationNotEditable, ApplicationIncomplete, VerificationFailed, VerificationUnavailable.
    """
    application = MerchantApplication.objects.select_related("merchant").get(pk=application.pk)
    _require_editable(application)
    missing = missing_fields(application)
    if missing:
        raise ApplicationIncomplete(gettext("请先填写：{value}").format(value='、'.join(missing)), extra={"missing": missing})
    # The provider is called outside any transaction and lock (STYLE: external calls never under a lock).
    try:
        result = get_verification_adapter().verify(
            company_name=application.company_name, uscc=application.uscc,
            legal_rep_name=application.legal_rep_name, legal_rep_id_number=application.legal_rep_id_number,
        )
    except ProviderUnavailable:
        raise VerificationUnavailable(gettext("企业认证服务暂时无响应，申请未提交，请稍后再试")) from None
    from risk.services import check_merchant_application

    with transaction.atomic():
        application = locks.application_for_update(application_id=application.pk)
        _require_editable(application)
        application.verification_status = (MerchantApplication.Verification.PASSED if result.passed
                                           else MerchantApplication.Verification.FAILED)
        application.verification_reason = result.reason
        application.verification_reference = result.reference
        application.verified_at = now
        audit.record(event="merchants.application.verified", now=now, actor=actor, subject=application, ip=ip,
                     after={"passed": result.passed, "reason": result.reason, "provider": result.provider,
                            "reference": result.reference})
        if result.passed:
            decision = check_merchant_application(
                merchant=application.merchant, uscc=application.uscc, name=application.company_name,
                industry=application.industry, scenario=application.business_scenario, now=now,
            )
            application.risk_outcome = decision.outcome
            application.risk_reasons = decision.reasons_as_dicts()
            application.submit(at=now)
            application.step = 5
            audit.record(event="merchants.application.submitted", now=now, actor=actor, subject=application, ip=ip,
                         after={"risk": decision.outcome})
        application.save()
    if not result.passed:
        raise VerificationFailed(gettext("企业认证未通过：{reason}。请核对后修改再提交").format(reason=result.reason),
                                 extra={"reason": result.reason, "reference": result.reference})
    return application


def _review_target(application_id: int) -> tuple[Merchant, MerchantApplication]:
    application = MerchantApplication.objects.only("merchant_id").get(pk=application_id)
    merchant = locks.merchant_for_update(merchant_id=application.merchant_id)
    return merchant, locks.application_for_update(application_id=application_id)


def _require_reviewable(application: MerchantApplication, transition) -> None:
    if not can_proceed(transition):
        raise ApplicationNotReviewable(gettext("申请当前状态为“{status}”，不能审核").format(status=application.get_status_display()))


def _notify_applicant(application: MerchantApplication, text: str, now) -> None:
    phone = application.applicant.phone
    if phone:
        sms_send(phone=phone, template="notice", params={"text": text}, now=now)


@transaction.atomic
def merchant_application_approve(*, application: MerchantApplication, actor, now, note: str = "") -> MerchantApplication:
    """Approve after the risk check runs again: a REJECT decision blocks approval; a REVIEW decision needs the
    reviewer's note. Issues the service agreement for signing with the configuration's fees.

    Raises ApplicationNotReviewable, RiskRejected, ValidationFailed (note missing).
    """
    from risk.services import check_merchant_application

    merchant, application = _review_target(application.pk)
    _require_reviewable(application, application.approve)
    decision = check_merchant_application(
        merchant=merchant, uscc=application.uscc, name=application.company_name, industry=application.industry,
        scenario=application.business_scenario, now=now,
    )
    if decision.rejected:
        raise RiskRejected(gettext("风控检查未通过，不能审核通过：{value}。请驳回并说明原因").format(value=decision.summary()),
                           extra={"reasons": decision.reasons_as_dicts()})
    note = (note or "").strip()
    if decision.outcome == "REVIEW" and not note:
        raise ValidationFailed(gettext("风控提示需人工复核（{value}），请填写复核意见后再通过").format(value=decision.summary()),
                               extra={"form_field": "note"})
    application.risk_outcome, application.risk_reasons = decision.outcome, decision.reasons_as_dicts()
    application.approve(by=actor, at=now, note=note)
    application.save()
    merchant.approve(at=now)
    merchant.save()
    MerchantConfiguration.objects.get_or_create(merchant=merchant)
    from merchants.services.agreement import service_agreement_issue

    service_agreement_issue(merchant=merchant, actor=actor, now=now)
    audit.record(event="merchants.application.approved", now=now, actor=actor, subject=application,
                 after={"risk": decision.outcome, "note": note})
    _notify_applicant(application, f"{merchant.name} 的入驻申请已审核通过，请登录企业端签署服务协议。", now)
    return application


@transaction.atomic
def merchant_application_reject(*, application: MerchantApplication, actor, reason: str, now) -> MerchantApplication:
    """Reject with a reason the applicant reads. Raises ApplicationNotReviewable, ValidationFailed (no reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(gettext("请填写驳回原因（申请企业会看到）"), extra={"form_field": "reason"})
    merchant, application = _review_target(application.pk)
    _require_reviewable(application, application.reject)
    application.reject(by=actor, at=now, note=reason)
    application.save()
    merchant.reject()
    merchant.save()
    audit.record(event="merchants.application.rejected", now=now, actor=actor, subject=application,
                 after={"reason": reason})
    _notify_applicant(application, f"{merchant.name} 的入驻申请未通过：{reason}", now)
    return application


@transaction.atomic
def merchant_application_request_info(*, application: MerchantApplication, actor, message: str,
                                      now) -> MerchantApplication:
    """Send the application back for more information; the applicant edits and submits again.

    Raises ApplicationNotReviewable, ValidationFailed (no message).
    """
    message = (message or "").strip()
    if not message:
        raise ValidationFailed(gettext("请写明需要补充的资料"), extra={"form_field": "reason"})
    _, application = _review_target(application.pk)
    _require_reviewable(application, application.request_info)
    application.request_info(by=actor, at=now, note=message)
    application.save()
    audit.record(event="merchants.application.info_requested", now=now, actor=actor, subject=application,
                 after={"message": message})
    _notify_applicant(application, f"{application.company_name} 的入驻申请需补充资料：{message}", now)
    return application


@transaction.atomic
def merchant_application_reopen(*, application: MerchantApplication, actor, now, ip: str = "") -> MerchantApplication:
    """After a rejection the applicant may correct the application and apply again (the rejection stays in the audit
    log and its reason stays visible until the next review). Raises ApplicationNotEditable."""
    merchant, application = _review_target(application.pk)
    if not (can_proceed(application.reopen) and can_proceed(merchant.reapply)):
        raise ApplicationNotEditable(gettext("申请当前状态为“{status}”，不需要重新申请").format(status=application.get_status_display()))
    application.reopen()
    application.save()
    merchant.reapply()
    merchant.save()
    audit.record(event="merchants.application.reopened", now=now, actor=actor, subject=application, ip=ip)
    return application
