"""Workers' mobile pages for tasks (/m/tasks/…): find (list, search, filter, near me), take, prove, dispute, rate."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import worker_required
from core.exceptions import DomainError
from core.money import parse_yuan
from members.selectors import member_for_user, worker_eligibility
from tasks import geo, matching, selectors, services
from tasks.forms import EvaluationForm, ProfileForm, ProofForm
from tasks.models import CheckIn, PricingMode, Task, TaskAssignment, TaskCategory
from tasks.portal import _file_response


def _origin(request) -> tuple[tuple[Decimal, Decimal] | None, str]:
    """The phone's location (lat/lng from the browser, with the user's permission) or the typed city's centre."""
    lat, lng = request.GET.get("lat", ""), request.GET.get("lng", "")
    if lat and lng:
        try:
            return (geo.parse_coordinate(lat, kind="lat"), geo.parse_coordinate(lng, kind="lng")), "location"
        except ValueError:
            pass
    city = request.GET.get("city", "").strip()
    if city and request.GET.get("sort") == "near":
        centre = geo.city_centre(city)
        if centre:
            return centre, "city"
    return None, ""


@worker_required()
def task_browse(request):
    member = member_for_user(user=request.user)
    q = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    pricing_mode = request.GET.get("pricing_mode", "")
    city = request.GET.get("city", "").strip()
    min_price_fen = None
    min_price = request.GET.get("min_price", "").strip()
    if min_price:
        try:
            min_price_fen = parse_yuan(min_price, field=_("最低单价"))
        except DomainError as error:
            messages.error(request, error.message)
    origin, origin_kind = _origin(request)
    if request.GET.get("sort") == "near" and origin is None and city:
        messages.warning(request, _("暂不认识城市“{city}”，已按城市名筛选").format(city=city))
    rows = selectors.open_task_list(q=q, category=category, pricing_mode=pricing_mode, min_price_fen=min_price_fen,
                                    city=city, origin=origin, limit=100)
    recommended = [] if (q or category or pricing_mode or min_price_fen) else matching.recommend_tasks(
        member=member, origin=origin, limit=3)
    return render(request, "tasks/m/browse.html", {
        "rows": rows, "recommended": recommended, "q": q, "category": category, "pricing_mode": pricing_mode,
        "min_price": min_price, "city": city, "origin_kind": origin_kind, "sort": request.GET.get("sort", ""),
        "categories": TaskCategory.objects.filter(is_active=True).order_by("code", "id"),
        "pricing_modes": PricingMode.choices,
    })


@worker_required()
def task_detail(request, task_id: int):
    member = member_for_user(user=request.user)
    try:
        task = selectors.task_for_worker(member=member, task_id=task_id)
    except DomainError:
        raise Http404 from None
    eligibility = worker_eligibility(member=member, merchant=task.merchant)
    mine = selectors.member_assignment_on_task(member=member, task=task)
    taken = TaskAssignment.objects.filter(task=task, status__in=TaskAssignment.HOLDING).count()
    rating = selectors.merchant_rating(merchant=task.merchant_id)
    return render(request, "tasks/m/detail.html", {
        "task": task, "eligibility": eligibility, "mine": mine, "slots_left": max(0, task.headcount - taken),
        "rating": rating, "proof_labels": task.proof_labels,
        "open": task.status == Task.Status.APPROVED and timezone.now() <= task.deadline_at,
    })


@worker_required()
@require_POST
def task_take(request, task_id: int):
    member = member_for_user(user=request.user)
    try:
        task = selectors.task_for_worker(member=member, task_id=task_id)
        if task.take_mode == Task.TakeMode.CLAIM:
            assignment = services.task_claim(member=member, task_id=task.pk, now=timezone.now())
            messages.success(request, _("接取成功！请按时到场，完成后提交完工证明"))
        else:
            assignment = services.task_apply(member=member, task_id=task.pk, now=timezone.now())
            messages.success(request, _("报名成功，企业录用后会通知您"))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("m:tasks-detail", task_id=task_id)
    return redirect("m:tasks-assignment", assignment_id=assignment.pk)


@worker_required()
def my_tasks(request):
    member = member_for_user(user=request.user)
    assignments = selectors.member_assignment_list(member=member)[:200]
    return render(request, "tasks/m/mine.html", {"assignments": assignments})


