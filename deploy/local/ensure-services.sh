#!/usr/bin/env bash
# Make sure the PostgreSQL and RabbitMQ that the tests and the benchmarks use are installed and running, and the
# Chromium and CJK fonts the browser tests use, and what the notices' PDFs are made and read with, are installed
# (127.0.0.1:5432 trust auth, 127.0.0.1:5672 guest/guest). Starts them when they are down; installs them
# from Debian's packages when they are missing (needs root).
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 120); do port_open "$1" && return 0; sleep 0.5; done; return 1; }

missing=()
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
command -v rabbitmq-server >/dev/null || missing+=(rabbitmq-server)
# The console's browser tests (tests/browser) drive Debian's Chromium headless; Chinese text needs a CJK font.
command -v chromium >/dev/null || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
# The notices' printable PDFs (services/gateway/notice_pdf.py): WeasyPrint needs pango, and harfbuzz's subsetter to
# embed subsets of the CJK fonts in ~0.1 s (without it fontTools takes ~10 s a notice); the tests read the PDFs
# back with poppler's pdftotext, pdfinfo and pdffonts.
for package in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! port_open 5432; then
  echo "starting PostgreSQL ..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
  wait_port 5432 || { echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
fi
# One platform holds about 80 PostgreSQL connections (every relay, follower, lock and pool: docs/operations.md);
# the tests run a platform per module beside the CLIs and the harness's own, past Debian's default of 100.
if command -v psql >/dev/null && [ "$(psql -h 127.0.0.1 -U postgres -Atc 'show max_connections' 2>/dev/null || echo 0)" -lt 300 ] 2>/dev/null; then
  echo "raising PostgreSQL's max_connections to 300 (restarts it) ..."
  psql -h 127.0.0.1 -U postgres -qc "alter system set max_connections = 300" >/dev/null
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main restart
  wait_port 5432 || { echo "PostgreSQL did not come back on 127.0.0.1:5432" >&2; exit 1; }
fi
if ! port_open 5672; then
  echo "starting RabbitMQ ..."
  rabbitmq-server -detached || true
  wait_port 5672 || { echo "RabbitMQ did not come up on 127.0.0.1:5672" >&2; exit 1; }
fi
echo "PostgreSQL and RabbitMQ are up."
