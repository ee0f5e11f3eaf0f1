"""Template context shared by the three portals.

Navigation is contributed by the apps themselves: an app's ``urls.py`` may define ``enterprise_nav`` and
``member_nav`` as lists of ``(order, label, url_name)``; the portals' base templates render them sorted by order.
"""

from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.urls import NoReverseMatch, reverse


@lru_cache(maxsize=2)
def _nav(attribute: str) -> tuple:
    from config.urls import DOMAIN_APPS

    items = []
    for app in DOMAIN_APPS:
        try:
            module = import_module(f"{app}.urls")
        except ModuleNotFoundError:
            continue
        items += getattr(module, attribute, [])
    return tuple(sorted(items, key=lambda item: item[0]))


def _resolved(attribute: str, current_path: str) -> list[dict]:
    entries = []
    for _, label, url_name in _nav(attribute):
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        entries.append({"label": label, "url": url, "active": current_path.startswith(url) and url.count("/") > 2})
    return entries


def platform(request):
    path = getattr(request, "path", "")
    context = {"PLATFORM_NAME": settings.PLATFORM_NAME, "PLATFORM_LEGAL_NAME": settings.PLATFORM_LEGAL_NAME,
               "LINGGONG_ENV": settings.ENV}
    if path.startswith("/enterprise/"):
        context["portal_nav"] = _resolved("enterprise_nav", path)
    elif path.startswith("/m/"):
        context["portal_nav"] = _resolved("member_nav", path)
    return context
