"""The tax engine's interface for payments: quote, withhold, reverse. Amounts are integer fen.

- ``tax_quote``   — what a payment would withhold now (no writes).
- ``tax_withhold`` — compute and record the withholding for one payment, serialised per worker by a row lock on the
  worker's cumulative state (``TaxAccount``), so two payments computed at once never use the same state.
- ``tax_reverse`` — a failed or refunded payment: a negated row restores the cumulative state; if the month was
  already filed, the row goes into a 更正 (correction) version of that month's returns instead of editing them.

Who bears the tax (``bearer``): WORKER — the agreed amount is the gross (pass ``gross_fen``; net = gross − taxes).
MERCHANT — the agreed amount is what the worker receives (pass ``net_fen``); the engine grosses up so the worker nets
exactly that, to the fen. ``net_fen`` with WORKER is also accepted (solve for the gross that nets it).

Lock order: TaxAccount (member, entity, year) → TaxPeriod. Filing locks only TaxPeriod rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from core import audit
from tax import engine, selectors
from tax.exceptions import MemberNotVerified, PaymentRefConflict, PeriodLocked, TaxAmountInvalid, WithholdingNotFound
from tax.models import TaxAccount, TaxPeriod, TaxSettings, Withholding

BEARERS = ("WORKER", "MERCHANT")
MAX_PAYMENT_FEN = 100_000_000_00  # 1 亿元: anything larger is a typo, not a payment


@dataclass
class Quote:
    rule_set: str
    route: str
    bearer: str
    liability_date: dt.date
    gross_fen: int
    net_fen: int
    iit_fen: int
    vat_fen: int
    urban_fen: int
    education_fen: int
    local_education_fen: int
    iit_income_fen: int
    lines: list[dict]
    options: dict
    notices: list[str] = field(default_factory=list)

    @property
    def surcharges_fen(self) -> int:
        return self.urban_fen + self.education_fen + self.local_education_fen

    @property
    def tax_fen(self) -> int:
        return self.iit_fen + self.vat_fen + self.surcharges_fen

    @property
    def enterprise_cost_fen(self) -> int:
        """What the enterprise pays in total for this payment (taxes included), before platform fees."""
        return self.gross_fen

    def as_dict(self) -> dict:
        data = asdict(self)
        data["liability_date"] = self.liability_date.isoformat()
        data.update(surcharges_fen=self.surcharges_fen, tax_fen=self.tax_fen,
                    enterprise_cost_fen=self.enterprise_cost_fen)
        return data


def _validate(*, gross_fen, net_fen, bearer: str) -> None:
    if bearer not in BEARERS:
        raise TaxAmountInvalid(_("税费承担方必须是 WORKER 或 MERCHANT，收到“{bearer}”").format(bearer=bearer), extra={"field": "bearer"})
    if (gross_fen is None) == (net_fen is None):
        raise TaxAmountInvalid(_("请只提供税前金额（gross_fen）或实得金额（net_fen）中的一个"), extra={"field": "amount"})
    if bearer == "MERCHANT" and gross_fen is not None:
        raise TaxAmountInvalid(_("企业承担税费时，约定的是灵工人员实得金额：请提供 net_fen，系统会倒算含税金额"),
                               extra={"field": "net_fen"})
    amount = gross_fen if gross_fen is not None else net_fen
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TaxAmountInvalid(_("金额必须是整数分"), extra={"field": "amount"})
    if amount <= 0:
        raise TaxAmountInvalid(_("金额必须大于 0"), extra={"field": "amount"})
    if amount > MAX_PAYMENT_FEN:
        raise TaxAmountInvalid(_("单笔金额超过 1 亿元，请核对金额"), extra={"field": "amount"})


def compute_payment(*, member, gross_fen: int | None, net_fen: int | None, liability_date: dt.date,
                    prior: engine.PriorState, settings_row: TaxSettings, location: str | None = None,
                    route: str | None = None) -> tuple:
    """(rule_set, options, computation) for one payment given the worker's prior state. Pure apart from reads."""
    rule_set = selectors.rule_set_for(on=liability_date)
    route = route or selectors.route_for(rule_set=rule_set, member=member)
    options = selectors.options_for(settings_row=settings_row, member=member, location=location)

    def for_gross(gross: int) -> engine.Computation:
        return engine.compute(params=rule_set.parameters, rule_set=rule_set.code, route=route, gross_fen=gross,
                              liability_date=liability_date, prior=prior, options=options)

    computation = for_gross(gross_fen) if gross_fen is not None else engine.solve_gross(net_fen, for_gross)
    return rule_set, options, computation


TWELVE_MONTH_REGISTRATION_FEN = 5_000_000_00  # STA 2025 No. 16: > 5,000,000 in 12 consecutive months


