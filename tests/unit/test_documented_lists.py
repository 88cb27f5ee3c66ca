"""The emulator and the provider write the documented lists each on its own (they never
import each other): these tests pin both to the documentation's literal lists.

Sources: the privileged account's privileges are from Alibaba Cloud's "Account
permissions" page for PolarDB for MySQL, as collected in the team's API reference
(polardb-api.md, "The privileged account inside MySQL"); the reserved names from the
CreateAccount reference ("reserved names (root, admin, ...) are refused").
"""

from __future__ import annotations

import documented

from polardb_emulator.polardb.backend import SUPER_PRIVILEGES
from polardb_emulator.polardb.rules import (
    DOCUMENTED_RESERVED_ACCOUNT_NAMES,
    EMULATOR_RESERVED_ACCOUNT_NAMES,
    RESERVED_ACCOUNT_NAMES,
    account_name_problem,
)
from pulumi_polardb_reset.core._privileges import DOCUMENTED_PRIVILEGES
from pulumi_polardb_reset.core._validation import (
    RESERVED_ACCOUNT_NAMES as PROVIDER_RESERVED_ACCOUNT_NAMES,
)
from pulumi_polardb_reset.core._validation import validate_account_name

# Copied by hand from the documentation (tests/documented.py): the oracle for both sides.
DOCUMENTED = list(documented.DOCUMENTED_PRIVILEGES)
DOCUMENTED_RESERVED = {"root", "admin"}


def test_the_documented_list_has_23_privileges() -> None:
    assert len(DOCUMENTED) == 23 == len(set(DOCUMENTED))


def test_the_emulator_grants_the_documented_privileges_in_order() -> None:
    assert list(SUPER_PRIVILEGES) == DOCUMENTED


def test_the_provider_checks_the_documented_privileges_in_order() -> None:
    assert list(DOCUMENTED_PRIVILEGES) == DOCUMENTED


def test_reserved_names_the_documentation_gives_are_refused_by_both() -> None:
    assert set(PROVIDER_RESERVED_ACCOUNT_NAMES) == DOCUMENTED_RESERVED
    assert set(DOCUMENTED_RESERVED_ACCOUNT_NAMES) == DOCUMENTED_RESERVED
    for name in DOCUMENTED_RESERVED:
        assert validate_account_name(name) is not None
        assert account_name_problem(name) == "it is a reserved account name"


def test_the_emulator_refuses_more_names_and_says_they_are_its_own_choice() -> None:
    # The difference is the emulator's reading of the documentation's "...": the
    # provider accepts these names (the service would refuse them with one API error).
    extra = set(RESERVED_ACCOUNT_NAMES) - DOCUMENTED_RESERVED
    assert extra == set(EMULATOR_RESERVED_ACCOUNT_NAMES) and len(extra) == 10
    assert not extra & set(PROVIDER_RESERVED_ACCOUNT_NAMES)
    for name in sorted(extra):
        assert account_name_problem(name) == "it is a reserved account name"
        assert validate_account_name(name) is None
