# KIP-848 online migration with librdkafka 2.16 (confluent-kafka): three members of one group
# consume while they are replaced one at a time by members of the other kind — classic
# (group.protocol=classic, cooperative-sticky or range) to consumer (group.protocol=consumer),
# or back. Records keep coming; every one must be read, and no partition may be assigned to a
# member while another still holds it (as the rebalance callbacks show).
# argv: bootstrap group topic partitions from to, where from/to is one of
# "cooperative-sticky", "range" (classic) or "consumer". Prints "OK ..." on success.
import sys, time
from confluent_kafka import Consumer, Producer

bootstrap, group, topic, parts, src, dst = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
producer = Producer({"bootstrap.servers": bootstrap})
produced, seen, owner, overlap, log = set(), set(), {}, [], []

def delivered(err, m):
    if err is None:
        produced.add((m.partition(), m.offset()))

def produce(n, start):
    for i in range(start, start + n):
        producer.produce(topic, value=b"v%d" % i, partition=i % parts, on_delivery=delivered)
    producer.flush(10)

def mk(name, kind):
    def on_assign(c, ps):
        log.append("%s +%s" % (name, sorted(p.partition for p in ps)))
        for p in ps:
            if owner.get(p.partition) not in (None, name):
                overlap.append("p%d to %s while %s holds it" % (p.partition, name, owner[p.partition]))
            owner[p.partition] = name
    def on_revoke(c, ps):
        log.append("%s -%s" % (name, sorted(p.partition for p in ps)))
        for p in ps:
            if owner.get(p.partition) == name:
                del owner[p.partition]
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
            "auto.offset.reset": "earliest", "enable.auto.commit": True, "auto.commit.interval.ms": 200,
            "fetch.wait.max.ms": 100, "topic.metadata.refresh.interval.ms": 2000}
    if kind == "consumer":
        conf["group.protocol"] = "consumer"
    else:
        conf.update({"group.protocol": "classic", "partition.assignment.strategy": kind,
                     "session.timeout.ms": 6000, "heartbeat.interval.ms": 300})
    c = Consumer(conf)
    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
    return c

members = []

def poll_until(cond, limit=40):
    end = time.time() + limit
    while time.time() < end:
        for _, c in members:
            m = c.poll(0.02)
            if m is not None and not m.error():
                seen.add((m.partition(), m.offset()))
        if cond():
            return True
    return False

def settled():
    live = {n for n, _ in members}
    return len(owner) == parts and set(owner.values()) == live

produce(60, 0)
members = [("m%d" % i, mk("m%d" % i, src)) for i in range(3)]
assert poll_until(settled), ("first group never settled", owner, log[-20:])
for i in range(3):
    name, c = members[i]
    c.close()
    for p in [p for p, o in owner.items() if o == name]:
        del owner[p]
    members[i] = (name + "'", mk(name + "'", dst))
    produce(30, 60 + 30 * i)
    assert poll_until(settled), ("step %d never settled" % i, owner, log[-20:])
assert poll_until(lambda: produced <= seen), ("records never read", sorted(produced - seen)[:10], log[-20:])
for _, c in members:
    c.close()
assert not overlap, ("two owners", overlap, log[-30:])
print("OK read=%d owners=%s" % (len(seen), sorted(owner.items())))
