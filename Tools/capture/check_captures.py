#!/usr/bin/env python3
"""Check and summarize peer-capture fixtures (Python 3 stdlib only).

usage: check_captures.py DIR [--summary-md]
Checks every DIR/*.jsonl line: the fields are there, the request header's api_key /
api_version / correlation_id match the fields, the response starts with the same correlation
id, and each known scenario holds the API calls it is meant to show (REQUIRED below).
Prints a summary (markdown table with --summary-md). Exits 1 on any problem.
"""
import glob
import json
import os
import struct
import sys

API_NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit",
             9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat",
             13: "LeaveGroup", 14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups",
             17: "SaslHandshake", 18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics",
             22: "InitProducerId", 24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn",
             28: "TxnOffsetCommit", 32: "DescribeConfigs", 36: "SaslAuthenticate",
             42: "DeleteGroups", 44: "IncrementalAlterConfigs", 60: "DescribeCluster",
             61: "DescribeProducers", 68: "ConsumerGroupHeartbeat", 71: "GetTelemetrySubscriptions",
             72: "PushTelemetry"}

# scenario (file name without .jsonl) -> api keys that must appear
REQUIRED = {
    "metadata": {18, 3},
    "admin-create-topics": {18, 3, 19},
    "produce-none": {18, 3, 0}, "produce-gzip": {18, 3, 0}, "produce-snappy": {18, 3, 0},
    "produce-lz4": {18, 3, 0}, "produce-zstd": {18, 3, 0},
    "idempotent": {18, 3, 22, 0},
    "transactional": {18, 3, 10, 22, 24, 0, 26},
    "transactional-abort": {18, 3, 10, 22, 24, 0, 26},
    "transactional-offsets": {18, 3, 10, 11, 14, 22, 24, 0, 25, 28, 26},
    "consume": {18, 3, 2, 1},
    "group-seed": {18, 3, 0},
    "group": {18, 3, 10, 11, 14, 12, 9, 1, 8, 13},
    "kafka-python-produce-none": {18, 3, 0}, "kafka-python-produce-gzip": {18, 3, 0},
    "kafka-python-produce-lz4": {18, 3, 0}, "kafka-python-produce-zstd": {18, 3, 0},
    "kafka-python-group": {18, 3, 10, 11, 14, 1, 8},
}
FIELDS = {"api_key", "api_version", "correlation_id", "request", "response", "client"}


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    d = sys.argv[1]
    md = "--summary-md" in sys.argv
    problems = []
    notes = []
    files = sorted(glob.glob(os.path.join(d, "*.jsonl")))
    if not files:
        problems.append(f"no *.jsonl in {d}")
    rows = []
    total = 0
    for path in files:
        name = os.path.basename(path)[:-6]
        calls = {}
        clients = set()
        with open(path) as f:
            for n, line in enumerate(f, 1):
                where = f"{name}.jsonl:{n}"
                try:
                    x = json.loads(line)
                except ValueError as e:
                    problems.append(f"{where}: not JSON ({e})")
                    continue
                missing = FIELDS - x.keys()
                if missing:
                    problems.append(f"{where}: missing {sorted(missing)}")
                    continue
                req = bytes.fromhex(x["request"])
                k, v, c = struct.unpack_from(">hhi", req, 0)
                if (k, v, c) != (x["api_key"], x["api_version"], x["correlation_id"]):
                    problems.append(f"{where}: header {(k, v, c)} != fields")
                if x["response"] is not None:
                    resp = bytes.fromhex(x["response"])
                    if struct.unpack_from(">i", resp, 0)[0] != c:
                        problems.append(f"{where}: response correlation id differs")
                else:
                    # the client closed the connection before the answer (or acks=0): kept, noted
                    notes.append(f"{where}: {API_NAMES.get(k, k)} request without a response")
                calls.setdefault(k, set()).add(v)
                clients.add(x["client"])
                total += 1
        if name in REQUIRED:
            lack = REQUIRED[name] - calls.keys()
            if lack:
                problems.append(f"{name}: lacks {', '.join(API_NAMES.get(k, str(k)) for k in sorted(lack))}")
        desc = ", ".join(f"{API_NAMES.get(k, k)} v{'/'.join(map(str, sorted(vs)))}" for k, vs in sorted(calls.items()))
        rows.append((name, "/".join(sorted(clients)), sum(1 for _ in open(path)), os.path.getsize(path), desc))
    for name in REQUIRED:
        if not os.path.exists(os.path.join(d, name + ".jsonl")):
            problems.append(f"{name}.jsonl missing")
    if md:
        print("| file | client | exchanges | bytes | API calls (versions) |")
        print("| --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| `{r[0]}.jsonl` | {r[1]} | {r[2]} | {r[3]} | {r[4]} |")
    else:
        for r in rows:
            print(f"{r[0]:32} {r[1]:22} {r[2]:4} {r[3]:7}  {r[4]}")
        print(f"{len(files)} files, {total} exchanges")
    for p in notes:
        print(f"check-captures: note: {p}", file=sys.stderr)
    for p in problems:
        print(f"check-captures: PROBLEM: {p}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
