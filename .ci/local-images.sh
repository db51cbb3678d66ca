#!/usr/bin/env bash
# Builds NATS and PostgreSQL 15 images from Debian packages, for a Docker engine that cannot pull
# (no registry reachable), and prints the variables that make the test support use them:
#   eval "$(bash .ci/local-images.sh)"
# A root file system of Debian bookworm with nats-server and postgresql-15 (debootstrap, from the
# Debian mirror apt uses), imported twice with each server as its entry point. The PostgreSQL one
# initialises its data directory like the official image does (POSTGRES_HOST_AUTH_METHOD=trust).
set -euo pipefail
NATS=hookhub-local/nats:debian
POSTGRES=hookhub-local/postgres:15-debian
if ! docker image inspect "$NATS" "$POSTGRES" >/dev/null 2>&1; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  root=$(mktemp -d)
  debootstrap --variant=minbase --include=nats-server,postgresql-15 bookworm "$root" "${mirror:-http://deb.debian.org/debian}" >&2
  cat > "$root/usr/local/bin/postgres-entrypoint" <<'SH'
#!/bin/sh
set -e
PGDATA=${PGDATA:-/var/lib/postgresql/data}
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" --auth=trust >/dev/null
  echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-trust}" >> "$PGDATA/pg_hba.conf"
fi
exec runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres -D "$PGDATA" -c listen_addresses='*' "$@"
SH
  chmod +x "$root/usr/local/bin/postgres-entrypoint"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import -c 'ENTRYPOINT ["/usr/sbin/nats-server"]' - "$NATS" >&2
  tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]' - "$POSTGRES" >&2
  rm -rf "$root"
fi
echo "export TEST_NATS_IMAGE=$NATS TEST_POSTGRES_IMAGE=$POSTGRES"
