"""Every write of the members app (its public API): verification, invitations, agreements, payout accounts, offline,
termination (解约).

All functions are keyword-only, take ``now`` and the acting user, raise ``members.exceptions`` errors and are audited.
"""

from members.services._common import member_ensure
from members.services.agreements import agreement_sign, agreement_sign_code_send, agreement_text_html
from members.services.invitations import (
    invitation_accept,
    invite_link,
    worker_invite,
    worker_invite_upload,
    worker_remind,
)
from members.services.offline import member_register_offline
from members.services.payout_accounts import payout_account_add, payout_account_remove, payout_account_set_default
from members.services.termination import relationship_terminate, relationship_terminate_by_member
from members.services.verification import member_verify

__all__ = [
    "agreement_sign", "agreement_sign_code_send", "agreement_text_html", "invitation_accept", "invite_link",
    "member_ensure", "member_register_offline", "member_verify", "payout_account_add", "payout_account_remove",
    "payout_account_set_default", "relationship_terminate", "relationship_terminate_by_member", "worker_invite",
    "worker_invite_upload", "worker_remind",
]
