"""The mariadb backend: real servers, real logins and grants, through the real SDK and PyMySQL.

Skipped (one reason) when ``mariadbd`` is absent, except with ``CI=true``,
where a missing server is a failure.
"""

from __future__ import annotations

import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
from alibabacloud_polardb20170801 import models as m
from documented import DOCUMENTED_PRIVILEGES
from emulator_harness import (
    DEFAULT_SEED,
    SEED_PASSWORDS,
    EmulatorError,
    EmulatorProcess,
    EmulatorThread,
    SdkClientFactory,
    assert_refused,
    require_mariadbd,
    write_seed,
)

MYSQL = "pc-mysql00000001"
MYSQL2 = "pc-mysql00000002"
SEED_PASSWORD = "Adm1n!pass"
NEW_PASSWORD = "R3set!Pass99"
# MariaDB >= 10.5 names REPLICATION CLIENT "BINLOG MONITOR".
_ALIASES = {"BINLOG MONITOR": "REPLICATION CLIENT"}


def _mariadbd() -> str:
    return require_mariadbd("the MariaDB backend tests")


@pytest.fixture(scope="module")
def mariadbd() -> str:
    """Path of mariadbd (skip, or fail under CI=true, when absent)."""
    return _mariadbd()


@pytest.fixture
def client(maria: EmulatorProcess, sdk_client: SdkClientFactory) -> Any:
    """A real SDK client for the MariaDB-backed emulator."""
    return sdk_client(target=maria)


# --- helpers ----------------------------------------------------------------------


def admin_sql(emu: EmulatorProcess | EmulatorThread, cluster: str = MYSQL) -> Any:
    """A PyMySQL connection with the cluster's administrative login."""
    return pymysql.connect(**emu.sql_login(cluster), autocommit=True)


def login(emu: EmulatorProcess, name: str, password: str, cluster: str = MYSQL) -> Any:
    """A PyMySQL connection as ``name`` (raises OperationalError when refused)."""
    sql = emu.sql_login(cluster)
    return pymysql.connect(
        host=sql["host"], port=sql["port"], user=name, password=password, autocommit=True
    )


def can_login(emu: EmulatorProcess, name: str, password: str, cluster: str = MYSQL) -> bool:
    """Whether ``name`` logs in with ``password``."""
    try:
        login(emu, name, password, cluster).close()
    except pymysql.err.OperationalError:
        return False
    return True


def global_privileges(conn: Any, name: str) -> dict[str, bool]:
    """``{privilege: grantable}`` on ``*.*`` of ``name``@'%' (information_schema)."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES "
            "WHERE GRANTEE = %s",
            (f"'{name}'@'%'",),
        )
        return {_ALIASES.get(p, p): g == "YES" for p, g in cursor.fetchall()}


def schema_privileges(conn: Any, name: str) -> set[tuple[str, str]]:
    """``{(schema, privilege)}`` of ``name``@'%'."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES "
            "WHERE GRANTEE = %s",
            (f"'{name}'@'%'",),
        )
        return {(s, p) for s, p in cursor.fetchall()}


def execute(conn: Any, *statements: str) -> None:
    """Run statements on ``conn``."""
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def accounts(client: Any, cluster: str = MYSQL) -> dict[str, Any]:
    """DescribeAccounts by name."""
    request = m.DescribeAccountsRequest(dbcluster_id=cluster)
    return {a.account_name: a for a in client.describe_accounts(request).body.accounts}


def wait_available(emu: EmulatorProcess, client: Any, name: str, cluster: str = MYSQL) -> None:
    """Wait (through the API) until the account is Available again."""
    emu.wait_for(
        lambda: accounts(client, cluster)[name].account_status == "Available",
        what=f"{name} to be Available",
    )


def reset_account(client: Any, password: str | None = None, name: str = "dbadmin") -> None:
    """ResetAccount through the SDK."""
    client.reset_account(
        m.ResetAccountRequest(dbcluster_id=MYSQL, account_name=name, account_password=password)
    )


#: The documented set (tests/documented.py, not the emulator's own list), each grantable.
FULL_SET = dict.fromkeys(DOCUMENTED_PRIVILEGES, True)


# --- accounts are real ---------------------------------------------------------------


