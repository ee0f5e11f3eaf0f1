"""The service agreement (服务协议) PDF: a versioned template, terms fixed when it is issued, the signer's consent
printed in it; the platform's digital signature is added by the signing service."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation

from core import money
from core.documents import RenderedDocument, render_pdf
from merchants.models import Merchant, MerchantConfiguration, ServiceAgreement

# Versions of the agreement template. A new wording is a new version; issued agreements keep theirs.
CURRENT_TEMPLATE_VERSION = "2026.1"
TEMPLATES = {"2026.1": "merchants/documents/service_agreement_2026_1.html"}

CHANNEL_LABELS = {"BANK": "银行卡", "ALIPAY": "支付宝", "WECHAT": "微信"}


def rate_percent(rate) -> str:
    return f"{rate * 100:.2f}%"


@translation.override(settings.LANGUAGE_CODE)  # choice labels go into a Chinese legal document
def agreement_terms(*, merchant: Merchant, config: MerchantConfiguration) -> dict:
    """The commercial terms written into the agreement (a snapshot: later configuration changes need a new one)."""
    application = getattr(merchant, "application", None)
    return {
        "merchant_name": merchant.name,
        "merchant_uscc": merchant.uscc,
        "legal_rep_name": application.legal_rep_name if application else "",
        "registered_address": application.registered_address if application else "",
        "business_scenario": application.business_scenario.strip().rstrip("。.；;") if application else "",
        "industry": application.get_industry_display() if application and application.industry else "",
        "fee_rate": str(config.fee_rate),
        "fee_rate_percent": rate_percent(config.fee_rate),
        "fee_fixed_yuan": money.format_yuan(config.fee_fixed_fen),
        "fee_minimum_yuan": money.format_yuan(config.fee_minimum_fen),
        "fee_tiers": [{"from_yuan": money.format_yuan(int(tier["from_fen"])),
                       "rate_percent": rate_percent(Decimal(str(tier["rate"])))}
                      for tier in (config.fee_tiers or [])],
        "fee_bearer": config.get_fee_bearer_display(),
        "fee_timing": config.get_fee_timing_display(),
        "tax_bearer": config.get_tax_bearer_display(),
        "channels": "、".join(CHANNEL_LABELS.get(c, c) for c in (config.enabled_channels or [])) or "银行卡",
        "single_payment_limit_yuan": money.format_yuan(config.single_payment_limit_fen),
        "worker_monthly_limit_yuan": money.format_yuan(config.worker_monthly_limit_fen),
        "daily_limit_yuan": money.format_yuan(config.daily_limit_fen),
    }


def render_service_agreement(agreement: ServiceAgreement, *, consent: dict | None = None) -> RenderedDocument:
    """Render the agreement. ``consent`` (signer label, time, IP, masked phone) is printed when it is being signed."""
    template = TEMPLATES[agreement.template_version]
    signed_at = consent["signed_at"] if consent else None
    local = timezone.localtime(signed_at) if signed_at else None
    return render_pdf(template, {
        "agreement": agreement,
        "terms": agreement.terms,
        "consent": consent,
        "signed_local": local,
        "term_end": local.replace(year=local.year + 1) if local and not (local.month == 2 and local.day == 29)
        else local,
        "PLATFORM_SITE_URL": settings.SITE_URL,
    })
