"""Age rules for who may verify and sign (tax-rules-cn.md §6.5): 18 and over, below the statutory retirement age.

The statutory retirement age rises from 2025-01-01 (NPC Standing Committee decision of 2024-09-13): men 60 → 63 and
women 55 → 58 by one month for every four months of birth from January 1965 / January 1970; women 50 → 55 by one month
for every two months of birth from January 1975. The limits are settings (``members.conf``), not constants.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from core.validators import ResidentId
from members import conf
from members.exceptions import AgeNotAllowed

# base age → (first birth month that is delayed, months of birth per month of delay, maximum delay in months)
_RISE = {60: (dt.date(1965, 1, 1), 4, 36), 55: (dt.date(1970, 1, 1), 4, 36), 50: (dt.date(1975, 1, 1), 2, 60)}


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):  # the same day of month, or the month's last day
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


@dataclass(frozen=True)
class RetirementAge:
    years: int
    months: int
    on: dt.date

    def label(self) -> str:
        return _("{years} 周岁").format(years=self.years) + (_(" {months} 个月").format(months=self.months) if self.months else "")


def statutory_retirement(*, birth_date: dt.date, is_male: bool, female_base: int | None = None) -> RetirementAge:
    base = 60 if is_male else int(female_base or conf.get("MEMBERS_FEMALE_RETIREMENT_BASE"))
    start, step, cap = _RISE[base]
    delay = 0
    if birth_date >= start:
        months_since = (birth_date.year - start.year) * 12 + birth_date.month - start.month
        delay = min(cap, months_since // step + 1)
    total = base * 12 + delay
    return RetirementAge(years=total // 12, months=total % 12, on=_add_months(birth_date, total))


def check_age(resident: ResidentId, *, today: dt.date) -> None:
    """Raise AgeNotAllowed, with the rule and what to do, when the person is too young or past the upper limit."""
    minimum = int(conf.get("MEMBERS_MIN_AGE"))
    age = resident.age_on(today)
    if age < minimum:
        raise AgeNotAllowed(
            _("根据身份证号，您当前 {age} 周岁，未满 {minimum} 周岁，暂不能在平台实名和签约承接任务。请在年满 {minimum} 周岁后再来认证").format(age=age, minimum=minimum),
            extra={"age": age, "min_age": minimum},
        )
    fixed = conf.get("MEMBERS_MAX_AGE")
    if fixed is not None:
        if age >= int(fixed):
            raise AgeNotAllowed(
                _("根据身份证号，您当前 {age} 周岁，平台承接任务的年龄上限为 {fixed} 周岁（不含），暂不能实名签约。如有疑问请联系客服").format(age=age, fixed=fixed), extra={"age": age, "max_age": int(fixed)},
            )
        return
    retirement = statutory_retirement(birth_date=resident.birth_date, is_male=resident.is_male)
    if today >= retirement.on:
        raise AgeNotAllowed(
            _("根据身份证号，您已于 {on:%Y年%m月%d日} 达到法定退休年龄（{value}），按平台规则暂不能实名签约承接任务。如有疑问请联系客服").format(on=retirement.on, value=retirement.label()),
            extra={"age": age, "retirement_date": retirement.on.isoformat()},
        )