def test_seeded_super_account_logs_in_with_the_documented_set(maria: EmulatorProcess) -> None:
    with login(maria, "dbadmin", SEED_PASSWORD) as conn:
        assert global_privileges(conn, "dbadmin") == FULL_SET
        # GRANT OPTION for real: it can grant to a standard account.
        execute(conn, "GRANT SELECT ON *.* TO 'app_rw'@'%'")
    assert not can_login(maria, "dbadmin", "Wr0ng!pass")
    with login(maria, "app_rw", "Bb2@bbbbb") as conn:
        assert global_privileges(conn, "app_rw") == {"SELECT": False}


def test_normal_seed_account_has_no_privileges(maria: EmulatorProcess) -> None:
    with admin_sql(maria) as conn:
        assert global_privileges(conn, "app_rw") == {"USAGE": False}
        assert schema_privileges(conn, "app_rw") == set()


def test_out_of_band_revoke_is_real_and_reset_restores_the_set(
    maria: EmulatorProcess, client: Any
) -> None:
    with admin_sql(maria) as conn:
        execute(
            conn,
            "REVOKE INSERT, DROP, CREATE USER ON *.* FROM 'dbadmin'@'%'",
            "REVOKE GRANT OPTION ON *.* FROM 'dbadmin'@'%'",
            # An extra privilege, outside the documented set: a reset keeps it.
            "GRANT SHOW DATABASES ON *.* TO 'dbadmin'@'%'",
        )
    with login(maria, "dbadmin", SEED_PASSWORD) as conn:
        seen = global_privileges(conn, "dbadmin")
        assert {"INSERT", "DROP", "CREATE USER"}.isdisjoint(seen)
        assert not any(seen.values())  # no grant option left
        with pytest.raises(pymysql.err.OperationalError):
            execute(conn, "CREATE USER 'sneaky'@'%'")
    # The API cannot see it: the account is as Available as ever.
    account = accounts(client)["dbadmin"]
    assert (account.account_status, account.account_type) == ("Available", "Super")
    reset_account(client)
    wait_available(maria, client, "dbadmin")
    with login(maria, "dbadmin", SEED_PASSWORD) as conn:
        # GRANT OPTION is per level (*.*), so it covers the extra privilege too.
        assert global_privileges(conn, "dbadmin") == FULL_SET | {"SHOW DATABASES": True}


def test_reset_with_a_password_changes_the_login(maria: EmulatorProcess, client: Any) -> None:
    with admin_sql(maria) as conn:
        execute(conn, "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'dbadmin'@'%'")
    reset_account(client, NEW_PASSWORD)
    wait_available(maria, client, "dbadmin")
    assert can_login(maria, "dbadmin", NEW_PASSWORD)
    assert not can_login(maria, "dbadmin", SEED_PASSWORD)
    assert maria.verify_password(MYSQL, "dbadmin", NEW_PASSWORD)
    with login(maria, "dbadmin", NEW_PASSWORD) as conn:
        assert global_privileges(conn, "dbadmin") == FULL_SET


def test_the_change_happens_when_the_task_ends(maria: EmulatorProcess, client: Any) -> None:
    with admin_sql(maria) as conn:
        execute(conn, "REVOKE INSERT ON *.* FROM 'dbadmin'@'%'")
        with maria.tasks_held():
            reset_account(client, NEW_PASSWORD)
            assert accounts(client)["dbadmin"].account_status == "Creating"
            assert "INSERT" not in global_privileges(conn, "dbadmin")
            assert can_login(maria, "dbadmin", SEED_PASSWORD)
        # Released: the task finished, its SQL included, before the admin call returned.
        assert accounts(client)["dbadmin"].account_status == "Available"
        assert global_privileges(conn, "dbadmin") == FULL_SET
    assert can_login(maria, "dbadmin", NEW_PASSWORD)


