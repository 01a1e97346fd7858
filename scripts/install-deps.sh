#!/usr/bin/env bash
# Installs what bark needs to build and test on Debian 12, only what is missing: apt packages, then
# the npm packages of package-lock.json, then the jars of the tests' Kafka broker (scripts/kafka.sh
# fetch) and the tests' Spring application (scripts/spring-app.sh build). Quiet when everything is
# there.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  build-essential cmake ccache pkg-config clang libclang-rt-14-dev clang-format clang-tidy
  libboost1.81-dev libssl-dev libfmt-dev libcli11-dev libsqlite3-dev libsimdjson-dev
  libgtest-dev libbenchmark-dev openssl
  libpq-dev postgresql
  libhiredis-dev redis-server libtomlplusplus-dev liburing-dev
  librdkafka-dev libcurl4-openssl-dev kcat openjdk-17-jdk-headless maven
  python3 python3-prometheus-client python3-stomp libspdlog-dev
  nodejs npm
  chromium nginx
  libvips-dev libvips-tools libimage-exiftool-perl
)

missing=()
for p in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js from another source may already provide npm.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
if command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}")
fi
# Any JDK 17 or later runs the tests' Kafka broker and compiles their Spring application (javac);
# any Maven fetches their jars.
java_major=$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p' | head -n 1 || true)
if [ "${java_major:-0}" -ge 17 ] 2>/dev/null; then
  missing=("${missing[@]/openjdk-17-jdk-headless}")
fi
if command -v mvn >/dev/null 2>&1; then
  missing=("${missing[@]/maven}")
fi
read -r -a missing <<<"${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: reinstall only when package-lock.json changed since the last install.
if [ -f package-lock.json ]; then
  stamp=node_modules/.bark-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "install-deps: npm ci"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    cp package-lock.json "$stamp"
  fi
fi

# The Apache Kafka broker the tests start: its jars from Maven Central into a cache folder outside
# the checkout (quick when they are there).
bash scripts/kafka.sh fetch

# The seed's Spring application that the Spring relay tests start: built with Maven into a cache
# folder keyed by its sources (quick when it is there).
bash scripts/spring-app.sh build >/dev/null
