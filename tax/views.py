"""Pages: the worker's income and tax (/m/tax/), the enterprise's tax (/enterprise/tax/), the calculator, and the
public statement verification page (/verify/tax/<code>/). Thin: check, one service or selector call, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import enterprise_required, worker_required
from core.exceptions import DomainError
from core.money import parse_yuan
from members.selectors import member_for_user
from tax import engine, exports, selectors
from tax.documents import tax_statement_issue
from tax.models import TaxStatement
from tax.preview import ROUTE_CHOICES, tax_preview

# The engine's labels stay Chinese (they go into tax documents and filings); pages show them in the reader's language.
ROUTES = {code: _(label) for code, label in engine.ROUTES.items()}
LOCATIONS = {code: _(label) for code, label in engine.LOCATIONS.items()}
ROUTE_LABELS = {"AUTO": _("按规则集自动（自然人劳务报酬）"), **ROUTES}


def _year(request, years: list[int]) -> int:
    try:
        return int(request.GET.get("year") or (years[0] if years else timezone.localdate().year))
    except ValueError:
        return timezone.localdate().year


def _download(file_field, filename: str, content_type: str) -> FileResponse:
    file_field.open("rb")
    return FileResponse(file_field, as_attachment=True, filename=filename, content_type=content_type)


# --- workers ---------------------------------------------------------------------------------------------------


@worker_required()
@require_GET
def member_tax(request):
    member = member_for_user(user=request.user)
    if member is None or not member.is_verified:
        return render(request, "tax/member_tax.html", {"member": None})
    years = selectors.member_years(member=member)
    year = _year(request, years)
    summary = selectors.member_year_summary(member=member, year=year)
    return render(request, "tax/member_tax.html", {
        "member": member, "years": years, "year": year, "summary": summary,
        "rows": selectors.member_withholdings(member=member, year=year), "routes": ROUTES,
        "statements": member.tax_statements.filter(year=year).order_by("-issued_at", "id")[:5],
    })


@worker_required()
@require_POST
def member_statement_issue(request):
    member = member_for_user(user=request.user)
    if member is None or not member.is_verified:
        messages.error(request, gettext("请先完成实名认证"))
        return redirect("m:tax-home")
    try:
        year = int(request.POST.get("year", ""))
        statement = tax_statement_issue(member=member, year=year, now=timezone.now(), actor=request.user)
    except ValueError:
        messages.error(request, gettext("请选择年度"))
        return redirect("m:tax-home")
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("m:tax-home")
    return redirect("m:tax-statement", code=statement.code)


@worker_required()
@require_GET
def member_statement_download(request, code: str):
    member = member_for_user(user=request.user)
    statement = TaxStatement.objects.filter(code=code, member=member).first() if member else None
    if statement is None:
        raise Http404
    return _download(statement.file, f"收入纳税明细-{statement.year}-{statement.code}.pdf", "application/pdf")


# --- the calculator (anyone signed in) ---------------------------------------------------------------------------


class CalculatorForm(forms.Form):
    start = forms.DateField(label=_("首月纳税义务发生日"), widget=forms.DateInput(attrs={"type": "date"}))
    monthly = forms.CharField(label=_("每月金额（元，逗号分隔，连续月份）"), initial="12000,12000,12000")
    bearer = forms.ChoiceField(label=_("税费承担方"), choices=[("WORKER", _("灵工人员承担（金额为税前）")),
                                                             ("MERCHANT", _("企业承担（金额为实得，自动倒算）"))])
    route = forms.ChoiceField(label=_("计税路径"), choices=[(r, ROUTE_LABELS[r]) for r in ROUTE_CHOICES])
    location = forms.ChoiceField(label=_("城建税所在地"), required=False,
                                 choices=[("", _("按报税设置"))] + list(LOCATIONS.items()))

    def clean_monthly(self):
        try:
            return [parse_yuan(part.strip(), allow_zero=False, field=gettext("每月金额"))
                    for part in self.cleaned_data["monthly"].replace("，", ",").split(",") if part.strip()]
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


def _calculator(request, template: str):
    initial = {"start": timezone.localdate(), "bearer": "WORKER", "route": "AUTO"}
    form = CalculatorForm(request.GET or None, initial=initial)
    rows = None
    if request.GET and form.is_valid():
        try:
            rows = tax_preview(start=form.cleaned_data["start"], monthly_fen=form.cleaned_data["monthly"],
                               route=form.cleaned_data["route"], bearer=form.cleaned_data["bearer"],
                               location=form.cleaned_data["location"] or None)
        except DomainError as error:
            form.add_error(None, error.message)
    totals = None
    if rows:
        totals = {key: sum(row[key] for row in rows) for key in ("gross_fen", "iit_fen", "vat_fen", "tax_fen",
                                                                  "net_fen")}
    return render(request, template, {"form": form, "rows": rows, "totals": totals, "routes": ROUTES})


@worker_required()
@require_GET
def member_calculator(request):
    return _calculator(request, "tax/member_calculator.html")


@enterprise_required()
@require_GET
def enterprise_calculator(request):
    return _calculator(request, "tax/enterprise_calculator.html")


@login_required
@require_GET
def calculator(request):
    """The same calculator for anyone signed in (operations staff included), outside the two portals."""
    return _calculator(request, "tax/calculator.html")


# --- enterprises -----------------------------------------------------------------------------------------------


@enterprise_required()
@require_GET
def enterprise_tax(request):
    merchant = request.merchant
    years = selectors.merchant_years(merchant=merchant)
    year = _year(request, years)
    months = selectors.merchant_months(merchant=merchant, year=year)
    try:
        month = int(request.GET.get("month") or (months[-1]["month"] if months else 0))
    except ValueError:
        month = 0
    rows = selectors.merchant_withholdings(merchant=merchant, year=year, month=month) if month else []
    return render(request, "tax/enterprise_tax.html", {
        "years": years, "year": year, "months": months, "month": month, "rows": rows, "routes": ROUTES,
        "receipts": selectors.merchant_receipts(merchant=merchant),
    })


@enterprise_required()
@require_GET
def enterprise_month_file(request, year: int, month: int):
    if not 1 <= month <= 12:
        raise Http404
    rows = selectors.merchant_withholdings(merchant=request.merchant, year=year, month=month)
    if not rows:
        raise Http404
    content = exports.merchant_month(merchant=request.merchant, rows=rows, label=f"{year}年{month:02d}月")
    response = HttpResponse(content,
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename=tax-{year}{month:02d}.xlsx"
    return response


@enterprise_required()
@require_GET
def enterprise_receipt_download(request, receipt_id: int):
    try:
        receipt = selectors.merchant_receipt_get(merchant=request.merchant, receipt_id=receipt_id)
    except DomainError:
        raise Http404 from None
    name = receipt.file.name.rsplit("/", 1)[-1]
    return _download(receipt.file, name, "application/octet-stream")


# --- public ----------------------------------------------------------------------------------------------------


@require_http_methods(["GET"])
def verify_statement(request, code: str):
    statement = selectors.statement_get(code=code)
    return render(request, "tax/verify.html", {"statement": statement, "code": code}, status=200 if statement else 404)