def test_create_modify_delete_account_are_real(maria: EmulatorProcess, client: Any) -> None:
    client.create_account(
        m.CreateAccountRequest(
            dbcluster_id=MYSQL,
            account_name="reporter",
            account_password="Rep0rt!ng",
            account_type="Normal",
            dbname="sales",
            account_privilege="ReadOnly",
        )
    )
    wait_available(maria, client, "reporter")
    with login(maria, "reporter", "Rep0rt!ng") as conn:
        assert schema_privileges(conn, "reporter") == {
            ("sales", "SELECT"),
            ("sales", "LOCK TABLES"),
            ("sales", "SHOW VIEW"),
        }
        assert global_privileges(conn, "reporter") == {
            "PROCESS": False,
            "REPLICATION SLAVE": False,
            "REPLICATION CLIENT": False,
        }
    client.modify_account_password(
        m.ModifyAccountPasswordRequest(
            dbcluster_id=MYSQL, account_name="reporter", new_account_password="N3w#report"
        )
    )
    wait_available(maria, client, "reporter")
    assert can_login(maria, "reporter", "N3w#report")
    assert not can_login(maria, "reporter", "Rep0rt!ng")
    client.delete_account(m.DeleteAccountRequest(dbcluster_id=MYSQL, account_name="reporter"))
    maria.wait_for(lambda: "reporter" not in accounts(client), what="reporter to go")
    assert not can_login(maria, "reporter", "N3w#report")
    with admin_sql(maria) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM mysql.user WHERE User = 'reporter'")
        assert cursor.fetchone() == (0,)


def test_created_super_account_holds_the_set(maria: EmulatorProcess, client: Any) -> None:
    maria.delete_account(MYSQL, "dbadmin")
    assert not can_login(maria, "dbadmin", SEED_PASSWORD)  # out of band: gone at once
    client.create_account(
        m.CreateAccountRequest(
            dbcluster_id=MYSQL, account_name="boss", account_password="B0ss!aaaa"
        )
    )
    wait_available(maria, client, "boss")
    with login(maria, "boss", "B0ss!aaaa") as conn:
        assert global_privileges(conn, "boss") == FULL_SET


def test_dropped_account_is_recreated_only_by_a_reset_with_password(
    maria: EmulatorProcess, client: Any
) -> None:
    with admin_sql(maria) as conn:
        execute(conn, "DROP USER 'dbadmin'@'%'")
    reset_account(client)
    wait_available(maria, client, "dbadmin")
    assert not can_login(maria, "dbadmin", SEED_PASSWORD)
    maria.wait_for(
        lambda: (
            "ResetAccount of dbadmin on pc-mysql00000001 did not take effect" in maria.stderr_text()
        ),
        what="the warning",
    )
    reset_account(client, NEW_PASSWORD)
    wait_available(maria, client, "dbadmin")
    with login(maria, "dbadmin", NEW_PASSWORD) as conn:
        assert global_privileges(conn, "dbadmin") == FULL_SET


def test_admin_password_change_and_reset_to_seed(maria: EmulatorProcess) -> None:
    maria.patch_account(MYSQL, "dbadmin", password="H4nd!set")
    assert can_login(maria, "dbadmin", "H4nd!set")
    with admin_sql(maria) as conn:
        execute(conn, "CREATE USER 'intruder'@'%' IDENTIFIED BY 'x'", "CREATE DATABASE scratch")
    maria.reset()
    assert can_login(maria, "dbadmin", SEED_PASSWORD)
    with admin_sql(maria) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT User FROM mysql.user ORDER BY User")
        users = [u for (u,) in cursor.fetchall()]
        cursor.execute("SHOW DATABASES")
        databases = {d for (d,) in cursor.fetchall()}
    assert users == ["app_rw", "dbadmin", "emulator-admin", "mariadb.sys", "root"]
    assert "scratch" not in databases


def test_added_cluster_gets_a_server_until_reset(maria: EmulatorProcess) -> None:
    maria.add_cluster(
        id="pc-added00000001",
        region="cn-hangzhou",
        db_type="MySQL",
        accounts=[{"name": "root_x", "type": "Super", "password": "R00t!xxxx"}],
    )
    port = maria.sql_login("pc-added00000001")["port"]
    with login(maria, "root_x", "R00t!xxxx", "pc-added00000001") as conn:
        assert global_privileges(conn, "root_x") == FULL_SET
    maria.reset()  # not in the seed: its server is stopped
    with pytest.raises(EmulatorError, match="404"):
        maria.sql_login("pc-added00000001")
    assert_refused("127.0.0.1", port)  # its server stopped, not merely refusing a login


def test_privileges_revoked_flag_is_refused(maria: EmulatorProcess) -> None:
    with pytest.raises(EmulatorError, match=r"400 .*change them with SQL"):
        maria.patch_account(MYSQL, "dbadmin", privileges_revoked=True)
    assert "privileges_revoked" not in (maria.account(MYSQL, "dbadmin") or {})


