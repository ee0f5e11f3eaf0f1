"""The simple, built-in rules of the first risk version. Operations extend them with list entries (``ListEntry``)."""

from __future__ import annotations

# Business scenarios a sharing-economy platform must not carry (DB12/T 1211 business authenticity; no disguised
# employment, lending, gambling, invoice trading). A scenario containing one of these is refused.
PROHIBITED_SCENARIO_KEYWORDS = (
    "博彩", "赌博", "彩票代购", "贷款", "借贷", "套现", "虚拟货币", "数字货币挖矿", "代开发票", "买卖发票",
    "洗钱", "传销", "刷单", "色情", "代缴社保", "劳务派遣",
)

# Industries whose work may be done by independent gig workers. OTHER needs a human look.
ALLOWED_INDUSTRIES = {
    "LOGISTICS", "INFORMATION", "LIFE_SERVICE", "MARKETING", "EDUCATION", "CULTURE", "MANUFACTURING",
    "CONSTRUCTION", "HOSPITALITY",
}
REVIEW_INDUSTRIES = {"OTHER"}

# A scenario description shorter than this cannot support a business-authenticity review.
MIN_SCENARIO_LENGTH = 10
