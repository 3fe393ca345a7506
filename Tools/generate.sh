#!/usr/bin/env bash
# Regenerates the Kafka message codec (Sources/KafkaProtocol/Generated/) and its test
# support (Tests/KafkaProtocolTests/Generated/) from the protocol definitions.
#
#   Tools/generate.sh           rewrite the generated files in this repo
#   Tools/generate.sh --check   regenerate into a temporary copy and fail, with a diff, if
#                               the committed files differ (CI runs this)
#
# The definitions are read from $KAFKA_PROTOCOL_DIR, by default
# ${SHARED_DIR:-../shared}/kafka-protocol, ../shared being beside the repo root, then
# Tools/KafkaGen/protocol-overlay/messages/*.json (definitions newer than that snapshot:
# same file name replaces, new name adds; see the README there).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
proto="${KAFKA_PROTOCOL_DIR:-${SHARED_DIR:-$repo/../shared}/kafka-protocol}"
if [[ ! -d "$proto/messages" ]]; then
    echo "generate.sh: no messages/ in $proto (set KAFKA_PROTOCOL_DIR)" >&2
    exit 2
fi

swift build --package-path "$repo/Tools/KafkaGen" -c debug >&2
overlay="$repo/Tools/KafkaGen/protocol-overlay"
gen="$(swift build --package-path "$repo/Tools/KafkaGen" -c debug --show-bin-path)/kafka-gen"

if [[ "${1:-}" == "--check" ]]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    for d in Sources/KafkaProtocol/Generated Tests/KafkaProtocolTests/Generated; do
        mkdir -p "$tmp/$d"
        if [[ -d "$repo/$d" ]]; then cp -R "$repo/$d/." "$tmp/$d/"; fi
    done
    "$gen" --protocol-dir "$proto" --overlay-dir "$overlay" --repo-root "$tmp" >&2
    status=0
    for d in Sources/KafkaProtocol/Generated Tests/KafkaProtocolTests/Generated; do
        mkdir -p "$repo/$d"
        diff -ruN "$repo/$d" "$tmp/$d" || status=1
    done
    if [[ $status -ne 0 ]]; then
        echo "generate.sh --check: generated files are out of date; run Tools/generate.sh" >&2
    fi
    exit $status
fi

"$gen" --protocol-dir "$proto" --overlay-dir "$overlay" --repo-root "$repo"
