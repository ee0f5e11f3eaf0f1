"""Base factories. Tenant-owned factories derive their merchant from their parent so related rows share a tenant."""

from __future__ import annotations

import itertools

import factory

from accounts.models import Kind, Role, User
from core.pii import blind_index
from core.validators import id_check_char, uscc_check_char
from merchants.models import Merchant

_counter = itertools.count(1)


def make_uscc(n: int) -> str:
    body = f"9112011{n:010d}"[:17]
    return body + uscc_check_char(body)


def make_resident_id(n: int, *, birth: str = "19900101", region: str = "120101") -> str:
    body = f"{region}{birth}{n % 1000:03d}"
    return body + id_check_char(body)


def make_phone(n: int) -> str:
    return f"139{n:08d}"[:11]


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    uscc = factory.Sequence(lambda n: make_uscc(n + 1000))
    status = Merchant.Status.ACTIVE


class TenantOwnedFactory(factory.django.DjangoModelFactory):
    """Subclass for tenant-owned models; pass ``merchant=`` or get a fresh one."""

    class Meta:
        abstract = True

    merchant = factory.SubFactory(MerchantFactory)


def same_tenant(parent_attribute: str):
    """``merchant = same_tenant("task")`` takes the merchant of the row's ``task``."""
    return factory.LazyAttribute(lambda o: getattr(o, parent_attribute).merchant)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.OPS_SUPPORT
    kind = factory.LazyAttribute(lambda o: {"OPS": Kind.PLATFORM, "ENT": Kind.ENTERPRISE}.get(o.role[:3], Kind.WORKER))
    is_staff = factory.LazyAttribute(lambda o: o.kind == Kind.PLATFORM)
    password = factory.PostGenerationMethodCall("set_password", "Secret-pass-123")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class EnterpriseUserFactory(UserFactory):
    role = Role.ENT_ADMIN
    merchant = factory.SubFactory(MerchantFactory)


class WorkerUserFactory(UserFactory):
    role = Role.WORKER
    kind = Kind.WORKER
    phone = factory.Sequence(lambda n: make_phone(n + 100))
    phone_index = factory.LazyAttribute(lambda o: blind_index(o.phone, purpose="phone"))
