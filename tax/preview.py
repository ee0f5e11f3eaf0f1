"""A what-if calculator: a new worker paid once a month for consecutive months. Used by the calculator page, the
API (/api/v1/tax/quote without a worker) and ``manage.py tax_preview``. Reads only.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from core.money import format_yuan
from tax import engine, selectors
from tax.exceptions import TaxAmountInvalid

ROUTE_CHOICES = ("AUTO", engine.LABOR_CUMULATIVE, engine.LABOR_PER_PAYMENT, engine.BUSINESS)
MAX_MONTHS = 24


def add_months(start: dt.date, months: int) -> dt.date:
    index = start.month - 1 + months
    return dt.date(start.year + index // 12, index % 12 + 1, min(start.day, 28))


def tax_preview(*, start: dt.date, monthly_fen: list[int], route: str = "AUTO", bearer: str = "WORKER",
                location: str | None = None) -> list[dict]:
    """One row per consecutive month from ``start``: gross, each tax, net (fen), rule set and route.

    ``monthly_fen`` are the agreed amounts: gross when the worker bears the tax, what the worker nets when the
    enterprise does (then the gross is solved). Raises TaxAmountInvalid, NoRuleSet.
    """
    from tax.services import compute_payment  # services import selectors; keep this module import-light

    if route not in ROUTE_CHOICES:
        raise TaxAmountInvalid(_("计税路径必须是 {value} 之一").format(value=', '.join(ROUTE_CHOICES)), extra={"field": "route"})
    if bearer not in ("WORKER", "MERCHANT"):
        raise TaxAmountInvalid(_("税费承担方必须是 WORKER 或 MERCHANT"), extra={"field": "bearer"})
    if location is not None and location not in engine.LOCATIONS:
        raise TaxAmountInvalid(_("所在地必须是 {value} 之一").format(value=', '.join(engine.LOCATIONS)), extra={"field": "location"})
    if not monthly_fen or len(monthly_fen) > MAX_MONTHS:
        raise TaxAmountInvalid(_("请填写 1 到 {MAX_MONTHS} 个月的金额").format(MAX_MONTHS=MAX_MONTHS), extra={"field": "monthly"})
    if any(isinstance(a, bool) or not isinstance(a, int) or a <= 0 for a in monthly_fen):
        raise TaxAmountInvalid(_("每月金额必须大于 0"), extra={"field": "monthly"})
    settings_row = selectors.tax_settings()
    income: dict[int, dict[int, int]] = {}
    withheld: dict[int, dict[int, int]] = {}
    rows = []
    for index, amount in enumerate(monthly_fen):
        on = add_months(start, index)
        prior = engine.PriorState(iit_income_by_month=dict(income.get(on.year, {})),
                                  iit_withheld_by_month=dict(withheld.get(on.year, {})))
        rule_set, options, computation = compute_payment(
            member=None, gross_fen=amount if bearer == "WORKER" else None,
            net_fen=amount if bearer == "MERCHANT" else None, liability_date=on, prior=prior,
            settings_row=settings_row, location=location,
            route=None if route == "AUTO" else route)
        income.setdefault(on.year, {})[on.month] = computation.iit_income_fen
        withheld.setdefault(on.year, {})[on.month] = computation.amount(engine.IIT)
        rows.append({
            "month": f"{on.year}-{on.month:02d}", "liability_date": on.isoformat(), "rule_set": rule_set.code,
            "route": computation.route, "bearer": bearer, "gross_fen": computation.gross_fen,
            "iit_fen": computation.amount(engine.IIT), "vat_fen": computation.amount(engine.VAT),
            "urban_maintenance_fen": computation.amount(engine.URBAN),
            "education_fen": computation.amount(engine.EDUCATION),
            "local_education_fen": computation.amount(engine.LOCAL_EDUCATION),
            "tax_fen": computation.tax_fen, "net_fen": computation.net_fen, "location": options.location,
            "lines": [line.as_dict() for line in computation.lines],
        })
    return rows


def as_yuan(row: dict) -> dict:
    """The same row with every ``*_fen`` amount as a yuan string ("1234.56") under the name without ``_fen``."""
    out = {}
    for key, value in row.items():
        if key.endswith("_fen") and isinstance(value, int):
            out[key[:-4]] = format_yuan(value)
        elif key != "lines":
            out[key] = value
    return out
