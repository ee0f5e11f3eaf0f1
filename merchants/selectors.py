"""Reads of the merchants app. Every read of tenant data takes the merchant; another tenant's row is NotFound."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.exceptions import NotFound
from core.tenancy import get_for_tenant
from merchants.models import (
    ApiKey,
    Merchant,
    MerchantApplication,
    MerchantChangeRequest,
    MerchantConfiguration,
    MerchantDocument,
    ServiceAgreement,
    StaffInvitation,
    TermsAmendment,
)


def merchant_configuration(*, merchant: Merchant) -> MerchantConfiguration:
    """The enterprise's configuration items; an unsaved row with the defaults when operations have not set any."""
    config = MerchantConfiguration.objects.filter(merchant=merchant).first()
    return config or MerchantConfiguration(merchant=merchant)


def merchant_application(*, merchant: Merchant) -> MerchantApplication | None:
    return MerchantApplication.objects.filter(merchant=merchant).select_related("licence", "applicant").first()


def review_queue() -> QuerySet[MerchantApplication]:
    """Applications waiting for operations, oldest first (platform-wide: operations only)."""
    return (MerchantApplication.objects.filter(status=MerchantApplication.Status.SUBMITTED)
            .select_related("merchant").order_by("submitted_at", "id"))


def document_get(*, merchant: Merchant, document_id: int) -> MerchantDocument:
    return get_for_tenant(MerchantDocument.objects.all(), merchant=merchant, message=_("未找到该文件"), pk=document_id)


def agreement_list(*, merchant: Merchant) -> QuerySet[ServiceAgreement]:
    return ServiceAgreement.objects.for_tenant(merchant).select_related("document").order_by("-issued_at", "-id")


def agreement_get(*, merchant: Merchant, agreement_id: int) -> ServiceAgreement:
    return get_for_tenant(ServiceAgreement.objects.select_related("document"), merchant=merchant,
                          message=_("未找到该服务协议"), pk=agreement_id)


def agreement_current(*, merchant: Merchant) -> ServiceAgreement | None:
    """The signed agreement in force, else the one waiting for signature."""
    rows = ServiceAgreement.objects.for_tenant(merchant).select_related("document")
    return (rows.filter(status=ServiceAgreement.Status.SIGNED).first()
            or rows.filter(status=ServiceAgreement.Status.PENDING).order_by("-id").first())


def agreement_pdf(*, merchant: Merchant, agreement_id: int) -> tuple[ServiceAgreement, bytes]:
    """The signed PDF of one of the merchant's agreements. Raises NotFound (also when not signed yet)."""
    agreement = agreement_get(merchant=merchant, agreement_id=agreement_id)
    if agreement.document is None:
        raise NotFound(_("该服务协议尚未签署，没有可下载的文件"))
    with agreement.document.file.open("rb") as handle:
        return agreement, handle.read()


def terms_amendment_pending(*, merchant: Merchant) -> TermsAmendment | None:
    """The 补充协议 waiting for the enterprise's signature, if any."""
    return (TermsAmendment.objects.for_tenant(merchant).select_related("agreement")
            .filter(status=TermsAmendment.Status.PENDING).first())


def terms_amendment_list(*, merchant: Merchant, status: str | None = None) -> QuerySet[TermsAmendment]:
    rows = TermsAmendment.objects.for_tenant(merchant).select_related("agreement", "document")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-proposed_at", "-id")


def terms_amendment_pdf(*, merchant: Merchant, amendment_id: int) -> tuple[TermsAmendment, bytes]:
    """The sealed PDF of one of the merchant's signed amendments. Raises NotFound (also when not signed)."""
    amendment = get_for_tenant(TermsAmendment.objects.select_related("document"), merchant=merchant,
                               message=_("未找到该补充协议"), pk=amendment_id)
    if amendment.document is None:
        raise NotFound(_("该补充协议尚未签署，没有可下载的文件"))
    with amendment.document.file.open("rb") as handle:
        return amendment, handle.read()


def change_list(*, merchant: Merchant) -> QuerySet[MerchantChangeRequest]:
    return MerchantChangeRequest.objects.for_tenant(merchant).order_by("-requested_at", "-id")


def change_get(*, merchant: Merchant, change_id: int) -> MerchantChangeRequest:
    return get_for_tenant(MerchantChangeRequest.objects.all(), merchant=merchant, message=_("未找到该申请"), pk=change_id)


def api_key_list(*, merchant: Merchant) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_tenant(merchant).order_by("-issued_at", "-id")


def staff_list(*, merchant: Merchant):
    from accounts.models import User

    return User.objects.filter(merchant=merchant).order_by("date_joined", "id")


def invitation_list(*, merchant: Merchant) -> QuerySet[StaffInvitation]:
    return StaffInvitation.objects.for_tenant(merchant).order_by("-invited_at", "-id")


def topup_account(*, merchant: Merchant):
    """The merchant's dedicated top-up account (payouts), or None before account opening."""
    from payouts.selectors import topup_account_get

    return topup_account_get(merchant=merchant)


def balances(*, merchant: Merchant) -> dict[str, int]:
    from ledger import selectors as ledger_selectors

    if merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.SUSPENDED, Merchant.Status.CLOSED):
        return {"available_fen": 0, "frozen_fen": 0}
    return {"available_fen": ledger_selectors.merchant_available_fen(merchant=merchant),
            "frozen_fen": ledger_selectors.merchant_frozen_fen(merchant=merchant)}
