#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine; idempotent and fast when done.
#
#   1. Debian packages (apt-get runs only when one of them is missing):
#        libzstd-dev liblz4-dev zlib1g-dev pkg-config   compression libraries the package links
#        librdkafka-dev kcat gcc python3-venv   peer clients (headers for rdprod/rdcons, venv)
#        stunnel4 openssl                    the TLS proxy in front of the broker
#        unzip                               install-tansu.sh extracts the broker binary
#        procps                              ps, used by Tools/test.sh to see whether the broker is still alive
#        chromium                            TimelineRenderTests screenshots `kgo sim run --timeline`'s page
#        valgrind                            the soak's leak check (Tools/soak.sh, Tools/test.sh step 5d)
#   2. Tansu (Kafka-compatible broker)  -> <repo>/.tansu/bin/tansu  (SHARED_DIR/broker/install-tansu.sh)
#   3. peers: librdkafka 2.16 (confluent-kafka wheel), kafka-python, rdprod/rdcons
#                                        -> <repo>/.peers            (SHARED_DIR/peers/install-peers.sh)
# env: SHARED_DIR  default <repo>/../shared (the project's shared folder beside the clone)
#      FORCE=1     reinstall Tansu and the peers even when present
# Works as root without stdin (CI). Everything it does is logged to stderr; any failure exits non-zero.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
log() { echo "install-test-deps: $*" >&2; }
T0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }

[ -d "$SHARED_DIR/broker" ] && [ -d "$SHARED_DIR/peers" ] || {
  log "shared folder not found at $SHARED_DIR (expected broker/ and peers/ in it; set SHARED_DIR)"; exit 1; }
SHARED_DIR=$(cd "$SHARED_DIR" && pwd)

# --- 1. Debian packages
APT_PKGS=(libzstd-dev liblz4-dev zlib1g-dev pkg-config librdkafka-dev kcat gcc python3-venv stunnel4 openssl unzip procps chromium valgrind)
missing=()
for p in "${APT_PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq </dev/null >&2
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2
else
  log "apt packages present: ${APT_PKGS[*]}"
fi

# --- 2. Tansu
TANSU=$ROOT/.tansu/bin/tansu
if [ "${FORCE:-0}" != 1 ] && [ -x "$TANSU" ] && "$TANSU" --version 2>/dev/null | grep -q '^tansu 0\.6\.0'; then
  log "tansu present: $("$TANSU" --version 2>&1) at $TANSU"
else
  log "installing Tansu into $ROOT/.tansu"
  "$SHARED_DIR/broker/install-tansu.sh" "$ROOT/.tansu" >/dev/null
  [ -x "$TANSU" ] || { log "install-tansu.sh did not produce $TANSU"; exit 1; }
fi

# --- 3. peers (librdkafka 2.16 via confluent-kafka with group.protocol=consumer, kafka-python, rdprod/rdcons)
P=$ROOT/.peers
peers_ok() {
  [ -x "$P/bin/rdprod" ] && [ -x "$P/bin/rdcons" ] && [ -f "$P/env" ] && [ -e "$P/lib/librdkafka.so.1" ] &&
  "$P/venv/bin/python" -c '
import sys, confluent_kafka as c, kafka
if not c.libversion()[0].startswith("2.16"): sys.exit(1)
# The KIP-848 interop tests need a consumer with group.protocol=consumer (an older
# librdkafka refuses the setting at creation; no broker is contacted).
c.Consumer({"group.id": "probe", "group.protocol": "consumer"}).close()' 2>/dev/null
}
if [ "${FORCE:-0}" != 1 ] && peers_ok; then
  log "peers present in $P (librdkafka $("$P/venv/bin/python" -c 'import confluent_kafka as c; print(c.libversion()[0])'))"
else
  log "installing peers into $P"
  "$SHARED_DIR/peers/install-peers.sh" "$P" >/dev/null
  peers_ok || { log "peers in $P do not work after install-peers.sh"; exit 1; }
fi
log "done in $(ms) ms"
