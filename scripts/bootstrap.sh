#!/usr/bin/env bash
# The machine set-up behind the README's two commands and CI, on Debian 12 (or this machine):
#   scripts/bootstrap.sh run    what `make run` needs: Python's venv module, WeasyPrint's
#                               libraries (pango, harfbuzz, fonts)
#   scripts/bootstrap.sh test   + Chromium, PostgreSQL and Redis, and starts the two services
#                               when they are installed but not answering on 127.0.0.1
#   scripts/bootstrap.sh ci     + docker-compose (CI checks docker-compose.yml with it)
# Idempotent, and silent when everything is there (a few dpkg-query calls and two pings).
# It installs with apt only as root; otherwise it says, loudly, what is missing and why, and
# the tests decide: the browser tests are skipped (an error with REQUIRE_SERVICES=1), a missing
# PostgreSQL or Redis means SQLite and skips (scripts/run_tests.py).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-test}"
case "$profile" in run | test | ci) ;; *) echo "usage: $0 run|test|ci" >&2 && exit 2 ;; esac
export DEBIAN_FRONTEND=noninteractive

log() { printf '== bootstrap: %s\n' "$*"; }
loud() { printf '\n!! bootstrap: %s\n\n' "$*" >&2; }

# --- system packages -----------------------------------------------------------------------
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-dejavu-core)
python3 -c 'import ensurepip' >/dev/null 2>&1 || packages+=(python3-venv)
if [ "$profile" != run ]; then
  packages+=(chromium postgresql postgresql-client redis-server redis-tools)
fi
[ "$profile" = ci ] && packages+=(docker-compose)

installed() { [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]; }

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for package in "${packages[@]}"; do
    installed "$package" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "installing ${missing[*]}"
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      why="not root"
      command -v apt-get >/dev/null 2>&1 || why="no apt-get"
      loud "cannot install ${missing[*]} ($why): run as root, or install them yourself"
    fi
  fi
fi
[ "$profile" = run ] && exit 0

# --- PostgreSQL ------------------------------------------------------------------------------
pg_url="postgres://postgres@127.0.0.1:5432/postgres"
pg_password_url="postgres://postgres:postgres@127.0.0.1:5432/postgres"
if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    if [ "$(id -u)" -eq 0 ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      log "starting PostgreSQL"
      version=$(ls /etc/postgresql | sort -V | tail -n 1)
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
      for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
    fi
  fi
  if pg_isready -h 127.0.0.1 -p 5432 -q; then
    # A stock Debian cluster asks for a password over TCP: give the postgres role the one that
    # scripts/run_tests.py tries after none (postgres://postgres:postgres@...).
    if ! psql "$pg_url" -Atc 'select 1' >/dev/null 2>&1 &&
      ! psql "$pg_password_url" -Atc 'select 1' >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
      log "setting the postgres role's password for TCP connections"
      su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
    fi
  else
    loud "PostgreSQL does not answer on 127.0.0.1:5432"
  fi
fi

# --- Redis -----------------------------------------------------------------------------------
if command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    log "starting Redis"
    dir=/var/lib/redis
    [ "$(id -u)" -eq 0 ] || dir="$PWD/var/redis"
    mkdir -p "$dir"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir "$dir" --logfile "$dir/bootstrap.log"
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || loud "Redis does not answer on 127.0.0.1:6379"
fi
exit 0
