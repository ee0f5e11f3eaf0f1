"""The tax engine for many payments at once (a payout batch): the same arithmetic as ``tax.services``, set-based.

``tax_quote_many`` and ``tax_withhold_many`` give, for each payment, exactly what calling ``tax_quote`` /
``tax_withhold`` one payment after another in the given order would give: payments of the same worker are
computed in order, each on the state left by the one before (the cumulative IIT and the month's VAT). What
changes is the number of queries: the rule set and settings are read once, every worker's prior state comes from
two grouped queries, the withholding rows are inserted with ``bulk_create`` and the cumulative state rows are
locked in one statement (ascending pk, the order ``tax.services.account_for_update`` uses) and updated from
the computed totals.

Written by the payouts side for payout batches (100,000 lines must quote and confirm in seconds); the per-payment
services stay the reference, and ``tests/payouts/orders`` checks both agree.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum

from tax import engine, selectors
from tax.exceptions import MemberNotVerified, PaymentRefConflict, PeriodLocked
from tax.models import TaxAccount, TaxPeriod, TaxSettings, Withholding
from tax.services import Quote, _get_or_create, _quote, _validate


@dataclass(frozen=True)
class PaymentItem:
    member: object  # members.Member
    payment_ref: str = ""
    gross_fen: int | None = None
    net_fen: int | None = None


def prior_states(*, member_ids, entity_code: str, on: dt.date) -> dict[int, engine.PriorState]:
    """``tax.selectors.prior_state`` for many workers at once (two grouped queries per 5,000 workers)."""
    states: dict[int, engine.PriorState] = {}
    ids = sorted(set(member_ids))
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        rows = Withholding.objects.filter(member_id__any=set(chunk), route__in=selectors.LABOR_ROUTES)
        month = (rows.filter(liability_date__year=on.year, liability_date__month=on.month).values("member_id")
                 .annotate(gross=Sum("gross_fen"), vat=Sum("vat_fen"), urban=Sum("urban_fen"),
                           education=Sum("education_fen"), local=Sum("local_education_fen")).order_by("member_id"))
        for row in month:
            states[row["member_id"]] = engine.PriorState(
                month_gross_fen=row["gross"] or 0, month_vat_fen=row["vat"] or 0,
                month_surcharges_fen={engine.URBAN: row["urban"] or 0, engine.EDUCATION: row["education"] or 0,
                                      engine.LOCAL_EDUCATION: row["local"] or 0})
        by_month = (rows.filter(entity_code=entity_code, liability_date__year=on.year)
                    .values("member_id", "liability_date__month")
                    .annotate(income=Sum("iit_income_fen"), iit=Sum("iit_fen"))
                    .order_by("member_id", "liability_date__month"))
        for row in by_month:
            state = states.setdefault(row["member_id"], engine.PriorState(month_surcharges_fen={}))
            state.iit_income_by_month[row["liability_date__month"]] = row["income"]
            state.iit_withheld_by_month[row["liability_date__month"]] = row["iit"]
    return states


def line_dict(line: engine.Line) -> dict:
    """``Line.as_dict()`` without ``dataclasses.asdict``'s deep copy (the values are numbers and strings)."""
    data = dict(line.__dict__)
    data["inputs"] = dict(line.inputs)
    return data


def _advance(state: engine.PriorState, computation: engine.Computation, month: int) -> None:
    """The state after a payment (what ``prior_state`` would read once its withholding row exists)."""
    if computation.route not in selectors.LABOR_ROUTES:
        return
    state.month_gross_fen += computation.gross_fen
    state.month_vat_fen += computation.amount(engine.VAT)
    for kind in engine.SURCHARGE_KINDS:
        state.month_surcharges_fen[kind] = state.month_surcharges_fen.get(kind, 0) + computation.amount(kind)
    state.iit_income_by_month[month] = state.iit_income_by_month.get(month, 0) + computation.iit_income_fen
    state.iit_withheld_by_month[month] = state.iit_withheld_by_month.get(month, 0) + computation.amount(engine.IIT)


