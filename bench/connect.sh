#!/usr/bin/env bash
# Connect throughput of the connect service against the in-process emulator, on SQLite and (when
# RAKGUARD_TEST_POSTGRES_URL or DATABASE_URL names a PostgreSQL server) on PostgreSQL.
#
#   bash bench/connect.sh [connects [clients]]      # defaults: 2000 connects, 32 clients
set -euo pipefail
cd "$(dirname "$0")/.."
export RAKGUARD_TEST_POSTGRES_URL="${RAKGUARD_TEST_POSTGRES_URL:-${DATABASE_URL:-postgres://$(id -un)@127.0.0.1:5432/test}}"
cargo bench --quiet -p rakguard-connect --bench connects -- "$@"
