#!/usr/bin/env bash
# down.sh - stop what up.sh started: slurmdbd, then munged, each by the pid in its pid file
# under the runtime directory (never by name), and drop the oracle's database. The MariaDB
# server itself is left alone. Safe to run when nothing is up.
set -uo pipefail

RUN="${JOBACCT_ORACLE_RUN:-/tmp/jobacct-oracle}"
DB_NAME="${JOBACCT_ORACLE_DB:-jobacct_oracle_acct_db}"
IFS=: read -r DB_HOST DB_PORT DB_USER DB_PASS <<<"${JOBACCT_ORACLE_MYSQL:-127.0.0.1:3306:root:}"

say() { printf '[oracle-down] %s\n' "$*"; }

stop() {  # stop PIDFILE COMM
    local pid
    if [ ! -s "$1" ]; then say "$2: no pid file"; return 0; fi
    pid=$(tr -dc '0-9' <"$1")
    if [ -z "$pid" ] || ! grep -qx "$2" "/proc/$pid/comm" 2>/dev/null; then
        say "$2 not running"; rm -f "$1"; return 0
    fi
    say "stopping $2 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
        [ -d "/proc/$pid" ] || { rm -f "$1"; return 0; }
        sleep 0.2
    done
    say "$2 (pid $pid) still alive after 20 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    rm -f "$1"
}

stop "$RUN/slurmdbd.pid" slurmdbd
stop "$RUN/munged.pid" munged
if [ "${KEEP_DB:-0}" != 1 ] && command -v mysql >/dev/null; then
    mysql -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" ${DB_PASS:+-p"$DB_PASS"} \
        -e "DROP DATABASE IF EXISTS \`$DB_NAME\`" 2>/dev/null && say "dropped $DB_NAME"
fi
say "down"
