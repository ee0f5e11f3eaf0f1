"""Races on PostgreSQL with real threads and commits: one agreement per relationship, one member per ID number."""


import pytest

from core.testing.concurrency import race
from core.testing.factories import MerchantFactory, WorkerUserFactory
from members import services
from members.exceptions import AlreadySigned, IdNumberTaken
from members.models import Agreement, Member, MemberMerchant
from members.services.agreements import agreement_seal
from tests.members.conftest import GOOD_CARD, good_id

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_relationship_is_sealed_once(now):
    merchant = MerchantFactory()
    user = WorkerUserFactory()
    member = services.member_verify(user=user, name="张伟", id_number=good_id(11), bank_card=GOOD_CARD, now=now)
    relationship = MemberMerchant.objects.create(merchant=merchant, member=member, status=MemberMerchant.Status.VERIFIED)
    outcomes = race(*[lambda: agreement_seal(user=user, member=member, relationship=relationship, now=now)] * 2)
    assert sorted(type(o).__name__ for o in outcomes) == ["Agreement", "AlreadySigned"]
    assert isinstance(next(o for o in outcomes if not isinstance(o, Agreement)), AlreadySigned)
    assert Agreement.objects.count() == 1


def test_one_id_number_verifies_one_account(now):
    users = [WorkerUserFactory(), WorkerUserFactory()]
    outcomes = race(*[
        (lambda u=u: services.member_verify(user=u, name="张伟", id_number=good_id(11), bank_card=GOOD_CARD, now=now))
        for u in users
    ])
    assert sorted(type(o).__name__ for o in outcomes) == ["IdNumberTaken", "Member"]
    assert isinstance(next(o for o in outcomes if not isinstance(o, Member)), IdNumberTaken)
    assert Member.objects.filter(verification_status="VERIFIED").count() == 1
