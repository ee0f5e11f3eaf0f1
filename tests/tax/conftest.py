import datetime as dt
import itertools

import pytest

from core.testing.factories import WorkerUserFactory, make_resident_id
from members.models import Member
from tax.models import TaxRuleSet

_ids = itertools.count(1)


def make_member(*, name="张三", business=False, verified=True):
    user = WorkerUserFactory()
    # Passing the status to the constructor works whether or not the field is FSM-protected.
    status = {"verification_status": Member.Verification.VERIFIED,
              "verified_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)} if verified else {}
    member = Member(user=user, is_individual_business=business, **status)
    if verified:
        member.set_identity(name=name, id_number=make_resident_id(next(_ids)))
    member.save()
    return member


def ensure_rule_sets():
    """The rule sets are data from a migration; a transactional test's flush removes them, so reload when missing."""
    import importlib

    from django.apps import apps

    if not TaxRuleSet.objects.exists():
        importlib.import_module("tax.migrations.0002_rule_sets").load(apps, None)


@pytest.fixture
def member(db):
    return make_member()


@pytest.fixture
def params(db):
    return {rs.code: rs.parameters for rs in TaxRuleSet.objects.all()}
