# A librdkafka (confluent-kafka) transactional producer: one transaction per PLAN entry,
# "c" committed or "a" aborted, each of PER records spread over the topic's partitions
# (record i to partition i % PARTITIONS, value "t<transaction>-<i>"). An aborted
# transaction's records are flushed (written to the log) before the abort. Prints one JSON
# object: {"committed": [[partition, value], ...], "all": [[partition, value], ...]} in
# produce order.
# Usage: txn_produce.py BOOTSTRAP TOPIC PARTITIONS TRANSACTIONAL_ID PLAN PER   (PLAN: e.g. cacac)
import json, sys
from confluent_kafka import Producer
bootstrap, topic, parts, txid, plan, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
errors = []
def cb(err, msg):
    if err: errors.append(str(err))
p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txid, "linger.ms": 5})
p.init_transactions(30)
committed, every = [], []
for t, kind in enumerate(plan):
    p.begin_transaction()
    batch = []
    for i in range(per):
        v = "t%d-%d" % (t, i)
        p.produce(topic, value=v.encode(), partition=i % parts, on_delivery=cb)
        batch.append([i % parts, v])
    if kind == "c":
        p.commit_transaction(30)
        committed += batch
    else:
        left = p.flush(30)
        assert left == 0, ("flush before abort left", left)
        p.abort_transaction(30)
    every += batch
assert not errors, errors[:3]
print(json.dumps({"committed": committed, "all": every}))
