# Reads a topic's partitions from the start with librdkafka (confluent-kafka) at the given
# isolation level until `want` records arrived, then 1.5 s more to catch anything extra.
# Prints one JSON object: {"records": [[partition, offset, value], ...]} in the order read.
# Usage: txn_read.py BOOTSTRAP TOPIC PARTITIONS read_committed|read_uncommitted WANT
import json, sys, time
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, parts, isolation, want = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "txn-read-" + isolation, "isolation.level": isolation,
              "auto.offset.reset": "earliest", "enable.auto.commit": False, "fetch.queue.backoff.ms": 10})
c.assign([TopicPartition(topic, p, 0) for p in range(parts)])
got = []
def take(msgs):
    for m in msgs:
        if m.error():
            sys.stderr.write("consume error: %s\n" % m.error())
            continue
        got.append([m.partition(), m.offset(), m.value().decode()])
end = time.time() + 30
while time.time() < end and len(got) < want:
    take(c.consume(500, 0.5))
settle = time.time() + 1.5
while time.time() < settle:
    take(c.consume(500, 0.3))
c.close()
print(json.dumps({"records": got}))
