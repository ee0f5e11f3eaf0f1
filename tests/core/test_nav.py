"""core/templatetags/lg_nav.py: one navigation entry is active, the most specific one."""

from core.templatetags.lg_nav import active_nav

NAV = [{"label": "找任务", "url": "/m/tasks/", "active": True}, {"label": "我的任务", "url": "/m/tasks/mine/", "active": True},
       {"label": "收入与纳税", "url": "/m/tax/", "active": False}]


def test_the_longest_matching_entry_wins():
    assert [i["active"] for i in active_nav(NAV, "/m/tasks/mine/")] == [False, True, False]
    assert [i["active"] for i in active_nav(NAV, "/m/tasks/12/")] == [True, False, False]
    assert [i["active"] for i in active_nav(NAV, "/m/tax/calculator/")] == [False, False, True]


def test_no_entry_is_active_on_the_home_page_or_elsewhere():
    assert not any(i["active"] for i in active_nav(NAV, "/m/"))
    assert not any(i["active"] for i in active_nav(NAV, "/m/me/"))
    assert active_nav(None, "/m/") == []


def test_the_labels_and_urls_are_kept():
    assert [(i["label"], i["url"]) for i in active_nav(NAV, "/m/")] == [(i["label"], i["url"]) for i in NAV]