def _compute_all(items, *, bearer: str, liability_date: dt.date, settings_row: TaxSettings, states=None,
                 explain: bool = True):
    for item in items:
        _validate(gross_fen=item.gross_fen, net_fen=item.net_fen, bearer=bearer)
    if states is None:
        states = {}
    missing = {item.member.pk for item in items} - set(states)
    if missing:
        states.update(prior_states(member_ids=missing, entity_code=settings_row.entity_code, on=liability_date))
    # What ``tax.services.compute_payment`` does per payment, with the rule set read once and the options once
    # per worker (the options read the worker's tax profile only when surcharges follow the worker's location).
    rule_set = selectors.rule_set_for(on=liability_date)
    options_by_member: dict[int, engine.Options] = {}
    results = []
    for item in items:
        state = states.setdefault(item.member.pk, engine.PriorState(month_surcharges_fen={}))
        route = selectors.route_for(rule_set=rule_set, member=item.member)
        options = options_by_member.get(item.member.pk)
        if options is None:
            options = options_by_member[item.member.pk] = selectors.options_for(settings_row=settings_row,
                                                                                member=item.member)

        def for_gross(gross: int, _state=state, _route=route, _options=options) -> engine.Computation:
            return engine.compute(params=rule_set.parameters, rule_set=rule_set.code, route=_route, gross_fen=gross,
                                  liability_date=liability_date, prior=_state, options=_options, explain=explain)

        computation = for_gross(item.gross_fen) if item.gross_fen is not None else engine.solve_gross(item.net_fen,
                                                                                                      for_gross)
        _advance(state, computation, liability_date.month)
        results.append((rule_set, options, computation))
    return results


def tax_quote_many(*, items: list[PaymentItem], bearer: str, liability_date: dt.date, now,
                   states: dict | None = None, brief: bool = False) -> list[Quote]:
    """Quotes for ``items`` in order, each on the state left by the previous payments of the same worker. No writes.

    Pass the same ``states`` dict to successive calls to quote a long list in chunks as if it were one.

    Raises TaxAmountInvalid, NoRuleSet.
    """
    settings_row = selectors.tax_settings()
    computed = _compute_all(items, bearer=bearer, liability_date=liability_date, settings_row=settings_row,
                            states=states, explain=not brief)
    if not brief:
        return [_quote(rule_set=rule_set, options=options, computation=computation, bearer=bearer,
                       liability_date=liability_date) for rule_set, options, computation in computed]
    # brief: each line that withholds something, as kind, label, amount and formula only (a batch quote shows these;
    # the withholding keeps every line)
    return [Quote(rule_set=rule_set.code, route=c.route, bearer=bearer, liability_date=liability_date,
                  gross_fen=c.gross_fen, net_fen=c.net_fen, iit_fen=c.amount(engine.IIT), vat_fen=c.amount(engine.VAT),
                  urban_fen=c.amount(engine.URBAN), education_fen=c.amount(engine.EDUCATION),
                  local_education_fen=c.amount(engine.LOCAL_EDUCATION), iit_income_fen=c.iit_income_fen,
                  lines=[{"kind": line.kind, "label": line.label, "amount_fen": line.amount_fen,
                          "formula": line.formula} for line in c.lines if line.amount_fen], options={})
            for rule_set, _options, c in computed]


def _period_for_share(*, entity_code: str, year: int, month: int) -> TaxPeriod:
    """``tax.services.period_for_share`` without ``refresh_from_db`` (which django-fsm refuses on the protected
    status when the row was created by a concurrent transaction): share-lock, then read the row afresh."""
    from django.db import connection

    period = _get_or_create(TaxPeriod, entity_code=entity_code, year=year, month=month)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {TaxPeriod._meta.db_table} WHERE id = %s FOR SHARE", [period.pk])
        period = TaxPeriod.objects.get(pk=period.pk)
    return period


