"""Partner REST API for the whole task lifecycle (/api/v1/tasks/…). One APIView per operation, one service call.

Errors render as ``{"code", "message", "extra"}`` (core.api). Creating a task and accepting work take an
``Idempotency-Key`` header, so a retried request never creates a second task or a second payable item.
"""

from __future__ import annotations

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Kind
from accounts.permissions import IsEnterpriseStaff, can
from core.api import idempotent
from tasks import matching, selectors, services
from tasks.api import serializers as s
from tasks.models import PayableWork

IDEMPOTENCY_HEADER = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
                                      description="每个新请求一个唯一值（如 UUID）；重试时用同一个值")


class CanManageTasks(BasePermission):
    """Reads for any enterprise principal; writes need the "manage_tasks" capability when the caller is staff."""

    message = _("您的角色无权管理任务，请联系企业管理员")

    def has_permission(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        user = request.user
        if user and user.is_authenticated and user.kind == Kind.ENTERPRISE:
            return can(user, "manage_tasks")
        return True


class TasksApi(APIView):
    permission_classes = [IsEnterpriseStaff, CanManageTasks]


class TaskListApi(TasksApi):
    OutputSerializer = s.TaskOutputSerializer

    @extend_schema(operation_id="tasks_list", responses=s.TaskOutputSerializer(many=True),  # paginated: count/next/results
                   parameters=[OpenApiParameter("status", str, description="按状态筛选")], tags=["tasks"])
    def get(self, request):
        tasks = selectors.task_list(merchant=request.merchant, status=request.query_params.get("status") or None)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class TaskCreateApi(TasksApi):
    @extend_schema_serializer(component_name="TaskCreateInput")
    class InputSerializer(s.TaskInputSerializer):
        pass

    OutputSerializer = s.TaskOutputSerializer

    @extend_schema(operation_id="tasks_create", request=InputSerializer, responses={201: s.TaskOutputSerializer},
                   parameters=[IDEMPOTENCY_HEADER], tags=["tasks"])
    @idempotent("tasks.task.create")
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.task_create(merchant=request.merchant, data=serializer.to_data(), actor=_actor(request),
                                    now=timezone.now())
        return Response(self.OutputSerializer(task).data, status=201)


class TaskDetailApi(TasksApi):
    OutputSerializer = s.TaskOutputSerializer

    @extend_schema(operation_id="tasks_retrieve", responses=s.TaskOutputSerializer, tags=["tasks"])
    def get(self, request, task_id: int):
        return Response(self.OutputSerializer(selectors.task_get(merchant=request.merchant, task_id=task_id)).data)


class TaskUpdateApi(TasksApi):
    @extend_schema_serializer(component_name="TaskUpdateInput")
    class InputSerializer(s.TaskInputSerializer):
        pass

    OutputSerializer = s.TaskOutputSerializer

    @extend_schema(operation_id="tasks_update", request=InputSerializer, responses=s.TaskOutputSerializer,
                   tags=["tasks"])
    def put(self, request, task_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.task_update(merchant=request.merchant, task_id=task_id, data=serializer.to_data(),
                                    actor=_actor(request), now=timezone.now())
        return Response(self.OutputSerializer(task).data)


def _actor(request):
    """The staff user, or the partner's API key principal (services keep only real users on their rows)."""
    user = request.user
    return user if user and user.is_authenticated else None


def _transition_api(name: str, service, summary: str):
    """One APIView class per task transition (submit, withdraw, reopen, close, complete, cancel)."""

    class TaskTransitionApi(TasksApi):
        OutputSerializer = s.TaskOutputSerializer

        @extend_schema(operation_id=f"tasks_{name}", request=None, responses=s.TaskOutputSerializer, tags=["tasks"],
                       summary=summary)
        def post(self, request, task_id: int):
            task = service(merchant=request.merchant, task_id=task_id, actor=_actor(request), now=timezone.now())
            return Response(self.OutputSerializer(task).data)

    TaskTransitionApi.__name__ = TaskTransitionApi.__qualname__ = f"Task{name.title()}Api"
    return TaskTransitionApi


TaskSubmitApi = _transition_api("submit", services.task_submit, "提交审核（先运行规则检查）")
TaskWithdrawApi = _transition_api("withdraw", services.task_withdraw, "撤回审核")
TaskReopenApi = _transition_api("reopen", services.task_reopen_for_change, "已发布任务转回草稿修改（需重新审核）")
TaskCloseApi = _transition_api("close", services.task_close, "停止接取")
TaskCompleteApi = _transition_api("complete", services.task_complete, "结束任务")
TaskCancelApi = _transition_api("cancel", services.task_cancel, "取消未发布的任务")


class TaskAssignmentListApi(TasksApi):
    OutputSerializer = s.AssignmentOutputSerializer

    @extend_schema(operation_id="tasks_assignments_list", responses=s.AssignmentOutputSerializer(many=True),
                   tags=["tasks"])
    def get(self, request, task_id: int):
        task = selectors.task_get(merchant=request.merchant, task_id=task_id)
        rows = selectors.assignment_list(merchant=request.merchant, task_id=task.pk).prefetch_related("proof_files")
        return Response(self.OutputSerializer(rows, many=True).data)


class TaskRecommendationsApi(TasksApi):
    OutputSerializer = s.MatchOutputSerializer

    @extend_schema(operation_id="tasks_recommendations", responses=s.MatchOutputSerializer(many=True),
                   tags=["tasks"])
    def get(self, request, task_id: int):
        matches = matching.recommend_workers(merchant=request.merchant, task_id=task_id)
        return Response(self.OutputSerializer(matches, many=True).data)


class TaskInviteApi(TasksApi):
    @extend_schema_serializer(component_name="TaskInviteInput")
    class InputSerializer(serializers.Serializer):
        member_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False,
                                           max_length=200)

    OutputSerializer = s.AssignmentOutputSerializer

    @extend_schema(operation_id="tasks_invite", request=InputSerializer,
                   responses={201: s.AssignmentOutputSerializer(many=True)}, tags=["tasks"])
    def post(self, request, task_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.task_invite(merchant=request.merchant, task_id=task_id,
                                       member_ids=serializer.validated_data["member_ids"], actor=_actor(request),
                                       now=timezone.now())
        return Response(self.OutputSerializer(created, many=True).data, status=201)


class TaskSplitApi(TasksApi):
    @extend_schema_serializer(component_name="TaskSplitInput")
    class InputSerializer(serializers.Serializer):
        parts = s.PartInputSerializer(many=True, allow_empty=False)

    OutputSerializer = s.AssignmentOutputSerializer

    @extend_schema(operation_id="tasks_split", request=InputSerializer,
                   responses={201: s.AssignmentOutputSerializer(many=True)}, tags=["tasks"], summary="分包")
    def post(self, request, task_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        parts = [s.PartInputSerializer().to_part(p) for p in serializer.validated_data["parts"]]
        created = services.task_split(merchant=request.merchant, task_id=task_id, parts=parts, actor=_actor(request),
                                      now=timezone.now())
        return Response(self.OutputSerializer(created, many=True).data, status=201)


class AssignmentDetailApi(TasksApi):
    OutputSerializer = s.AssignmentOutputSerializer

    @extend_schema(operation_id="tasks_assignment_retrieve", responses=s.AssignmentOutputSerializer, tags=["tasks"])
    def get(self, request, assignment_id: int):
        assignment = selectors.assignment_get(merchant=request.merchant, assignment_id=assignment_id)
        return Response(self.OutputSerializer(assignment).data)


class AssignmentApproveApi(TasksApi):
    OutputSerializer = s.AssignmentOutputSerializer

    @extend_schema(operation_id="tasks_assignment_approve", request=None, responses=s.AssignmentOutputSerializer,
                   tags=["tasks"], summary="录用报名人员")
    def post(self, request, assignment_id: int):
        assignment = services.assignment_approve(merchant=request.merchant, assignment_id=assignment_id,
                                                 actor=_actor(request), now=timezone.now())
        return Response(self.OutputSerializer(assignment).data)


class AssignmentDeclineApi(TasksApi):
    OutputSerializer = s.AssignmentOutputSerializer

    @extend_schema(operation_id="tasks_assignment_decline", request=None, responses=s.AssignmentOutputSerializer,
                   tags=["tasks"], summary="谢绝报名人员")
    def post(self, request, assignment_id: int):
        assignment = services.assignment_decline(merchant=request.merchant, assignment_id=assignment_id,
                                                 actor=_actor(request), now=timezone.now())
        return Response(self.OutputSerializer(assignment).data)


class AssignmentAcceptApi(TasksApi):
    @extend_schema_serializer(component_name="AssignmentAcceptInput")
    class InputSerializer(serializers.Serializer):
        quantity = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True,
                                            default=None, help_text="验收数量；不填则按灵工人员上报的数量")

    OutputSerializer = s.PayableOutputSerializer

    @extend_schema(operation_id="tasks_assignment_accept", request=InputSerializer,
                   responses={201: s.PayableOutputSerializer}, parameters=[IDEMPOTENCY_HEADER], tags=["tasks"],
                   summary="验收通过（生成待付款工作）")
    @idempotent("tasks.assignment.accept")
    def post(self, request, assignment_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payable = services.assignment_accept(merchant=request.merchant, assignment_id=assignment_id,
                                             actor=_actor(request), now=timezone.now(),
                                             quantity=serializer.validated_data["quantity"])
        return Response(self.OutputSerializer(payable).data, status=201)


class AssignmentRejectApi(TasksApi):
    @extend_schema_serializer(component_name="AssignmentRejectInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=1000)

    OutputSerializer = s.AssignmentOutputSerializer

    @extend_schema(operation_id="tasks_assignment_reject", request=InputSerializer,
                   responses=s.AssignmentOutputSerializer, tags=["tasks"], summary="验收不通过")
    def post(self, request, assignment_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_reject(merchant=request.merchant, assignment_id=assignment_id,
                                                actor=_actor(request), reason=serializer.validated_data["reason"],
                                                now=timezone.now())
        return Response(self.OutputSerializer(assignment).data)


class AssignmentEvaluateApi(TasksApi):
    @extend_schema_serializer(component_name="AssignmentEvaluateInput")
    class InputSerializer(serializers.Serializer):
        stars = serializers.IntegerField(min_value=1, max_value=5)
        comment = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)

    @extend_schema_serializer(component_name="AssignmentEvaluateOutput")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        stars = serializers.IntegerField()
        comment = serializers.CharField()

    @extend_schema(operation_id="tasks_assignment_evaluate", request=InputSerializer,
                   responses={201: OutputSerializer}, tags=["tasks"], summary="评价灵工人员")
    def post(self, request, assignment_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evaluation = services.evaluation_of_worker_create(merchant=request.merchant, assignment_id=assignment_id,
                                                          actor=_actor(request), now=timezone.now(),
                                                          **serializer.validated_data)
        return Response(self.OutputSerializer(evaluation).data, status=201)


class PayableWorkListApi(TasksApi):
    OutputSerializer = s.PayableOutputSerializer

    @extend_schema(operation_id="tasks_payable_work_list", responses=s.PayableOutputSerializer(many=True),
                   parameters=[OpenApiParameter("status", str, enum=PayableWork.Status.values,
                                                description="默认 READY（待付款）")], tags=["tasks"])
    def get(self, request):
        status = request.query_params.get("status", PayableWork.Status.READY)
        rows = selectors.payable_work_list(merchant=request.merchant, status=status or None)
        return Response(self.OutputSerializer(rows, many=True).data)


class CategoryListApi(TasksApi):
    OutputSerializer = s.CategoryOutputSerializer

    @extend_schema(operation_id="tasks_categories_list", responses=s.CategoryOutputSerializer(many=True),
                   tags=["tasks"], summary="本企业已批准的业务场景")
    def get(self, request):
        rows = selectors.approved_category_list(merchant=request.merchant)
        return Response(self.OutputSerializer(rows, many=True).data)


class ProofFileDownloadApi(TasksApi):
    @extend_schema(operation_id="tasks_proof_file_download", responses={(200, "application/octet-stream"): bytes},
                   tags=["tasks"])
    def get(self, request, file_id: int):
        proof = selectors.proof_file_get(merchant=request.merchant, file_id=file_id)
        response = FileResponse(proof.file.open("rb"), content_type=proof.content_type)
        response["X-Checksum-SHA256"] = proof.sha256
        response["X-Content-Type-Options"] = "nosniff"
        return response


