"""Plain forms of the portal pages. They check the shape of the input; the services check the rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.money import format_yuan, parse_yuan
from tasks.inputs import TaskData
from tasks.models import PricingMode, ProofKind, Task

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class YuanField(forms.CharField):
    """A yuan amount typed as "12.50" → integer fen; floats and sub-fen precision are refused by core.money."""

    def __init__(self, *args, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_yuan(value, allow_zero=self.allow_zero, field=str(self.label or gettext("金额")))
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


class TaskForm(forms.Form):
    title = forms.CharField(label=_("任务名称"), max_length=100)
    description = forms.CharField(label=_("任务说明"), widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=_("内容、要求和交付标准"))
    category = forms.ChoiceField(label=_("业务场景（类目）"))
    skills = forms.CharField(label=_("所需技能"), required=False, help_text=_("用逗号或空格分隔，例如：骑行，送餐"))
    pricing_mode = forms.ChoiceField(label=_("计价方式"), choices=PricingMode.choices)
    unit_price = YuanField(label=_("单价（元）"))
    quantity_per_worker = forms.DecimalField(label=_("每人计划数量（件/小时）"), min_value=Decimal("0.01"),
                                             max_digits=10, decimal_places=2, initial=1)
    headcount = forms.IntegerField(label=_("需要人数"), min_value=1, max_value=10_000, initial=1)
    budget = YuanField(label=_("预算（元）"))
    take_mode = forms.ChoiceField(label=_("接取方式"), choices=Task.TakeMode.choices)
    is_remote = forms.BooleanField(label=_("远程任务（无需到场）"), required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    city = forms.CharField(label=_("城市"), max_length=40, required=False)
    latitude = forms.DecimalField(label=_("纬度"), max_digits=9, decimal_places=6, required=False)
    longitude = forms.DecimalField(label=_("经度"), max_digits=9, decimal_places=6, required=False)
    radius_m = forms.IntegerField(label=_("签到半径（米）"), min_value=50, max_value=50_000, initial=500)
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=DATETIME_INPUT)
    ends_at = forms.DateTimeField(label=_("结束时间"), widget=DATETIME_INPUT)
    deadline_at = forms.DateTimeField(label=_("报名截止"), widget=DATETIME_INPUT)
    proof_kinds = forms.MultipleChoiceField(label=_("完工证明要求"), choices=ProofKind.choices,
                                            widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.code, c.name) for c in categories]

    def to_data(self) -> TaskData:
        c = self.cleaned_data
        skills = [s for s in (c["skills"] or "").replace("，", ",").replace("、", ",").replace(" ", ",").split(",") if s]
        return TaskData(
            title=c["title"], description=c["description"], category_code=c["category"], skills=skills,
            pricing_mode=c["pricing_mode"], unit_price_fen=c["unit_price"], budget_fen=c["budget"],
            headcount=c["headcount"], quantity_per_worker=c["quantity_per_worker"], take_mode=c["take_mode"],
            is_remote=c["is_remote"], address=c["address"], city=c["city"], latitude=c["latitude"],
            longitude=c["longitude"], radius_m=c["radius_m"] or 500, starts_at=c["starts_at"], ends_at=c["ends_at"],
            deadline_at=c["deadline_at"], proof_kinds=c["proof_kinds"],
        )

    @classmethod
    def initial_for(cls, task: Task | None, *, now) -> dict:
        if task is None:
            start = (now + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
            return {"starts_at": timezone.localtime(start), "ends_at": timezone.localtime(start + dt.timedelta(hours=4)),
                    "deadline_at": timezone.localtime(start - dt.timedelta(hours=2)), "radius_m": 500,
                    "proof_kinds": [ProofKind.PHOTO, ProofKind.QUANTITY], "headcount": 1, "quantity_per_worker": 1}
        return {
            "title": task.title, "description": task.description, "category": task.category.code,
            "skills": "，".join(task.skills), "pricing_mode": task.pricing_mode,
            "unit_price": format_yuan(task.unit_price_fen), "quantity_per_worker": task.quantity_per_worker,
            "headcount": task.headcount, "budget": format_yuan(task.budget_fen), "take_mode": task.take_mode,
            "is_remote": task.is_remote, "address": task.address, "city": task.city, "latitude": task.latitude,
            "longitude": task.longitude, "radius_m": task.radius_m or 500,
            "starts_at": timezone.localtime(task.starts_at), "ends_at": timezone.localtime(task.ends_at),
            "deadline_at": timezone.localtime(task.deadline_at), "proof_kinds": task.proof_kinds,
        }


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class AcceptForm(forms.Form):
    quantity = forms.DecimalField(label=_("验收数量"), required=False, min_value=Decimal("0.01"), max_digits=10,
                                  decimal_places=2)


class EvaluationForm(forms.Form):
    stars = forms.TypedChoiceField(label=_("评分"), coerce=int, choices=[(i, "★" * i) for i in range(5, 0, -1)])
    comment = forms.CharField(label=_("评语"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 2}))


class ProofForm(forms.Form):
    text = forms.CharField(label=_("完工说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000)
    quantity = forms.CharField(label=_("完成数量"), required=False,
                               widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class ProfileForm(forms.Form):
    skills = forms.CharField(label=_("我的技能"), required=False, help_text=_("用逗号分隔，例如：骑行，送餐，普通话"))
    city = forms.CharField(label=_("常驻城市"), required=False, max_length=40)
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)
