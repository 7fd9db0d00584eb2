#!/usr/bin/env bash
# PostgreSQL and Redis for the distributed deployment, from Debian's packages, when missing.
# The suite runs its own instances (own data directory, loopback port); the packages' services stay off.
set -euo pipefail
missing=()
[ -n "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