def _accounts_for_update(*, member_ids, entity_code: str, year: int) -> dict[int, int]:
    """The workers' cumulative state rows (created when missing), locked in ascending pk: member id → account id."""
    from django.db import connection
    from django.utils import timezone

    ids = sorted(set(member_ids))
    if connection.vendor == "postgresql":  # one statement whatever the count; rows another writer created stay
        stamp = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TaxAccount._meta.db_table} (member_id, entity_code, year, income_fen, iit_fen, vat_fen, "
                f"surcharges_fen, consecutive_months, last_month, version, created_at, updated_at) "
                f"SELECT m, %s, %s, 0, 0, 0, 0, 0, NULL, 0, %s, %s FROM unnest(%s::bigint[]) AS m "
                f"ON CONFLICT (member_id, entity_code, year) DO NOTHING", [entity_code, year, stamp, stamp, ids])
    else:
        existing = set(TaxAccount.objects.filter(member_id__any=set(ids), entity_code=entity_code, year=year)
                       .values_list("member_id", flat=True))
        missing = [TaxAccount(member_id=m, entity_code=entity_code, year=year) for m in ids if m not in existing]
        if missing:
            TaxAccount.objects.bulk_create(missing, batch_size=2000, ignore_conflicts=True)
    # one statement, so the rows are locked in ascending pk across the whole list
    return dict(TaxAccount.objects.select_for_update().filter(member_id__any=set(ids), entity_code=entity_code, year=year)
                .order_by("pk").values_list("member_id", "id"))


