"""Errors of the tax agency, each with a stable code (documented in docs/tax-engine.md)."""

from core.exceptions import Conflict, InvalidState, NotFound, ValidationFailed


class NoRuleSet(ValidationFailed):
    code = "tax_no_rule_set"


class TaxAmountInvalid(ValidationFailed):
    code = "tax_amount_invalid"


class MemberNotVerified(ValidationFailed):
    code = "tax_member_not_verified"


class PeriodLocked(InvalidState):
    code = "tax_period_locked"


class PeriodNotOver(InvalidState):
    code = "tax_period_not_over"


class PaymentRefConflict(Conflict):
    code = "tax_payment_ref_conflict"


class WithholdingNotFound(NotFound):
    code = "tax_withholding_not_found"


class StatementNotFound(NotFound):
    code = "tax_statement_not_found"
