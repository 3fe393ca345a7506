# Two consumers in one group split the partitions, then one leaves and the other takes all.
# argv: bootstrap topic partitions strategy. Prints "OK".
import sys, time
from confluent_kafka import Consumer
bootstrap, topic, parts, strategy = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
group = "grp-" + strategy
assigned = {1: set(), 2: set()}
def mk(i):
    def on_assign(c, ps):
        assigned[i] |= {p.partition for p in ps}
        if strategy == "cooperative-sticky": c.incremental_assign(ps)
    def on_revoke(c, ps):
        assigned[i] -= {p.partition for p in ps}
        if strategy == "cooperative-sticky": c.incremental_unassign(ps)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "partition.assignment.strategy": strategy,
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 200, "auto.offset.reset": "earliest"})
    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    return c
c1, c2 = mk(1), mk(2)
def poll_until(cond, consumers, limit=30):
    end = time.time() + limit
    while time.time() < end:
        for c in consumers: c.poll(0.05)
        if cond(): return True
    return False
split = lambda: assigned[1] and assigned[2] and assigned[1] | assigned[2] == set(range(parts)) and not (assigned[1] & assigned[2])
assert poll_until(split, [c1, c2]), ("no split", assigned)
first = (sorted(assigned[1]), sorted(assigned[2]))
c2.close()
assigned[2] = set()
assert poll_until(lambda: assigned[1] == set(range(parts)), [c1]), ("no takeover", assigned)
c1.close()
print("OK split=%s" % (first,))
