"""Review rules (规则审核) run when a task is submitted and again when operations approve it.

Each rule answers ``{"rule", "ok", "message"}``; the findings are kept on the task so the reviewer sees them.
A failing rule refuses the submission (or the approval) with its own error code and message.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _

from core.money import format_cny
from merchants.selectors import merchant_configuration
from tasks.exceptions import BannedWordFound, BudgetNotCovered, CategoryNotApproved, PriceOutOfBounds
from tasks.models import BannedWord, MerchantCategory, Task, TaskCategory

AvailableFenOf = Callable[..., int]


def ledger_available_fen(*, merchant) -> int:
    """The enterprise's available balance in fen, from the ledger (``ledger.selectors.merchant_available_fen``)."""
    from ledger.selectors import merchant_available_fen  # imported late: ledger depends on tasks, not the reverse

    return merchant_available_fen(merchant=merchant)


def approved_categories(*, merchant) -> list[TaskCategory]:
    ids = MerchantCategory.objects.for_tenant(merchant).values_list("category_id", flat=True)
    return list(TaskCategory.objects.filter(pk__in=ids, is_active=True).order_by("code", "id"))


def check_category(*, merchant, category: TaskCategory) -> None:
    """Raises CategoryNotApproved unless the enterprise is approved for this (active) category."""
    if category.is_active and MerchantCategory.objects.for_tenant(merchant).filter(category=category).exists():
        return
    allowed = "、".join(c.name for c in approved_categories(merchant=merchant)) or _("（无）")
    raise CategoryNotApproved(
        _("贵企业未获准发布“{kind}”类任务。已批准的业务场景：{allowed}。如需开通新的业务场景，请联系平台运营。").format(kind=category.name, allowed=allowed),
        extra={"field": "category", "category": category.code},
    )


def check_price(*, category: TaskCategory, unit_price_fen: int) -> None:
    if not category.min_unit_price_fen <= unit_price_fen <= category.max_unit_price_fen:
        raise PriceOutOfBounds(
            _("单价 {unit_price_fen} 超出“{kind}”类目的合理范围 {min_unit_price_fen}–{max_unit_price_fen}，请核对单价").format(unit_price_fen=format_cny(unit_price_fen), kind=category.name, min_unit_price_fen=format_cny(category.min_unit_price_fen), max_unit_price_fen=format_cny(category.max_unit_price_fen)),
            extra={"field": "unit_price", "min_fen": category.min_unit_price_fen,
                   "max_fen": category.max_unit_price_fen},
        )


def check_banned_words(*, texts: list[str]) -> None:
    text = "\n".join(texts)
    found = [word for word in BannedWord.objects.order_by("word", "id").values_list("word", flat=True) if word in text]
    if found:
        raise BannedWordFound(_("任务内容含有违禁词：{value}。请修改标题、说明或技能后再提交").format(value='、'.join(found)),
                              extra={"field": "description", "words": found})


def check_budget_cover(*, merchant, budget_fen: int, available_fen_of: AvailableFenOf | None = None) -> str:
    """When the enterprise's configuration requires it, the budget must be covered by the available balance.

    Returns a note for the findings. ``available_fen_of(merchant=...)`` defaults to the ledger's balance.
    """
    config = merchant_configuration(merchant=merchant)
    if not config.require_budget_cover:
        return "企业配置未要求余额覆盖预算"
    available = (available_fen_of or ledger_available_fen)(merchant=merchant)
    if available < budget_fen:
        raise BudgetNotCovered(
            _("任务预算 {budget_fen} 超过企业可用余额 {available}；请先充值至少 {value}，或降低预算后再提交").format(budget_fen=format_cny(budget_fen), available=format_cny(available), value=format_cny(budget_fen - available)),
            extra={"field": "budget", "budget_fen": budget_fen, "available_fen": available},
        )
    return f"可用余额 {format_cny(available)} 覆盖预算 {format_cny(budget_fen)}"


def run_review_rules(task: Task, *, available_fen_of: AvailableFenOf | None = None) -> list[dict]:
    """Run every rule; raise the first failure, or return the findings (all passed).

    The findings are a record kept on the task and in the audit trail, so they stay in Chinese (the source language)
    whoever submits; the failures are raised in the reader's language."""
    findings = []
    check_category(merchant=task.merchant, category=task.category)
    findings.append({"rule": "category", "ok": True, "message": f"业务场景“{task.category.name}”已批准"})
    check_price(category=task.category, unit_price_fen=task.unit_price_fen)
    findings.append({"rule": "price", "ok": True, "message": f"单价 {format_cny(task.unit_price_fen)} 在类目合理范围内"})
    check_banned_words(texts=[task.title, task.description, " ".join(task.skills), task.address])
    findings.append({"rule": "banned_words", "ok": True, "message": "未发现违禁词"})
    note = check_budget_cover(merchant=task.merchant, budget_fen=task.budget_fen, available_fen_of=available_fen_of)
    findings.append({"rule": "budget_cover", "ok": True, "message": note})
    return findings
