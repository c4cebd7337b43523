#!/usr/bin/env bash
# Makes a PostgreSQL server ready for the server's PostgreSQL tests and prints the URL they
# use (WAYSTATION_TEST_PG): installs Debian's `postgresql` when missing (as root), starts the
# cluster, and creates the role `waystation` (password `waystation`, CREATEDB), which each
# test uses to make and drop its own database.
#
#   export WAYSTATION_TEST_PG=$(scripts/test-postgres.sh)
#
# Exits non-zero, saying why, when PostgreSQL is missing and cannot be installed or started:
# the PostgreSQL tests then fail rather than pass without running.
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "installing postgresql (Debian)" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    else
        echo "PostgreSQL is required for the server's PostgreSQL tests (Debian: apt-get install postgresql)" >&2
        exit 1
    fi
fi

# The newest installed cluster (Debian 12: 15 main); created when the package made none.
version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version main"; then
    pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
    pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')

as_postgres() {
    if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi
}
as_postgres "psql -q -p $port -v ON_ERROR_STOP=1 -c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'waystation') THEN CREATE ROLE waystation LOGIN CREATEDB PASSWORD 'waystation'; END IF; END \\\$\\\$;\"" >&2

url="postgres://waystation:waystation@127.0.0.1:$port/postgres"
# The tests connect over TCP with the password: check that before any test does.
if ! PGPASSWORD=waystation psql -q -h 127.0.0.1 -p "$port" -U waystation -d postgres -c 'SELECT 1' >/dev/null; then
    echo "PostgreSQL is running but refuses waystation@127.0.0.1:$port" >&2
    exit 1
fi
echo "$url"
