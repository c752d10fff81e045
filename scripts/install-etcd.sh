#!/usr/bin/env bash
# Installs Debian's etcd 3.4.23 (etcd-server + etcd-client) for the etcd differential tests
# (test/etcd/). Idempotent: does nothing when `etcd` and `etcdctl` are already on PATH; runs
# `apt-get update` only when they are missing. Needs root (CI runs as root); the package's
# postinst does not start a service in a container, and the tests use their own loopback ports.
set -euo pipefail

if command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1; then
  echo "etcd already installed: $(etcd --version 2>/dev/null | head -n 1)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-etcd.sh: not root and no sudo; install etcd-server and etcd-client by hand" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends etcd-server etcd-client

# A systemd host would auto-start etcd.service on 2379; the tests never use that port, but stop it
# if it runs so it does not hold resources (ignored in containers without systemd).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now etcd.service >/dev/null 2>&1 || true
fi

etcd --version | head -n 1
