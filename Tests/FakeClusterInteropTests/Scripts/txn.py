# Transactions: commit one, abort one, commit one; a read_committed consumer sees exactly
# the committed records, a read_uncommitted one sees all. Prints "OK".
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition
bootstrap, topic = sys.argv[1], sys.argv[2]
p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "txn-1"})
p.init_transactions(30)
expected = []
for batch, commit in ((0, True), (1, False), (2, True)):
    p.begin_transaction()
    for i in range(10):
        v = b"b%d-%d" % (batch, i)
        p.produce(topic, value=v, partition=i % 2)
        if commit: expected.append(v)
    if commit: p.commit_transaction(30)
    else:
        p.flush(30)
        p.abort_transaction(30)
def read(isolation, want):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "txn-check-" + isolation, "isolation.level": isolation,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False, "fetch.queue.backoff.ms": 10})
    c.assign([TopicPartition(topic, 0, 0), TopicPartition(topic, 1, 0)])
    got = []
    end = time.time() + 10
    while time.time() < end and len(got) < want:
        for m in c.consume(100, 0.5):
            assert not m.error(), m.error()
            got.append(m.value())
    # Nothing more should arrive.
    for m in c.consume(100, 1.0):
        if not m.error(): got.append(m.value())
    c.close()
    return got
committed = read("read_committed", len(expected))
assert sorted(committed) == sorted(expected), ("read_committed", sorted(committed), sorted(expected))
allv = read("read_uncommitted", 30)
assert len(allv) == 30, ("read_uncommitted", len(allv))
print("OK committed=%d all=%d" % (len(committed), len(allv)))
