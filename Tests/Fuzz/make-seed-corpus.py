#!/usr/bin/env python3
"""Build the fuzz seed corpus from bytes that real peers sent.

  Tests/Fuzz/make-seed-corpus.py

Reads Tests/KafkaProtocolTests/Fixtures/peer-captures/*.jsonl (librdkafka and kafka-python
against Tansu) and writes, per distinct exchange:
  Corpus/requests/<name>   api key (int16) + version (int16) + request body
  Corpus/responses/<name>  api key (int16) + version (int16) + response body
  Corpus/records/<name>    the records bytes of each Produce request partition
plus the record-set fixtures of Tests/KafkaProtocolTests/Fixtures/records/*.bin.
File names are content hashes, so re-running adds nothing twice. The header layouts are
protocol facts: request header v1 = api key, version, correlation id, client id (INT16
string); v2 adds a tagged-field section; response header v0 = correlation id; v1 adds a
tagged-field section (never for ApiVersions responses, KIP-511).
"""
import glob, hashlib, json, os, re, shutil, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("SHARED_DIR", os.path.join(REPO, "..", "shared"))
MESSAGES = os.path.join(SHARED, "kafka-protocol", "messages")

def first_flexible():
    out = {}
    for path in glob.glob(os.path.join(MESSAGES, "*Request.json")):
        text = re.sub(r"^\s*//.*$", "", open(path).read(), flags=re.M)
        d = json.loads(text)
        fv = d["flexibleVersions"]
        out[d["apiKey"]] = None if fv == "none" else int(fv.rstrip("+"))
    return out

def uvarint(b, i):
    shift = v = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80: return v, i
        shift += 7

def skip_tags(b, i):
    n, i = uvarint(b, i)
    for _ in range(n):
        _, i = uvarint(b, i)
        size, i = uvarint(b, i)
        i += size
    return i

def write(folder, data):
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        open(path, "wb").write(data)
        return 1
    return 0

def produce_records(body, version, flexible):
    """Yields the records bytes of each partition of a Produce request body."""
    i = 0
    def string(i, nullable=False):
        if flexible:
            n, i = uvarint(body, i); n -= 1
        else:
            n = struct.unpack_from(">h", body, i)[0]; i += 2
        return i + max(n, 0)
    def count(i):
        if flexible:
            n, i = uvarint(body, i); return n - 1, i
        return struct.unpack_from(">i", body, i)[0], i + 4
    if version >= 3: i = string(i, True)
    i += 2 + 4
    topics, i = count(i)
    for _ in range(topics):
        i = string(i)
        parts, i = count(i)
        for _ in range(parts):
            i += 4
            if flexible:
                n, i = uvarint(body, i); n -= 1
            else:
                n = struct.unpack_from(">i", body, i)[0]; i += 4
            if n > 0:
                yield body[i:i + n]
                i += n
            if flexible: i = skip_tags(body, i)
        if flexible: i = skip_tags(body, i)

def main():
    flex = first_flexible()
    added = {"requests": 0, "responses": 0, "records": 0}
    for path in sorted(glob.glob(os.path.join(REPO, "Tests/KafkaProtocolTests/Fixtures/peer-captures/*.jsonl"))):
        for line in open(path):
            ex = json.loads(line)
            key, ver = ex["api_key"], ex["api_version"]
            flexible = flex.get(key) is not None and ver >= flex[key]
            prefix = struct.pack(">hh", key, ver)
            req = bytes.fromhex(ex["request"])
            i = 8
            n = struct.unpack_from(">h", req, i)[0]; i += 2 + max(n, 0)
            if flexible: i = skip_tags(req, i)
            added["requests"] += write(os.path.join(HERE, "Corpus/requests"), prefix + req[i:])
            if key == 0:
                for records in produce_records(req[i:], ver, flexible):
                    added["records"] += write(os.path.join(HERE, "Corpus/records"), records)
            if ex.get("response"):
                resp = bytes.fromhex(ex["response"])
                j = 4
                if flexible and key != 18: j = skip_tags(resp, j)
                added["responses"] += write(os.path.join(HERE, "Corpus/responses"), prefix + resp[j:])
    for path in sorted(glob.glob(os.path.join(REPO, "Tests/KafkaProtocolTests/Fixtures/records/*.bin"))):
        added["records"] += write(os.path.join(HERE, "Corpus/records"), open(path, "rb").read())
    print("added", added, file=sys.stderr)

main()
