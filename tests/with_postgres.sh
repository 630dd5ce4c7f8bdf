#!/usr/bin/env bash
# Run a command with TEST_DATABASE_URL pointing at a throwaway PostgreSQL cluster on 127.0.0.1.
set -euo pipefail
# The server binaries, not just the client ones that postgresql-client also puts under /usr/lib/postgresql.
initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$initdb" ]; then
  echo "with_postgres.sh: PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) not found;" \
    "the PostgreSQL run cannot happen. Install Debian's postgresql package (\`make postgresql\` does)." >&2
  exit 1
fi
pg_bin=$(dirname "$initdb")
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$dir"
as_postgres "$pg_bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
as_postgres "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
trap 'as_postgres "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null; rm -rf "$dir"' EXIT
as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres stagecraft_test
TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/stagecraft_test" "$@"
