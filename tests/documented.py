"""The documentation's lists, written out by hand: oracles from outside the code under test.

The provider (``core._privileges``) and the emulator (``polardb.backend``) each write these lists
on their own; tests compare both with these copies, never one with the other.

Source: Alibaba Cloud's "Account permissions" pages for PolarDB for MySQL, as collected in
the team's API reference (shared/reference/polardb-api.md, "The privileged account inside
MySQL"): the privileged account holds these 23 privileges on ``*.*``, and can grant them
(GRANT OPTION).
"""

from __future__ import annotations

from typing import Final

#: The sentence of the documentation, in its order.
SENTENCE: Final = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, "
    "ALTER, LOCK TABLES, EXECUTE, TRIGGER, CREATE TEMPORARY TABLES, REPLICATION SLAVE, "
    "REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, "
    "CREATE USER, EVENT"
)
#: The 23 documented privileges of the privileged account, in the documentation's order.
DOCUMENTED_PRIVILEGES: Final = tuple(SENTENCE.split(", "))
#: What the privileged account may also do: grant them.
GRANT_OPTION: Final = "GRANT OPTION"
