"""Errors of the merchants app. Each has a stable ``code`` (listed in docs/api.md)."""

from core.exceptions import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed


class DuplicateUscc(Conflict):
    code = "merchant_uscc_duplicate"


class UsernameTaken(Conflict):
    code = "merchant_username_taken"


class PhoneTaken(Conflict):
    code = "merchant_phone_taken"


class ApplicationIncomplete(ValidationFailed):
    code = "merchant_application_incomplete"


class ApplicationNotEditable(InvalidState):
    code = "merchant_application_not_editable"


class ApplicationNotReviewable(InvalidState):
    code = "merchant_application_not_reviewable"


class VerificationFailed(ValidationFailed):
    """The enterprise verification provider said no (认证未通过拦截并提示)."""

    code = "merchant_verification_failed"


class VerificationUnavailable(Conflict):
    code = "merchant_verification_unavailable"
    http_status = 503


class RiskRejected(ValidationFailed):
    code = "merchant_risk_rejected"


class FileRejected(ValidationFailed):
    code = "merchant_file_rejected"


class AgreementNotSignable(InvalidState):
    code = "merchant_agreement_not_signable"


class AgreementAlreadySigned(Conflict):
    code = "merchant_agreement_already_signed"


class MerchantNotActive(InvalidState):
    code = "merchant_not_active"


class ChangeNotAllowed(InvalidState):
    code = "merchant_change_not_allowed"


class CloseNotAllowed(InvalidState):
    code = "merchant_close_not_allowed"


class InvitationInvalid(NotFound):
    code = "merchant_invitation_invalid"


class InvitationExpired(ValidationFailed):
    code = "merchant_invitation_expired"


class SignatureInvalid(PermissionDenied):
    """A partner API request whose signature, timestamp or nonce is refused."""

    code = "api_signature_invalid"
    http_status = 401


class TermsAmendmentNotPending(InvalidState):
    """No 补充协议 waiting for signature (none proposed, or it was signed, withdrawn or replaced meanwhile)."""

    code = "merchant_terms_amendment_not_pending"
