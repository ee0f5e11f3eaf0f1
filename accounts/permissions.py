"""Permission checks used by every view: by role, and for enterprise staff, by their own merchant."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from accounts.exceptions import RoleRequired
from accounts.models import ENTERPRISE_ROLES, PLATFORM_ROLES, Kind, Role

# What each enterprise role may do. Views name the capability, not the role.
ENTERPRISE_CAPABILITIES = {
    "view": {Role.ENT_ADMIN, Role.ENT_FINANCE, Role.ENT_OPERATOR},
    "manage_staff": {Role.ENT_ADMIN},
    "manage_api_keys": {Role.ENT_ADMIN},
    "manage_tasks": {Role.ENT_ADMIN, Role.ENT_OPERATOR},
    "manage_workers": {Role.ENT_ADMIN, Role.ENT_OPERATOR},
    "create_payments": {Role.ENT_ADMIN, Role.ENT_FINANCE, Role.ENT_OPERATOR},
    "confirm_payments": {Role.ENT_ADMIN, Role.ENT_FINANCE},
    "finance": {Role.ENT_ADMIN, Role.ENT_FINANCE},
    "sign_agreements": {Role.ENT_ADMIN},
}


def require_role(user, *roles: str) -> None:
    if not (user and user.is_authenticated and user.has_role(*roles)):
        raise RoleRequired(_("您的角色无权执行此操作，请联系管理员"))


def require_capability(user, capability: str) -> None:
    require_role(user, *ENTERPRISE_CAPABILITIES[capability])


def can(user, capability: str) -> bool:
    return bool(user and user.is_authenticated and user.has_role(*ENTERPRISE_CAPABILITIES[capability]))


def enterprise_required(capability: str = "view", login_url: str = "/enterprise/login/"):
    """Decorator for enterprise portal views: signed-in enterprise staff with the capability; sets request.merchant."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated or user.kind != Kind.ENTERPRISE:
                return redirect_to_login(request.get_full_path(), login_url)
            require_capability(user, capability)
            request.merchant = user.merchant
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def worker_required(login_url: str = "/m/login/"):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated or request.user.kind != Kind.WORKER:
                return redirect_to_login(request.get_full_path(), login_url)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class IsPlatformStaff(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.role in PLATFORM_ROLES)


class IsEnterpriseStaff(BasePermission):
    """For partner API views: an enterprise user or an API key of an enterprise; sets request.merchant."""

    def has_permission(self, request, view):
        merchant = getattr(request, "merchant", None)
        if merchant is None and request.user and request.user.is_authenticated and request.user.role in ENTERPRISE_ROLES:
            request.merchant = request.user.merchant
            merchant = request.merchant
        return merchant is not None
