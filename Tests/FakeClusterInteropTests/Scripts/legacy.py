# Emulating Kafka 0.10.2: librdkafka (broker.version.fallback=0.10.2, which also answers
# ApiVersions) produces gzip and plain message sets and a group consumer reads them back.
import sys, time
from confluent_kafka import Producer, Consumer
bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
common = {"bootstrap.servers": bootstrap, "broker.version.fallback": "0.10.2", "log_level": 3}
sent = []
for codec in ("none", "gzip"):
    p = Producer(dict(common, **{"compression.codec": codec, "linger.ms": 5}))
    errs = []
    for i in range(n):
        v = b"%s-%d" % (codec.encode(), i)
        p.produce(topic, value=v, key=b"k%d" % i, on_delivery=lambda e, m: e and errs.append(e))
        sent.append(v)
    assert p.flush(30) == 0 and not errs, errs[:3]
c = Consumer(dict(common, **{"group.id": "legacy", "auto.offset.reset": "earliest", "session.timeout.ms": 6000}))
c.subscribe([topic])
got = []
end = time.time() + 30
while len(got) < len(sent) and time.time() < end:
    for m in c.consume(1000, 0.5):
        assert not m.error(), m.error()
        got.append(m.value())
c.commit(asynchronous=False)
c.close()
assert sorted(got) == sorted(sent), (len(got), len(sent))
print("OK %d" % len(got))
