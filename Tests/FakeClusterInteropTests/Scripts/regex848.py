# KIP-848 regex subscription: a consumer subscribed to "^rx-.*" gets every partition of the
# matching topics and none of the others. argv: bootstrap. Prints "OK".
import sys, time
from confluent_kafka import Consumer
got = set()
def on_assign(c, ps):
    got.update((p.topic, p.partition) for p in ps)
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "rx848", "group.protocol": "consumer",
              "auto.offset.reset": "earliest"})
c.subscribe(["^rx-.*"], on_assign=on_assign)
want = {("rx-a", 0), ("rx-a", 1), ("rx-b", 0)}
end = time.time() + 30
while time.time() < end and got != want:
    c.poll(0.1)
c.close()
assert got == want, sorted(got)
print("OK %s" % sorted(got))
