#!/usr/bin/env bash
# Install promtool (Prometheus's rule checker) for tests/unit/specs/test_alerts.py, which fails
# its promtool tests when CI is set and promtool is missing.
#
# Idempotent: does nothing when promtool is already on PATH. Otherwise installs Debian/Ubuntu's
# `prometheus` package, which ships /usr/bin/promtool. The package also carries a Prometheus
# server service: a temporary policy-rc.d (exit 101 = "action forbidden") keeps its postinst
# from starting it, on hosts with systemd and in containers without it alike.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1; then
  echo "promtool and amtool already installed: $(command -v promtool) $(command -v amtool)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-promtool: no apt-get here; put promtool from a Prometheus release on PATH" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  # Only a policy we created is removed again.
  trap '$SUDO rm -f "$POLICY"' EXIT
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
command -v promtool >/dev/null 2>&1 || $SUDO apt-get install -y --no-install-recommends prometheus
# amtool (tests/unit/specs/test_alertmanager_config.py): Debian's prometheus-alertmanager ships it.
command -v amtool >/dev/null 2>&1 || $SUDO apt-get install -y --no-install-recommends prometheus-alertmanager

command -v promtool >/dev/null 2>&1 || { echo "install-promtool: prometheus installed but no promtool on PATH" >&2; exit 1; }
promtool --version
