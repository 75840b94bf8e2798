#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer for the test suite: start them when their binaries
# are installed, otherwise stop with one line saying what to install.
set -u
db_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/13}
hostport=$(echo "$db_url" | sed -E 's#^[a-z]+://([^@/]*@)?([^/:]+)(:([0-9]+))?.*#\2 \4#')
pg_host=$(echo "$hostport" | cut -d' ' -f1); pg_port=$(echo "$hostport" | cut -d' ' -f2); pg_port=${pg_port:-5432}
r_hostport=$(echo "$redis_url" | sed -E 's#^rediss?://([^@/]*@)?([^/:]+)(:([0-9]+))?.*#\2 \4#')
r_host=$(echo "$r_hostport" | cut -d' ' -f1); r_port=$(echo "$r_hostport" | cut -d' ' -f2); r_port=${r_port:-6379}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() {  # host port seconds
  for _ in $(seq 1 "$3"); do port_open "$1" "$2" && return 0; sleep 1; done
  return 1
}

if ! port_open "$pg_host" "$pg_port"; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    wait_for "$pg_host" "$pg_port" 30 || { echo "PostgreSQL did not start on $pg_host:$pg_port"; exit 1; }
  else
    echo "PostgreSQL is not reachable at $pg_host:$pg_port and not installed: apt-get install -y postgresql (or set DATABASE_URL)"
    exit 1
  fi
fi

if ! port_open "$r_host" "$r_port"; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$r_port" --save "" --appendonly no >/dev/null
    wait_for "$r_host" "$r_port" 15 || { echo "Redis did not start on $r_host:$r_port"; exit 1; }
  else
    echo "Redis is not reachable at $r_host:$r_port and not installed: apt-get install -y redis-server (or set REDIS_URL)"
    exit 1
  fi
fi
