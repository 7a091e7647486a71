#!/usr/bin/env bash
# Installs, from Debian's packages, the real servers the integration tests start privately
# (PostgreSQL, MariaDB, Redis, Mosquitto, memcached, NATS, RabbitMQ), Chromium for the HTML report's
# browser test, and the tools they use. Does nothing
# when all are present.
# The tests start their own instances on free loopback ports; nothing here starts a service.
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
{ have mariadbd || [ -x /usr/sbin/mariadbd ]; } && have mariadb-install-db || missing+=(mariadb-server)
have redis-server && have redis-cli || missing+=(redis-server redis-tools)
{ have mosquitto || [ -x /usr/sbin/mosquitto ]; } && have mosquitto_passwd || missing+=(mosquitto)
{ have memcached || [ -x /usr/bin/memcached ]; } || missing+=(memcached)
{ have nats-server || [ -x /usr/sbin/nats-server ]; } || missing+=(nats-server)
{ [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && have epmd; } || missing+=(rabbitmq-server)
have openssl || missing+=(openssl)
have python3 || missing+=(python3)
have runuser || missing+=(util-linux)
# The HTML report's browser test renders it in Debian's Chromium (playwright-core drives it).
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all test servers present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101: install the packages without starting their services; tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-test-deps: done"
