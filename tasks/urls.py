from django.urls import path
from django.utils.translation import gettext_lazy as _

from tasks import mobile, portal
from tasks.api import urls as api_urls

enterprise_urlpatterns = [
    path("tasks/", portal.task_list, name="tasks-list"),
    path("tasks/new/", portal.task_edit, name="tasks-create"),
    path("tasks/ready-to-pay/", portal.payable_list, name="tasks-payables"),
    path("tasks/<int:task_id>/", portal.task_detail, name="tasks-detail"),
    path("tasks/<int:task_id>/edit/", portal.task_edit, name="tasks-edit"),
    path("tasks/<int:task_id>/match/", portal.task_match, name="tasks-match"),
    path("tasks/<int:task_id>/split/", portal.task_split, name="tasks-split"),
    path("tasks/<int:task_id>/<slug:action>/", portal.task_action, name="tasks-action"),
    path("tasks/assignments/<int:assignment_id>/", portal.assignment_detail, name="tasks-assignment"),
    path("tasks/assignments/<int:assignment_id>/<slug:action>/", portal.assignment_action,
         name="tasks-assignment-action"),
    path("tasks/proofs/<int:file_id>/", portal.proof_download, name="tasks-proof"),
]

member_urlpatterns = [
    path("tasks/", mobile.task_browse, name="tasks-browse"),
    path("tasks/mine/", mobile.my_tasks, name="tasks-mine"),
    path("tasks/profile/", mobile.profile, name="tasks-profile"),
    path("tasks/<int:task_id>/", mobile.task_detail, name="tasks-detail"),
    path("tasks/<int:task_id>/take/", mobile.task_take, name="tasks-take"),
    path("tasks/assignments/<int:assignment_id>/", mobile.assignment_detail, name="tasks-assignment"),
    path("tasks/assignments/<int:assignment_id>/<slug:action>/", mobile.assignment_action,
         name="tasks-assignment-action"),
    path("tasks/proofs/<int:file_id>/", mobile.proof_download, name="tasks-proof"),
]

api_urlpatterns = api_urls.urlpatterns

enterprise_nav = [(30, _("任务"), "enterprise:tasks-list"), (35, _("待付款工作"), "enterprise:tasks-payables")]
member_nav = [(20, _("找任务"), "m:tasks-browse"), (25, _("我的任务"), "m:tasks-mine")]

enterprise_home_cards = portal.enterprise_home_cards
member_home_cards = mobile.member_home_cards
