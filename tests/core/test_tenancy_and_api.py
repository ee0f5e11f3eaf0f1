import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as DRFValidationError

from accounts.models import User
from core.api import YuanAmountField, exception_handler
from core.exceptions import Conflict, NotFound
from core.tenancy import get_for_tenant
from core.testing.factories import EnterpriseUserFactory


@pytest.mark.django_db
class TestTenantLookup:
    def test_own_row_is_found(self, merchant):
        staff = EnterpriseUserFactory(merchant=merchant)
        assert get_for_tenant(User.objects.all(), merchant=merchant, pk=staff.pk) == staff

    def test_another_tenants_row_is_not_found_like_a_missing_one(self, merchant, other_merchant):
        staff = EnterpriseUserFactory(merchant=other_merchant)
        with pytest.raises(NotFound) as other:
            get_for_tenant(User.objects.all(), merchant=merchant, pk=staff.pk)
        with pytest.raises(NotFound) as missing:
            get_for_tenant(User.objects.all(), merchant=merchant, pk=999999)
        assert other.value.message == missing.value.message
        assert other.value.http_status == 404

    def test_no_tenant_means_not_found(self):
        with pytest.raises(NotFound):
            get_for_tenant(User.objects.all(), merchant=None, pk=1)


class TestExceptionHandler:
    def test_domain_error_renders_code_message_extra(self):
        response = exception_handler(Conflict("订单已确认", code="order_confirmed", extra={"order": 7}), {})
        assert response.status_code == 409
        assert response.data == {"code": "order_confirmed", "message": "订单已确认", "extra": {"order": 7}}

    def test_drf_validation_error_names_the_field(self):
        response = exception_handler(DRFValidationError({"amount": ["金额必须大于 0"]}), {})
        assert response.status_code == 400
        assert response.data["code"] == "validation_failed"
        assert response.data["message"] == "amount: 金额必须大于 0"

    def test_unexpected_errors_are_not_swallowed(self):
        assert exception_handler(RuntimeError("boom"), {}) is None


class _Amount(serializers.Serializer):
    amount = YuanAmountField()


class TestYuanAmountField:
    def test_string_in_fen_out_and_back(self):
        serializer = _Amount(data={"amount": "1234.56"})
        assert serializer.is_valid(), serializer.errors
        assert serializer.validated_data["amount"] == 123456
        assert _Amount({"amount": 123456}).data == {"amount": "1234.56"}

    @pytest.mark.parametrize("value", [1234.56, 1234, "1.234", "-1.00", "0"])
    def test_refuses_floats_numbers_and_bad_strings(self, value):
        assert not _Amount(data={"amount": value}).is_valid()
