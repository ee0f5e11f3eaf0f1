"""Errors of the members app. Codes are stable (documented in docs/guide-worker.md and the OpenAPI schema)."""

from core.exceptions import Conflict, InvalidState, NotFound, RateLimited, ValidationFailed


class VerificationFailed(ValidationFailed):
    """The provider answered: the factors do not match (the reason says which and what to do)."""

    code = "verification_failed"


class VerificationUnavailable(ValidationFailed):
    """The provider timed out or is down: nothing was decided, the worker should simply try again."""

    code = "verification_unavailable"
    http_status = 503


class AgeNotAllowed(ValidationFailed):
    code = "age_not_allowed"


class IdNumberTaken(Conflict):
    code = "id_number_taken"


class AlreadyVerified(InvalidState):
    code = "already_verified"


class NotVerified(InvalidState):
    code = "not_verified"


class VerificationAttemptsExceeded(RateLimited):
    code = "verification_attempts_exceeded"


class AlreadyInvited(Conflict):
    code = "already_invited"


class InvitationInvalid(ValidationFailed):
    code = "invitation_invalid"


class UploadRejected(ValidationFailed):
    """A worker list with bad lines: ``extra["errors"]`` holds every ``{line, column, message}``; nothing was saved."""

    code = "upload_rejected"


class ReminderTooSoon(RateLimited):
    code = "reminder_too_soon"


class AlreadySigned(InvalidState):
    code = "already_signed"


class NotSignable(InvalidState):
    code = "not_signable"


class PayoutAccountInvalid(ValidationFailed):
    code = "payout_account_invalid"


class PayoutAccountDuplicate(Conflict):
    code = "payout_account_duplicate"


class WorkerNotFound(NotFound):
    code = "not_found"


class TerminationBlocked(InvalidState):
    """解约 refused: the worker still has payouts in flight, accepted work not yet paid or tasks in progress with this
    enterprise. ``extra`` holds the counts (``payouts_in_flight``, ``work_unpaid``, ``assignments_in_progress``)."""

    code = "termination_blocked"


class NotTerminable(InvalidState):
    """The relationship is already terminated."""

    code = "not_terminable"


class RelationshipTerminated(Conflict):
    """The person was with this enterprise before and the relationship was terminated: a new invitation is refused
    (one relationship per worker and enterprise; re-opening it is an operations matter)."""

    code = "relationship_terminated"
