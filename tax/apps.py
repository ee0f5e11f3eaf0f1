from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_builtin_rule_sets(sender, using="default", **kwargs):
    """The built-in rule sets are reference data: present after every migrate, and after a database flush (which
    emits post_migrate), so a flushed test database or a fresh install never lacks them. Existing rows are left
    alone: a rule set is never edited once stored."""
    from importlib import import_module

    from tax.models import TaxRuleSet

    builtin = import_module("tax.migrations.0002_rule_sets").RULE_SETS
    present = set(TaxRuleSet.objects.using(using).values_list("code", flat=True))
    TaxRuleSet.objects.using(using).bulk_create([
        TaxRuleSet(**item) for item in builtin if item["code"] not in present
    ])


class TaxConfig(AppConfig):
    name = "tax"
    verbose_name = _("代理报税")

    def ready(self):
        post_migrate.connect(ensure_builtin_rule_sets, sender=self, dispatch_uid="tax.ensure_builtin_rule_sets")
