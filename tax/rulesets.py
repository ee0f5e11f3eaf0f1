"""Adding a rule set as data: validate a JSON document and store it as a new, effective-dated ``TaxRuleSet``.

A rule set document looks like ``manage.py tax_ruleset export CN-2026.1`` prints: code, name, effective_from,
effective_to, parameters (the same structure as the existing sets), sources (at least one citation) and notes.
Validation: the structure matches the rule set in force before it (same parameter keys, all the way down), the
dates do not overlap an existing set, and the engine computes a sample year of payments with it on every route.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ValidationFailed
from tax import engine
from tax.models import TaxRuleSet


def _keys(tree, prefix: str = "") -> set[str]:
    if not isinstance(tree, dict):
        return set()
    found = set()
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        found.add(path)
        if isinstance(value, dict) and key not in ("urban_maintenance",):
            found |= _keys(value, path)
    return found


def _date(value, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("{field} 应为 YYYY-MM-DD 格式的日期，收到“{value}”").format(field=field, value=value), code="ruleset_invalid") from None


def ruleset_export(*, code: str) -> dict:
    rule_set = TaxRuleSet.objects.filter(code=code).first()
    if rule_set is None:
        raise ValidationFailed(_("没有编号为 {code} 的规则集").format(code=code), code="ruleset_not_found")
    return {"code": rule_set.code, "name": rule_set.name, "effective_from": rule_set.effective_from.isoformat(),
            "effective_to": rule_set.effective_to.isoformat() if rule_set.effective_to else None,
            "parameters": rule_set.parameters, "sources": rule_set.sources, "notes": rule_set.notes}


def _smoke(parameters: dict, code: str, start: dt.date) -> None:
    """Compute a year of monthly payments on each route; any engine error means the parameters are unusable."""
    for route in (engine.LABOR_PER_PAYMENT, engine.LABOR_CUMULATIVE, engine.BUSINESS):
        prior = engine.PriorState()
        for month in range(1, 13):
            try:
                result = engine.compute(params=parameters, rule_set=code, route=route, gross_fen=1_200_000,
                                        liability_date=start.replace(month=month, day=1), prior=prior,
                                        options=engine.Options())
            except (KeyError, TypeError, ValueError, ArithmeticError) as error:
                raise ValidationFailed(_("规则参数无法计算（线路 {route}，{month} 月）：{kind} {error}").format(route=route, month=month, kind=type(error).__name__, error=error),
                                       code="ruleset_invalid") from None
            if result.tax_fen < 0 or result.tax_fen > result.gross_fen:
                raise ValidationFailed(_("规则参数算出的税额不合理（线路 {route}，{month} 月：{tax_fen} 分）").format(route=route, month=month, tax_fen=result.tax_fen),
                                       code="ruleset_invalid")
            if route == engine.LABOR_CUMULATIVE:
                iit = result.amount(engine.IIT)
                prior.iit_income_by_month[month] = result.iit_income_fen
                prior.iit_withheld_by_month[month] = iit


@transaction.atomic
def ruleset_import(*, document: dict, now, actor=None) -> TaxRuleSet:
    """Validate ``document`` and store it as a new rule set. Raises ValidationFailed saying what to fix."""
    for field in ("code", "name", "effective_from", "parameters", "sources"):
        if not document.get(field):
            raise ValidationFailed(_("规则集缺少字段 {field}").format(field=field), code="ruleset_invalid")
    code = str(document["code"])
    if TaxRuleSet.objects.filter(code=code).exists():
        raise ValidationFailed(_("规则集编号 {code} 已存在；规则集不可修改，请使用新编号").format(code=code), code="ruleset_exists")
    start = _date(document["effective_from"], "effective_from")
    end = _date(document.get("effective_to"), "effective_to")
    if end and end < start:
        raise ValidationFailed(_("effective_to 不能早于 effective_from"), code="ruleset_invalid")
    if not all(isinstance(source, dict) and source.get("title") for source in document["sources"]):
        raise ValidationFailed(_("sources 须为依据文件列表，每项至少有 title"), code="ruleset_invalid")
    overlapping = TaxRuleSet.objects.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=start))
    if end:
        overlapping = overlapping.filter(effective_from__lte=end)
    clash = overlapping.order_by("effective_from", "id").first()
    if clash:
        raise ValidationFailed(_("生效期与 {clash} 重叠；请先确定新规则集的起止日期").format(clash=clash), code="ruleset_overlap")
    previous = TaxRuleSet.objects.filter(effective_from__lt=start).order_by("-effective_from", "id").first()
    if previous is not None:
        missing = sorted(_keys(previous.parameters) - _keys(document["parameters"]))
        if missing:
            raise ValidationFailed(_("参数结构与 {code} 不一致，缺少：{value}").format(code=previous.code, value='、'.join(missing[:8])),
                                   code="ruleset_invalid", extra={"missing": missing})
    _smoke(document["parameters"], code, start)
    rule_set = TaxRuleSet.objects.create(code=code, name=document["name"], effective_from=start, effective_to=end,
                                         parameters=document["parameters"], sources=document["sources"],
                                         notes=document.get("notes", ""))
    audit.record(event="tax.ruleset.imported", now=now, actor=actor, subject=rule_set,
                 after={"code": code, "effective_from": start.isoformat(),
                        "effective_to": end.isoformat() if end else None})
    return rule_set
