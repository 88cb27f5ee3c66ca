"""The reset workflow: pre-checks, ResetAccount, and the wait for the account to settle;
the unlock workflow (ModifyAccountLockState) likewise.

Built from the client wrapper (network) and the retry policy; knows nothing of
Pulumi. Every failure a user can act on leaves as a :class:`ResetError` whose
message says what to do; a bug propagates as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from ..core._errors import (
    ApiError,
    ApiFailure,
    ErrorCode,
    ResetError,
    ResetTimeoutError,
    WaitTimeoutError,
    describe_failure,
    where,
)
from ._client import AccountInfo, ClusterInfo, EndpointAddress, PolarDBClient
from ._clusterqueue import QUEUE, ClusterQueue, TurnTimeoutError
from ._pacing import RESET_BACKOFF, SETTLE_BACKOFF
from ._retry import CALL_BACKOFF, POLL_BACKOFF, Backoff, Deadline, call_with_retries, wait_until

log = logging.getLogger("pulumi_polardb_reset")
T = TypeVar("T")
S = TypeVar("S", ClusterInfo, AccountInfo)

RUNNING: Final = "Running"
AVAILABLE: Final = "Available"
SUPER: Final = "Super"
LOCKED: Final = "Lock"
UNLOCKED: Final = "UnLock"
MYSQL: Final = "MySQL"
# Cluster states that will not turn into Running by waiting.
TERMINAL_CLUSTER_STATES: Final = frozenset({"Deleting", "Deleted", "Stopped", "Stopping", "Locked"})


#: The resource's own time limit, as messages name it.
TIMEOUT_SECONDS_SETTING: Final = "timeout_seconds"


@dataclass(frozen=True)
class Target:
    """The account to reset and how long the whole operation may take.

    ``timeout_setting`` names where ``timeout_seconds`` comes from, for the message that
    says what to raise: the resource's ``timeout_seconds``, or the engine's custom timeout
    of the operation (``customTimeouts.update``), under which ``timeout_seconds`` does not
    apply.
    """

    cluster_id: str
    account_name: str
    region: str
    timeout_seconds: float
    timeout_setting: str = TIMEOUT_SECONDS_SETTING

    @property
    def raise_hint(self) -> str:
        """What to raise to give the operation more time."""
        if self.timeout_setting == TIMEOUT_SECONDS_SETTING:
            return TIMEOUT_SECONDS_SETTING
        return (
            f"the resource option {self.timeout_setting} "
            f"({TIMEOUT_SECONDS_SETTING} does not apply under it)"
        )


@dataclass(frozen=True)
class ResetOutcome:
    """What a completed reset observed."""

    request_id: str
    account: AccountInfo


@dataclass(frozen=True)
class UnlockOutcome:
    """What an unlock observed: its request ID (None: the account was not locked)."""

    request_id: str | None
    account: AccountInfo


#: Endpoint types in order of preference: the cluster endpoint, else the primary one.
_ENDPOINT_TYPES: Final = ("Cluster", "Primary")
#: Address types in order of preference: the VPC address, which every cluster has, before a
#: public address (opt-in; set sql_endpoint to use it).
_NET_TYPES: Final = ("Private", "Public")


def choose_sql_address(addresses: list[EndpointAddress]) -> tuple[str, int] | None:
    """Pick the SQL address to check from DescribeDBClusterEndpoints (pure).

    The cluster endpoint's private address first, then its public one, then the primary
    endpoint's; the connection string (host name, which a TLS certificate names) before the
    IP address. None when no address has a host and a port.
    """

    def rank(address: EndpointAddress) -> tuple[int, int]:
        kind = address.endpoint_type
        net = address.net_type
        return (
            _ENDPOINT_TYPES.index(kind) if kind in _ENDPOINT_TYPES else len(_ENDPOINT_TYPES),
            _NET_TYPES.index(net) if net in _NET_TYPES else len(_NET_TYPES),
        )

    usable = [
        a
        for a in addresses
        if a.port is not None
        and (a.connection_string or a.ip_address)
        and a.endpoint_type in _ENDPOINT_TYPES
    ]
    if not usable:
        return None
    best = min(usable, key=rank)  # min is stable: answer order breaks ties
    assert best.port is not None
    return best.connection_string or best.ip_address, best.port


class Resetter:
    """Runs one reset of one privileged account against one client."""

    def __init__(
        self,
        client: PolarDBClient,
        target: Target,
        *,
        deadline: Deadline | None = None,
        queue: ClusterQueue = QUEUE,
    ):
        self.client = client
        self.target = target
        self.deadline = deadline or Deadline(target.timeout_seconds)
        self.queue = queue

    # -- plumbing -------------------------------------------------------------

    def _api(self, action: str, call: Callable[[], T], backoff: Backoff = CALL_BACKOFF) -> T:
        t = self.target

        def on_retry(failure: ApiFailure, delay: float) -> None:
            log.debug(
                "%s on %s/%s: %s, retrying in %.1fs",
                action,
                t.cluster_id,
                t.account_name,
                failure.code,
                delay,
            )

        try:
            return call_with_retries(
                call, deadline=self.deadline, backoff=backoff, on_retry=on_retry
            )
        except ApiError as exc:
            raise describe_failure(
                exc.failure,
                action=action,
                cluster=t.cluster_id,
                account=t.account_name,
                region=t.region,
                timeout_seconds=t.timeout_seconds,
                timeout_setting=t.timeout_setting,
                elapsed_seconds=self.deadline.elapsed(),
                gave_up=exc.failure.retryable,
            ) from None

    def _wait(
        self,
        probe: Callable[[], S],
        done: Callable[[S], bool],
        what: str,
        backoff: Backoff = POLL_BACKOFF,
    ) -> S:
        try:
            return wait_until(probe, done, deadline=self.deadline, backoff=backoff)
        except WaitTimeoutError as exc:
            last = f"status {getattr(exc.last, 'status', 'unknown')}"
            raise self._timeout(what, last) from None

    def _timeout(self, what: str, last: str) -> ResetTimeoutError:
        t = self.target
        return ResetTimeoutError(
            f"timed out after {t.timeout_setting}={t.timeout_seconds:g} "
            f"({self.deadline.elapsed():.1f} s elapsed) waiting for {what} "
            f"({where(t.cluster_id, t.account_name)}; last seen: {last}). "
            f"Raise {t.raise_hint} or check the cluster in the console; the next `pulumi up` "
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
                f"{where(t.cluster_id, t.account_name)} is a "
                f"{found.type or 'non-privileged'} account; ResetAccount only resets the "
                "privileged (Super) account." + hint,
                code=ErrorCode.NOT_PRIVILEGED_ACCOUNT,
            )
        return found

    def reset(self, password: str | None) -> str:
        """Call ResetAccount (with the password when one is set); return the request ID."""
        t = self.target
        # Proportional jitter: resets of one cluster from other processes spread out.
        return self._api(
            "ResetAccount",
            lambda: self.client.reset_account(t.cluster_id, t.account_name, password),
            RESET_BACKOFF,
        )

    def find_account(self) -> AccountInfo | None:
        """The target account as DescribeAccounts reports it now, or None when it is gone."""
        t = self.target
        found = self._api(
            "DescribeAccounts", lambda: self.client.describe_accounts(t.cluster_id, t.account_name)
        )
        return next((a for a in found if a.name == t.account_name), None)

    def sql_endpoint(self) -> tuple[str, int]:
        """The cluster endpoint's SQL address (DescribeDBClusterEndpoints), as host and port.

        Raises :class:`ResetError` when the call fails or the answer has no usable address.
        """
        t = self.target
        addresses = self._api(
            "DescribeDBClusterEndpoints", lambda: self.client.describe_endpoints(t.cluster_id)
        )
        chosen = choose_sql_address(addresses)
        if chosen is None:
            raise ResetError(
                f"PolarDB cluster '{t.cluster_id}' reports no cluster or primary endpoint with "
                "an address and port (DescribeDBClusterEndpoints); set sql_endpoint to check "
                f"the privileges of '{t.account_name}'.",
                code=ErrorCode.RESET_FAILED,
            )
        return chosen

    def _present_account(self, doing: str) -> AccountInfo:
        """The account, or the error that it disappeared while it was being ``doing``."""
        t = self.target
        match = self.find_account()
        if match is None:
            raise ResetError(
                f"account '{t.account_name}' disappeared from PolarDB cluster "
                f"'{t.cluster_id}' while it was being {doing}. Check the cluster's accounts.",
                code=ErrorCode.ACCOUNT_NOT_FOUND,
            )
        return match

    def settled_account(self) -> AccountInfo:
        """Wait until the account is Available again; stop at once when it is gone or locked."""
        t = self.target

        def probe() -> AccountInfo:
            match = self._present_account("reset")
            if match.lock_state == LOCKED:
                raise ResetError(
                    f"{where(t.cluster_id, t.account_name)} is locked. "
                    "Set unlock: true to have `pulumi up` unlock it, or unlock it "
                    "(ModifyAccountLockState or the console), then run `pulumi up` again.",
                    code=ErrorCode.ACCOUNT_LOCKED,
                )
            return match

        # Fast polls first (most tasks end within seconds), then fewer and fewer.
        return self._wait(
            probe, lambda a: a.status == AVAILABLE, "the account to be Available", SETTLE_BACKOFF
        )

    def unlocked_account(self) -> AccountInfo:
        """Wait until the account is Available and no longer locked; stop when it is gone."""
        return self._wait(
            lambda: self._present_account("unlocked"),
            lambda a: a.status == AVAILABLE and a.lock_state != LOCKED,
            "the account to be unlocked",
            SETTLE_BACKOFF,
        )

    def unlock(self) -> UnlockOutcome:
        """Pre-checks, then, if the account is locked, ModifyAccountLockState to unlock it
        (keeping its password's validity time) and the wait for it to settle.

        Takes the cluster's turn like a reset (an unlock is a task on the cluster too).
        """
        t = self.target
        try:
            with self.queue.turn((t.region, t.cluster_id), timeout=self.deadline.remaining()):
                self.cluster()
                account = self.account()
                if account.lock_state != LOCKED:
                    return UnlockOutcome(request_id=None, account=account)
                request_id = self._api(
                    "ModifyAccountLockState",
                    lambda: self.client.modify_account_lock_state(
                        t.cluster_id, t.account_name, UNLOCKED, account.password_valid_time
                    ),
                    RESET_BACKOFF,
                )
                log.info(
                    "ModifyAccountLockState (UnLock) accepted for %s/%s (request id %s)",
                    t.cluster_id,
                    t.account_name,
                    request_id,
                )
                return UnlockOutcome(request_id=request_id, account=self.unlocked_account())
        except TurnTimeoutError:
            raise self._timeout(
                "the other resets of this cluster in this provider process to finish",
                "still busy",
            ) from None

    def run(self, password: str | None) -> ResetOutcome:
        """Pre-checks, then ResetAccount, then wait for the account to settle.

        Resets of one cluster in this process take turns (see :mod:`._clusterqueue`): the
        cluster runs one task at a time, so the next reset starts once this one settled.
        """
        t = self.target

        def on_wait() -> None:
            log.debug(
                "%s/%s: another reset of cluster %s runs in this process; waiting for its turn",
                t.cluster_id,
                t.account_name,
                t.cluster_id,
            )

        try:
            with self.queue.turn(
                (t.region, t.cluster_id),
                timeout=self.deadline.remaining(),
                on_wait=on_wait,
                cancelled=self.deadline.raise_if_cancelled if self.deadline.cancel else None,
            ):
                return self._run(password)
        except TurnTimeoutError:
            raise self._timeout(
                "the other resets of this cluster in this provider process to finish",
                "still busy",
            ) from None

    def _run(self, password: str | None) -> ResetOutcome:
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
