"""The reset workflow: pre-checks, ResetAccount, and the wait for the account to settle.

Built from the client wrapper (network) and the retry policy; knows nothing of
Pulumi. Every failure a user can act on leaves as a :class:`ResetError` whose
message says what to do; a bug propagates as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from ._client import AccountInfo, ClusterInfo, PolarDBClient
from ._errors import (
    ApiError,
    ApiFailure,
    ErrorCode,
    ResetError,
    ResetTimeoutError,
    WaitTimeoutError,
    describe_failure,
)
from ._retry import Deadline, call_with_retries, wait_until

log = logging.getLogger("pulumi_polardb_reset")
T = TypeVar("T")
S = TypeVar("S", ClusterInfo, AccountInfo)

RUNNING: Final = "Running"
AVAILABLE: Final = "Available"
SUPER: Final = "Super"
LOCKED: Final = "Lock"
MYSQL: Final = "MySQL"
# Cluster states that will not turn into Running by waiting.
TERMINAL_CLUSTER_STATES: Final = frozenset({"Deleting", "Deleted", "Stopped", "Stopping", "Locked"})


@dataclass(frozen=True)
class Target:
    """The account to reset and how long the whole operation may take."""

    cluster_id: str
    account_name: str
    region: str
    timeout_seconds: float


@dataclass(frozen=True)
class ResetOutcome:
    """What a completed reset observed."""

    request_id: str
    account: AccountInfo


class Resetter:
    """Runs one reset of one privileged account against one client."""

    def __init__(self, client: PolarDBClient, target: Target, *, deadline: Deadline | None = None):
        self.client = client
        self.target = target
        self.deadline = deadline or Deadline(target.timeout_seconds)

    # -- plumbing -------------------------------------------------------------

    def _api(self, action: str, call: Callable[[], T]) -> T:
        t = self.target

        def on_retry(failure: ApiFailure, delay: float) -> None:
            log.info(
                "%s on %s/%s: %s, retrying in %.1fs",
                action,
                t.cluster_id,
                t.account_name,
                failure.code,
                delay,
            )

        try:
            return call_with_retries(call, deadline=self.deadline, on_retry=on_retry)
        except ApiError as exc:
            raise describe_failure(
                exc.failure,
                action=action,
                cluster=t.cluster_id,
                account=t.account_name,
                region=t.region,
                timeout_seconds=t.timeout_seconds,
                elapsed_seconds=self.deadline.elapsed(),
                gave_up=exc.failure.retryable,
            ) from None

    def _wait(self, probe: Callable[[], S], done: Callable[[S], bool], what: str) -> S:
        try:
            return wait_until(probe, done, deadline=self.deadline)
        except WaitTimeoutError as exc:
            last = f"status {getattr(exc.last, 'status', 'unknown')}"
            raise self._timeout(what, last) from None

    def _timeout(self, what: str, last: str) -> ResetTimeoutError:
        t = self.target
        return ResetTimeoutError(
            f"timed out after timeout_seconds={t.timeout_seconds:g} "
            f"({self.deadline.elapsed():.1f} s elapsed) waiting for {what} "
            f"(account '{t.account_name}' on PolarDB cluster '{t.cluster_id}'; last seen: {last}). "
            "Raise timeout_seconds or check the cluster in the console; the next `pulumi up` "
            "will try again."
        )

    # -- steps ----------------------------------------------------------------

    def cluster(self) -> ClusterInfo:
        """Fetch the cluster; refuse non-MySQL clusters; wait while it is not Running."""
        t = self.target

        def probe() -> ClusterInfo:
            info = self._api(
                "DescribeDBClusterAttribute", lambda: self.client.describe_cluster(t.cluster_id)
            )
            if info.db_type and info.db_type != MYSQL:
                raise ResetError(
                    f"PolarDB cluster '{t.cluster_id}' runs {info.db_type}; ResetAccount only "
                    "supports PolarDB for MySQL clusters. Remove this resource or point "
                    "db_cluster_id at a MySQL cluster.",
                    code=ErrorCode.UNSUPPORTED_DB_TYPE,
                )
            if info.status in TERMINAL_CLUSTER_STATES:
                raise ResetError(
                    f"PolarDB cluster '{t.cluster_id}' is {info.status}; its account "
                    f"'{t.account_name}' cannot be reset. Start or restore the cluster first.",
                    code=ErrorCode.CLUSTER_NOT_RUNNING,
                )
            return info

        return self._wait(probe, lambda c: c.status == RUNNING, "the cluster to be Running")

    def account(self) -> AccountInfo:
        """Find the account; refuse anything but the privileged (Super) account."""
        t = self.target
        accounts = self._api(
            "DescribeAccounts", lambda: self.client.describe_accounts(t.cluster_id)
        )
        supers = [a.name for a in accounts if a.type == SUPER]
        hint = (
            f" The cluster's privileged account is '{supers[0]}'."
            if supers
            else " The cluster has no privileged account; create one with CreateAccount (AccountType=Super)."
        )
        found = next((a for a in accounts if a.name == t.account_name), None)
        if found is None:
            raise ResetError(
                f"account '{t.account_name}' does not exist on PolarDB cluster '{t.cluster_id}'."
                + hint,
                code=ErrorCode.ACCOUNT_NOT_FOUND,
            )
        if found.type != SUPER:
            raise ResetError(
                f"account '{t.account_name}' on PolarDB cluster '{t.cluster_id}' is a "
                f"{found.type or 'non-privileged'} account; ResetAccount only resets the "
                "privileged (Super) account." + hint,
                code=ErrorCode.NOT_PRIVILEGED_ACCOUNT,
            )
        return found

    def reset(self, password: str | None) -> str:
        """Call ResetAccount (with the password when one is set); return the request ID."""
        t = self.target
        return self._api(
            "ResetAccount",
            lambda: self.client.reset_account(t.cluster_id, t.account_name, password),
        )

    def find_account(self) -> AccountInfo | None:
        """The target account as DescribeAccounts reports it now, or None when it is gone."""
        t = self.target
        found = self._api(
            "DescribeAccounts", lambda: self.client.describe_accounts(t.cluster_id, t.account_name)
        )
        return next((a for a in found if a.name == t.account_name), None)

    def settled_account(self) -> AccountInfo:
        """Wait until the account is Available again; stop at once when it is gone or locked."""
        t = self.target

        def probe() -> AccountInfo:
            match = self.find_account()
            if match is None:
                raise ResetError(
                    f"account '{t.account_name}' disappeared from PolarDB cluster "
                    f"'{t.cluster_id}' while it was being reset. Check the cluster's accounts.",
                    code=ErrorCode.ACCOUNT_NOT_FOUND,
                )
            if match.lock_state == LOCKED:
                raise ResetError(
                    f"account '{t.account_name}' on PolarDB cluster '{t.cluster_id}' is locked. "
                    "Unlock it (ModifyAccountLockState or the console), then run `pulumi up` again.",
                    code=ErrorCode.ACCOUNT_LOCKED,
                )
            return match

        return self._wait(probe, lambda a: a.status == AVAILABLE, "the account to be Available")

    def run(self, password: str | None) -> ResetOutcome:
        """Pre-checks, then ResetAccount, then wait for the account to settle."""
        self.cluster()
        self.account()
        request_id = self.reset(password)
        log.info(
            "ResetAccount accepted for %s/%s (request id %s)",
            self.target.cluster_id,
            self.target.account_name,
            request_id,
        )
        return ResetOutcome(request_id=request_id, account=self.settled_account())
