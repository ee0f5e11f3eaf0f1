"""Every write of the merchants app (its public API). Split by area; import from ``merchants.services``."""

from merchants.services.account import (  # noqa: F401
    merchant_account_open,
    merchant_change_approve,
    merchant_change_reject,
    merchant_change_request,
    merchant_change_withdraw,
    merchant_close,
    merchant_close_request,
    merchant_configuration_set,
    merchant_resume,
    merchant_suspend,
)
from merchants.services.agreement import (  # noqa: F401
    service_agreement_issue,
    service_agreement_send_code,
    service_agreement_sign,
)
from merchants.services.amendment import (  # noqa: F401
    terms_amendment_send_code,
    terms_amendment_sign,
    terms_amendment_withdraw,
)
from merchants.services.api_keys import api_key_create, api_key_revoke, api_nonces_purge  # noqa: F401
from merchants.services.application import (  # noqa: F401
    merchant_application_approve,
    merchant_application_reject,
    merchant_application_reopen,
    merchant_application_request_info,
    merchant_application_start,
    merchant_application_submit,
    merchant_application_update,
    merchant_application_upload_licence,
)
from merchants.services.staff import staff_deactivate, staff_invitation_accept, staff_invite  # noqa: F401