@worker_required()
def assignment_detail(request, assignment_id: int):
    member = member_for_user(user=request.user)
    try:
        assignment = selectors.member_assignment_get(member=member, assignment_id=assignment_id)
    except DomainError:
        raise Http404 from None
    task = assignment.task
    check_ins = {c.kind: c for c in assignment.check_ins.all()}
    return render(request, "tasks/m/assignment.html", {
        "a": assignment, "task": task, "check_ins": check_ins,
        "files": assignment.proof_files.order_by("uploaded_at", "id"),
        "needs": set(task.proof_kinds), "proof_form": ProofForm(initial={"quantity": assignment.planned_quantity}),
        "evaluation_form": EvaluationForm(), "evaluations": selectors.evaluation_list(assignment=assignment),
        "can_work": assignment.status in TaskAssignment.WORKING and assignment.resolved_at is None,
        "is_fixed": task.pricing_mode == PricingMode.FIXED,
    })


@worker_required()
@require_POST
def assignment_action(request, assignment_id: int, action: str):
    member = member_for_user(user=request.user)
    now = timezone.now()
    try:
        if action == "check-in" or action == "check-out":
            record = services.assignment_check_in(
                member=member, assignment_id=assignment_id, kind="IN" if action == "check-in" else "OUT",
                latitude=request.POST.get("latitude"), longitude=request.POST.get("longitude"), now=now)
            done = _("{label}成功").format(label=CheckIn.Kind(record.kind).label) + (
                _("（距任务地点 {value}）").format(value=geo.format_distance(record.distance_m)) if record.distance_m is not None else "")
        elif action == "proof":
            form = ProofForm(request.POST)
            form.is_valid()
            services.assignment_submit_proof(
                member=member, assignment_id=assignment_id, text=form.cleaned_data.get("text", ""),
                quantity=form.cleaned_data.get("quantity", ""), photos=request.FILES.getlist("photos"),
                files=request.FILES.getlist("files"), now=now)
            done = _("完工证明已提交，等待企业验收")
        elif action == "dispute":
            services.assignment_dispute(member=member, assignment_id=assignment_id,
                                        reason=request.POST.get("reason", ""), now=now)
            done = _("申诉已提交，平台运营会尽快处理")
        elif action in ("accept-invitation", "decline-invitation"):
            services.assignment_respond_invitation(member=member, assignment_id=assignment_id,
                                                   accept=action == "accept-invitation", now=now)
            done = _("已接受邀请") if action == "accept-invitation" else _("已谢绝邀请")
        elif action == "withdraw":
            services.assignment_withdraw(member=member, assignment_id=assignment_id, now=now)
            done = _("已放弃该任务")
        elif action == "evaluate":
            form = EvaluationForm(request.POST)
            stars = form.cleaned_data["stars"] if form.is_valid() else 0
            services.evaluation_of_enterprise_create(member=member, assignment_id=assignment_id, stars=stars,
                                                     comment=request.POST.get("comment", ""), now=now)
            done = _("感谢您的评价")
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("m:tasks-assignment", assignment_id=assignment_id)


@worker_required()
def proof_download(request, file_id: int):
    member = member_for_user(user=request.user)
    try:
        proof = selectors.member_proof_file_get(member=member, file_id=file_id)
    except DomainError:
        raise Http404 from None
    return _file_response(proof)


@worker_required()
@require_http_methods(["GET", "POST"])
def profile(request):
    member = member_for_user(user=request.user)
    current = selectors.worker_profile_of(member=member)
    initial = {"skills": "，".join(current.skills), "city": current.city} if current else {}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        skills = [s for s in c["skills"].replace("，", ",").replace("、", ",").split(",") if s.strip()]
        try:
            services.worker_profile_update(member=member, skills=skills, city=c["city"], latitude=c["latitude"],
                                           longitude=c["longitude"], now=timezone.now())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("已保存，我们会据此为您推荐任务"))
            return redirect("m:tasks-browse")
    return render(request, "tasks/m/profile.html", {"form": form})


def member_home_cards(request) -> list[dict]:
    member = member_for_user(user=request.user) if request.user.is_authenticated else None
    active = selectors.member_assignment_list(member=member, active_only=True).count() if member else 0
    return [
        {"label": _("找任务"), "note": _("附近的任务、按技能推荐"), "url": "/m/tasks/"},
        {"label": _("我的任务"), "note": _("进行中 {active} 个").format(active=active), "url": "/m/tasks/mine/"},
    ]
