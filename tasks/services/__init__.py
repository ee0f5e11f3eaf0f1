"""The tasks app's public API: every write. See the submodules for the rules of each step."""

from tasks.exceptions import *  # noqa: F403  (callers write ``except services.HeadcountFull``)
from tasks.services.catalogue import merchant_category_grant, merchant_category_revoke  # noqa: F401
from tasks.services.completion import (  # noqa: F401
    assignment_accept,
    assignment_check_in,
    assignment_dispute,
    assignment_reject,
    assignment_resolve_dispute,
    assignment_submit_proof,
    evaluation_of_enterprise_create,
    evaluation_of_worker_create,
)
from tasks.services.payables import payable_work_mark_paid, payable_work_release, payable_work_reserve  # noqa: F401
from tasks.services.profiles import worker_profile_update  # noqa: F401
from tasks.services.publishing import (  # noqa: F401
    task_approve,
    task_cancel,
    task_close,
    task_close_expired,
    task_complete,
    task_create,
    task_reject,
    task_reopen_for_change,
    task_send_back,
    task_submit,
    task_update,
    task_withdraw,
)
from tasks.services.taking import (  # noqa: F401
    assignment_approve,
    assignment_decline,
    assignment_respond_invitation,
    assignment_withdraw,
    task_apply,
    task_claim,
    task_invite,
    task_split,
)
