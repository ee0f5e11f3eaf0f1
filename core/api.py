"""Partner API plumbing: the one exception handler, money fields, and the idempotency wrapper for views."""

from __future__ import annotations

import functools
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

from core import money
from core.exceptions import DomainError
from core.idempotency import fingerprint, run_idempotent

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    """Render every anticipated error as ``{"code", "message", "extra"}`` with the right HTTP status."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(
            {"code": "validation_failed", "message": _first_message(detail), "extra": {"fields": detail}},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        return Response({"code": "not_found", "message": _("未找到该对象"), "extra": {}}, status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response({"code": "permission_denied", "message": _("无权执行此操作"), "extra": {}}, status=403)
    response = drf_default_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"code": "validation_failed", "message": _first_message(fields), "extra": {"fields": fields}}
    else:
        code = getattr(exc, "default_code", "error")
        detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else str(exc)
        response.data = {"code": str(code), "message": str(detail), "extra": {}}
    return response


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            text = _first_message(value)
            if text:
                return text if field in ("non_field_errors", "__all__") else f"{field}: {text}"
        return _("输入有误")
    if isinstance(detail, list | tuple):
        return _first_message(detail[0]) if detail else _("输入有误")
    return str(detail)


class YuanAmountField(serializers.Field):
    """Amounts travel as decimal strings in yuan ("1234.56") and live as integer fen. Floats are refused."""

    default_error_messages = {"invalid": gettext_lazy("金额必须是字符串形式的十进制数，例如 \"1234.56\"")}

    def __init__(self, *, allow_zero: bool = False, allow_negative: bool = False, **kwargs):
        self.allow_zero, self.allow_negative = allow_zero, allow_negative
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> int:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return money.parse_yuan(
                data, allow_zero=self.allow_zero, allow_negative=self.allow_negative, field=self.field_name or _("金额")
            )
        except DomainError as error:
            raise serializers.ValidationError(error.message) from None

    def to_representation(self, value: int) -> str:
        return money.format_yuan(value)


def idempotent(scope: str):
    """Decorate an API view method so it runs at most once per Idempotency-Key and tenant.

    The view's tenant is ``request.merchant`` (set by the partner authentication). The request fingerprint covers
    the method, the path and the parsed body.
    """

    def decorator(view_method):
        @functools.wraps(view_method)
        def wrapper(self, request, *args, **kwargs):
            merchant = getattr(request, "merchant", None)
            key = request.headers.get("Idempotency-Key")
            request_fp = fingerprint(request.method, request.path, request.data)

            def execute():
                response = view_method(self, request, *args, **kwargs)
                return response.status_code, response.data

            result = run_idempotent(
                merchant=merchant, scope=scope, key=key, request_fingerprint=request_fp,
                now=timezone.now(), execute=execute,
            )
            response = Response(result.body, status=result.status)
            if result.replayed:
                response["Idempotent-Replayed"] = "true"
            return response

        return wrapper

    return decorator
