# SCRAM login: the right password lists metadata; a wrong one fails with an authentication error.
import sys
from confluent_kafka.admin import AdminClient
from confluent_kafka import KafkaException, KafkaError
bootstrap, mech, user, password = sys.argv[1:5]
def admin(pw):
    return AdminClient({"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT",
                        "sasl.mechanism": mech, "sasl.username": user, "sasl.password": pw})
md = admin(password).list_topics(timeout=10)
assert len(md.brokers) == 3, md.brokers
# librdkafka reports the failed login through the error callback (served by poll).
from confluent_kafka import Producer
import time
errs = []
p = Producer({"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mech,
              "sasl.username": user, "sasl.password": password + "x", "error_cb": errs.append})
end = time.time() + 10
while time.time() < end and not any(e.code() == KafkaError._AUTHENTICATION for e in errs):
    p.poll(0.1)
auth = [e for e in errs if e.code() == KafkaError._AUTHENTICATION]
assert auth, ("no authentication error", errs)
print("OK brokers=%d wrong=%s" % (len(md.brokers), auth[0].str()))
