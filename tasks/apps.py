from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def open_work_blocks_closing(merchant) -> list[str]:
    """An enterprise cannot close its account while workers are on its tasks or accepted work is unpaid."""
    from django.utils.translation import gettext

    from tasks.models import PayableWork, TaskAssignment

    reasons = []
    working = (TaskAssignment.objects.filter(task__merchant=merchant)
               .filter(status__in=[*TaskAssignment.WORKING, TaskAssignment.Status.SUBMITTED,
                                   TaskAssignment.Status.DISPUTED]).count())
    if working:
        reasons.append(gettext("有 {count} 项任务仍在进行、待验收或申诉中，须先完成或取消").format(count=working))
    unpaid = PayableWork.objects.for_tenant(merchant).exclude(status=PayableWork.Status.PAID).count()
    if unpaid:
        reasons.append(gettext("有 {count} 项已验收的工作尚未付款，须先付款").format(count=unpaid))
    return reasons


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("任务发布与管理")

    def ready(self):
        from merchants.services.account import register_close_check

        register_close_check(open_work_blocks_closing)