def test_two_clusters_are_separate_servers(maria: EmulatorProcess, client: Any) -> None:
    one, two = maria.sql_login(MYSQL), maria.sql_login(MYSQL2)
    assert one["port"] != two["port"] and one["password"] != two["password"]
    with admin_sql(maria, MYSQL) as conn:
        execute(conn, "CREATE DATABASE only_on_one")
    with admin_sql(maria, MYSQL2) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE 'only_on_one'")
        assert cursor.fetchall() == ()
    assert can_login(maria, "polar_super", "Sup3r!pass", MYSQL2)
    assert not can_login(maria, "polar_super", "Sup3r!pass", MYSQL)
    with pytest.raises(EmulatorError, match=r"400 .*only MySQL clusters"):
        maria.sql_login("pc-pgsql00000001")


def test_describe_endpoints_gives_the_server_address(maria: EmulatorProcess, client: Any) -> None:
    body = client.describe_dbcluster_endpoints(
        m.DescribeDBClusterEndpointsRequest(dbcluster_id=MYSQL)
    ).body
    assert [i.endpoint_type for i in body.items] == ["Cluster", "Primary"]
    address = body.items[1].address_items[0]
    assert (address.net_type, address.ipaddress) == ("Private", "127.0.0.1")
    assert address.port == str(maria.sql_login(MYSQL)["port"])
    conn = pymysql.connect(
        host=address.connection_string,
        port=int(address.port),
        user="dbadmin",
        password=SEED_PASSWORD,
    )
    conn.close()


def test_no_secret_in_the_emulator_output(maria: EmulatorProcess, client: Any) -> None:
    reset_account(client, NEW_PASSWORD)
    wait_available(maria, client, "dbadmin")
    output = maria.stderr_text() + str(maria.requests()) + str(maria.state())
    for secret in (*SEED_PASSWORDS, NEW_PASSWORD):
        assert secret not in output
    assert not re.search(r"\*[0-9A-F]{40}", output)  # no password hash either


# --- process lifecycle: restarts, signals, failures ------------------------------------


def mariadbd_processes(root: Path) -> list[int]:
    """PIDs of live processes serving a datadir under ``root`` (zombies have no cmdline)."""
    prefix = f"--datadir={root}/".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg.startswith(prefix) for arg in args):
            found.append(int(entry.name))
    return found


