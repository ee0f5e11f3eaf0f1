from django.urls import path

from tasks.api import views

urlpatterns = [
    path("tasks/", views.TaskListApi.as_view(), name="tasks-list"),
    path("tasks/create/", views.TaskCreateApi.as_view(), name="tasks-create"),
    path("tasks/categories/", views.CategoryListApi.as_view(), name="tasks-categories"),
    path("tasks/payable-work/", views.PayableWorkListApi.as_view(), name="tasks-payable-work"),
    path("tasks/proof-files/<int:file_id>/", views.ProofFileDownloadApi.as_view(), name="tasks-proof-file"),
    path("tasks/<int:task_id>/", views.TaskDetailApi.as_view(), name="tasks-detail"),
    path("tasks/<int:task_id>/update/", views.TaskUpdateApi.as_view(), name="tasks-update"),
    path("tasks/<int:task_id>/submit/", views.TaskSubmitApi.as_view(), name="tasks-submit"),
    path("tasks/<int:task_id>/withdraw/", views.TaskWithdrawApi.as_view(), name="tasks-withdraw"),
    path("tasks/<int:task_id>/reopen/", views.TaskReopenApi.as_view(), name="tasks-reopen"),
    path("tasks/<int:task_id>/close/", views.TaskCloseApi.as_view(), name="tasks-close"),
    path("tasks/<int:task_id>/complete/", views.TaskCompleteApi.as_view(), name="tasks-complete"),
    path("tasks/<int:task_id>/cancel/", views.TaskCancelApi.as_view(), name="tasks-cancel"),
    path("tasks/<int:task_id>/assignments/", views.TaskAssignmentListApi.as_view(), name="tasks-assignments"),
    path("tasks/<int:task_id>/recommendations/", views.TaskRecommendationsApi.as_view(), name="tasks-recommendations"),
    path("tasks/<int:task_id>/invite/", views.TaskInviteApi.as_view(), name="tasks-invite"),
    path("tasks/<int:task_id>/split/", views.TaskSplitApi.as_view(), name="tasks-split"),
    path("tasks/assignments/<int:assignment_id>/", views.AssignmentDetailApi.as_view(), name="tasks-assignment"),
    path("tasks/assignments/<int:assignment_id>/approve/", views.AssignmentApproveApi.as_view(),
         name="tasks-assignment-approve"),
    path("tasks/assignments/<int:assignment_id>/decline/", views.AssignmentDeclineApi.as_view(),
         name="tasks-assignment-decline"),
    path("tasks/assignments/<int:assignment_id>/accept/", views.AssignmentAcceptApi.as_view(),
         name="tasks-assignment-accept"),
    path("tasks/assignments/<int:assignment_id>/reject/", views.AssignmentRejectApi.as_view(),
         name="tasks-assignment-reject"),
    path("tasks/assignments/<int:assignment_id>/evaluate/", views.AssignmentEvaluateApi.as_view(),
         name="tasks-assignment-evaluate"),
]
