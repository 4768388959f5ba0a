#!/usr/bin/env bash
# Make sure the PostgreSQL and RabbitMQ that the tests and the benchmarks use are installed and running, and the
# Chromium and CJK fonts the browser tests use, what the notices' PDFs are made and read with, and promtool (the
# alert rules' tests) are installed
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
# The alert rules' unit tests (tests/integration/test_alert_rules.py) run promtool, which Debian ships only in the
# `prometheus` package. Only the tool is wanted: no node exporter (its recommendation), and no Prometheus server
# started by the package's postinst (a policy-rc.d that refuses every start, for this install only, unless the
# machine has its own already).
if ! command -v promtool >/dev/null; then
  echo "installing prometheus (for promtool) ..."
  export DEBIAN_FRONTEND=noninteractive
  policy=/usr/sbin/policy-rc.d ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && ours=1
  fi
  status=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus; } >/dev/null || status=$?
  [ -z "$ours" ] || rm -f "$policy"
  [ "$status" -eq 0 ] || { echo "could not install prometheus (promtool)" >&2; exit "$status"; }
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
