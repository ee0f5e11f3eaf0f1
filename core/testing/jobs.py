"""Running a Celery job in a test, in this thread, and getting its result.

``task.apply().get()`` asks Celery whether a result may be waited for, and the answer is a process-wide flag that
any other thread running a job at that moment (a channel sandbox's callback, a race test's worker) sets to "no":
the test then fails with "Never call result.get() within a task!" for no fault of its own. An eager result is
already there; this reads it without that check and raises the job's own exception if it failed.
"""

from __future__ import annotations


def run_job(task, **kwargs):
    result = task.apply(kwargs=kwargs)
    if result.failed():
        raise result.result
    return result.result