@transaction.atomic
def tax_withhold_many(*, merchant, items: list[PaymentItem], bearer: str, liability_date: dt.date, now,
                      actor=None, fresh: bool = False) -> list:
    """``tax_withhold`` for many payments in one transaction. Items whose payment_ref is already withheld (with the
    same figures) return the existing row; a ref withheld with other figures raises PaymentRefConflict. New rows are
    returned as plain objects with the row's column attributes (``payouts.services.sql.new_rows``), not instances.

    ``fresh=True``: the caller has made sure, under locks that keep it so, that none of the refs is withheld yet
    (the lookup is skipped; a ref withheld after all still fails on the unique constraint).

    Raises TaxAmountInvalid, MemberNotVerified, NoRuleSet, PeriodLocked, PaymentRefConflict.
    """
    from core import audit

    if not items:
        return []
    for item in items:
        if not item.member.is_verified:
            raise MemberNotVerified("该灵工人员尚未完成实名认证，不能计算代扣税费；请先完成实名认证",
                                    extra={"member_id": item.member.pk})
    settings_row = selectors.tax_settings()
    entity = settings_row.entity_code
    accounts = _accounts_for_update(member_ids=[item.member.pk for item in items], entity_code=entity,
                                    year=liability_date.year)
    existing: dict[str, Withholding] = {}
    refs = [] if fresh else [item.payment_ref for item in items]
    for start in range(0, len(refs), 5000):
        for row in Withholding.objects.filter(merchant=merchant, kind=Withholding.Kind.PAYMENT,
                                              payment_ref__any=set(refs[start:start + 5000])):
            existing[row.payment_ref] = row
    todo = []
    for item in items:
        row = existing.get(item.payment_ref)
        if row is None:
            todo.append(item)
            continue
        requested = row.options.get("requested", {})
        if (row.member_id != item.member.pk or row.liability_date != liability_date
                or requested.get("gross_fen") != item.gross_fen or requested.get("net_fen") != item.net_fen):
            raise PaymentRefConflict(f"付款单 {item.payment_ref} 已按不同的人员、日期或金额计算过代扣税费",
                                     extra={"payment_ref": item.payment_ref})
    if todo:
        period = _period_for_share(entity_code=entity, year=liability_date.year, month=liability_date.month)
        if period.is_locked:
            raise PeriodLocked(f"{period.label}的税款已申报，所属期已锁定；请以当前月份作为纳税义务发生日重新计算",
                               extra={"period": period.label})
        rows = []
        options_dicts: dict[engine.Options, dict] = {}  # Options is frozen: one dict per distinct value
        for item, (rule_set, options, computation) in zip(
                todo, _compute_all(todo, bearer=bearer, liability_date=liability_date, settings_row=settings_row),
                strict=True):
            rows.append(dict(
                merchant_id=merchant.pk, member_id=item.member.pk, account_id=accounts[item.member.pk],
                period_id=period.pk,
                payment_ref=item.payment_ref, kind=Withholding.Kind.PAYMENT, entity_code=entity,
                liability_date=liability_date, rule_set_id=rule_set.pk, route=computation.route, bearer=bearer,
                gross_fen=computation.gross_fen, iit_income_fen=computation.iit_income_fen,
                iit_fen=computation.amount(engine.IIT), vat_fen=computation.amount(engine.VAT),
                urban_fen=computation.amount(engine.URBAN), education_fen=computation.amount(engine.EDUCATION),
                local_education_fen=computation.amount(engine.LOCAL_EDUCATION), net_fen=computation.net_fen,
                lines=[line_dict(line) for line in computation.lines],
                options=(options_dicts.get(options) or options_dicts.setdefault(options, options.as_dict()))
                | {"requested": {"gross_fen": item.gross_fen, "net_fen": item.net_fen}},
                computed_at=now))
        from payouts.services.sql import copy_insert, new_rows

        rows = new_rows(Withholding, rows)  # plain objects: a model instance each would cost more than the tax
        try:
            with transaction.atomic():
                copy_insert(Withholding, rows)
        except IntegrityError:
            raise PaymentRefConflict("部分付款单已由另一请求计算过代扣税费，请刷新后重试") from None
        _advance_accounts(rows, month=liability_date.month)
        for row in rows:
            existing[row.payment_ref] = row
        audit.record(event="tax.withholding.created_many", now=now, actor=actor, merchant=merchant,
                     subject_type="tax.withholding", subject_id=rows[0].payment_ref,
                     after={"count": len(rows), "gross_fen": sum(r.gross_fen for r in rows),
                            "tax_fen": sum(r.iit_fen + r.vat_fen + r.urban_fen + r.education_fen
                                           + r.local_education_fen for r in rows)})
    return [existing[item.payment_ref] for item in items]


def _advance_accounts(rows, *, month: int) -> None:
    """Add new payment rows (all of ``month``, positive) to their accounts' cached figures, which the caller holds
    locked: one UPDATE. An account whose latest month with income is after ``month`` (a back-dated payment) is
    recomputed from its rows instead (``_refresh_accounts``), as is any account when the database is not
    PostgreSQL."""
    from django.db import connection
    from django.utils import timezone

    deltas: dict[int, list[int]] = {}
    for row in rows:
        delta = deltas.setdefault(row.account_id, [0, 0, 0, 0, 0])
        delta[0] += row.gross_fen
        delta[1] += row.iit_fen
        delta[2] += row.vat_fen
        delta[3] += row.urban_fen + row.education_fen + row.local_education_fen
        delta[4] += row.iit_income_fen
    later = set(TaxAccount.objects.filter(pk__any=sorted(deltas), last_month__gt=month).values_list("pk", flat=True))
    if connection.vendor != "postgresql" or any(delta[4] <= 0 for delta in deltas.values()):
        later = set(deltas)  # (income that is not positive changes which months count: recompute those too)
    if later:
        _refresh_accounts(sorted(later))
    ids = [pk for pk in sorted(deltas) if pk not in later]
    if not ids:
        return
    columns = list(zip(*[(pk, *deltas[pk][:4]) for pk in ids], strict=True))
    with connection.cursor() as cursor:
        # the month joins the run of months with income: the same month as the last one changes nothing, the next
        # month extends the run, a gap starts a new run (``engine.consecutive_months``)
        cursor.execute(
            f"UPDATE {TaxAccount._meta.db_table} AS t SET income_fen = t.income_fen + v.income, "
            f"iit_fen = t.iit_fen + v.iit, vat_fen = t.vat_fen + v.vat, surcharges_fen = t.surcharges_fen + v.surcharges, "
            f"consecutive_months = CASE WHEN t.last_month = %(m)s THEN t.consecutive_months "
            f"WHEN t.last_month = %(m)s - 1 THEN t.consecutive_months + 1 ELSE 1 END, "
            f"last_month = %(m)s, version = t.version + 1, updated_at = %(stamp)s "
            f"FROM unnest(%(ids)s::bigint[], %(income)s::bigint[], %(iit)s::bigint[], %(vat)s::bigint[], "
            f"%(surcharges)s::bigint[]) AS v(id, income, iit, vat, surcharges) WHERE t.id = v.id",
            {"m": month, "stamp": timezone.now(), "ids": list(columns[0]), "income": list(columns[1]),
             "iit": list(columns[2]), "vat": list(columns[3]), "surcharges": list(columns[4])})


