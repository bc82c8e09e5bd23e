#!/usr/bin/env bash
# Start whichever of this machine's PostgreSQL, Redis and RabbitMQ is not answering, using the
# commands ARCHITECTURE.md gives, and wait until each one answers. Safe to run repeatedly.
set -euo pipefail

answers() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_for() { # name host port seconds
  local deadline=$((SECONDS + $4))
  until answers "$2" "$3"; do
    if ((SECONDS >= deadline)); then
      echo "ensure-infra: $1 did not come up on $2:$3 within $4 s" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "ensure-infra: $1 is up on $2:$3"
}

if ! answers 127.0.0.1 5432; then
  echo "ensure-infra: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
if ! answers 127.0.0.1 6379; then
  echo "ensure-infra: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! answers 127.0.0.1 5672; then
  echo "ensure-infra: starting RabbitMQ"
  rabbitmq-server -detached
fi

wait_for PostgreSQL 127.0.0.1 5432 60
wait_for Redis 127.0.0.1 6379 30
wait_for RabbitMQ 127.0.0.1 5672 120
