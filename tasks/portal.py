"""Enterprise portal pages for tasks (/enterprise/tasks/…): thin views, one service call each."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import can, enterprise_required
from core.charts import bar_chart_from_pairs, totals_by_month
from core.exceptions import DomainError
from core.money import format_cny
from tasks import matching, selectors, services
from tasks.forms import AcceptForm, EvaluationForm, ReasonForm, TaskForm
from tasks.inputs import PartData
from tasks.models import PayableWork, Task


def _flash_error(request, error: DomainError) -> None:
    messages.error(request, error.message)


def _task_or_404(request, task_id):
    try:
        return selectors.task_get(merchant=request.merchant, task_id=task_id)
    except DomainError:
        raise Http404(gettext("未找到该任务")) from None


@enterprise_required("view")
def task_list(request):
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()
    tasks = selectors.task_list(merchant=request.merchant, status=status or None, q=q)[:200]
    # every task of the enterprise, whatever the filter: the chart compares statuses
    counts = dict(Task.objects.for_tenant(request.merchant).values_list("status").annotate(n=Count("id")).order_by())
    status_chart = bar_chart_from_pairs([(label, counts[value]) for value, label in Task.Status.choices if counts.get(value)],
                                        money=False)
    return render(request, "tasks/enterprise/list.html", {
        "tasks": tasks, "statuses": Task.Status.choices, "status": status, "q": q,
        "can_manage": can(request.user, "manage_tasks"), "status_chart": status_chart,
    })


@enterprise_required("manage_tasks")
@require_http_methods(["GET", "POST"])
def task_edit(request, task_id: int | None = None):
    task = _task_or_404(request, task_id) if task_id else None
    categories = selectors.approved_category_list(merchant=request.merchant)
    now = timezone.now()
    form = TaskForm(request.POST or None, categories=categories, initial=TaskForm.initial_for(task, now=now))
    if request.method == "POST" and form.is_valid():
        try:
            if task is None:
                task = services.task_create(merchant=request.merchant, data=form.to_data(), actor=request.user, now=now)
                messages.success(request, gettext("任务草稿已保存。检查无误后请“提交审核”。"))
            else:
                services.task_update(merchant=request.merchant, task_id=task.pk, data=form.to_data(),
                                     actor=request.user, now=now)
                messages.success(request, gettext("任务已修改"))
        except DomainError as error:
            field = error.extra.get("form_field") or error.extra.get("field")
            field = {"unit_price": "unit_price", "budget": "budget"}.get(field, field)
            form.add_error(field if field in form.fields else None, error.message)
        else:
            return redirect("enterprise:tasks-detail", task_id=task.pk)
    if not categories:
        messages.warning(request, gettext("贵企业尚未开通任何业务场景，请联系平台运营开通后再发布任务。"))
    return render(request, "tasks/enterprise/edit.html", {"form": form, "task": task})


@enterprise_required("view")
def task_detail(request, task_id: int):
    task = _task_or_404(request, task_id)
    assignments = list(selectors.assignment_list(merchant=request.merchant, task_id=task.pk))
    taken = sum(1 for a in assignments if a.holds_slot)
    accepted_fen = sum(a.payable.amount_fen for a in assignments if hasattr(a, "payable"))
    return render(request, "tasks/enterprise/detail.html", {
        "task": task, "assignments": assignments, "taken": taken, "accepted_total": format_cny(accepted_fen),
        "can_manage": can(request.user, "manage_tasks"), "reason_form": ReasonForm(), "accept_form": AcceptForm(),
    })


TASK_ACTIONS = {
    "submit": (services.task_submit, gettext_lazy("已提交平台审核，审核结果会在这里显示")),
    "withdraw": (services.task_withdraw, gettext_lazy("已撤回审核，任务回到草稿")),
    "reopen": (services.task_reopen_for_change, gettext_lazy("任务已转回草稿：修改后请重新提交审核（已接取的人员不受影响）")),
    "close": (services.task_close, gettext_lazy("已停止接取，未处理的报名已谢绝")),
    "complete": (services.task_complete, gettext_lazy("任务已完成")),
    "cancel": (services.task_cancel, gettext_lazy("任务已取消")),
}


@enterprise_required("manage_tasks")
@require_POST
def task_action(request, task_id: int, action: str):
    if action not in TASK_ACTIONS:
        raise Http404
    service, done = TASK_ACTIONS[action]
    try:
        service(merchant=request.merchant, task_id=task_id, actor=request.user, now=timezone.now())
    except DomainError as error:
        _flash_error(request, error)
    else:
        messages.success(request, done)
    return redirect("enterprise:tasks-detail", task_id=task_id)


@enterprise_required("view")
def assignment_detail(request, assignment_id: int):
    try:
        assignment = selectors.assignment_get(merchant=request.merchant, assignment_id=assignment_id)
    except DomainError:
        raise Http404 from None
    return render(request, "tasks/enterprise/assignment.html", {
        "a": assignment, "task": assignment.task, "files": assignment.proof_files.order_by("uploaded_at", "id"),
        "check_ins": assignment.check_ins.order_by("at", "id"),
        "evaluations": selectors.evaluation_list(assignment=assignment),
        "payable": PayableWork.objects.filter(assignment=assignment).first(),
        "can_manage": can(request.user, "manage_tasks"), "reason_form": ReasonForm(),
        "accept_form": AcceptForm(initial={"quantity": assignment.reported_quantity}),
        "evaluation_form": EvaluationForm(),
    })


@enterprise_required("manage_tasks")
@require_POST
def assignment_action(request, assignment_id: int, action: str):
    now, merchant, actor = timezone.now(), request.merchant, request.user
    back = request.POST.get("next") or ""
    try:
        if action == "approve":
            services.assignment_approve(merchant=merchant, assignment_id=assignment_id, actor=actor, now=now)
            done = gettext("已录用")
        elif action == "decline":
            services.assignment_decline(merchant=merchant, assignment_id=assignment_id, actor=actor, now=now)
            done = gettext("已谢绝")
        elif action == "accept":
            form = AcceptForm(request.POST)
            quantity = form.cleaned_data.get("quantity") if form.is_valid() else None
            payable = services.assignment_accept(merchant=merchant, assignment_id=assignment_id, actor=actor,
                                                 now=now, quantity=quantity)
            done = gettext("验收通过，应付 {amount_fen} 已进入“待付款”").format(amount_fen=format_cny(payable.amount_fen))
        elif action == "reject":
            services.assignment_reject(merchant=merchant, assignment_id=assignment_id, actor=actor,
                                       reason=request.POST.get("reason", ""), now=now)
            done = gettext("已退回，灵工人员会看到原因")
        elif action == "evaluate":
            form = EvaluationForm(request.POST)
            stars = form.cleaned_data["stars"] if form.is_valid() else 0
            services.evaluation_of_worker_create(merchant=merchant, assignment_id=assignment_id, actor=actor,
                                                 stars=stars, comment=request.POST.get("comment", ""), now=now)
            done = gettext("评价已提交")
        else:
            raise Http404
    except DomainError as error:
        _flash_error(request, error)
    else:
        messages.success(request, done)
    if back.startswith("/enterprise/"):
        return redirect(back)
    return redirect("enterprise:tasks-assignment", assignment_id=assignment_id)


@enterprise_required("manage_tasks")
@require_http_methods(["GET", "POST"])
def task_match(request, task_id: int):
    task = _task_or_404(request, task_id)
    matches = matching.recommend_workers(merchant=request.merchant, task_id=task.pk)
    if request.method == "POST":
        chosen = [int(i) for i in request.POST.getlist("member_ids") if i.isdigit()]
        scores = {m.member.pk: m.score for m in matches}
        try:
            created = services.task_invite(merchant=request.merchant, task_id=task.pk, member_ids=chosen,
                                           actor=request.user, now=timezone.now(), scores=scores)
        except DomainError as error:
            _flash_error(request, error)
        else:
            messages.success(request, gettext("已邀请 {n_created} 位灵工人员，他们会在“我的任务”中看到邀请").format(n_created=len(created)))
            return redirect("enterprise:tasks-detail", task_id=task.pk)
    return render(request, "tasks/enterprise/match.html", {"task": task, "matches": matches})


@enterprise_required("manage_tasks")
@require_http_methods(["GET", "POST"])
def task_split(request, task_id: int):
    """分包: one row per sub-task (worker, content, quantity)."""
    task = _task_or_404(request, task_id)
    candidates = matching.recommend_workers(merchant=request.merchant, task_id=task.pk, limit=100)
    rows = [{"member_id": "", "title": "", "quantity": ""} for _ in range(5)]
    if request.method == "POST":
        rows, parts, problem = [], [], ""
        for index in range(1, 21):
            member_id = request.POST.get(f"member_{index}", "").strip()
            title = request.POST.get(f"title_{index}", "").strip()
            quantity = request.POST.get(f"quantity_{index}", "").strip()
            if not (member_id or title or quantity):
                continue
            rows.append({"member_id": member_id, "title": title, "quantity": quantity})
            try:
                parts.append(PartData(member_id=int(member_id), title=title, quantity=Decimal(quantity)))
            except (ValueError, InvalidOperation):
                problem = problem or gettext("第 {n_rows} 行：请选择人员并填写数字数量").format(n_rows=len(rows))
        if problem:
            messages.error(request, problem)
        else:
            try:
                created = services.task_split(merchant=request.merchant, task_id=task.pk, parts=parts,
                                              actor=request.user, now=timezone.now())
            except DomainError as error:
                _flash_error(request, error)
            else:
                messages.success(request, gettext("已分成 {n_created} 个分包并分配给对应人员").format(n_created=len(created)))
                return redirect("enterprise:tasks-detail", task_id=task.pk)
    return render(request, "tasks/enterprise/split.html", {"task": task, "candidates": candidates, "rows": rows})


@enterprise_required("view")
def payable_list(request):
    status = request.GET.get("status", PayableWork.Status.READY)
    items = selectors.payable_work_list(merchant=request.merchant, status=status or None)[:500]
    total = sum(item.amount_fen for item in items)
    month_chart = bar_chart_from_pairs(totals_by_month(items, when=lambda item: item.accepted_at,
                                                       amount=lambda item: item.amount_fen))
    return render(request, "tasks/enterprise/payables.html", {
        "items": items, "total": format_cny(total), "status": status, "statuses": PayableWork.Status.choices,
        "month_chart": month_chart,
    })


@enterprise_required("view")
def proof_download(request, file_id: int):
    """Proof files only through here: the tenant is checked; never served from MEDIA_URL."""
    try:
        proof = selectors.proof_file_get(merchant=request.merchant, file_id=file_id)
    except DomainError:
        raise Http404 from None
    return _file_response(proof)


def _file_response(proof):
    response = FileResponse(proof.file.open("rb"), content_type=proof.content_type)
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic",
                 "application/pdf": ".pdf", "application/zip": ".zip", "text/plain": ".txt"}.get(proof.content_type, "")
    response["Content-Disposition"] = f'inline; filename="proof-{proof.pk}{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["X-Checksum-SHA256"] = proof.sha256
    return response


def enterprise_home_cards(request) -> list[dict]:
    merchant = getattr(request, "merchant", None)
    if merchant is None:
        return []
    summary = selectors.task_summary(merchant=merchant)
    counts = summary["counts"]
    return [
        {"label": gettext("进行中的任务"), "value": counts.get(Task.Status.APPROVED, 0),
         "note": gettext("待审核 {value} · 草稿 {value2}").format(value=counts.get(Task.Status.SUBMITTED, 0), value2=counts.get(Task.Status.DRAFT, 0))},
        {"label": gettext("待验收"), "value": summary["waiting_acceptance"], "note": gettext("灵工人员已提交完工证明")},
        {"label": gettext("待付款（已验收）"), "value": format_cny(summary["ready_fen"]), "note": gettext("可在付款中选择")},
    ]

