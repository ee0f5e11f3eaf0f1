"""Labels for codes that reach a template without their ``get_FOO_display``, and masking on the way out.

``{{ invitation.role|choice_label:"accounts.User.role" }}`` → "企业财务" (the code itself when it is unknown);
``{{ invitation.phone|mask_phone }}`` → "138****5678"."""

from django import template
from django.apps import apps

from core import pii

register = template.Library()


@register.filter
def choice_label(value, field_path: str) -> str:
    """``field_path`` is "app_label.Model.field"; the field's choices give the label, translated."""
    app_label, model_name, field_name = field_path.split(".")
    choices = dict(apps.get_model(app_label, model_name)._meta.get_field(field_name).flatchoices)
    return str(choices.get(value, value))


@register.filter
def mask_phone(value) -> str:
    return pii.mask_phone(value)
