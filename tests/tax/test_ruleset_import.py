import copy
import json

import pytest
from django.core.management import CommandError, call_command

from core.exceptions import ValidationFailed
from tax.models import TaxRuleSet
from tax.rulesets import ruleset_export, ruleset_import
from tax.selectors import rule_set_for


def _next_set():
    document = ruleset_export(code="CN-2026.1")
    document.update(code="CN-2028.1", name="测试：2028 年规则", effective_from="2028-01-01", effective_to=None)
    document["parameters"] = copy.deepcopy(document["parameters"])
    document["parameters"]["vat"]["levy_rate"] = "0.02"
    return document


@pytest.mark.django_db
class TestRuleSetImport:
    def test_a_new_rule_set_is_added_as_data_and_chosen_by_date(self, now):
        import datetime as dt

        rule_set = ruleset_import(document=_next_set(), now=now)
        assert rule_set_for(on=dt.date(2028, 3, 1)).code == "CN-2028.1"
        assert rule_set_for(on=dt.date(2027, 12, 31)).code == "CN-2026.1"
        assert rule_set.parameters["vat"]["levy_rate"] == "0.02"

    def test_overlapping_dates_are_refused(self, now):
        document = _next_set()
        document["effective_from"] = "2027-06-01"
        with pytest.raises(ValidationFailed, match="重叠"):
            ruleset_import(document=document, now=now)
        assert not TaxRuleSet.objects.filter(code="CN-2028.1").exists()

    def test_missing_parameters_are_named(self, now):
        document = _next_set()
        del document["parameters"]["surcharges"]["education"]
        with pytest.raises(ValidationFailed, match="surcharges.education"):
            ruleset_import(document=document, now=now)

    def test_parameters_the_engine_cannot_use_are_refused(self, now):
        document = _next_set()
        document["parameters"]["vat"]["levy_rate"] = "not a rate"
        with pytest.raises(ValidationFailed, match="无法计算"):
            ruleset_import(document=document, now=now)

    def test_an_existing_code_cannot_be_replaced(self, now):
        document = _next_set()
        document["code"] = "CN-2026.1"
        with pytest.raises(ValidationFailed, match="不可修改"):
            ruleset_import(document=document, now=now)

    def test_command_round_trip(self, tmp_path, capsys):
        path = tmp_path / "next.json"
        path.write_text(json.dumps(_next_set(), ensure_ascii=False), encoding="utf-8")
        call_command("tax_ruleset", "import", str(path))
        assert TaxRuleSet.objects.filter(code="CN-2028.1").exists()
        with pytest.raises(CommandError, match="已存在"):
            call_command("tax_ruleset", "import", str(path))
