"""Celery signal handlers: the request id travels with a task and is logged by it.

Publishing copies the current request id into the message headers; the worker binds it
(and the task's name and id) for the task's log lines and history rows, logs one line when
the task ends, and counts the outcome for the metrics.
"""

import logging

from celery import signals

from portal.observability import context, metrics

logger = logging.getLogger("portal.tasks")
HEADER = "portal_request_id"
_bound = {}


@signals.before_task_publish.connect
def _add_request_id(headers=None, **kwargs):
    request_id = context.current_request_id()
    if headers is not None and request_id and HEADER not in headers:
        headers[HEADER] = request_id


@signals.task_prerun.connect
def _bind_request_id(task_id=None, task=None, **kwargs):
    incoming = context.clean_request_id(getattr(task.request, HEADER, None) or "")
    # In-process (eager) tasks run inside the request and keep its id.
    request_id = incoming or context.current_request_id() or f"task-{task_id}"
    _bound[task_id] = context.bind(request_id=request_id)


@signals.task_postrun.connect
def _unbind_request_id(task_id=None, task=None, state=None, **kwargs):
    if not getattr(task.request, "is_eager", False):
        logger.info(
            "Task %s finished: %s",
            task.name,
            state,
            extra={"task": task.name, "task_id": task_id, "state": state},
        )
    tokens = _bound.pop(task_id, None)
    if tokens:
        context.unbind(tokens)


@signals.task_success.connect
def _count_success(sender=None, **kwargs):
    metrics.record_task_outcome(sender.name, "succeeded")


@signals.task_failure.connect
def _count_failure(sender=None, **kwargs):
    metrics.record_task_outcome(sender.name, "failed")


@signals.task_retry.connect
def _count_retry(sender=None, **kwargs):
    metrics.record_task_outcome(sender.name, "retried")
