from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("平台内核")

    def ready(self):
        from core import lookups, schema  # noqa: F401  (registers the __any lookup and the OpenAPI field extensions)
