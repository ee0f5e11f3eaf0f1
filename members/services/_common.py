"""Helpers shared by the members services (not part of the public API)."""

from __future__ import annotations

import re

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from core.exceptions import ValidationFailed
from members.models import Member

_NAME_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fffA-Za-z][\u3400-\u4dbf\u4e00-\u9fffA-Za-z·•. ]{0,28}[\u3400-\u4dbf\u4e00-\u9fffA-Za-z]$")


def clean_name(value: str, *, field_label: str = gettext_lazy("姓名")) -> str:
    """A person's name as on the ID card: 2–30 characters, Chinese or Latin letters, with “·” for minority names."""
    name = re.sub(r"\s+", " ", (value or "").strip()).replace("•", "·")
    if not name:
        raise ValidationFailed(gettext("请填写{field_label}").format(field_label=field_label), extra={"field": field_label, "form_field": "name"})
    if not _NAME_RE.match(name):
        raise ValidationFailed(
            gettext("{field_label}“{value}”格式不正确：请填写身份证上的姓名（2–30 个汉字或字母，少数民族姓名用“·”分隔）").format(field_label=field_label, value=value),
            extra={"field": field_label, "form_field": "name"},
        )
    return name


def local_date(now):
    return timezone.localtime(now).date()


def member_ensure(*, user) -> Member:
    """The worker's Member row, created on first use (a worker signs in first, verifies later)."""
    member, _ = Member.objects.get_or_create(user=user)
    return member
