#!/usr/bin/env python3
"""Drive real Kafka clients through the capture proxy, one client.id per scenario.

Run by record-peer-fixtures.sh with the .peers venv's python (confluent-kafka 2.16.1, which
bundles librdkafka 2.16; kafka-python 3.0.12). Every client bootstraps to --bootstrap (the
proxy); the broker advertises the proxy, so every connection is recorded. The proxy files
the exchanges by request-header client_id, so the client.id below is the fixture file name.

usage: peer_driver.py librdkafka --bootstrap 127.0.0.1:PORT --expected OUT.json
       peer_driver.py kafka-python --bootstrap 127.0.0.1:PORT --expected OUT.json
Each mode writes (or merges into) the expected-records JSON: the exact records it produced
(topic, partition, offset, key, value, headers, timestamp) per scenario. Any failure exits
non-zero: no scenario is silently skipped.
"""
import argparse
import json
import os
import sys
import time

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
BASE_TS = 1767225600000  # 2026-01-01T00:00:00Z, explicit CreateTime for every record


def log(msg):
    print(f"peer-driver: {msg}", file=sys.stderr, flush=True)


def fail(msg):
    log("FAILED: " + msg)
    sys.exit(1)


def text(b):
    return None if b is None else (b.decode("utf-8") if isinstance(b, (bytes, bytearray)) else b)


def records_for(tag, n=4, null_header=True):
    """Known records: keys, null key, null (tombstone) value, headers incl. a null header value,
    duplicate header keys, explicit timestamps. Values repeat text so every codec shrinks them
    (librdkafka sends a batch uncompressed when compression does not make it smaller)."""
    out = []
    for i in range(n):
        key = None if i == 1 else f"key-{tag}-{i}"
        value = None if i == 3 else (f"value {tag} {i} " + "kafka wire bytes " * 6).strip()
        headers = []
        if i == 0:
            headers = [("h-str", f"hdr-{tag}"), ("h-empty", "")]
        elif i == 2:
            headers = [("dup", "a"), ("dup", "b")] + ([("h-null", None)] if null_header else [])
        out.append({"key": key, "value": value, "headers": headers, "timestamp": BASE_TS + i * 1000})
    return out


def as_expected(topic, partition, offset, rec):
    return {"topic": topic, "partition": partition, "offset": offset,
            "key": rec["key"], "value": rec["value"],
            "headers": [[k, v] for k, v in rec["headers"]],
            "timestamp": rec["timestamp"], "timestamp_type": "CreateTime"}


# ---------------------------------------------------------------- librdkafka (confluent-kafka)

