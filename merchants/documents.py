"""The service agreement (服务协议) PDF: a versioned template, terms fixed when it is issued, the signer's consent
printed in it; the platform's digital signature is added by the signing service. Also its supplementary agreement
(补充协议) changing the commercial terms, with the same consent block."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from core import money
from core.documents import RenderedDocument, render_pdf
from merchants.models import Merchant, MerchantConfiguration, ServiceAgreement, TermsAmendment

# Versions of the agreement template. A new wording is a new version; issued agreements keep theirs.
CURRENT_TEMPLATE_VERSION = "2026.1"
TEMPLATES = {"2026.1": "merchants/documents/service_agreement_2026_1.html"}

AMENDMENT_TEMPLATE_VERSION = "2026.1"
AMENDMENT_TEMPLATES = {"2026.1": "merchants/documents/terms_amendment_2026_1.html"}

# The configuration items that are commercial terms of the agreement (第二条 服务费用): once the agreement is signed
# they change only through a 补充协议 the enterprise signs. The other items (limits, channels...) are operational.
TERMS_FIELDS = ("fee_rate", "fee_fixed_fen", "fee_minimum_fen", "fee_tiers", "fee_bearer", "fee_timing", "tax_bearer")
TERMS_LABELS = {
    "fee_rate": gettext_lazy("服务费率"),
    "fee_fixed_fen": gettext_lazy("每笔固定服务费"),
    "fee_minimum_fen": gettext_lazy("每笔最低服务费"),
    "fee_tiers": gettext_lazy("阶梯费率"),
    "fee_bearer": gettext_lazy("服务费承担方"),
    "fee_timing": gettext_lazy("计费时点"),
    "tax_bearer": gettext_lazy("税费承担方"),
}

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


# --- 补充协议 (supplementary agreement on changed commercial terms) ---------------------------------------------

def terms_value_text(name: str, value) -> str:
    """One term as it reads in the agreement (in the active language): "6.00%", "1.50 元", "企业承担"."""
    if name == "fee_rate":
        return rate_percent(Decimal(str(value)))
    if name in ("fee_fixed_fen", "fee_minimum_fen"):
        return gettext("{amount} 元").format(amount=money.format_yuan(int(value)))
    if name == "fee_tiers":
        tiers = [gettext("当月发放额达 {amount} 元起 {rate}").format(
            amount=money.format_yuan(int(tier["from_fen"])), rate=rate_percent(Decimal(str(tier["rate"]))))
            for tier in (value or [])]
        return gettext("；").join(tiers) if tiers else gettext("不分档（按服务费率）")
    if name == "fee_timing":
        return str(MerchantConfiguration.FeeTiming(value).label)
    if name in ("fee_bearer", "tax_bearer"):
        return str(MerchantConfiguration.Bearer(value).label)
    raise ValueError(f"{name} is not a term of the agreement")


def terms_rows(changes: dict) -> list[dict]:
    """The lines 条款 / 原约定 / 变更后 of a change ({field: {"before", "after"}}), in the order of the agreement and
    in the active language (the stored rows of an amendment are made in Chinese, the language of the document)."""
    return [{"field": name, "label": str(TERMS_LABELS[name]), "before": terms_value_text(name, changes[name]["before"]),
             "after": terms_value_text(name, changes[name]["after"])} for name in TERMS_FIELDS if name in changes]


@translation.override(settings.LANGUAGE_CODE)
def terms_rows_for_document(changes: dict) -> list[dict]:
    return terms_rows(changes)


def render_terms_amendment(amendment: TermsAmendment, *, consent: dict | None = None) -> RenderedDocument:
    """Render the 补充协议: the parties as they are now, the agreement it amends, the changed terms; ``consent`` (signer
    label, time, IP, masked phone) is printed when it is being signed. Unsigned, it is the preview."""
    merchant, agreement = amendment.merchant, amendment.agreement
    application = getattr(merchant, "application", None)
    signed_at = consent["signed_at"] if consent else None
    return render_pdf(AMENDMENT_TEMPLATES[amendment.template_version], {
        "amendment": amendment,
        "agreement": agreement,
        "party": {"name": merchant.name, "uscc": merchant.uscc,
                  "legal_rep_name": application.legal_rep_name if application else "",
                  "registered_address": application.registered_address if application else ""},
        "rows": amendment.rows,
        "consent": consent,
        "signed_local": timezone.localtime(signed_at) if signed_at else None,
        "agreement_signed_local": timezone.localtime(agreement.signed_at) if agreement.signed_at else None,
    })


def signed_pdf_response(content: bytes, *, filename: str, sha256: str = ""):
    """A signed document's PDF as a download (``X-Content-SHA256`` when ``sha256`` is given: the partner API's)."""
    from django.http import HttpResponse

    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if sha256:
        response["X-Content-SHA256"] = sha256
    return response