def children_named(pid: int, name: str) -> list[int]:
    """Direct children of ``pid`` whose command is ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if int(fields[1]) == pid and comm == name:
            found.append(int(entry.name))
    return found


def test_restart_with_state_keeps_passwords_and_grants(
    mariadbd: str, tmp_path: Path, sdk_client: SdkClientFactory
) -> None:
    state = tmp_path / "state.json"
    with EmulatorProcess(DEFAULT_SEED, backend="mariadb", state_path=state) as emu:
        client = sdk_client(target=emu)
        reset_account(client, NEW_PASSWORD)
        wait_available(emu, client, "dbadmin")
        with admin_sql(emu) as conn:
            execute(conn, "REVOKE DROP ON *.* FROM 'dbadmin'@'%'")
        first_admin = emu.sql_login(MYSQL)["password"]
        emu.restart()
        assert (tmp_path / "state-mariadb" / MYSQL / "mysql").is_dir()
        assert emu.sql_login(MYSQL)["password"] != first_admin  # fresh on each start
        assert can_login(emu, "dbadmin", NEW_PASSWORD)
        assert not can_login(emu, "dbadmin", SEED_PASSWORD)
        with admin_sql(emu) as conn:
            assert global_privileges(conn, "dbadmin") == {
                k: v for k, v in FULL_SET.items() if k != "DROP"
            }
        assert accounts(sdk_client(target=emu))["dbadmin"].account_status == "Available"
    saved = state.read_text()
    assert NEW_PASSWORD not in saved and all(p not in saved for p in SEED_PASSWORDS)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_every_server(mariadbd: str, tmp_path: Path, signum: int) -> None:
    emu = EmulatorProcess(DEFAULT_SEED, backend="mariadb", state_path=tmp_path / "s.json")
    try:
        assert emu.pid is not None
        servers = children_named(emu.pid, "mariadbd")
        assert len(servers) == 3  # the three MySQL clusters of DEFAULT_SEED
        assert sorted(servers) == sorted(mariadbd_processes(tmp_path))
        emu.signal(signum)
    finally:
        code = emu.stop()
    assert code == 0
    assert mariadbd_processes(tmp_path) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_servers_die_with_a_killed_emulator(mariadbd: str, tmp_path: Path) -> None:
    # A killed emulator cannot clean up its temporary directories: give it its own.
    private_tmp = Path(tempfile.mkdtemp(prefix="pdbt-"))
    try:
        emu = EmulatorProcess(
            DEFAULT_SEED,
            backend="mariadb",
            state_path=tmp_path / "s.json",
            env={"TMPDIR": str(private_tmp)},
        )
        try:
            assert len(mariadbd_processes(tmp_path)) == 3
            emu.signal(signal.SIGKILL)
        finally:
            assert emu.stop() == -signal.SIGKILL
        deadline = time.monotonic() + 60
        while mariadbd_processes(tmp_path):
            assert time.monotonic() < deadline, "servers outlived the killed emulator"
            time.sleep(0.05)
    finally:
        shutil.rmtree(private_tmp, ignore_errors=True)


def _wrapper(tmp_path: Path, body: str) -> Path:
    """A mariadbd stand-in: runs ``body`` for cluster pc-slow, the real server otherwise."""
    script = tmp_path / "bin" / "mariadbd"
    script.parent.mkdir()
    real = _mariadbd()
    script.write_text(
        "#!/bin/bash\n"
        'for a in "$@"; do case $a in --pid-file=*) pid="${a#--pid-file=}";; esac; done\n'
        'rundir=$(dirname "$pid")\n'
        f'case "$*" in *pc-slow*) {body} ;; esac\n'
        f'exec {real} "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


# Waits (up to a minute) until both other servers have written their pid files.
_WAIT_FOR_OTHERS = (
    "for i in $(seq 600); do "
    '[ $(ls "$rundir"/pc-good*.pid 2>/dev/null | wc -l) -ge 2 ] && break; sleep 0.1; done'
)

_THREE_CLUSTERS: dict[str, Any] = {
    "access_keys": DEFAULT_SEED["access_keys"],
    "clusters": [
        {"id": cid, "region": "cn-hangzhou", "db_type": "MySQL"}
        for cid in ("pc-good1", "pc-good2", "pc-slow")
    ],
}


def test_startup_failure_half_way_stops_every_server(mariadbd: str, tmp_path: Path) -> None:
    wrapper = _wrapper(tmp_path, f"{_WAIT_FOR_OTHERS}; exit 7")
    with pytest.raises(EmulatorError) as info:
        EmulatorProcess(
            _THREE_CLUSTERS, backend="mariadb", mariadbd=wrapper, state_path=tmp_path / "s.json"
        )
    message = str(info.value)
    assert "emulator exited (1)" in message
    assert "MariaDB for cluster pc-slow did not start: mariadbd exited with status 7" in message
    assert mariadbd_processes(tmp_path) == []


def test_sigterm_while_starting_stops_every_server(mariadbd: str, tmp_path: Path) -> None:
    started = tmp_path / "others-started"
    wrapper = _wrapper(tmp_path, f"{_WAIT_FOR_OTHERS}; touch {started}; sleep 600")
    seed = write_seed(tmp_path / "seed.yaml", _THREE_CLUSTERS)
    # Started by hand: its first line never comes.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "polardb_emulator",
            "serve",
            "--seed",
            str(seed),
            "--backend",
            "mariadb",
            "--mariadbd",
            str(wrapper),
            "--state",
            str(tmp_path / "s.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the other servers never started"
            time.sleep(0.05)
        # Two servers and the stand-in that stalls the third.
        assert len(children_named(proc.pid, "mariadbd")) == 3
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert out == ""
    assert "interrupted by signal 15 while starting" in err
    assert mariadbd_processes(tmp_path) == []


def test_thread_variant_and_backend_from_the_seed(mariadbd: str) -> None:
    seed = {
        **DEFAULT_SEED,
        "settings": {"backend": "mariadb"},
        "clusters": DEFAULT_SEED["clusters"][:1],
    }
    with EmulatorThread(seed) as emu:
        assert emu.backend == "mariadb"
        port = emu.sql_login(MYSQL)["port"]
        with admin_sql(emu) as conn:
            execute(conn, "SELECT 1")
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host="127.0.0.1", port=port, user="x", password="y", connect_timeout=5)
