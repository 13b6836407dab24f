#!/usr/bin/env bash
# up.sh - bring up the oracle: a real Slurm 22.05 slurmdbd (Debian 12's packages) that
# tests/test_oracle.py writes accounting rows into and queries with the real sacct.
#
#   munged (own socket and key) -> database on the running MariaDB -> slurmdbd -> sacctmgr
#
# Nothing under /etc is read or written: the configs are rendered from the *.in templates into
# the runtime directory and sacct/sacctmgr/slurmdbd find them through SLURM_CONF. No
# slurmctld or slurmd: sacct only talks to slurmdbd, and the tests write the job and step rows
# themselves. Every daemon started here has a pid file in the runtime directory; down.sh stops
# exactly those. The MariaDB server is used, never started or stopped.
#
# Environment (all optional):
#   JOBACCT_ORACLE_RUN   runtime directory             (/tmp/jobacct-oracle)
#   JOBACCT_ORACLE_PORT  slurmdbd's DbdPort            (16819, off Slurm's default 6819)
#   JOBACCT_ORACLE_DB    accounting database, dropped and created again by every run
#                        (jobacct_oracle_acct_db)
#   JOBACCT_ORACLE_MYSQL host:port:user:password of the MariaDB (127.0.0.1:3306:root:)
# On success the last line is "[oracle-up] ready ..." and $RUN/env holds the variables a
# client needs (SLURM_CONF=..., one per line).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN="${JOBACCT_ORACLE_RUN:-/tmp/jobacct-oracle}"
DBD_PORT="${JOBACCT_ORACLE_PORT:-16819}"
DB_NAME="${JOBACCT_ORACLE_DB:-jobacct_oracle_acct_db}"
IFS=: read -r DB_HOST DB_PORT DB_USER DB_PASS <<<"${JOBACCT_ORACLE_MYSQL:-127.0.0.1:3306:root:}"
CLUSTER=oracle

say() { printf '[oracle-up] %s\n' "$*"; }
die() { printf '[oracle-up] ERROR: %s\n' "$*" >&2; exit 1; }

alive() {  # alive PIDFILE COMM -> the pid in PIDFILE is a live process named COMM
    local pid
    [ -s "$1" ] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [ -n "$pid" ] && grep -qx "$2" "/proc/$pid/comm" 2>/dev/null
}

waitfor() {  # waitfor SECONDS WHAT CMD... (polls every 0.2 s; each try gets 10 s at most)
    local n=$(( $1 * 5 )) what=$2
    shift 2
    for _ in $(seq 1 "$n"); do
        timeout 10 "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "timed out waiting for $what"
}

[ "$(id -u)" = 0 ] || die "must run as root (slurmdbd runs as SlurmUser=root and wants its config owned by root)"
missing=""
for cmd in munged munge unmunge slurmdbd sacct sacctmgr mysql; do
    command -v "$cmd" >/dev/null || missing="$missing $cmd"
done
[ -z "$missing" ] || die "missing commands:$missing (Debian 12: slurmdbd slurm-client slurm-wlm-basic-plugins slurm-wlm-mysql-plugin munge mariadb-client)"
[ -e /usr/lib/x86_64-linux-gnu/slurm-wlm/accounting_storage_mysql.so ] \
    || [ -n "$(find /usr/lib -name accounting_storage_mysql.so -print -quit 2>/dev/null)" ] \
    || die "missing the accounting_storage/mysql plugin (slurm-wlm-mysql-plugin)"

if alive "$RUN/slurmdbd.pid" slurmdbd || alive "$RUN/munged.pid" munged; then
    die "an oracle is already running from $RUN: run down.sh first"
fi

mysql_() { mysql -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" ${DB_PASS:+-p"$DB_PASS"} "$@"; }
mysql_ -e 'SELECT 1' >/dev/null 2>&1 || die "no MariaDB answers at $DB_HOST:$DB_PORT as $DB_USER"

install -d -m 0755 "$RUN"
install -d -m 0700 "$RUN/state"
rm -f "$RUN"/*.log

# 1. munged: our own key and socket ------------------------------------------------------
[ -s "$RUN/munge.key" ] || dd if=/dev/urandom of="$RUN/munge.key" bs=1024 count=1 2>/dev/null
chmod 0600 "$RUN/munge.key"
say "starting munged"
munged --socket="$RUN/munge.socket" --key-file="$RUN/munge.key" --pid-file="$RUN/munged.pid" \
    --seed-file="$RUN/munged.seed" --log-file="$RUN/munged.log" --force
waitfor 20 munged bash -c "munge -S '$RUN/munge.socket' -n | unmunge -S '$RUN/munge.socket'"

# 2. the accounting database, empty ------------------------------------------------------
say "creating database $DB_NAME on $DB_HOST:$DB_PORT"
mysql_ -e "DROP DATABASE IF EXISTS \`$DB_NAME\`; CREATE DATABASE \`$DB_NAME\`"

# 3. configs -----------------------------------------------------------------------------
render() {  # render TEMPLATE DEST MODE
    sed -e "s|@RUN@|$RUN|g" -e "s|@DBD_PORT@|$DBD_PORT|g" -e "s|@CTLD_PORT@|$((DBD_PORT + 1))|g" \
        -e "s|@DB_HOST@|$DB_HOST|g" -e "s|@DB_PORT@|$DB_PORT|g" -e "s|@DB_USER@|$DB_USER|g" \
        -e "s|@DB_NAME@|$DB_NAME|g" -e "s|@DB_PASS@|$DB_PASS|g" "$1" \
        | if [ -z "$DB_PASS" ]; then grep -v '^StoragePass='; else cat; fi >"$2.tmp"
    chown root:root "$2.tmp"
    chmod "$3" "$2.tmp"
    mv "$2.tmp" "$2"
}
render "$HERE/slurm.conf.in" "$RUN/slurm.conf" 0644
render "$HERE/slurmdbd.conf.in" "$RUN/slurmdbd.conf" 0600
export SLURM_CONF="$RUN/slurm.conf"
printf 'SLURM_CONF=%s\n' "$SLURM_CONF" >"$RUN/env"

# 4. slurmdbd (forks; its PidFile is $RUN/slurmdbd.pid) ----------------------------------
say "starting slurmdbd on 127.0.0.1:$DBD_PORT"
slurmdbd
waitfor 60 "slurmdbd to answer (see $RUN/slurmdbd.log)" sacctmgr -n list cluster

# 5. the cluster (slurmdbd creates ${CLUSTER}_job_table & co.), accounts and users --------
# The users do not exist on this host: sacct names a job's user from its association, so
# the names below are what sacct prints, whatever /etc/passwd holds.
timeout 30 sacctmgr -i add cluster "$CLUSTER" >/dev/null
timeout 30 sacctmgr -i add account physics,chem cluster="$CLUSTER" description=oracle organization=oracle >/dev/null
timeout 30 sacctmgr -i add user orc_alice,orc_bob account=physics cluster="$CLUSTER" >/dev/null
timeout 30 sacctmgr -i add user orc_carol account=chem cluster="$CLUSTER" >/dev/null
# "add cluster" returns once slurmdbd has created the cluster's tables
mysql_ -e "SELECT 1 FROM \`$DB_NAME\`.\`${CLUSTER}_job_table\` LIMIT 1" >/dev/null \
    || die "slurmdbd did not create ${CLUSTER}_job_table"

say "ready: SLURM_CONF=$SLURM_CONF db=$DB_NAME munged=$(cat "$RUN/munged.pid") slurmdbd=$(cat "$RUN/slurmdbd.pid")"
