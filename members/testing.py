"""Test helpers other apps may use: a verified worker, signed with an enterprise, with a default bank card.

The rows are written directly (no PDF, no provider call), like a fixture; use the services to test the flows.
"""

from __future__ import annotations

import datetime as dt

from accounts.models import Kind, Role, User
from core.pii import blind_index, mask_bank_card
from core.testing.factories import make_phone, make_resident_id
from members.models import Member, MemberMerchant, PayoutAccount


def make_verified_member(*, n: int, now: dt.datetime, name: str = "测试人员", phone: str | None = None,
                         id_number: str | None = None, bank_card: str | None = None) -> Member:
    phone = phone or make_phone(n + 500_000)
    user = User.objects.filter(phone_index=blind_index(phone, purpose="phone")).first() or User.objects.create_user(
        f"worker_{n}_{phone[-4:]}", role=Role.WORKER, kind=Kind.WORKER, phone=phone, full_name=name)
    member = Member(user=user, birth_date=dt.date(1990, 1, 1), verification_status=Member.Verification.VERIFIED,
                    verification_method=Member.Method.FOUR_FACTOR, verified_at=now)
    member.set_identity(name=name, id_number=id_number or make_resident_id(n))
    member.save()
    card = bank_card or f"62148300{n:011d}"
    PayoutAccount.objects.create(member=member, kind=PayoutAccount.Kind.BANK, account=card,
                                 account_index=blind_index(card, purpose="payout_account"),
                                 account_masked=mask_bank_card(card), is_default=True, verified_at=now)
    return member


def make_signed_worker(*, merchant, n: int, now: dt.datetime, **kwargs) -> tuple[Member, MemberMerchant]:
    member = make_verified_member(n=n, now=now, **kwargs)
    relationship = MemberMerchant.objects.create(merchant=merchant, member=member,
                                                 status=MemberMerchant.Status.SIGNED, signed_at=now,
                                                 registered_at=now, invited_at=now)
    return member, relationship