def rd_mode(bootstrap, expected):
    import confluent_kafka as ck
    from confluent_kafka import Producer, Consumer, TopicPartition, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    lib = ck.libversion()[0]
    if not lib.startswith("2.16"):
        fail(f"expected librdkafka 2.16.x, got {lib}")
    log(f"confluent-kafka {ck.__version__}, librdkafka {lib}")
    base = {"bootstrap.servers": bootstrap, "broker.address.family": "v4"}
    scen = expected.setdefault("scenarios", {})

    # --- admin-create-topics: CreateTopics (+ Metadata), one topic per codec plus the others.
    topics = [f"cap-{c}" for c in CODECS] + ["cap-idempotent", "cap-txn", "cap-txn-abort", "cap-txn-out", "cap-group"]
    admin = AdminClient({**base, "client.id": "admin-create-topics"})
    futs = admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in topics]
                               + [NewTopic("cap-configs", num_partitions=2, replication_factor=1,
                                           config={"cleanup.policy": "compact", "retention.ms": "3600000"})],
                               operation_timeout=10)
    for t, f in futs.items():
        f.result(timeout=15)
        log(f"created topic {t}")
    md = admin.list_topics(timeout=10)
    for t in topics:
        if t not in md.topics:
            fail(f"topic {t} missing from metadata after CreateTopics")
    scen["admin-create-topics"] = {"topics": topics + ["cap-configs"], "records": []}

    # --- metadata: a plain producer connects (ApiVersions, Metadata) and lists topics.
    p = Producer({**base, "client.id": "metadata"})
    md = p.list_topics(timeout=10)
    md = p.list_topics(topic="cap-none", timeout=10)
    p.flush(5)
    del p
    scen["metadata"] = {"records": []}

    # --- produce-<codec>: one batch of known records per codec, acks=all, not idempotent.
    def produce(client_id, topic, recs, extra):
        conf = {**base, "client.id": client_id, "acks": "all", "linger.ms": 200,
                "enable.idempotence": False, **extra}
        prod = Producer(conf)
        got = []

        def dr(err, msg):
            if err is not None:
                got.append(err)
            else:
                got.append((msg.partition(), msg.offset()))
        for r in recs:
            prod.produce(topic, value=r["value"], key=r["key"], partition=0,
                         timestamp=r["timestamp"], headers=r["headers"] or None, on_delivery=dr)
        left = prod.flush(20)
        if left:
            fail(f"{client_id}: {left} records not delivered")
        if any(not isinstance(g, tuple) for g in got) or len(got) != len(recs):
            fail(f"{client_id}: delivery reports {got}")
        return prod, [as_expected(topic, part, off, r) for (part, off), r in zip(got, recs)]

    for c in CODECS:
        cid, topic = f"produce-{c}", f"cap-{c}"
        prod, exp = produce(cid, topic, records_for(c), {"compression.type": c})
        del prod
        scen[cid] = {"codec": c, "records": exp}
        log(f"{cid}: delivered offsets {[e['offset'] for e in exp]}")

    # --- idempotent: InitProducerId, Produce with producer id / epoch / sequence (two batches).
    prod = Producer({**base, "client.id": "idempotent", "enable.idempotence": True, "acks": "all",
                     "linger.ms": 100, "compression.type": "none"})
    exp = []
    for batch in range(2):
        recs = records_for(f"idem{batch}", 3)
        got = []
        for r in recs:
            prod.produce("cap-idempotent", value=r["value"], key=r["key"], partition=0,
                         timestamp=r["timestamp"], headers=r["headers"] or None,
                         on_delivery=lambda err, msg: got.append(err or (msg.partition(), msg.offset())))
        if prod.flush(20):
            fail("idempotent: not delivered")
        if len(got) != len(recs) or not all(isinstance(g, tuple) for g in got):
            fail(f"idempotent: delivery reports {got}")
        exp += [as_expected("cap-idempotent", pa, of, r) for (pa, of), r in zip(got, recs)]
    del prod
    scen["idempotent"] = {"codec": "none", "idempotent": True, "records": exp}

    # --- transactional: InitProducerId(txn id), AddPartitionsToTxn, Produce, EndTxn(commit).
    prod = Producer({**base, "client.id": "transactional", "transactional.id": "cap-txn-id",
                     "linger.ms": 50, "compression.type": "none", "transaction.timeout.ms": 60000})
    prod.init_transactions(20)
    prod.begin_transaction()
    recs = records_for("txn", 3)
    got = []
    for r in recs:
        prod.produce("cap-txn", value=r["value"], key=r["key"], partition=0, timestamp=r["timestamp"],
                     headers=r["headers"] or None,
                     on_delivery=lambda err, msg: got.append(err or (msg.partition(), msg.offset())))
    prod.commit_transaction(20)
    if len(got) != len(recs) or not all(isinstance(g, tuple) for g in got):
        fail(f"transactional: delivery reports {got}")
    del prod
    scen["transactional"] = {"codec": "none", "transactional_id": "cap-txn-id", "committed": True,
                             "records": [as_expected("cap-txn", pa, of, r) for (pa, of), r in zip(got, recs)]}

    # --- transactional-abort: the same calls, EndTxn(abort). The records are written and then
    # aborted; consume reads with read_committed but does not read this topic (Tansu 0.6.0
    # delivers aborted records to read_committed consumers).
    prod = Producer({**base, "client.id": "transactional-abort", "transactional.id": "cap-txn-abort-id",
                     "linger.ms": 50, "compression.type": "none", "transaction.timeout.ms": 60000})
    prod.init_transactions(20)
    prod.begin_transaction()
    recs = records_for("txn-abort", 2)
    got = []
    for r in recs:
        prod.produce("cap-txn-abort", value=r["value"], key=r["key"], partition=0, timestamp=r["timestamp"],
                     headers=r["headers"] or None,
                     on_delivery=lambda err, msg: got.append(err or (msg.partition(), msg.offset())))
    if prod.flush(20):
        fail("transactional-abort: not delivered before abort")
    prod.abort_transaction(20)
    if len(got) != len(recs) or not all(isinstance(g, tuple) for g in got):
        fail(f"transactional-abort: delivery reports {got}")
    del prod
    scen["transactional-abort"] = {"codec": "none", "transactional_id": "cap-txn-abort-id", "committed": False,
                                   "records": [as_expected("cap-txn-abort", pa, of, r) for (pa, of), r in zip(got, recs)]}

    # --- transactional-offsets: consume-transform-produce. A group consumer reads cap-none, a
    # transactional producer writes to cap-txn-out and commits the consumer's offsets in the
    # transaction: AddOffsetsToTxn, TxnOffsetCommit, EndTxn (+ the group calls).
    cons = Consumer({**base, "client.id": "transactional-offsets", "group.id": "cap-txn-group",
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "group.protocol": "classic",
                     "partition.assignment.strategy": "range", "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                     "fetch.wait.max.ms": 200, "fetch.queue.backoff.ms": 10})
    cons.subscribe(["cap-none"])
    want = {(e["topic"], e["partition"], e["offset"]): e for e in scen["produce-none"]["records"]}
    check_consumed(cons, want, "transactional-offsets", timeout=30)
    prod = Producer({**base, "client.id": "transactional-offsets", "transactional.id": "cap-txn-offsets-id",
                     "linger.ms": 50, "compression.type": "none", "transaction.timeout.ms": 60000})
    prod.init_transactions(20)
    prod.begin_transaction()
    recs = records_for("txn-out", 2)
    got = []
    for r in recs:
        prod.produce("cap-txn-out", value=r["value"], key=r["key"], partition=0, timestamp=r["timestamp"],
                     headers=r["headers"] or None,
                     on_delivery=lambda err, msg: got.append(err or (msg.partition(), msg.offset())))
    next_off = max(k[2] for k in want) + 1
    prod.send_offsets_to_transaction([TopicPartition("cap-none", 0, next_off)],
                                     cons.consumer_group_metadata(), 20)
    prod.commit_transaction(20)
    if len(got) != len(recs) or not all(isinstance(g, tuple) for g in got):
        fail(f"transactional-offsets: delivery reports {got}")
    committed = cons.committed([TopicPartition("cap-none", 0)], timeout=10)
    if committed[0].offset != next_off:
        fail(f"transactional-offsets: group offset {committed[0].offset}, expected {next_off}")
    cons.close()
    del prod
    scen["transactional-offsets"] = {"codec": "none", "transactional_id": "cap-txn-offsets-id",
                                     "committed": True, "group_id": "cap-txn-group",
                                     "committed_offsets": [{"topic": "cap-none", "partition": 0, "offset": next_off}],
                                     "records": [as_expected("cap-txn-out", pa, of, r) for (pa, of), r in zip(got, recs)],
                                     "note": "also consumes the records of produce-none in group cap-txn-group"}
    log(f"transactional-offsets: committed offset {next_off} for cap-txn-group in the transaction")

    # --- consume: assign() without a group: ListOffsets (earliest and by timestamp), Fetch of every
    # topic above (all codecs, the idempotent batches, the committed transaction with its marker).
    want = {}
    for name in [f"produce-{c}" for c in CODECS] + ["idempotent", "transactional", "transactional-offsets"]:
        for e in scen[name]["records"]:
            want[(e["topic"], e["partition"], e["offset"])] = e
    cons = Consumer({**base, "client.id": "consume", "group.id": "cap-unused-assign-only",
                     "enable.auto.commit": False, "fetch.wait.max.ms": 200,
                     "isolation.level": "read_committed", "fetch.queue.backoff.ms": 10})
    by_ts = cons.offsets_for_times([TopicPartition("cap-none", 0, BASE_TS + 2000)], timeout=10)
    if by_ts[0].error or by_ts[0].offset < 0:
        fail(f"consume: offsets_for_times gave {by_ts[0]}")
    # Kafka answers the first offset whose timestamp >= the target (here offset 2); Tansu 0.6.0
    # answers the base offset of the batch holding it (0). Recorded as the broker said it.
    log(f"consume: offsets_for_times(cap-none/0, BASE_TS+2000) -> {by_ts[0].offset}")
    topics_read = sorted({k[0] for k in want})
    cons.assign([TopicPartition(t, 0, ck.OFFSET_BEGINNING) for t in topics_read])
    seen = check_consumed(cons, want, "consume")
    cons.close()
    scen["consume"] = {"topics": topics_read, "records": [],
                       "offsets_for_times": {"topic": "cap-none", "partition": 0,
                                             "timestamp": BASE_TS + 2000, "offset": by_ts[0].offset,
                                             "kafka_would_answer": scen["produce-none"]["records"][2]["offset"]},
                       "note": "reads back the records of produce-*, idempotent, transactional and transactional-offsets"}
    log(f"consume: read {seen} records back, all as produced")

    # --- group: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, OffsetFetch, Fetch,
    # OffsetCommit, LeaveGroup (classic protocol, eager range assignor).
    prod, exp = produce("group-seed", "cap-group", records_for("group", 3), {"compression.type": "none"})
    del prod
    want = {(e["topic"], e["partition"], e["offset"]): e for e in exp}
    cons = Consumer({**base, "client.id": "group", "group.id": "cap-group-1",
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                     "group.protocol": "classic", "partition.assignment.strategy": "range",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "fetch.wait.max.ms": 200, "fetch.queue.backoff.ms": 10})
    cons.subscribe(["cap-group"])
    check_consumed(cons, want, "group", timeout=30)
    last = max(e["offset"] for e in exp)
    cons.commit(offsets=[TopicPartition("cap-group", 0, last + 1)], asynchronous=False)
    committed = cons.committed([TopicPartition("cap-group", 0)], timeout=10)
    if committed[0].offset != last + 1:
        fail(f"group: committed offset {committed[0].offset}, expected {last + 1}")
    t_end = time.time() + 2.0   # let a few heartbeats go out
    while time.time() < t_end:
        m = cons.poll(0.2)
        if m is not None and m.error() is None:
            fail(f"group: unexpected extra record at offset {m.offset()}")
    cons.close()   # LeaveGroup
    scen["group-seed"] = {"codec": "none", "records": exp}
    scen["group"] = {"group_id": "cap-group-1", "committed_offset": last + 1, "records": [],
                     "note": "consumes the records of group-seed"}


def check_consumed(cons, want, name, timeout=30):
    from confluent_kafka import KafkaError
    got = {}
    deadline = time.time() + timeout
    while len(got) < len(want):
        if time.time() > deadline:
            fail(f"{name}: only {len(got)}/{len(want)} records read back in {timeout}s")
        m = cons.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                continue
            fail(f"{name}: consumer error {m.error()}")
        k = (m.topic(), m.partition(), m.offset())
        if k not in want:
            fail(f"{name}: unexpected record {k}")
        e = want[k]
        ts_type, ts = m.timestamp()
        hdrs = [[hk, text(hv)] for hk, hv in (m.headers() or [])]
        actual = (text(m.key()), text(m.value()), hdrs, ts)
        if actual != (e["key"], e["value"], e["headers"], e["timestamp"]):
            fail(f"{name}: record {k} read back as {actual}, produced {e}")
        got[k] = True
    return len(got)


# ---------------------------------------------------------------- kafka-python

def kp_mode(bootstrap, expected):
    import kafka
    from kafka import KafkaProducer, KafkaConsumer, TopicPartition
    log(f"kafka-python {kafka.__version__}")
    scen = expected.setdefault("scenarios", {})
    for codec in ["none", "gzip", "lz4", "zstd"]:   # snappy needs python-snappy: not installed by install-peers.sh
        cid, topic = f"kafka-python-produce-{codec}", f"kp-cap-{codec}"
        prod = KafkaProducer(bootstrap_servers=bootstrap, client_id=cid, acks="all", linger_ms=100,
                             compression_type=None if codec == "none" else codec)
        recs = records_for(f"kp-{codec}", null_header=False)   # kafka-python refuses None header values
        futs = []
        for r in recs:
            futs.append(prod.send(topic, partition=0, timestamp_ms=r["timestamp"],
                                  key=None if r["key"] is None else r["key"].encode(),
                                  value=None if r["value"] is None else r["value"].encode(),
                                  headers=[(k, None if v is None else v.encode()) for k, v in r["headers"]]))
        prod.flush(20)
        exp = []
        for f, r in zip(futs, recs):
            md = f.get(timeout=20)
            exp.append(as_expected(topic, md.partition, md.offset, r))
        prod.close(5)
        scen[cid] = {"codec": codec, "records": exp}
        log(f"{cid}: delivered offsets {[e['offset'] for e in exp]}")

    cid = "kafka-python-group"
    want = {}
    for codec in ["none", "gzip", "lz4", "zstd"]:
        for e in scen[f"kafka-python-produce-{codec}"]["records"]:
            want[(e["topic"], e["partition"], e["offset"])] = e
    cons = KafkaConsumer(bootstrap_servers=bootstrap, client_id=cid, group_id="kp-cap-group",
                         session_timeout_ms=6000, heartbeat_interval_ms=500,
                         auto_offset_reset="earliest", enable_auto_commit=False,
                         fetch_max_wait_ms=200)
    cons.subscribe(sorted({k[0] for k in want}))
    got = {}
    deadline = time.time() + 40
    while len(got) < len(want):
        if time.time() > deadline:
            fail(f"{cid}: only {len(got)}/{len(want)} records read back")
        for tp, msgs in cons.poll(timeout_ms=500).items():
            for m in msgs:
                k = (m.topic, m.partition, m.offset)
                if k not in want:
                    fail(f"{cid}: unexpected record {k}")
                e = want[k]
                actual = (text(m.key), text(m.value), [[hk, text(hv)] for hk, hv in m.headers], m.timestamp)
                if actual != (e["key"], e["value"], e["headers"], e["timestamp"]):
                    fail(f"{cid}: record {k} read back as {actual}, produced {e}")
                got[k] = True
    cons.commit()
    cons.close()
    scen[cid] = {"group_id": "kp-cap-group", "records": [],
                 "note": "consumes the records of kafka-python-produce-*"}
    log(f"{cid}: read {len(got)} records back, all as produced")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["librdkafka", "kafka-python"])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--expected", required=True)
    a = ap.parse_args()
    expected = {}
    if os.path.exists(a.expected):
        with open(a.expected) as f:
            expected = json.load(f)
    expected.setdefault("format", "kgo-swift peer-capture expected records v1")
    expected.setdefault("base_timestamp", BASE_TS)
    clients = expected.setdefault("clients", {})
    if a.mode == "librdkafka":
        import confluent_kafka as ck
        clients["librdkafka"] = f"librdkafka {ck.libversion()[0]} (confluent-kafka {ck.__version__})"
        rd_mode(a.bootstrap, expected)
    else:
        import kafka
        clients["kafka-python"] = f"kafka-python {kafka.__version__}"
        kp_mode(a.bootstrap, expected)
    with open(a.expected, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    log(f"{a.mode}: done")


if __name__ == "__main__":
    main()
