# Idempotent producer: N records over the topic's partitions (keyed by partition), then a
# consumer reads them all back; checks per-partition order. Prints "OK <count>".
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition
bootstrap, topic, n, parts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
              "batch.num.messages": 10000, "queue.buffering.max.messages": 200000})
errors = []
def cb(err, msg):
    if err: errors.append(err)
t0 = time.time()
for i in range(n):
    part = i % parts
    while True:
        try:
            p.produce(topic, value=b"%d:%d" % (part, i // parts), partition=part, on_delivery=cb)
            break
        except BufferError:
            p.poll(0.01)
    if i % 1000 == 0: p.poll(0)
left = p.flush(60)
assert left == 0 and not errors, ("produce failed", left, errors[:3])
t1 = time.time()
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "idem-check", "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "fetch.queue.backoff.ms": 10})
c.assign([TopicPartition(topic, i, 0) for i in range(parts)])
nextv = [0] * parts
got = 0
deadline = time.time() + 60
while got < n and time.time() < deadline:
    for m in c.consume(10000, 1.0):
        assert not m.error(), m.error()
        part, seq = map(int, m.value().split(b":"))
        assert part == m.partition(), (part, m.partition())
        assert seq == nextv[part], ("out of order", part, seq, nextv[part])
        nextv[part] += 1
        got += 1
c.close()
assert got == n, ("consumed", got, "of", n)
print("OK %d produce=%.2fs consume=%.2fs" % (got, t1 - t0, time.time() - t1))
