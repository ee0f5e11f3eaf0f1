from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("平台内核")

    def ready(self):
        import gc

        from django.conf import settings

        from core import lookups, schema  # noqa: F401  (registers the __any lookup and the OpenAPI field extensions)

        # The cyclic garbage collector's thresholds (settings.GC_THRESHOLDS). Python's default (700, 10, 10) runs a
        # young-generation pass every 700 container allocations; a batch job that keeps 100,000 orders' worth of
        # objects alive spent a third of its CPU in those passes (docs/benchmarks.md). Reference counting frees
        # everything that is not in a cycle either way; only cyclic garbage waits longer.
        gc.set_threshold(*settings.GC_THRESHOLDS)
