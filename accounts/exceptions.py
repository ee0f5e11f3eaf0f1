from core.exceptions import DomainError, PermissionDenied, RateLimited, ValidationFailed


class SmsCodeInvalid(ValidationFailed):
    code = "sms_code_invalid"


class SmsCodeExpired(ValidationFailed):
    code = "sms_code_expired"


class SmsCodeTooSoon(RateLimited):
    code = "sms_code_too_soon"


class LoginFailed(DomainError):
    code = "login_failed"
    http_status = 401


class RoleRequired(PermissionDenied):
    code = "role_required"
