"""Row locks of the merchants app, always taken in this order: merchant → application → agreement → terms amendment →
change request."""

from __future__ import annotations

from merchants.models import Merchant, MerchantApplication, MerchantChangeRequest, ServiceAgreement, TermsAmendment


def merchant_for_update(*, merchant_id: int) -> Merchant:
    return Merchant.objects.select_for_update().get(pk=merchant_id)


def application_for_update(*, application_id: int) -> MerchantApplication:
    return MerchantApplication.objects.select_for_update().get(pk=application_id)


def agreement_for_update(*, agreement_id: int) -> ServiceAgreement:
    return ServiceAgreement.objects.select_for_update().get(pk=agreement_id)


def amendment_for_update(*, amendment_id: int) -> TermsAmendment:
    return TermsAmendment.objects.select_for_update().get(pk=amendment_id)


def change_for_update(*, change_id: int) -> MerchantChangeRequest:
    return MerchantChangeRequest.objects.select_for_update().get(pk=change_id)
