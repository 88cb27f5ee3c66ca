"""The API actions: request parameters in, response documents out.

This is the thin mapping between the RPC contract (parameter names, response
field names as the SDK models parse them) and the domain rules
(:class:`~.service.Service`): protocol here, rules there, errors in ``exceptions``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .exceptions import api_error, missing_parameter
from .service import Account, Cluster, Prehashed, Service

Params = Mapping[str, str]
#: (service, parameters, request ID, the password's credential computed ahead or None).
Handler = Callable[[Service, Params, str, Prehashed | None], dict[str, Any]]

API_VERSION = "2017-08-01"
#: The RAM service code in action names and ARNs.
SERVICE = "polardb"
#: Actions whose resource is the region's cluster list, not one cluster.
LIST_ACTIONS = frozenset({"DescribeDBClusters"})
WRITE_ACTIONS = frozenset(
    {
        "ResetAccount",
        "CreateAccount",
        "DeleteAccount",
        "ModifyAccountPassword",
        "ModifyAccountLockState",
    }
)
#: The parameter carrying a new password, per action (hashed ahead, off the model's thread).
PASSWORD_PARAMS = {
    "ResetAccount": "AccountPassword",
    "CreateAccount": "AccountPassword",
    "ModifyAccountPassword": "NewAccountPassword",
}


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if not value:
        raise missing_parameter(name)
    return value


#: An integer parameter: ASCII digits only, at most 10 (str.isdigit() also takes
#: '²' and int() refuses more than 4,300 digits: both used to be 500s).
_INTEGER = re.compile(r"[0-9]{1,10}")
MAX_PAGE_NUMBER = 2**31 - 1


def _integer(params: Params, name: str, default: int, low: int, high: int, code: str) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    value = int(raw) if _INTEGER.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        raise api_error(
            code,
            f"The specified parameter {name} is not valid: it must be an integer from "
            f"{low} to {high}.",
        )
    return value


def _page(params: Params, allowed: tuple[int, ...] | None) -> tuple[int, int]:
    number = _integer(params, "PageNumber", 1, 1, MAX_PAGE_NUMBER, "InvalidPageNumber.Malformed")
    size = _integer(params, "PageSize", 30, 1, 100, "InvalidPageSize.Malformed")
    if allowed is not None and size not in allowed:
        choices = ", ".join(map(str, allowed))
        raise api_error(
            "InvalidPageSize.Malformed",
            f"The specified parameter PageSize is not valid: it must be one of {choices}.",
        )
    return number, size


def reset_account(
    service: Service, params: Params, request_id: str, prehashed: Prehashed | None = None
) -> dict[str, Any]:
    """ResetAccount(DBClusterId, AccountName, AccountPassword?)."""
    service.reset_account(
        _required(params, "DBClusterId"),
        _required(params, "AccountName"),
        params.get("AccountPassword") or None,
        prehashed,
    )
    return {}


def create_account(
    service: Service, params: Params, request_id: str, prehashed: Prehashed | None = None
) -> dict[str, Any]:
    """CreateAccount; AccountType omitted means Super."""
    earlier = service.create_account(
        _required(params, "DBClusterId"),
        _required(params, "AccountName"),
        _required(params, "AccountPassword"),
        params.get("AccountType") or None,
        description=params.get("AccountDescription", ""),
        db_name=params.get("DBName") or None,
        privilege=params.get("AccountPrivilege") or None,
        client_token=params.get("ClientToken") or None,
        request_id=request_id,
        prehashed=prehashed,
    )
    return {"RequestId": earlier} if earlier else {}


def delete_account(
    service: Service, params: Params, request_id: str, prehashed: Prehashed | None = None
) -> dict[str, Any]:
    """DeleteAccount(DBClusterId, AccountName)."""
    service.delete_account(_required(params, "DBClusterId"), _required(params, "AccountName"))
    return {}


def modify_account_password(
    service: Service, params: Params, request_id: str, prehashed: Prehashed | None = None
) -> dict[str, Any]:
    """ModifyAccountPassword(DBClusterId, AccountName, NewAccountPassword)."""
    service.modify_account_password(
        _required(params, "DBClusterId"),
        _required(params, "AccountName"),
        _required(params, "NewAccountPassword"),
        prehashed,
    )
    return {}


def modify_account_lock_state(
    service: Service, params: Params, request_id: str, prehashed: Prehashed | None = None
) -> dict[str, Any]:
    """ModifyAccountLockState(DBClusterId, AccountName, AccountLockState,
    AccountPasswordValidTime?)."""
    service.modify_account_lock_state(
        _required(params, "DBClusterId"),
        _required(params, "AccountName"),
        _required(params, "AccountLockState"),
        params.get("AccountPasswordValidTime") or None,
    )
    return {}


def _account_doc(account: Account) -> dict[str, Any]:
    return {
        "AccountName": account.name,
        "AccountStatus": account.status,
        "AccountType": account.type,
        "AccountLockState": account.lock_state,
        "AccountDescription": account.description,
        "AccountPasswordValidTime": account.password_valid_time,
        "DatabasePrivileges": [dict(p) for p in account.database_privileges],
    }


def describe_accounts(
    service: Service, params: Params, request_id: str, prehashed: Prehashed | None = None
) -> dict[str, Any]:
    """DescribeAccounts(DBClusterId, AccountName?, PageNumber, PageSize 30/50/100)."""
    cluster_id = _required(params, "DBClusterId")
    number, size = _page(params, (30, 50, 100))
    cluster = service.cluster(cluster_id)
    accounts = list(cluster.accounts.values())
    name = params.get("AccountName")
    if name:
        accounts = [a for a in accounts if a.name == name]
    page = accounts[(number - 1) * size : number * size]
    return {
        "PageNumber": number,
        "PageRecordCount": len(page),
        "Accounts": [_account_doc(a) for a in page],
    }


def _zone(cluster: Cluster) -> str:
    return f"{cluster.region}-i"


def _common_cluster_doc(cluster: Cluster) -> dict[str, Any]:
    return {
        "DBClusterId": cluster.id,
        "DBClusterDescription": cluster.description,
        "DBClusterStatus": cluster.status,
        "DBType": cluster.db_type,
        "DBVersion": cluster.db_version,
        "Engine": "POLARDB",
        "RegionId": cluster.region,
        "LockMode": "Unlock",
        "Category": "Normal",
        "DeletionLock": 0,
        "PayType": "Postpaid",
        "Expired": "false",
        "DBClusterNetworkType": "VPC",
        "StorageType": "psl5",
        "StorageUsed": 3_221_225_472,
        "ResourceGroupId": "rg-emulator",
    }


def _node(cluster: Cluster) -> dict[str, Any]:
    return {
        "DBNodeId": f"pi-{cluster.id[3:]}01",
        "DBNodeRole": "Writer",
        "DBNodeClass": "polar.mysql.x4.medium",
        "ZoneId": _zone(cluster),
        "RegionId": cluster.region,
    }


def describe_dbcluster_attribute(
    service: Service, params: Params, request_id: str, prehashed: Prehashed | None = None
) -> dict[str, Any]:
    """DescribeDBClusterAttribute(DBClusterId)."""
    # The reference documents InvalidDBClusterId.Malformed as 400 for this action.
    cluster = service.cluster(_required(params, "DBClusterId"), malformed_status=400)
    node = _node(cluster) | {"DBNodeStatus": "Running"}
    node.pop("RegionId")
    return _common_cluster_doc(cluster) | {
        "ZoneIds": _zone(cluster),
        "VPCId": f"vpc-{cluster.id[3:]}",
        "VSwitchId": f"vsw-{cluster.id[3:]}",
        "CreationTime": cluster.created,
        "DBNodes": [node],
        "Tags": [],
        "MaintainTime": "18:00Z-19:00Z",
    }


def describe_dbclusters(
    service: Service, params: Params, request_id: str, prehashed: Prehashed | None = None
) -> dict[str, Any]:
    """DescribeDBClusters(RegionId, DBClusterIds?, DBType?, DBClusterStatus?, paging)."""
    region = _required(params, "RegionId")
    number, size = _page(params, None)
    clusters = [c for c in service.visible_clusters() if c.region == region]
    ids = params.get("DBClusterIds")
    if ids:
        wanted = {i.strip() for i in ids.split(",") if i.strip()}
        clusters = [c for c in clusters if c.id in wanted]
    if params.get("DBType"):
        clusters = [c for c in clusters if c.db_type.lower() == params["DBType"].lower()]
    if params.get("DBClusterStatus"):
        clusters = [c for c in clusters if c.status == params["DBClusterStatus"]]
    page = clusters[(number - 1) * size : number * size]
    items = [
        _common_cluster_doc(c)
        | {
            "ZoneId": _zone(c),
            "VpcId": f"vpc-{c.id[3:]}",
            "VswitchId": f"vsw-{c.id[3:]}",
            "CreateTime": c.created,
            "DBNodeNumber": 1,
            "DBNodes": {"DBNode": [_node(c)]},
            "Tags": {"Tag": []},
        }
        for c in page
    ]
    return {
        "PageNumber": number,
        "PageRecordCount": len(page),
        "TotalRecordCount": len(clusters),
        "Items": {"DBCluster": items},
    }


#: Where DescribeDBClusterEndpoints points when a cluster has no SQL server
#: (the memory backend, non-MySQL engines): a name that never resolves
#: (RFC 2606 ``.invalid``) and a documentation address (RFC 5737).
PLACEHOLDER_HOST_SUFFIX = ".emulator.invalid"
PLACEHOLDER_IP = "192.0.2.1"
_DEFAULT_PORTS = {"MySQL": 3306, "PostgreSQL": 5432, "Oracle": 1521}


def _endpoint_item(cluster: Cluster, kind: str, host: str, ip: str, port: int) -> dict[str, Any]:
    suffix = "rw" if kind == "Cluster" else "pri"
    return {
        "DBClusterId": cluster.id,
        "DBEndpointId": f"pe-{cluster.id[3:]}{suffix}",
        "EndpointType": kind,
        "DBEndpointDescription": "",
        "Nodes": _node(cluster)["DBNodeId"],
        "ReadWriteMode": "ReadWrite",
        "AutoAddNewNodes": "Enable" if kind == "Cluster" else "Disable",
        "EndpointConfig": "{}",
        "AddressItems": [
            {
                "ConnectionString": host,
                "IPAddress": ip,
                "NetType": "Private",
                "Port": str(port),  # a string in the real response
                "VPCId": f"vpc-{cluster.id[3:]}",
                "VSwitchId": f"vsw-{cluster.id[3:]}",
                "VpcInstanceId": f"pe-{cluster.id[3:]}{suffix}",
                "PrivateZoneConnectionString": "",
            }
        ],
    }


def describe_dbcluster_endpoints(
    service: Service, params: Params, request_id: str, prehashed: Prehashed | None = None
) -> dict[str, Any]:
    """DescribeDBClusterEndpoints(DBClusterId, DBEndpointId?): Cluster and Primary endpoints.

    With a SQL server (the mariadb backend, MySQL clusters) both point to its
    loopback address; otherwise to a placeholder that never connects.
    """
    cluster = service.cluster(_required(params, "DBClusterId"))
    address = cluster.database.endpoint()
    if address is not None:
        host, port = address
        ip = host
    else:
        host = f"{cluster.id}{PLACEHOLDER_HOST_SUFFIX}"
        ip, port = PLACEHOLDER_IP, _DEFAULT_PORTS[cluster.db_type]
    items = [_endpoint_item(cluster, kind, host, ip, port) for kind in ("Cluster", "Primary")]
    wanted = params.get("DBEndpointId")
    if wanted:
        items = [i for i in items if i["DBEndpointId"] == wanted]
    return {"Items": items}


ACTIONS: dict[str, Handler] = {
    "ResetAccount": reset_account,
    "DescribeAccounts": describe_accounts,
    "DescribeDBClusterAttribute": describe_dbcluster_attribute,
    "DescribeDBClusters": describe_dbclusters,
    "DescribeDBClusterEndpoints": describe_dbcluster_endpoints,
    "CreateAccount": create_account,
    "DeleteAccount": delete_account,
    "ModifyAccountPassword": modify_account_password,
    "ModifyAccountLockState": modify_account_lock_state,
}


def resource_arn(
    action: str, params: Params, *, account_id: str, region_of: Callable[[str], str]
) -> str:
    """The resource RAM checks for ``action``: the cluster it names, or the region's list.

    ``region_of`` gives a known cluster's region; for a cluster the emulator does not know,
    the request's ``RegionId`` (empty without one: only a ``*`` region matches it).
    """
    if action in LIST_ACTIONS:
        return f"acs:{SERVICE}:{params.get('RegionId', '')}:{account_id}:dbcluster/*"
    cluster = params.get("DBClusterId", "")
    region = region_of(cluster) or params.get("RegionId", "")
    return f"acs:{SERVICE}:{region}:{account_id}:dbcluster/{cluster}"
