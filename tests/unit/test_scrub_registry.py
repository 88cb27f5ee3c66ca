"""The registry of live secrets survives the garbage collector running anywhere.

A registered owner's finalizer runs wherever the collector runs: also on a thread that
holds the registry's lock (any allocation under it can collect). It found
``install()`` so under Python 3.12 and deadlocked the unit tests: the finalizer took the
lock its own thread held. Finalizers now take no lock.
"""

from __future__ import annotations

import gc

import pytest

from pulumi_polardb_reset.core import _scrub


class Owner:
    """Something whose lifetime bounds its secrets (a client in the provider)."""


@pytest.mark.timeout(60)  # a regression deadlocks: fail instead of hanging the run
def test_an_owner_collected_while_the_lock_is_held_does_not_deadlock() -> None:
    owner = Owner()
    owner.cycle = owner  # type: ignore[attr-defined]  # only the cycle collector frees it
    _scrub.register(owner, ["collected-secret-01"])
    del owner
    with _scrub._lock:  # as inside install() or _live_secrets()
        gc.collect()  # runs the finalizer on this thread, under the lock
    assert "collected-secret-01" not in _scrub._live_secrets()


def test_a_live_owner_keeps_its_secrets_and_a_dead_one_loses_them() -> None:
    owner = Owner()
    _scrub.register(owner, ["live-secret-02"])
    assert "live-secret-02" in _scrub._live_secrets()
    del owner
    gc.collect()
    assert "live-secret-02" not in _scrub._live_secrets()
