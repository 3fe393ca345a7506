#!/usr/bin/env bash
# Fails, printing a diff, when the committed generated code differs from what the generator
# writes from the protocol definitions and the overlay in Tools/KafkaGen/protocol-overlay
# (see Tools/generate.sh).
exec "$(dirname "${BASH_SOURCE[0]}")/generate.sh" --check
