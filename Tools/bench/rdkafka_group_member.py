# A confluent-kafka (librdkafka 2.16) group member for Tools/bench/group_rebalance.py, set like
# `kgo consume -G`: session timeout SESSION_MS, heartbeat SESSION_MS/3 (at most 3 s), rebalance
# timeout (max.poll.interval.ms) 60 s, start at the beginning, fetch wait 500 ms, commits on
# revoke and on leaving (no autocommit timer between). Prints JSON lines:
# {"ev":"assigned","parts":[p,...]} (what it was given: eager, everything it holds;
# cooperative, what was added), {"ev":"revoked","parts":[...]}, {"ev":"record","p":P,"o":O}.
# Leaves (commit, close) on SIGTERM/SIGINT or when stdin closes.
# argv: bootstrap group topic strategy session_ms name
import json, signal, sys, threading
from confluent_kafka import Consumer, TopicPartition

bootstrap, group, topic, strategy, session_ms, name = sys.argv[1:7]
session_ms = int(session_ms)
out = sys.stdout
def emit(**kv):
    out.write(json.dumps(kv) + "\n")
    out.flush()

positions = {}
def commit(c, parts):
    offs = [TopicPartition(topic, p, positions[p]) for p in sorted(parts) if p in positions]
    if offs:
        try: c.commit(offsets=offs, asynchronous=False)
        except Exception as e: print(f"commit: {e}", file=sys.stderr)

def on_assign(c, ps):
    emit(ev="assigned", parts=sorted(p.partition for p in ps))
    if strategy == "cooperative-sticky":
        c.incremental_assign(ps)

def on_revoke(c, ps):
    commit(c, [p.partition for p in ps])
    for p in ps: positions.pop(p.partition, None)
    emit(ev="revoked", parts=sorted(p.partition for p in ps))
    if strategy == "cooperative-sticky":
        c.incremental_unassign(ps)

def on_lost(c, ps):
    for p in ps: positions.pop(p.partition, None)
    emit(ev="lost", parts=sorted(p.partition for p in ps))
    if strategy == "cooperative-sticky":
        c.incremental_unassign(ps)

c = Consumer({
    "bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
    "partition.assignment.strategy": strategy,
    "session.timeout.ms": session_ms, "heartbeat.interval.ms": min(3000, session_ms // 3),
    "max.poll.interval.ms": 60000,
    "enable.auto.commit": False, "auto.offset.reset": "earliest",
    "fetch.wait.max.ms": 500, "fetch.queue.backoff.ms": 10,
})
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
stop = threading.Event()
def read_stdin():
    for _ in sys.stdin: pass
    stop.set()
threading.Thread(target=read_stdin, daemon=True).start()
for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, lambda *_: stop.set())
while not stop.is_set():
    m = c.poll(0.05)
    if m is None or m.error():
        continue
    positions[m.partition()] = m.offset() + 1
    emit(ev="record", p=m.partition(), o=m.offset())
commit(c, list(positions))
c.close()
