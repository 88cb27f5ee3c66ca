"""The task scheduler: asynchronous writes in flight, their quota, hold and release.

A task knows nothing of what its write does: when it ends, the scheduler hands it to
the ``finish`` callback it was given (the service's rules apply the write). Time comes
from an injectable clock, so tests hold tasks or move a fake clock instead of sleeping.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from .exceptions import api_error

Clock = Callable[[], float]


@dataclass
class Task:
    """An asynchronous write in flight on a cluster."""

    id: int
    cluster_id: str
    account_name: str
    action: str
    ends_at: float
    # What happens at the end: "available" (status back) or "delete".
    outcome: str
    # The backend's one-way form of the new password (never plaintext), for a
    # backend that applies writes when the task ends.
    credential: str | None = field(default=None, repr=False)
    #: What the write sets on the account when it ends (ModifyAccountLockState: the lock
    #: state and the password's validity time), by Account field name.
    changes: dict[str, str] | None = None


class TaskScheduler:
    """Tasks in flight: started within each cluster's quota, finished when due.

    ``finish(task)`` is called for every task that ends (in start order); while tasks
    are held (:meth:`hold`) none ends until :meth:`release`.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        seconds: float,
        quota: int,
        finish: Callable[[Task], None],
    ) -> None:
        self._clock = clock
        self._seconds = seconds
        self._quota = quota
        self._finish = finish
        self.tasks: list[Task] = []
        self.held = False
        self._ids: Iterator[int] = itertools.count(1)

    def start(
        self,
        cluster_id: str,
        account_name: str,
        action: str,
        *,
        quota_status: int | None,
        outcome: str = "available",
    ) -> Task:
        """A new task, or ``ConcurrentTaskExceeded`` (with ``quota_status``) when the
        cluster's quota is used up."""
        self.require_slot(cluster_id, quota_status)
        task = Task(
            id=next(self._ids),
            cluster_id=cluster_id,
            account_name=account_name,
            action=action,
            ends_at=self._clock() + self._seconds,
            outcome=outcome,
        )
        self.tasks.append(task)
        return task

    def require_slot(self, cluster_id: str, quota_status: int | None) -> None:
        """``ConcurrentTaskExceeded`` (with ``quota_status``) unless the cluster's quota
        has room for one more task."""
        if len(self.on(cluster_id)) >= self._quota:
            raise api_error("ConcurrentTaskExceeded", status=quota_status)

    def on(self, cluster_id: str) -> list[Task]:
        """Tasks in flight on a cluster."""
        return [t for t in self.tasks if t.cluster_id == cluster_id]

    def due(self) -> list[Task]:
        """Tasks whose time is up (none while tasks are held)."""
        if self.held:
            return []
        now = self._clock()
        return [t for t in self.tasks if t.ends_at <= now]

    def tick(self, *, everything: bool = False) -> bool:
        """Finish due tasks (``everything``: all in flight); return whether any finished."""
        done = list(self.tasks) if everything else self.due()
        for task in done:
            self.tasks.remove(task)
            self._finish(task)
        return bool(done)

    def hold(self) -> None:
        """From now on no task finishes until :meth:`release`."""
        self.held = True

    def release(self) -> int:
        """Stop holding and finish every task in flight now; return how many finished."""
        self.held = False
        count = len(self.tasks)
        self.tick(everything=True)
        return count

    def clear(self) -> None:
        """No tasks, not held, IDs from 1 again (back to the seed)."""
        self.restore([], held=False)

    def dump(self) -> dict[str, Any]:
        """The tasks in flight and whether they are held (for the state file)."""
        return {"tasks": [asdict(t) for t in self.tasks], "tasks_held": self.held}

    def restore(self, tasks: Iterable[dict[str, Any]], *, held: bool) -> None:
        """Tasks saved by :meth:`dump` (new IDs continue after theirs)."""
        self.tasks = [Task(**t) for t in tasks]
        self.held = held
        self._ids = itertools.count(max((t.id for t in self.tasks), default=0) + 1)
