"""Errors of the tasks app. Each has a stable ``code`` (documented in docs/guide-tasks.md)."""

from __future__ import annotations

from core.exceptions import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed


class TaskNotFound(NotFound):
    code = "task_not_found"


class AssignmentNotFound(NotFound):
    code = "task_assignment_not_found"


class ProofFileNotFound(NotFound):
    code = "task_proof_file_not_found"


class TaskInvalid(ValidationFailed):
    """A field of the task is wrong; ``extra["field"]`` names it."""

    code = "task_invalid"


class CategoryNotApproved(ValidationFailed):
    code = "task_category_not_approved"


class PriceOutOfBounds(ValidationFailed):
    code = "task_price_out_of_bounds"


class BannedWordFound(ValidationFailed):
    code = "task_banned_word"


class BudgetNotCovered(ValidationFailed):
    code = "task_budget_not_covered"


class TaskNotEditable(InvalidState):
    code = "task_not_editable"


class TaskStateInvalid(InvalidState):
    code = "task_state_invalid"


class AssignmentStateInvalid(InvalidState):
    code = "task_assignment_state_invalid"


class WorkerNotEligible(PermissionDenied):
    """The worker is not verified or has not signed with the enterprise; ``extra["missing"]`` says what to do."""

    code = "task_worker_not_eligible"


class HeadcountFull(Conflict):
    code = "task_headcount_full"


class AlreadyTaken(Conflict):
    code = "task_already_taken"


class TaskClosedForTaking(InvalidState):
    code = "task_not_open"


class ProofInvalid(ValidationFailed):
    code = "task_proof_invalid"


class CheckInRefused(ValidationFailed):
    code = "task_check_in_refused"


class QuantityInvalid(ValidationFailed):
    code = "task_quantity_invalid"


class BudgetExceeded(Conflict):
    code = "task_budget_exceeded"


class EvaluationInvalid(ValidationFailed):
    code = "task_evaluation_invalid"


class PayableStateInvalid(Conflict):
    code = "payable_work_state_invalid"


class PayableNotFound(NotFound):
    code = "payable_work_not_found"
