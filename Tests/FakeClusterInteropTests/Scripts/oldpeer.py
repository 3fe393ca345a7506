# librdkafka configured for an old release (broker.version.fallback; api.version.request=false
# before 0.10, whose brokers close the connection on ApiVersions): "produce" writes n values
# per codec to partition 0, "consume" reads n values of partition 0 from the start and
# prints them, one a line, after "OK n".
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition, OFFSET_BEGINNING
bootstrap, release, mode, topic, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
common = {"bootstrap.servers": bootstrap, "broker.version.fallback": release, "log_level": 3}
if tuple(int(x) for x in release.split(".")) < (0, 10):
    common["api.version.request"] = False
if mode == "produce":
    sent = 0
    for codec in ("none", "gzip", "snappy", "lz4"):
        p = Producer(dict(common, **{"compression.codec": codec, "linger.ms": 5}))
        errs = []
        for i in range(n):
            p.produce(topic, partition=0, value=b"theirs-%s-%d" % (codec.encode(), i), on_delivery=lambda e, m: e and errs.append(e))
            sent += 1
        assert p.flush(30) == 0 and not errs, errs[:3]
    print("OK %d" % sent)
else:
    c = Consumer(dict(common, **{"group.id": "old-reader", "enable.auto.commit": False}))
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = []
    end = time.time() + 30
    while len(got) < n and time.time() < end:
        for m in c.consume(1000, 0.5):
            assert not m.error(), m.error()
            got.append(m.value().decode())
    c.close()
    print("OK %d" % len(got))
    for v in got:
        print(v)