def notices_for(*, member, liability_date: dt.date, gross_fen: int) -> list[str]:
    """Things the payer should know that do not change this payment's figures."""
    if member is None:
        return []
    index = liability_date.year * 12 + liability_date.month - 1 - 11
    since = dt.date(index // 12, index % 12 + 1, 1)
    earned = (Withholding.objects.filter(member=member, liability_date__gte=since, liability_date__lte=liability_date)
              .aggregate(total=Sum("gross_fen"))["total"] or 0)
    if earned + gross_fen > TWELVE_MONTH_REGISTRATION_FEN:
        return [_("该灵工人员连续12个月在本平台取得的收入超过500万元：按税务总局公告2025年第16号，平台应引导其依法办理市场主体登记并自行申报增值税")]
    return []


def _quote(*, rule_set, options, computation: engine.Computation, bearer: str, liability_date) -> Quote:
    return Quote(rule_set=rule_set.code, route=computation.route, bearer=bearer, liability_date=liability_date,
                 gross_fen=computation.gross_fen, net_fen=computation.net_fen,
                 iit_fen=computation.amount(engine.IIT), vat_fen=computation.amount(engine.VAT),
                 urban_fen=computation.amount(engine.URBAN), education_fen=computation.amount(engine.EDUCATION),
                 local_education_fen=computation.amount(engine.LOCAL_EDUCATION),
                 iit_income_fen=computation.iit_income_fen, lines=[line.as_dict() for line in computation.lines],
                 options=options.as_dict())


def tax_quote(*, member, merchant, bearer: str, liability_date: dt.date, now, gross_fen: int | None = None,
              net_fen: int | None = None) -> Quote:
    """What a payment to ``member`` dated ``liability_date`` would withhold, given what is already recorded. No writes.

    Raises TaxAmountInvalid, NoRuleSet.
    """
    _validate(gross_fen=gross_fen, net_fen=net_fen, bearer=bearer)
    settings_row = selectors.tax_settings()
    prior = selectors.prior_state(member=member, entity_code=settings_row.entity_code, on=liability_date,
                                   merchant=merchant)
    rule_set, options, computation = compute_payment(member=member, gross_fen=gross_fen, net_fen=net_fen,
                                                     liability_date=liability_date, prior=prior,
                                                     settings_row=settings_row)
    quote = _quote(rule_set=rule_set, options=options, computation=computation, bearer=bearer,
                   liability_date=liability_date)
    quote.notices = notices_for(member=member, liability_date=liability_date, gross_fen=computation.gross_fen)
    return quote


# --- locks ---------------------------------------------------------------------------------------------------


def _get_or_create(model, **lookup):
    """Create the row if missing without breaking the caller's transaction when a concurrent caller wins the race."""
    row = model.objects.filter(**lookup).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return model.objects.create(**lookup)
    except IntegrityError:
        return model.objects.get(**lookup)


def account_for_update(*, member, entity_code: str, year: int) -> TaxAccount:
    """The worker's cumulative state row, locked until the transaction ends (SELECT … FOR UPDATE)."""
    _get_or_create(TaxAccount, member=member, entity_code=entity_code, year=year)
    return TaxAccount.objects.select_for_update().get(member=member, entity_code=entity_code, year=year)


def period_for_share(*, entity_code: str, year: int, month: int) -> TaxPeriod:
    """The month's period, share-locked on PostgreSQL so filing (FOR UPDATE) waits for withholdings in flight."""
    period = _get_or_create(TaxPeriod, entity_code=entity_code, year=year, month=month)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {TaxPeriod._meta.db_table} WHERE id = %s FOR SHARE", [period.pk])
        # A fresh instance rather than refresh_from_db(): the status is a protected FSM field, and re-reading it
        # into an instance another thread has seen change is refused by django-fsm.
        period = TaxPeriod.objects.get(pk=period.pk)
    return period


def _refresh_account(account: TaxAccount) -> None:
    """Recompute the cached figures of the account from its rows (the rows are the truth)."""
    rows = Withholding.objects.filter(account=account)
    totals = selectors._sums(rows)
    months = {row["month"]: row["iit_income_fen"] for row in selectors._monthly(rows, account.year)}
    with_income = {month for month, income in months.items() if income > 0}
    last = max(with_income) if with_income else None
    account.income_fen = totals["gross_fen"]
    account.iit_fen = totals["iit_fen"]
    account.vat_fen = totals["vat_fen"]
    account.surcharges_fen = totals["surcharges_fen"]
    account.last_month = last
    account.consecutive_months = len(engine.consecutive_months(with_income, last)) if last else 0
    account.version += 1
    account.save(update_fields=["income_fen", "iit_fen", "vat_fen", "surcharges_fen", "last_month",
                                "consecutive_months", "version", "updated_at"])


# --- withhold ------------------------------------------------------------------------------------------------


@transaction.atomic
def tax_withhold(*, member, merchant, payment_ref: str, bearer: str, liability_date: dt.date, now,
                 gross_fen: int | None = None, net_fen: int | None = None, actor=None) -> Withholding:
    """Compute and record the taxes of one payment (代扣代缴 / 代办). Idempotent per (merchant, payment_ref): the same
    call again returns the recorded withholding; the same ref with different figures is a conflict.

    Raises TaxAmountInvalid, MemberNotVerified, NoRuleSet, PeriodLocked, PaymentRefConflict.
    """
    _validate(gross_fen=gross_fen, net_fen=net_fen, bearer=bearer)
    payment_ref = (payment_ref or "").strip()
    if not payment_ref or len(payment_ref) > 64:
        raise TaxAmountInvalid(_("付款单号不能为空，且不超过 64 个字符"), extra={"field": "payment_ref"})
    if not member.is_verified:
        raise MemberNotVerified(_("该灵工人员尚未完成实名认证，不能计算代扣税费；请先完成实名认证"),
                                extra={"member_id": member.pk})
    existing = _existing(merchant=merchant, payment_ref=payment_ref, member=member, gross_fen=gross_fen,
                         net_fen=net_fen, liability_date=liability_date)
    if existing is not None:
        return existing
    settings_row = selectors.tax_settings()
    entity = settings_row.entity_code
    account = account_for_update(member=member, entity_code=entity, year=liability_date.year)
    existing = _existing(merchant=merchant, payment_ref=payment_ref, member=member, gross_fen=gross_fen,
                         net_fen=net_fen, liability_date=liability_date)  # a concurrent twin may have won the lock
    if existing is not None:
        return existing
    period = period_for_share(entity_code=entity, year=liability_date.year, month=liability_date.month)
    if period.is_locked:
        raise PeriodLocked(_("{label}的税款已申报，所属期已锁定；请以当前月份作为纳税义务发生日重新计算").format(label=period.label),
                           extra={"period": period.label})
    prior = selectors.prior_state(member=member, entity_code=entity, on=liability_date, merchant=merchant)
    rule_set, options, computation = compute_payment(member=member, gross_fen=gross_fen, net_fen=net_fen,
                                                     liability_date=liability_date, prior=prior,
                                                     settings_row=settings_row)
    row = Withholding.objects.create(
        merchant=merchant, member=member, account=account, period=period, payment_ref=payment_ref,
        kind=Withholding.Kind.PAYMENT, entity_code=entity, liability_date=liability_date, rule_set=rule_set,
        route=computation.route, bearer=bearer, gross_fen=computation.gross_fen,
        iit_income_fen=computation.iit_income_fen, iit_fen=computation.amount(engine.IIT),
        vat_fen=computation.amount(engine.VAT), urban_fen=computation.amount(engine.URBAN),
        education_fen=computation.amount(engine.EDUCATION),
        local_education_fen=computation.amount(engine.LOCAL_EDUCATION), net_fen=computation.net_fen,
        lines=[line.as_dict() for line in computation.lines],
        options=options.as_dict() | {"requested": {"gross_fen": gross_fen, "net_fen": net_fen},
                                     "notices": notices_for(member=member, liability_date=liability_date,
                                                            gross_fen=computation.gross_fen)},
        computed_at=now)
    _refresh_account(account)
    audit.record(event="tax.withholding.created", now=now, actor=actor, subject=row, merchant=merchant,
                 after={"payment_ref": payment_ref, "gross_fen": row.gross_fen, "tax_fen": row.tax_fen,
                        "net_fen": row.net_fen, "rule_set": rule_set.code, "route": row.route})
    return row


def _existing(*, merchant, payment_ref, member, gross_fen, net_fen, liability_date) -> Withholding | None:
    row = Withholding.objects.filter(merchant=merchant, payment_ref=payment_ref, kind=Withholding.Kind.PAYMENT).first()
    if row is None:
        return None
    requested = row.options.get("requested", {})
    if (row.member_id != member.pk or row.liability_date != liability_date
            or requested.get("gross_fen") != gross_fen or requested.get("net_fen") != net_fen):
        raise PaymentRefConflict(_("付款单 {payment_ref} 已按不同的人员、日期或金额计算过代扣税费；如需更改，请先冲回原记录，再用新的付款单号计算").format(payment_ref=payment_ref),
                                 extra={"payment_ref": payment_ref})
    return row


# --- reverse -------------------------------------------------------------------------------------------------


@transaction.atomic
def tax_reverse(*, payment_ref: str, now, merchant=None, actor=None, reason: str = "") -> Withholding:
    """Reverse the withholding of a failed or refunded payment. Idempotent: a second call returns the same reversal.

    The reversal is a new row with every amount negated, in the original month. If that month is already filed,
    the period moves to 待更正申报 and the row is marked for the next 更正 version; the filed files stay as they were.

    Raises WithholdingNotFound (also for another enterprise's payment ref).
    """
    rows = Withholding.objects.filter(payment_ref=payment_ref, kind=Withholding.Kind.PAYMENT)
    if merchant is not None:
        rows = rows.filter(merchant=merchant)
    candidates = list(rows.order_by("id")[:2])
    if len(candidates) != 1:
        raise WithholdingNotFound(_("未找到付款单 {payment_ref} 的代扣记录").format(payment_ref=payment_ref) if not candidates
                                  else _("付款单号 {payment_ref} 对应多家企业，请指定企业").format(payment_ref=payment_ref))
    original = candidates[0]
    account = TaxAccount.objects.select_for_update().get(pk=original.account_id)
    existing = Withholding.objects.filter(reverses=original).first()
    if existing is not None:
        return existing
    period = TaxPeriod.objects.select_for_update().get(pk=original.period_id)
    correction_version = None
    if period.status == TaxPeriod.Status.FILED:
        period.open_correction()
        period.save(update_fields=["status", "updated_at"])
        audit.record(event="tax.period.correction_opened", now=now, actor=actor, subject=period,
                     after={"period": period.label, "payment_ref": payment_ref})
    if period.status == TaxPeriod.Status.CORRECTION_PENDING:
        correction_version = period.version + 1
    negated = {name: -getattr(original, name) for name in selectors.AMOUNT_FIELDS}
    lines = [line | {"amount_fen": -line["amount_fen"], "formula": f"冲回：{line['formula']}"}
             for line in original.lines]
    row = Withholding.objects.create(
        merchant_id=original.merchant_id, member_id=original.member_id, account=account, period=period,
        payment_ref=payment_ref, kind=Withholding.Kind.REVERSAL, reverses=original, entity_code=original.entity_code,
        liability_date=original.liability_date, rule_set_id=original.rule_set_id, route=original.route,
        bearer=original.bearer, lines=lines, options=original.options | {"reason": reason[:200]}, computed_at=now,
        correction_version=correction_version, **negated)
    _refresh_account(account)
    audit.record(event="tax.withholding.reversed", now=now, actor=actor, subject=row, merchant=original.merchant_id,
                 after={"payment_ref": payment_ref, "gross_fen": row.gross_fen, "tax_fen": row.tax_fen,
                        "correction_version": correction_version})
    return row


# --- explain and re-compute -------------------------------------------------------------------------------------


def withholding_recompute(*, withholding: Withholding) -> engine.Computation:
    """Re-compute a recorded withholding from what it kept: its rule set (by liability date), the options it used,
    its route and gross, and the worker's rows recorded before it. A row that no longer re-computes to the same
    figures means data was changed behind the services' back. Reads only."""
    options = engine.Options(**{key: withholding.options[key] for key in
                                ("gap_month_rule", "iit_base_when_vat_due", "vat_threshold_base", "location")})
    prior = selectors.prior_state(member=withholding.member, entity_code=withholding.entity_code,
                                  on=withholding.liability_date, before_id=withholding.pk,
                                  merchant=withholding.merchant)
    return engine.compute(params=withholding.rule_set.parameters, rule_set=withholding.rule_set.code,
                          route=withholding.route, gross_fen=withholding.gross_fen,
                          liability_date=withholding.liability_date, prior=prior, options=options)


def withholding_matches_recomputation(*, withholding: Withholding) -> bool:
    if withholding.kind != Withholding.Kind.PAYMENT:
        return True
    again = withholding_recompute(withholding=withholding)
    return (again.net_fen, again.amount(engine.IIT), again.amount(engine.VAT), again.iit_income_fen) == (
        withholding.net_fen, withholding.iit_fen, withholding.vat_fen, withholding.iit_income_fen)


# --- settings ------------------------------------------------------------------------------------------------


@transaction.atomic
def tax_settings_update(*, now, actor=None, **changes) -> TaxSettings:
    """Change the open-question settings (operations). Every change is audited with before and after."""
    row = TaxSettings.load()
    row = TaxSettings.objects.select_for_update().get(pk=row.pk)
    allowed = {"gap_month_rule", "iit_base_when_vat_due", "vat_threshold_base", "surcharge_location_basis",
               "platform_location", "entity_code", "entity_name", "entity_uscc", "platform_name"}
    unknown = set(changes) - allowed
    if unknown:
        raise TaxAmountInvalid(_("未知的设置项：{value}").format(value=', '.join(sorted(unknown))))
    before = {name: getattr(row, name) for name in changes}
    for name, value in changes.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    audit.record(event="tax.settings.updated", now=now, actor=actor, subject=row, before=before, after=changes)
    return row
