"""Reads of the tax agency: rule sets, settings, a worker's prior state, and the figures workers and enterprises see."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings as django_settings
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from core.tenancy import get_for_tenant
from tax import engine
from tax.exceptions import NoRuleSet
from tax.models import (
    Location,
    TaxPeriod,
    TaxReceipt,
    TaxReturn,
    TaxRuleSet,
    TaxSettings,
    TaxStatement,
    Withholding,
    WorkerTaxProfile,
)

AMOUNT_FIELDS = ("gross_fen", "iit_income_fen", "iit_fen", "vat_fen", "urban_fen", "education_fen",
                 "local_education_fen", "net_fen")
LABOR_ROUTES = (engine.LABOR_PER_PAYMENT, engine.LABOR_CUMULATIVE)


def tax_settings() -> TaxSettings:
    """The settings row, or an unsaved row with the documented defaults (reading never writes)."""
    return TaxSettings.objects.filter(pk=1).first() or TaxSettings(
        pk=1, entity_name=django_settings.PLATFORM_LEGAL_NAME, entity_uscc=django_settings.PLATFORM_USCC)


def rule_set_for(*, on: dt.date) -> TaxRuleSet:
    """The rule set in force on the tax-liability date ``on``. Raises NoRuleSet."""
    rule_set = (TaxRuleSet.objects.filter(effective_from__lte=on)
                .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
                .order_by("-effective_from", "id").first())
    if rule_set is None:
        raise NoRuleSet(_("{value} 没有生效的税费规则集，请运营人员在“税费规则集”中补充该期间的规则后再试").format(value=on.isoformat()),
                        extra={"date": on.isoformat()})
    return rule_set


def route_for(*, rule_set: TaxRuleSet, member) -> str:
    routes = rule_set.parameters["routes"]
    if member is not None and member.is_individual_business:
        return routes["individual_business"]
    return routes["natural_person"]


def options_for(*, settings_row: TaxSettings, member, location: str | None = None) -> engine.Options:
    if location is None:
        location = settings_row.platform_location
        if settings_row.surcharge_location_basis == TaxSettings.LocationBasis.WORKER and member is not None:
            profile = WorkerTaxProfile.objects.filter(member_id=member.pk).first()
            location = profile.location if profile else Location.URBAN
    return engine.Options(gap_month_rule=settings_row.gap_month_rule,
                          iit_base_when_vat_due=settings_row.iit_base_when_vat_due,
                          vat_threshold_base=settings_row.vat_threshold_base, location=location)


def prior_state(*, member, entity_code: str, on: dt.date, before_id: int | None = None,
                merchant=None) -> engine.PriorState:
    """The worker's state before a payment dated ``on``: the month's VAT figures across the whole platform, and the
    year's IIT income and withholding by month for ``entity_code``. Reversal rows are negative, so they restore it.
    ``before_id``: only rows recorded before that withholding (to re-compute it as it was computed)."""
    rows = Withholding.objects.filter(member=member, route__in=LABOR_ROUTES)
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    month = (rows.filter(liability_date__year=on.year, liability_date__month=on.month)
             .aggregate(gross=Sum("gross_fen"), vat=Sum("vat_fen"), urban=Sum("urban_fen"),
                        education=Sum("education_fen"), local=Sum("local_education_fen")))
    # Only rows computed by the cumulative method count towards it: in 2025 it starts on 2025-10-01 (No. 16), and
    # income withheld per payment before that is not part of the cumulative run.
    by_month = (rows.filter(entity_code=entity_code, liability_date__year=on.year, route=engine.LABOR_CUMULATIVE)
                .values("liability_date__month").annotate(income=Sum("iit_income_fen"), iit=Sum("iit_fen"))
                .order_by("liability_date__month"))
    occasion = {"income": 0, "iit": 0}
    if merchant is not None:
        occasion = (rows.filter(merchant=merchant, route=engine.LABOR_PER_PAYMENT, liability_date__year=on.year,
                                liability_date__month=on.month)
                    .aggregate(income=Sum("iit_income_fen"), iit=Sum("iit_fen")))
    return engine.PriorState(
        month_gross_fen=month["gross"] or 0, month_vat_fen=month["vat"] or 0,
        occasion_income_fen=occasion["income"] or 0, occasion_withheld_fen=occasion["iit"] or 0,
        month_surcharges_fen={engine.URBAN: month["urban"] or 0, engine.EDUCATION: month["education"] or 0,
                              engine.LOCAL_EDUCATION: month["local"] or 0},
        iit_income_by_month={row["liability_date__month"]: row["income"] for row in by_month},
        iit_withheld_by_month={row["liability_date__month"]: row["iit"] for row in by_month},
    )


def _sums(queryset) -> dict:
    totals = queryset.aggregate(**{name: Sum(name) for name in AMOUNT_FIELDS})
    totals = {name: value or 0 for name, value in totals.items()}
    totals["surcharges_fen"] = totals["urban_fen"] + totals["education_fen"] + totals["local_education_fen"]
    totals["tax_fen"] = totals["iit_fen"] + totals["vat_fen"] + totals["surcharges_fen"]
    return totals


def _monthly(queryset, year: int) -> list[dict]:
    rows = (queryset.filter(liability_date__year=year).values("liability_date__month")
            .annotate(**{name: Sum(name) for name in AMOUNT_FIELDS}).order_by("liability_date__month"))
    months = []
    for row in rows:
        row = {name: row[name] or 0 for name in AMOUNT_FIELDS} | {"month": row["liability_date__month"]}
        row["surcharges_fen"] = row["urban_fen"] + row["education_fen"] + row["local_education_fen"]
        row["tax_fen"] = row["iit_fen"] + row["vat_fen"] + row["surcharges_fen"]
        months.append(row)
    return months


# --- what a worker sees -----------------------------------------------------------------------------------------


def member_years(*, member) -> list[int]:
    dates = Withholding.objects.filter(member=member).dates("liability_date", "year", order="DESC")
    return [d.year for d in dates]


def member_year_summary(*, member, year: int) -> dict:
    """Income and tax by month for ``year`` (all enterprises), the year's totals and the cumulative IIT state."""
    rows = Withholding.objects.filter(member=member)
    totals = _sums(rows.filter(liability_date__year=year))
    accounts = list(member.tax_accounts.filter(year=year).order_by("entity_code", "id"))
    return {"year": year, "months": _monthly(rows, year), "totals": totals, "accounts": accounts}


