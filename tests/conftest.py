import datetime as dt

import pytest
from django.conf import settings
from django.core.cache import cache

from core.testing.factories import EnterpriseUserFactory, MerchantFactory, UserFactory, WorkerUserFactory

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def pytest_collection_modifyitems(config, items):
    if settings.USING_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); CI runs it there")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _platform_language():
    """Every test starts in the platform's language (Chinese), whatever an earlier test switched to."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def now():
    """A fixed 'now' for services (time is injected, never read from the clock in the domain)."""
    return dt.datetime(2026, 3, 16, 10, 30, tzinfo=SHANGHAI)


@pytest.fixture
def merchant(db):
    return MerchantFactory()


@pytest.fixture
def other_merchant(db):
    return MerchantFactory()


@pytest.fixture
def enterprise_admin(merchant):
    return EnterpriseUserFactory(merchant=merchant)


@pytest.fixture
def worker_user(db):
    return WorkerUserFactory()


@pytest.fixture
def ops_user(db):
    return UserFactory()
