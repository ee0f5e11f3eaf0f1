"""core/templatetags/lg_labels.py: a code's label from the model's choices; phones masked."""

import pytest
from django.template import Context, Template


def render(text, **context):
    return Template("{% load lg_labels %}" + text).render(Context(context))


@pytest.mark.django_db
def test_choice_label_reads_the_models_choices_and_keeps_unknown_codes():
    assert render('{{ v|choice_label:"accounts.User.role" }}', v="ENT_FINANCE") == "企业财务"
    assert render('{{ v|choice_label:"accounts.User.role" }}', v="NOPE") == "NOPE"


def test_mask_phone():
    assert render("{{ v|mask_phone }}", v="13812345678") == "138****5678"
    assert render("{{ v|mask_phone }}", v="") == ""