def member_withholdings(*, member, year: int) -> list[Withholding]:
    return list(Withholding.objects.filter(member=member, liability_date__year=year)
                .select_related("rule_set").order_by("liability_date", "id"))


def statement_get(*, code: str) -> TaxStatement | None:
    return TaxStatement.objects.filter(code=code.strip().upper()).select_related("member").first()


# --- what an enterprise sees (tenant-scoped) --------------------------------------------------------------------


def merchant_years(*, merchant) -> list[int]:
    dates = Withholding.objects.for_tenant(merchant).dates("liability_date", "year", order="DESC")
    return [d.year for d in dates]


def merchant_months(*, merchant, year: int) -> list[dict]:
    return _monthly(Withholding.objects.for_tenant(merchant), year)


def merchant_withholdings(*, merchant, year: int, month: int | None = None) -> list[Withholding]:
    rows = Withholding.objects.for_tenant(merchant).filter(liability_date__year=year)
    if month:
        rows = rows.filter(liability_date__month=month)
    return list(rows.select_related("member", "rule_set", "period").order_by("liability_date", "id"))


def withholding_get(*, merchant, payment_ref: str) -> Withholding:
    return get_for_tenant(Withholding.objects.select_related("member", "rule_set"), merchant=merchant,
                          message=_("未找到付款单 {payment_ref} 的代扣记录").format(payment_ref=payment_ref), payment_ref=payment_ref,
                          kind=Withholding.Kind.PAYMENT)


def merchant_receipts(*, merchant) -> list[TaxReceipt]:
    """完税凭证 of the periods in which the enterprise had withholdings (the receipts carry platform totals only)."""
    period_ids = Withholding.objects.for_tenant(merchant).values("period_id")
    return list(TaxReceipt.objects.filter(tax_return__period_id__in=period_ids)
                .select_related("tax_return__period").order_by("-paid_on", "id"))


def merchant_receipt_get(*, merchant, receipt_id: int) -> TaxReceipt:
    from core.exceptions import NotFound

    period_ids = Withholding.objects.for_tenant(merchant).values("period_id")
    receipt = TaxReceipt.objects.filter(pk=receipt_id, tax_return__period_id__in=period_ids).first()
    if receipt is None:
        raise NotFound(_("未找到该完税凭证"))
    return receipt


def periods_with_returns(*, entity_code: str) -> list[TaxPeriod]:
    return list(TaxPeriod.objects.filter(entity_code=entity_code).prefetch_related("returns")
                .order_by("-year", "-month", "id"))


def latest_returns(*, period: TaxPeriod) -> list[TaxReturn]:
    latest: dict[str, TaxReturn] = {}
    for tax_return in period.returns.order_by("version", "id"):
        latest[tax_return.kind] = tax_return
    return list(latest.values())


def months_by_member(queryset) -> dict:
    grouped: dict = defaultdict(list)
    for row in queryset:
        grouped[row.member_id].append(row)
    return grouped
