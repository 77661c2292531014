#!/usr/bin/env bash
# Starts the Redis and PostgreSQL that the tests use, when they are not already running
# (this machine kind has both installed: Redis on 127.0.0.1:6379, PostgreSQL on 5432, trust auth).
set -u
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if ! redis_up; then
  echo "starting redis" >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || echo "could not start redis" >&2
fi
if ! pg_up; then
  echo "starting postgresql" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || echo "could not start postgresql" >&2
fi
for _ in $(seq 1 30); do redis_up && pg_up && break; sleep 1; done
redis_up || { echo "redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
pg_up || { echo "postgresql is not reachable on 127.0.0.1:5432" >&2; exit 1; }
if command -v psql >/dev/null; then
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null 2>&1 || true
fi
exit 0
