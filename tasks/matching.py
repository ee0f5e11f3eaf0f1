"""匹配供需: a deterministic 0–100 score with its reasons, for workers ↔ tasks, both ways.

    skills   40  share of the task's required skills the worker lists (20 when the task asks for none)
    distance 30  full within the task's radius, falling to 0 at radius + 20 km; remote tasks 20; unknown location 10
    rating   20  average stars (of the worker for a task; of the enterprise for a worker); 10 without any rating
    history  10  2 per piece of work already accepted with this enterprise, at most 5

The same inputs always give the same score and reasons; ties are broken by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count
from django.utils.translation import gettext as _

from members.models import Member, MemberMerchant
from tasks import geo, selectors
from tasks.models import Task, TaskAssignment, WorkerProfile

FALL_OFF_M = 20_000


@dataclass
class Match:
    score: int
    reasons: list[str] = field(default_factory=list)
    member: Member | None = None
    task: Task | None = None
    distance_m: int | None = None


def _rating_points(avg: Decimal | None, count: int, who: str) -> tuple[int, str]:
    if avg is None:
        return 10, _("{who}暂无评价 +10").format(who=who)
    points = int((avg / 5 * 20).quantize(Decimal(1)))
    return points, _("{who}评分 {avg}★（{count} 条）+{points}").format(who=who, avg=avg, count=count, points=points)


def score(*, task: Task, skills: list[str], location: tuple | None, rating: tuple[Decimal | None, int],
          rating_of: str, accepted_with_merchant: int) -> Match:
    reasons = []
    wanted = [s for s in task.skills if s]
    if wanted:
        common = [s for s in wanted if s in set(skills)]
        skill_points = 40 * len(common) // len(wanted)
        reasons.append(_("技能匹配 {n_common}/{n_wanted}").format(n_common=len(common), n_wanted=len(wanted))
                       + (f"（{'、'.join(common)}）" if common else "") + f" +{skill_points}")
    else:
        skill_points = 20
        reasons.append(_("任务无特定技能要求 +20"))
    distance = None
    if task.is_remote:
        distance_points = 20
        reasons.append(_("远程任务 +20"))
    elif location is None:
        distance_points = 10
        reasons.append(_("位置未知 +10"))
    else:
        distance = geo.distance_m(location[0], location[1], task.latitude, task.longitude)
        beyond = max(0, distance - task.radius_m)
        distance_points = max(0, 30 * (FALL_OFF_M - beyond) // FALL_OFF_M)
        reasons.append(_("距离 {value} +{distance_points}").format(value=geo.format_distance(distance), distance_points=distance_points))
    rating_points, rating_reason = _rating_points(rating[0], rating[1], rating_of)
    reasons.append(rating_reason)
    history_points = min(accepted_with_merchant, 5) * 2
    reasons.append(_("在该企业已完成 {accepted_with_merchant} 次 +{history_points}").format(accepted_with_merchant=accepted_with_merchant, history_points=history_points))
    total = skill_points + distance_points + rating_points + history_points
    return Match(score=total, reasons=reasons, task=task, distance_m=distance)


def _profile_location(profile: WorkerProfile | None):
    if profile is None:
        return None
    if profile.latitude is not None and profile.longitude is not None:
        return profile.latitude, profile.longitude
    return geo.city_centre(profile.city)


def recommend_workers(*, merchant, task_id: int, limit: int = 20) -> list[Match]:
    """Workers signed with the enterprise and not yet on the task, best first (the task's side of matching)."""
    task = selectors.task_get(merchant=merchant, task_id=task_id)
    on_task = TaskAssignment.objects.filter(task=task).exclude(
        status__in=[TaskAssignment.Status.DECLINED, TaskAssignment.Status.WITHDRAWN]).values_list("member_id", flat=True)
    member_ids = list(MemberMerchant.objects.for_tenant(merchant).filter(
        status=MemberMerchant.Status.SIGNED, member__verification_status=Member.Verification.VERIFIED)
        .exclude(member_id__in=on_task).values_list("member_id", flat=True).order_by("member_id"))
    members = {m.pk: m for m in Member.objects.filter(pk__in=member_ids)}
    profiles = {p.member_id: p for p in WorkerProfile.objects.filter(member_id__in=member_ids)}
    history = dict(TaskAssignment.objects.for_tenant(merchant).filter(
        member_id__in=member_ids, status=TaskAssignment.Status.ACCEPTED).values_list("member_id")
        .annotate(n=Count("id")).order_by())
    ratings = selectors.worker_ratings(member_ids=member_ids)
    matches = []
    for member_id in member_ids:
        profile = profiles.get(member_id)
        match = score(task=task, skills=profile.skills if profile else [], location=_profile_location(profile),
                      rating=ratings.get(member_id, (None, 0)), rating_of=_("人员"),
                      accepted_with_merchant=history.get(member_id, 0))
        match.member = members[member_id]
        matches.append(match)
    matches.sort(key=lambda m: (-m.score, m.member.pk))
    return matches[:limit]


def recommend_tasks(*, member, origin: tuple | None = None, limit: int = 10) -> list[Match]:
    """Open tasks for a worker, best first (the worker's side): the enterprise's rating stands in for the worker's."""
    profile = selectors.worker_profile_of(member=member)
    location = origin or _profile_location(profile)
    skills = profile.skills if profile else []
    history = {}
    if member is not None:
        history = dict(TaskAssignment.objects.filter(member=member, status=TaskAssignment.Status.ACCEPTED)
                       .values_list("merchant_id").annotate(n=Count("id")).order_by())
    ratings: dict[int, tuple] = {}
    matches = []
    for row in selectors.open_task_list(origin=location, limit=200):
        task = row.task
        if task.merchant_id not in ratings:
            ratings[task.merchant_id] = selectors.merchant_rating(merchant=task.merchant_id)
        match = score(task=task, skills=skills, location=location, rating=ratings[task.merchant_id],
                      rating_of=_("企业"), accepted_with_merchant=history.get(task.merchant_id, 0))
        matches.append(match)
    matches.sort(key=lambda m: (-m.score, m.task.pk))
    return matches[:limit]
