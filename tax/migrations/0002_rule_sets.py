"""Load the rule sets of ../shared/reference/tax-rules-cn.md (§0 key dates, §4 parameter set) as data.

Amounts are fen, rates decimal strings, bracket tables ``[[upper_fen | null, rate, quick_deduction_fen]]``
(upper bounds inclusive). A later change in the rules is a NEW rule set in a new data migration, never an edit here.
"""

from django.db import migrations

COMPREHENSIVE = [[3600000, "0.03", 0], [14400000, "0.10", 252000], [30000000, "0.20", 1692000],
                 [42000000, "0.25", 3192000], [66000000, "0.30", 5292000], [96000000, "0.35", 8592000],
                 [None, "0.45", 18192000]]
# occasion "merchant_month": 属于同一项目连续性收入的，以一个月内取得的收入为一次 (IIT Implementation Regulations Art. 14)
LABOR_PER_PAYMENT = {"low_income_cutoff_fen": 400000, "fixed_expense_fen": 80000, "expense_ratio": "0.20",
                     "occasion": "merchant_month",
                     "table": [[2000000, "0.20", 0], [5000000, "0.30", 200000], [None, "0.40", 700000]]}
PLATFORM_CUMULATIVE = {"expense_ratio": "0.20", "monthly_deduction_fen": 500000, "table": "comprehensive_table",
                       "month_count": "consecutive_months_this_year_this_platform", "negative_result": "withhold_zero"}
BUSINESS = {"table": [[3000000, "0.05", 0], [9000000, "0.10", 150000], [30000000, "0.20", 1050000],
                      [50000000, "0.30", 4050000], [None, "0.35", 6550000]],
            "halving": {"cap_fen": 200000000, "factor": "0.5", "until": "2027-12-31"}}
SURCHARGES = {"urban_maintenance": {"URBAN": "0.07", "COUNTY": "0.05", "OTHER": "0.01"}, "education": "0.03",
              "local_education": "0.02", "relief_factor": "0.5", "relief_until": "2027-12-31",
              "base": "vat_actually_paid"}


def vat(comparator):
    return {"levy_rate": "0.01", "statutory_rate": "0.03", "threshold_monthly_fen": 10000000,
            "threshold_quarterly_fen": 30000000, "threshold_per_transaction_fen": 100000,
            "threshold_comparator": comparator, "taxed_on": "full_amount", "test_on": "worker_month_total_platform"}


def params(*, natural_person_route, comparator):
    return {
        "iit": {"comprehensive_table": COMPREHENSIVE, "labor_per_payment": LABOR_PER_PAYMENT,
                "platform_cumulative": PLATFORM_CUMULATIVE, "business": BUSINESS},
        "vat": vat(comparator),
        "surcharges": SURCHARGES,
        "routes": {"natural_person": natural_person_route, "individual_business": "BUSINESS"},
        "rounding": "ROUND_HALF_UP to 0.01 CNY per tax line, on the cumulative figure",
    }


S_IIT_LAW = {"title": "个人所得税法（第七次修正）；国家税务总局公告2018年第61号（累计预扣法、预扣率表一/二）",
             "url": "https://www.lawparks.com/ask/latest-personal-tax-rate15url"}
S_2023_19 = {"title": "财政部 税务总局公告2023年第19号（小规模纳税人月销售额10万元以下免征、3%减按1%）；税务总局公告2023年第1号",
             "url": "https://fgk.chinatax.gov.cn/"}
S_2023_12 = {"title": "财政部 税务总局公告2023年第12号（六税两费减半；个体工商户经营所得减半）",
             "url": "http://m.099idc.com/sssw/2025-03/19/content_1102612.html"}
S_UMCT = {"title": "城市维护建设税法第四条（市区7%、县城镇5%、其他1%）", "url": ""}
S_2025_16 = {"title": "国家税务总局公告2025年第16号（互联网平台企业为从业人员办理扣缴申报、代办申报，2025-10-01起）",
             "url": "http://www.caishui.org/8507.html"}
S_VAT_LAW = {"title": "增值税法第二十三条（未达到起征点免征，达到起征点全额计算）；实施条例（国务院令第826号）", "url": ""}
S_2026_10 = {"title": "财政部 税务总局公告2026年第10号（起征点月销售额10万元；3%减按1%，至2027-12-31）；税务总局公告2026年第4号",
             "url": "https://fgk.chinatax.gov.cn/zcfgk/c102416/c5247434/content.html"}

RULE_SETS = [
    {"code": "CN-2023.1", "name": "劳务报酬按次预扣；小规模纳税人增值税（2023年第19号，≤10万免征）",
     "effective_from": "2023-01-01", "effective_to": "2025-09-30",
     "parameters": params(natural_person_route="LABOR_PER_PAYMENT", comparator="le"),
     "sources": [S_IIT_LAW, S_2023_19, S_2023_12, S_UMCT],
     "notes": "平台按次预扣劳务报酬个税（预扣率表二）；增值税按人员月销售额合计，≤10万元（含本数）免征，超过全额按1%。"},
    {"code": "CN-2025.4", "name": "No.16 累计预扣法；小规模纳税人增值税（2023年第19号，≤10万免征）",
     "effective_from": "2025-10-01", "effective_to": "2025-12-31",
     "parameters": params(natural_person_route="LABOR_CUMULATIVE", comparator="le"),
     "sources": [S_2025_16, S_IIT_LAW, S_2023_19, S_2023_12, S_UMCT],
     "notes": "平台按累计预扣法预扣劳务报酬个税（预扣率表一），代办增值税及附加；2025-12-31 前的增值税仍适用暂行条例口径。"},
    {"code": "CN-2026.1", "name": "No.16 累计预扣法；增值税法（起征点“未达到”免征，2026年第10号）",
     "effective_from": "2026-01-01", "effective_to": "2027-12-31",
     "parameters": params(natural_person_route="LABOR_CUMULATIVE", comparator="lt"),
     "sources": [S_2025_16, S_IIT_LAW, S_VAT_LAW, S_2026_10, S_2023_12, S_UMCT],
     "notes": "增值税法施行：月销售额恰好10万元“达到起征点”，全额计税；其余同 CN-2025.4。"},
]


def load(apps, schema_editor):
    TaxRuleSet = apps.get_model("tax", "TaxRuleSet")
    for item in RULE_SETS:
        TaxRuleSet.objects.update_or_create(code=item["code"], defaults={k: v for k, v in item.items() if k != "code"})


def unload(apps, schema_editor):
    apps.get_model("tax", "TaxRuleSet").objects.filter(code__in=[item["code"] for item in RULE_SETS]).delete()


class Migration(migrations.Migration):
    dependencies = [("tax", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
