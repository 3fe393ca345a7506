# A confluent-kafka (librdkafka 2.16) consumer group member driven by GroupInteropTests.
# argv: bootstrap group topic strategy session_timeout_ms name
# Prints JSON lines on stdout (flushed): {"ev":"assigned"|"revoked"|"lost","parts":[p,...]},
# {"ev":"record","p":P,"o":OFFSET}, {"ev":"committed","offsets":[[p,offset,epoch],...],"error":E},
# {"ev":"member","id":ID}, {"ev":"error","error":E}, {"ev":"closed"}.
# strategy "consumer": KIP-848 (group.protocol=consumer; the coordinator assigns, so no
# assignment strategy, session timeout or heartbeat interval may be set; incremental assigns).
# Commits are synchronous and carry the leader epoch of the last consumed record: on revoke,
# on the stdin line "commit", and before leaving. Leaves (commit, close) when stdin closes or on
# SIGTERM/SIGINT.
import json, os, signal, sys, threading
from confluent_kafka import Consumer, KafkaException, TopicPartition

bootstrap, group, topic, strategy, session_ms, name = sys.argv[1:7]
session_ms = int(session_ms)
kip848 = strategy == "consumer"
incremental = strategy == "cooperative-sticky" or kip848
out_lock = threading.Lock()
def emit(**kv):
    with out_lock:
        sys.stdout.write(json.dumps(kv) + "\n")
        sys.stdout.flush()

positions = {}   # partition -> (next offset, leader epoch of the last consumed record)
stop = threading.Event()
commit_asked = threading.Event()

def commit(consumer, parts):
    # A record without a leader epoch (Tansu writes none) commits without one.
    offs = [TopicPartition(topic, p, positions[p][0], **({} if positions[p][1] is None else {"leader_epoch": positions[p][1]}))
            for p in sorted(parts) if p in positions]
    if not offs:
        return
    try:
        res = consumer.commit(offsets=offs, asynchronous=False)
        bad = [str(t.error) for t in res if t.error]
        emit(ev="committed", offsets=[[t.partition, t.offset, t.leader_epoch] for t in offs], error=("; ".join(bad) or None))
    except KafkaException as e:
        emit(ev="committed", offsets=[[t.partition, t.offset, t.leader_epoch] for t in offs], error=str(e))

def on_assign(c, ps):
    emit(ev="assigned", parts=sorted(p.partition for p in ps))
    if incremental:
        c.incremental_assign(ps)

def on_revoke(c, ps):
    parts = [p.partition for p in ps]
    commit(c, parts)
    for p in parts:
        positions.pop(p, None)
    emit(ev="revoked", parts=sorted(parts))
    if incremental:
        c.incremental_unassign(ps)

def on_lost(c, ps):
    for p in ps:
        positions.pop(p.partition, None)
    emit(ev="lost", parts=sorted(p.partition for p in ps))
    if incremental:
        c.incremental_unassign(ps)

membership = {"group.protocol": "consumer"} if kip848 else {
    "partition.assignment.strategy": strategy,
    "session.timeout.ms": session_ms, "heartbeat.interval.ms": max(100, session_ms // 10),
}
c = Consumer({
    "bootstrap.servers": bootstrap, "group.id": group, "client.id": name, **membership,
    "max.poll.interval.ms": max(10000, session_ms * 2),
    "enable.auto.commit": False, "auto.offset.reset": "earliest",
    "fetch.wait.max.ms": 100, "fetch.queue.backoff.ms": 10, "topic.metadata.refresh.interval.ms": 2000,
    **({"debug": os.environ["GROUP_MEMBER_DEBUG"]} if os.environ.get("GROUP_MEMBER_DEBUG") else {}),
})
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)

def read_stdin():
    for line in sys.stdin:
        if line.strip() == "commit":
            commit_asked.set()
    stop.set()
threading.Thread(target=read_stdin, daemon=True).start()
for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, lambda *_: stop.set())

member_id = None
while not stop.is_set():
    m = c.poll(0.05)
    if member_id is None and c.memberid():
        member_id = c.memberid()
        emit(ev="member", id=member_id)
    if commit_asked.is_set():
        commit_asked.clear()
        commit(c, list(positions))
    if m is None:
        continue
    if m.error():
        emit(ev="error", error=str(m.error()))
        continue
    positions[m.partition()] = (m.offset() + 1, m.leader_epoch())
    emit(ev="record", p=m.partition(), o=m.offset())
commit(c, list(positions))
c.close()
emit(ev="closed")
