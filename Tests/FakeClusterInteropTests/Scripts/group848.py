# KIP-848 (group.protocol=consumer): two consumers split the partitions — the first is asked
# to revoke before the second gets them, never both at once — then one leaves and the other
# takes all; offsets committed with the member epoch are read back.
# argv: bootstrap topic partitions. Prints "OK".
import sys, time
from confluent_kafka import Consumer, Producer, TopicPartition
bootstrap, topic, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Producer({"bootstrap.servers": bootstrap})
for i in range(parts * 5):
    p.produce(topic, value=b"v%d" % i, partition=i % parts)
p.flush(10)
assigned = {1: set(), 2: set()}
overlap = []
def mk(i):
    def on_assign(c, ps):
        assigned[i] |= {p.partition for p in ps}
        if assigned[1] & assigned[2]: overlap.append((sorted(assigned[1]), sorted(assigned[2])))
    def on_revoke(c, ps):
        assigned[i] -= {p.partition for p in ps}
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "grp848", "group.protocol": "consumer",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    return c
def poll_until(cond, consumers, limit=30):
    end = time.time() + limit
    while time.time() < end:
        for c in consumers: c.poll(0.05)
        if cond(): return True
    return False
c1 = mk(1)
assert poll_until(lambda: assigned[1] == set(range(parts)), [c1]), ("c1 got no assignment", assigned)
c2 = mk(2)
split = lambda: assigned[1] and assigned[2] and assigned[1] | assigned[2] == set(range(parts)) and not (assigned[1] & assigned[2])
assert poll_until(split, [c1, c2]), ("no split", assigned)
first = (sorted(assigned[1]), sorted(assigned[2]))
c1.commit(offsets=[TopicPartition(topic, q, 3) for q in sorted(assigned[1])], asynchronous=False)
c2.close()
assigned[2] = set()
assert poll_until(lambda: assigned[1] == set(range(parts)), [c1]), ("no takeover", assigned)
got = {t.partition: t.offset for t in c1.committed([TopicPartition(topic, q) for q in range(parts)], timeout=10)}
assert all(got[q] == 3 for q in first[0]), ("commits", got)
c1.close()
assert not overlap, ("two owners", overlap)
print("OK split=%s" % (first,))