def _refresh_accounts(account_ids: list[int]) -> None:
    """Recompute the cached figures of the accounts from their rows: two grouped queries and one UPDATE per 5,000
    accounts (``version`` + 1 each, as ``tax.services._refresh_account`` does)."""
    from django.db import connection
    from django.db.models import F
    from django.utils import timezone

    ids = sorted(set(account_ids))
    stamp = timezone.now()
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        rows = Withholding.objects.filter(account_id__any=set(chunk))
        totals = {r["account_id"]: r for r in rows.values("account_id").annotate(
            gross=Sum("gross_fen"), iit=Sum("iit_fen"), vat=Sum("vat_fen"), urban=Sum("urban_fen"),
            education=Sum("education_fen"), local=Sum("local_education_fen")).order_by("account_id")}
        months: dict[int, set[int]] = defaultdict(set)
        for r in (rows.values("account_id", "liability_date__month").annotate(income=Sum("iit_income_fen"))
                  .order_by("account_id")):
            if r["income"] > 0:
                months[r["account_id"]].add(r["liability_date__month"])
        values = []
        for pk in chunk:
            t = totals.get(pk)
            if t is None:
                continue
            with_income = months.get(pk, set())
            last = max(with_income) if with_income else None
            values.append((pk, t["gross"] or 0, t["iit"] or 0, t["vat"] or 0,
                           (t["urban"] or 0) + (t["education"] or 0) + (t["local"] or 0), last,
                           len(engine.consecutive_months(with_income, last)) if last else 0))
        if not values:
            continue
        if connection.vendor != "postgresql":
            for pk, income, iit, vat, surcharges, last, consecutive in values:
                TaxAccount.objects.filter(pk=pk).update(income_fen=income, iit_fen=iit, vat_fen=vat,
                                                        surcharges_fen=surcharges, last_month=last,
                                                        consecutive_months=consecutive, version=F("version") + 1,
                                                        updated_at=stamp)
            continue
        table = TaxAccount._meta.db_table
        columns = list(zip(*values, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS t SET income_fen = v.income, iit_fen = v.iit, vat_fen = v.vat, "
                f"surcharges_fen = v.surcharges, last_month = v.last_month, consecutive_months = v.consecutive, "
                f"version = t.version + 1, updated_at = %s "
                f"FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::smallint[], "
                f"%s::smallint[]) AS v(id, income, iit, vat, surcharges, last_month, consecutive) WHERE t.id = v.id",
                [stamp, *[list(column) for column in columns]])


__all__ = ["PaymentItem", "TaxPeriod", "prior_states", "tax_quote_many", "tax_withhold_many"]
