"""Operations back office for tasks: the review queue (approve / reject / send back), disputes, full history.

Every state change goes through a service (audited); money and state fields are read-only here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import DomainError
from core.money import format_cny
from tasks import selectors, services
from tasks.models import (
    BannedWord,
    CheckIn,
    Evaluation,
    MerchantCategory,
    PayableWork,
    ProofFile,
    Task,
    TaskAssignment,
    TaskCategory,
    TaskInReview,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TaskCategory)
class TaskCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "pricing_modes", "min_price", "max_price", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")

    @admin.display(description=gettext_lazy("最低单价"))
    def min_price(self, obj):
        return format_cny(obj.min_unit_price_fen)

    @admin.display(description=gettext_lazy("最高单价"))
    def max_price(self, obj):
        return format_cny(obj.max_unit_price_fen)


@admin.register(MerchantCategory)
class MerchantCategoryAdmin(admin.ModelAdmin):
    """Which scenarios each enterprise may publish in. Adding and removing go through audited services."""

    list_display = ("merchant", "category", "approved_at", "note")
    list_filter = ("category",)
    search_fields = ("merchant__name",)
    fields = ("merchant", "category", "note", "approved_at")
    readonly_fields = ("approved_at",)
    list_select_related = ("merchant", "category")

    def get_readonly_fields(self, request, obj=None):
        return ("merchant", "category", "approved_at") if obj else ("approved_at",)

    def save_model(self, request, obj, form, change):
        if change:
            MerchantCategory.objects.filter(pk=obj.pk).update(note=obj.note, updated_at=timezone.now())
            return
        row = services.merchant_category_grant(merchant=obj.merchant, category=obj.category, actor=request.user,
                                               now=timezone.now(), note=obj.note)
        obj.pk, obj.approved_at = row.pk, row.approved_at

    def delete_model(self, request, obj):
        services.merchant_category_revoke(merchant=obj.merchant, category=obj.category, actor=request.user,
                                          now=timezone.now())

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("merchant", "category"):
            self.delete_model(request, obj)


@admin.register(BannedWord)
class BannedWordAdmin(admin.ModelAdmin):
    list_display = ("word", "reason", "created_at")
    search_fields = ("word",)


class AssignmentInline(admin.TabularInline):
    model = TaskAssignment
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("member", "part_no", "status", "planned_quantity", "reported_quantity", "accepted_quantity",
              "submitted_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """The review queue: filter by 待审核; open a task to see the rule findings, approve, reject or send it back."""

    change_form_template = "admin/tasks/task/change_form.html"
    list_display = ("id", "title", "merchant", "category", "status", "unit_price", "headcount", "budget",
                    "submitted_at")
    list_filter = ("status", "category", "pricing_mode", "is_remote")
    search_fields = ("title", "merchant__name")
    list_select_related = ("merchant", "category")
    inlines = [AssignmentInline]
    actions = ["approve_selected"]
    readonly_fields = [f.name for f in Task._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Nothing is saved from the form: review decisions go through ``review_view`` (services)."""

    @admin.display(description=gettext_lazy("单价"))
    def unit_price(self, obj):
        return f"{format_cny(obj.unit_price_fen)}/{obj.get_pricing_mode_display()}"

    @admin.display(description=gettext_lazy("预算"))
    def budget(self, obj):
        return format_cny(obj.budget_fen)

    @admin.action(description=gettext_lazy("审核通过所选任务（逐个运行规则检查）"))
    def approve_selected(self, request, queryset):
        approved = 0
        for task in queryset.order_by("id"):
            try:
                services.task_approve(task_id=task.pk, actor=request.user, now=timezone.now())
                approved += 1
            except DomainError as error:
                self.message_user(request, _("任务 #{pk}：{message}").format(pk=task.pk, message=error.message), messages.ERROR)
        if approved:
            self.message_user(request, _("已审核通过 {approved} 个任务").format(approved=approved), messages.SUCCESS)

    def get_urls(self):
        return [path("<int:task_id>/review/", self.admin_site.admin_view(self.review_view),
                     name="tasks_task_review"), *super().get_urls()]

    def review_view(self, request, task_id: int):
        if request.method != "POST":
            return redirect(reverse("admin:tasks_task_change", args=[task_id]))
        decision, reason, now = request.POST.get("decision"), request.POST.get("reason", ""), timezone.now()
        try:
            if decision == "approve":
                services.task_approve(task_id=task_id, actor=request.user, now=now)
                done = _("已审核通过并发布")
            elif decision == "reject":
                services.task_reject(task_id=task_id, actor=request.user, reason=reason, now=now)
                done = _("已驳回")
            elif decision == "send_back":
                services.task_send_back(task_id=task_id, actor=request.user, reason=reason, now=now)
                done = _("已退回企业修改")
            else:
                raise DomainError(_("请选择审核结果"))
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return redirect(reverse("admin:tasks_task_change", args=[task_id]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        task = get_object_or_404(Task, pk=object_id)
        extra_context = {**(extra_context or {}), "task_obj": task, "history": selectors.task_history(task=task),
                         "review_url": reverse("admin:tasks_task_review", args=[task.pk])}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(TaskInReview)
class TaskInReviewAdmin(TaskAdmin):
    """Only what waits for a decision, oldest submission first; opening one shows the same review box."""

    list_filter = ("category", "pricing_mode", "is_remote")
    inlines = []

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Task.Status.SUBMITTED).order_by("submitted_at", "id")

    def get_urls(self):
        return admin.ModelAdmin.get_urls(self)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect(reverse("admin:tasks_task_change", args=[object_id]))


@admin.register(TaskAssignment)
class TaskAssignmentAdmin(admin.ModelAdmin):
    """Every worker's part in a task; disputes (申诉中) are resolved here."""

    change_form_template = "admin/tasks/taskassignment/change_form.html"
    list_display = ("id", "task", "member", "part_no", "status", "reported_quantity", "accepted_quantity",
                    "disputed_at")
    list_filter = ("status",)
    search_fields = ("task__title", "task__merchant__name")
    list_select_related = ("task", "member")
    readonly_fields = [f.name for f in TaskAssignment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Nothing is saved from the form: disputes are resolved through ``resolve_view`` (a service)."""

    def get_urls(self):
        return [path("<int:assignment_id>/resolve/", self.admin_site.admin_view(self.resolve_view),
                     name="tasks_taskassignment_resolve"), *super().get_urls()]

    def resolve_view(self, request, assignment_id: int):
        if request.method == "POST":
            decision = request.POST.get("decision")
            try:
                if decision not in ("worker", "enterprise"):
                    raise DomainError(_("请选择支持哪一方"))
                services.assignment_resolve_dispute(
                    assignment_id=assignment_id, actor=request.user, for_worker=decision == "worker",
                    note=request.POST.get("note", ""), quantity=request.POST.get("quantity") or None,
                    now=timezone.now())
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("申诉已处理"), messages.SUCCESS)
        return redirect(reverse("admin:tasks_taskassignment_change", args=[assignment_id]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        assignment = get_object_or_404(TaskAssignment, pk=object_id)
        files = [format_html('<a href="{}">{} #{}</a>（SHA-256 {}…）',
                             reverse("admin:tasks_prooffile_download", args=[f.pk]), f.get_kind_display(), f.pk,
                             f.sha256[:16]) for f in assignment.proof_files.order_by("id")]
        extra_context = {**(extra_context or {}), "assignment_obj": assignment, "proof_links": files,
                         "resolve_url": reverse("admin:tasks_taskassignment_resolve", args=[assignment.pk])}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ProofFile)
class ProofFileAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "assignment", "kind", "content_type", "size", "sha256", "uploaded_at")
    list_filter = ("kind",)
    exclude = ("file",)

    def get_urls(self):
        return [path("<int:file_id>/download/", self.admin_site.admin_view(self.download_view),
                     name="tasks_prooffile_download"), *super().get_urls()]

    def download_view(self, request, file_id: int):
        from tasks.portal import _file_response

        return _file_response(get_object_or_404(ProofFile, pk=file_id))


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "assignment", "kind", "distance_m", "at")
    list_filter = ("kind",)


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "assignment", "direction", "stars", "comment", "at")
    list_filter = ("direction", "stars")


@admin.register(PayableWork)
class PayableWorkAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "merchant", "task", "member", "quantity", "amount", "status", "reserved_ref", "accepted_at")
    list_filter = ("status",)
    list_select_related = ("merchant", "task", "member")

    @admin.display(description=gettext_lazy("金额"))
    def amount(self, obj):
        return format_cny(obj.amount_fen)
