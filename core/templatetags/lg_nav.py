"""``{% active_nav portal_nav request.path as nav %}``: the navigation with exactly one active entry.

The context processor marks every entry whose URL is a prefix of the page's path, so on /m/tasks/mine/ both
"找任务" (/m/tasks/) and "我的任务" (/m/tasks/mine/) lit up; the longest match is the page the user is on."""

from django import template

register = template.Library()


@register.simple_tag
def active_nav(items, path: str) -> list[dict]:
    items = list(items or [])
    matches = [item["url"] for item in items if path.startswith(item["url"])]
    best = max(matches, key=len, default=None)
    best = best if best and best.count("/") > 2 else None  # the portal root (/m/, /enterprise/) has its own entry
    return [{**item, "active": item["url"] == best} for item in items]
