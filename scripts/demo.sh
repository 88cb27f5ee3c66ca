#!/usr/bin/env bash
# `make demo`: the root stack with plain `pulumi` commands in a shell, as a user runs
# it, against the local PolarDB emulator.
#
# 1. starts the emulator from demo/seed.yaml on a free port;
# 2. creates the stack `demo` (local file backend under .demo/root/, passphrase
#    demo-passphrase) with `pulumi stack init` and `pulumi config set`;
# 3. `pulumi up`: one ResetAccount per target;
# 4. bumps one target's resetNonce with `pulumi config set --type int` and runs
#    `pulumi up` again: exactly one more ResetAccount;
# 5. with MariaDB (scripts/provision-mariadb installs it when it can; the emulator's
#    `--backend mariadb`: each cluster is a real server): revokes a privilege of one account over SQL, out of band; `pulumi preview
#    --refresh` names the drift, `pulumi up --refresh` resets exactly that account;
# 6. prints `pulumi stack output` and the emulator's request log as the witness.
#
# Env: PULUMI_BIN (directory of the pulumi CLI; default: scripts/install-pulumi),
#      PYTHON (default: .venv/bin/python).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
python="${PYTHON:-$repo/.venv/bin/python}"
PULUMI_BIN="${PULUMI_BIN:-$(scripts/install-pulumi | tail -n1)}"

say() { printf '\n=== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# Only the demo's own state goes; .demo/ may hold other state (examples/README.md).
work="$repo/.demo/root"
rm -rf "$work" "$repo/Pulumi.demo.yaml"
mkdir -p "$work/state" "$work/home"

# MariaDB as .ci/run provisions it (installed as root or with sudo -n when missing); without
# it the demo says so in one line and runs the rest on the emulator's memory backend.
if reason="$(scripts/provision-mariadb)"; then
  backend=mariadb
else
  backend=memory
  echo "MariaDB is not available, so the demo skips the privilege drift part: $reason"
fi
say "starting the PolarDB emulator (seed: demo/seed.yaml, backend: $backend)"
exec {emu_out}< <(exec "$python" -m polardb_emulator serve --seed demo/seed.yaml --quiet \
  --backend "$backend" 2>"$work/emulator.log")
emu_pid=$!
trap 'kill "$emu_pid" 2>/dev/null || true' EXIT
# The first stdout line is JSON: {"endpoint": ..., "admin_url": ...}; read blocks until
# the emulator listens (or exits).
if ! IFS= read -r -u "$emu_out" info; then
  echo "the emulator did not start:" >&2
  cat "$work/emulator.log" >&2
  exit 1
fi
field() { "$python" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$info" "$1"; }
endpoint="$(field endpoint)"
admin_url="$(field admin_url)"
echo "$info"

export PATH="$PULUMI_BIN:$PATH"
export PULUMI_BACKEND_URL="file://$work/state"
export PULUMI_HOME="$work/home"
export PULUMI_CONFIG_PASSPHRASE=demo-passphrase
export PULUMI_SKIP_UPDATE_CHECK=true

say "a new stack, configured for the emulator"
run pulumi stack init demo
run pulumi config set alicloud:region cn-hangzhou
run pulumi config set alicloud:accessKey LTAI5tDemoKey000001
printf '$ pulumi config set --secret alicloud:secretKey   # value typed on stdin\n'
printf 'demo-secret-not-real' | pulumi config set --secret alicloud:secretKey
run pulumi config set alicloud:endpoints "[{\"polardb\": \"http://$endpoint\"}]"
run pulumi config set --path 'polardb-reset:targets[0].name' main
run pulumi config set --path 'polardb-reset:targets[0].dbClusterId' pc-demo0000000001
run pulumi config set --path 'polardb-reset:targets[0].accountName' dbadmin
run pulumi config set --path --type int 'polardb-reset:targets[0].resetNonce' 1
run pulumi config set --path 'polardb-reset:targets[1].name' second
run pulumi config set --path 'polardb-reset:targets[1].dbClusterId' pc-demo0000000002
run pulumi config set --path 'polardb-reset:targets[1].accountName' polar_root
run pulumi config set --path --type int 'polardb-reset:targets[1].resetNonce' 1
printf '$ pulumi config set --secret --path polardb-reset:passwords.main   # stdin\n'
printf 'Demo!Passw0rd1' | pulumi config set --secret --path polardb-reset:passwords.main
# 'second' keeps its password; the privilege check logs in with it (never sets it).
printf '$ pulumi config set --secret --path polardb-reset:checkPasswords.second   # stdin\n'
printf 'Seed!Passw0rd2' | pulumi config set --secret --path polardb-reset:checkPasswords.second

resets() {
  "$python" - "$admin_url" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/requests", timeout=30) as response:
    log = json.load(response)
calls = [r for r in log["requests"] if r["action"] == "ResetAccount"]
print(len(calls))
for r in calls:
    p = r["params"]
    extra = " (with a new password)" if "AccountPassword" in p else ""
    print(f"  ResetAccount {p.get('DBClusterId')}/{p.get('AccountName')} -> {r['status']}{extra}", file=sys.stderr)
PY
}

say "first deployment: one ResetAccount per target"
run pulumi up --yes
first="$(resets)"

say "no change: no API call at all"
run pulumi up --yes

say "bump the nonce of target 'second': exactly one more ResetAccount"
run pulumi config set --path --type int 'polardb-reset:targets[1].resetNonce' 2
run pulumi up --yes
total="$(resets)"
run pulumi stack output second

expected=3
if [[ "$backend" == mariadb ]]; then
  say "out of band: REVOKE RELOAD from the privileged account of pc-demo0000000001 (SQL)"
  "$python" - "$admin_url" <<'PY'
import json, sys, urllib.request
import pymysql
with urllib.request.urlopen(sys.argv[1] + "/clusters/pc-demo0000000001/sql", timeout=30) as r:
    login = json.load(r)  # the emulator's administrative SQL login
with pymysql.connect(**login, autocommit=True) as conn, conn.cursor() as cursor:
    cursor.execute("REVOKE RELOAD ON *.* FROM 'dbadmin'@'%'")
print("REVOKE RELOAD ON *.* FROM 'dbadmin'@'%'  -- the API still says Available")
PY
  say "refresh sees the drift; preview names it and writes nothing"
  run pulumi preview --refresh
  say "up --refresh resets exactly the drifted account, then checks it again over SQL"
  run pulumi up --refresh --yes
  run pulumi stack output main
  expected=4
fi
total="$(resets)"

say "witness: the emulator's request log"
echo "ResetAccount calls: $first after the first up, $total in all (expected 2 and $expected)"
[[ "$first" == 2 && "$total" == "$expected" ]]
echo
echo "State: $work/state (passphrase demo-passphrase). Clean up with: rm -rf .demo/root Pulumi.demo.yaml"
