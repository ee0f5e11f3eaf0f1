"""URLs by audience. Each app contributes lists from its own ``urls.py``:

- ``enterprise_urlpatterns`` under ``/enterprise/`` (enterprise portal),
- ``member_urlpatterns`` under ``/m/`` (workers' mobile site),
- ``api_urlpatterns`` under ``/api/v1/`` (partner REST API),
- ``public_urlpatterns`` at the root (e.g. document verification pages).
"""

from importlib import import_module

from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (kept for apps that want prefixed URLs)
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from core import views as core_views

DOMAIN_APPS = ["accounts", "merchants", "members", "tasks", "ledger", "payouts", "tax",
               "reconciliation", "risk", "archive", "complaints"]


def _collect(attribute: str) -> list:
    patterns = []
    for app in DOMAIN_APPS:
        try:
            module = import_module(f"{app}.urls")
        except ModuleNotFoundError as error:
            if error.name != f"{app}.urls":
                raise
            continue
        patterns += getattr(module, attribute, [])
    return patterns


# Operations staff sign in with password + TOTP (django-otp); the admin refuses unverified sessions.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "灵工运营后台"
admin.site.site_title = "灵工运营后台"
admin.site.index_title = "运营管理"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("", core_views.home, name="home"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("ops/", admin.site.urls),
    path("enterprise/", include((_collect("enterprise_urlpatterns"), "enterprise"))),
    path("m/", include((_collect("member_urlpatterns"), "m"))),
    path("api/v1/", include((_collect("api_urlpatterns"), "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    *_collect("public_urlpatterns"),
]
# Uploaded files (licences, contracts, proofs) are never served from MEDIA_URL: each download goes through a view
# that checks the tenant and the role.
