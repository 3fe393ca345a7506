# Two real admin clients, confluent-kafka's AdminClient (librdkafka 2.16) and kafka-python's
# KafkaAdminClient, in one process, so AdminInteropTests pays one interpreter start per
# direction. A JSON spec comes on stdin; one JSON object goes to stdout, one key per client
# ("rdkafka", "kafka-python"). Every section is caught on its own: a failure becomes
# {"error": "..."} in that section and the rest still runs, so one mismatch does not hide others.
#
# Usage: admin.py read BOOTSTRAP   < {"topics": [...], "configs": {topic: [keys]}, "groups": [...],
#                                     "acls": true, "users": [...], "logins": [...]}
#   Each client reports what it sees, in the shapes the Swift test builds from its own admin:
#     topics:   {name: [[replica ids of partition 0], ...]}, or "UNKNOWN_TOPIC_OR_PARTITION"
#     listed:   the asked topics that the client's topic list names, sorted
#     configs:  {topic: {key: [value, source name]}}; a key the broker did not list: null
#               (configs are described whole and filtered here: Tansu drops the connection
#               when DescribeConfigs names keys)
#     brokerConfigs: the same for spec["brokerConfigs"] {broker id: [keys]} (a broker's
#               configs are answered only by that broker)
#     offsets:  {group: {"topic[partition]": [offset, leader epoch or null, metadata]}}
#     groups:   the asked groups that the client's group list names, sorted
#     states:   {group: its state from DescribeGroups, upper case (EMPTY, DEAD, ...)}
#     acls:     every ACL, "ALLOW User:alice@* READ TOPIC:LITERAL:orders" (AclBinding's
#               description in Swift), sorted
#     scram:    {user: ["SCRAM-SHA-256/4096", ...] sorted} for the asked users that have
#               credentials (all users described, then filtered)
#     logins:   {"user MECHANISM": "ok" or the error} for each {"user", "mechanism", "password"}
#               in spec["logins"]: a client of each kind logs in with SCRAM and lists topics,
#               so a credential one client salted is one the others can use
#   Client quotas: neither client has a call for them (confluent-kafka 2.16 and
#   kafka-python 3.0.12 expose no DescribeClientQuotas/AlterClientQuotas).
#
# Usage: admin.py write BOOTSTRAP  < {"rdkafka": STEPS, "kafka-python": STEPS}
#   STEPS: {"createTopics": [{"name", "partitions", "replicationFactor", "assignment", "configs"}],
#           "createPartitions": {topic: new total},
#           "alterConfigs": {topic: {"set": {key: value}, "delete": [key]}},
#           "replaceConfigs": {topic: {key: value}} (rdkafka only: the legacy AlterConfigs, which
#           resets every dynamic config it does not name; kafka-python's form of it re-sends
#           the others itself),
#           "offsets": {group: {"topic[partition]": offset or [offset, leader epoch, metadata]}},
#           "deleteOffsets": {group: ["topic[partition]"]} (kafka-python only: confluent-kafka
#           2.16 has no OffsetDelete call), "deleteGroups": [group],
#           "deleteTopics": [topic], "createAcls": [ACL], "deleteAcls": [ACL filter],
#           "scramUpsert": [{"user", "mechanism", "password", "iterations"}],
#           "scramDelete": [{"user", "mechanism"}]}
#   run in that order; ACL and filter: {"resourceType", "name", "pattern", "principal", "host",
#   "operation", "permission"} by wire names (a filter's null name/principal/host: any).
#   Reports {client: {step: "ok" or the error}}.
import json, re, sys, traceback, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # confluent-kafka's alter_configs (legacy AlterConfigs)

mode, bootstrap = sys.argv[1], sys.argv[2]
spec = json.load(sys.stdin)
TIMEOUT = 20

# Wire values -> the names our Swift enums print (confluent-kafka calls 4 "BROKER").
RESOURCE = {1: "ANY", 2: "TOPIC", 3: "GROUP", 4: "CLUSTER", 5: "TRANSACTIONAL_ID", 6: "DELEGATION_TOKEN", 7: "USER"}
PATTERN = {1: "ANY", 2: "MATCH", 3: "LITERAL", 4: "PREFIXED"}
OPERATION = {1: "ANY", 2: "ALL", 3: "READ", 4: "WRITE", 5: "CREATE", 6: "DELETE", 7: "ALTER", 8: "DESCRIBE",
             9: "CLUSTER_ACTION", 10: "DESCRIBE_CONFIGS", 11: "ALTER_CONFIGS", 12: "IDEMPOTENT_WRITE",
             13: "CREATE_TOKENS", 14: "DESCRIBE_TOKENS"}
PERMISSION = {1: "ANY", 2: "DENY", 3: "ALLOW"}
SOURCE = {0: "UNKNOWN", 1: "DYNAMIC_TOPIC_CONFIG", 2: "DYNAMIC_BROKER_CONFIG", 3: "DYNAMIC_DEFAULT_BROKER_CONFIG",
          4: "STATIC_BROKER_CONFIG", 5: "DEFAULT_CONFIG", 6: "DYNAMIC_BROKER_LOGGER_CONFIG"}
MECHANISM = {1: "SCRAM-SHA-256", 2: "SCRAM-SHA-512"}
def wire(table, name):
    return next(k for k, v in table.items() if v == name)

def acl_line(res, name, pattern, principal, host, op, perm):
    return "%s %s@%s %s %s:%s:%s" % (PERMISSION[perm], principal, host, OPERATION[op], RESOURCE[res], PATTERN[pattern], name)

def partition_key(s):  # "topic[3]" -> ("topic", 3)
    m = re.fullmatch(r"(.*)\[(\d+)\]", s)
    return m.group(1), int(m.group(2))

def epoch(e):  # a leader epoch, or None when not committed with one
    return e if e is not None and e >= 0 else None

def section(out, key, fn):
    try:
        out[key] = fn()
    except Exception as e:
        sys.stderr.write("%s: %s\n" % (key, traceback.format_exc()))
        out[key] = {"error": "%s: %s" % (type(e).__name__, e)}

# --- confluent-kafka (librdkafka 2.16)
from confluent_kafka import KafkaException, TopicPartition as RdTP, TopicCollection
from confluent_kafka.admin import (AdminClient, NewTopic as RdNewTopic, ConfigResource as RdConfigResource,
                                   ConfigEntry as RdConfigEntry, AlterConfigOpType, ResourceType as RdResourceType,
                                   AclBinding, AclBindingFilter, ScramCredentialInfo, ScramMechanism as RdMechanism,
                                   UserScramCredentialUpsertion as RdUpsert, UserScramCredentialDeletion as RdDelete)
from confluent_kafka import ConsumerGroupTopicPartitions

def rd_error_name(e):
    if isinstance(e, KafkaException) and e.args and hasattr(e.args[0], "name"):
        return e.args[0].name()
    return "%s: %s" % (type(e).__name__, e)

class Rd:
    def __init__(self):
        self.a = AdminClient({"bootstrap.servers": bootstrap})

    def topics(self, names):
        out = {}
        fs = self.a.describe_topics(TopicCollection(names), request_timeout=TIMEOUT)
        for n in names:
            try:
                d = fs[n].result(TIMEOUT)
                out[n] = [[r.id for r in p.replicas] for p in sorted(d.partitions, key=lambda p: p.id)]
            except Exception as e:
                # librdkafka names this error _UNKNOWN_TOPIC / UNKNOWN_TOPIC_OR_PART.
                name = rd_error_name(e)
                out[n] = "UNKNOWN_TOPIC_OR_PARTITION" if name in ("UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC") else name
        return out

    def listed(self, names):
        md = self.a.list_topics(timeout=TIMEOUT)
        return sorted(n for n in md.topics if n in names)

    def configs(self, wanted, kind=RdResourceType.TOPIC):
        out = {}
        # One resource per call: librdkafka refuses two BROKER resources in one (_CONFLICT),
        # as each goes to its own broker.
        fs = {}
        for t in wanted:
            fs.update(self.a.describe_configs([RdConfigResource(kind, t)], request_timeout=TIMEOUT))
        for res, f in fs.items():
            try:
                entries = f.result(TIMEOUT)
                out[res.name] = {k: ([entries[k].value, SOURCE.get(int(entries[k].source), str(entries[k].source))]
                                     if k in entries else None) for k in wanted[res.name]}
            except Exception as e:
                out[res.name] = rd_error_name(e)
        return out

    def offsets(self, groups):
        out = {}
        for g in groups:  # librdkafka takes one group per ListConsumerGroupOffsets
            fs = self.a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)], request_timeout=TIMEOUT)
            try:
                r = fs[g].result(TIMEOUT)
                out[g] = {"%s[%d]" % (tp.topic, tp.partition): [tp.offset, epoch(tp.leader_epoch), tp.metadata or ""]
                          for tp in r.topic_partitions if tp.offset >= 0}
            except Exception as e:
                out[g] = rd_error_name(e)
        return out

    def groups(self, names):
        r = self.a.list_consumer_groups(request_timeout=TIMEOUT).result(TIMEOUT)
        return sorted(g.group_id for g in r.valid if g.group_id in names)

    def states(self, names):
        fs = self.a.describe_consumer_groups(names, request_timeout=TIMEOUT)
        return {g: fs[g].result(TIMEOUT).state.name for g in names}

    def brokerConfigs(self, wanted):
        return self.configs(wanted, RdResourceType.BROKER)

    def acls(self):
        f = AclBindingFilter(RdResourceType.ANY, None, 1, None, None, 1, 1)  # ANY pattern, operation, permission
        got = self.a.describe_acls(f, request_timeout=TIMEOUT).result(TIMEOUT)
        return sorted(acl_line(b.restype.value, b.name, b.resource_pattern_type.value, b.principal, b.host,
                               b.operation.value, b.permission_type.value) for b in got)

    def scram(self, users):
        # Every user's credentials, then the asked ones: a user without any is absent here,
        # as in the other clients (their per-user errors are not named alike).
        got = self.a.describe_user_scram_credentials(request_timeout=TIMEOUT).result(TIMEOUT)
        return {u: sorted("%s/%d" % (MECHANISM[i.mechanism.value], i.iterations) for i in d.scram_credential_infos)
                for u, d in got.items() if u in users}

    def login(self, user, mechanism, password):
        a = AdminClient({"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mechanism,
                         "sasl.username": user, "sasl.password": password})
        a.list_topics(timeout=10)
        return "ok"

    # write steps
    def wait_all(self, fs):
        errors = []
        for k, f in fs.items():
            try:
                f.result(TIMEOUT)
            except Exception as e:
                errors.append("%s: %s" % (k, rd_error_name(e)))
        if errors:
            raise RuntimeError("; ".join(errors))
        return "ok"

    def createTopics(self, topics):
        new = []
        for t in topics:
            if t.get("assignment"):
                # num_partitions must match the assignment (its default, -1, is refused with one).
                new.append(RdNewTopic(t["name"], len(t["assignment"]), replica_assignment=t["assignment"], config=t.get("configs", {})))
            else:
                new.append(RdNewTopic(t["name"], t["partitions"], t.get("replicationFactor", -1), config=t.get("configs", {})))
        return self.wait_all(self.a.create_topics(new, request_timeout=TIMEOUT))

    def replaceConfigs(self, configs):
        res = [RdConfigResource(RdResourceType.TOPIC, t, set_config=kv) for t, kv in sorted(configs.items())]
        return self.wait_all(self.a.alter_configs(res, request_timeout=TIMEOUT))

    def createPartitions(self, totals):
        from confluent_kafka.admin import NewPartitions
        return self.wait_all(self.a.create_partitions([NewPartitions(t, n) for t, n in sorted(totals.items())], request_timeout=TIMEOUT))

    def alterConfigs(self, changes):
        res = []
        for topic, c in changes.items():
            entries = [RdConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in c.get("set", {}).items()]
            entries += [RdConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE) for k in c.get("delete", [])]
            res.append(RdConfigResource(RdResourceType.TOPIC, topic, incremental_configs=entries))
        return self.wait_all(self.a.incremental_alter_configs(res, request_timeout=TIMEOUT))

    def offsetsWrite(self, groups):
        for g, offs in groups.items():  # one group per AlterConsumerGroupOffsets
            tps = [RdTP(*partition_key(k), off[0], leader_epoch=off[1], **({"metadata": off[2]} if off[2] else {}))
                   if isinstance(off, list) else RdTP(*partition_key(k), off) for k, off in sorted(offs.items())]
            fs = self.a.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(g, tps)], request_timeout=TIMEOUT)
            # Partition errors come back in the answer, not as the future's exception.
            bad = ["%s[%d]: %s" % (tp.topic, tp.partition, tp.error) for tp in fs[g].result(TIMEOUT).topic_partitions if tp.error]
            if bad:
                raise RuntimeError("alter_consumer_group_offsets %s: %s" % (g, bad))
        return "ok"

    def deleteGroups(self, groups):
        return self.wait_all(self.a.delete_consumer_groups(groups, request_timeout=TIMEOUT))

    def deleteTopics(self, topics):
        return self.wait_all(self.a.delete_topics(topics, request_timeout=TIMEOUT))

    def binding(self, a, cls):
        return cls(a["resourceType"] if a["resourceType"] != "CLUSTER" else "BROKER", a["name"], a["pattern"],
                   a["principal"], a["host"], a["operation"], a["permission"])

    def createAcls(self, acls):
        return self.wait_all(self.a.create_acls([self.binding(a, AclBinding) for a in acls], request_timeout=TIMEOUT))

    def deleteAcls(self, filters):
        return self.wait_all(self.a.delete_acls([self.binding(f, AclBindingFilter) for f in filters], request_timeout=TIMEOUT))

    def scramUpsert(self, users):
        alts = [RdUpsert(u["user"], ScramCredentialInfo(RdMechanism(wire(MECHANISM, u["mechanism"])), u["iterations"]),
                         u["password"].encode()) for u in users]
        return self.wait_all(self.a.alter_user_scram_credentials(alts, request_timeout=TIMEOUT))

    def scramDelete(self, users):
        alts = [RdDelete(u["user"], RdMechanism(wire(MECHANISM, u["mechanism"]))) for u in users]
        return self.wait_all(self.a.alter_user_scram_credentials(alts, request_timeout=TIMEOUT))

    def close(self):
        pass

# --- kafka-python
import kafka.errors as Kerr
from kafka import TopicPartition as KpTP
from kafka.structs import OffsetAndMetadata
from kafka.admin import (KafkaAdminClient, ConfigResource as KpConfigResource, ConfigResourceType, AlterConfigOp,
                         ACL, ACLFilter, ResourcePattern, ResourcePatternFilter, ResourceType as KpResourceType,
                         ACLOperation, ACLPermissionType, ACLResourcePatternType, ScramMechanism as KpMechanism,
                         UserScramCredentialUpsertion as KpUpsert, UserScramCredentialDeletion as KpDelete)

def kp_error_name(code_or_exc):
    if isinstance(code_or_exc, int):
        return Kerr.for_code(code_or_exc).__name__ if code_or_exc else None
    e = code_or_exc
    if isinstance(e, Kerr.BrokerResponseError):
        return type(e).message if hasattr(type(e), "message") else type(e).__name__
    return "%s: %s" % (type(e).__name__, e)

class Kp:
    def __init__(self):
        self.a = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT * 1000)

    def topics(self, names):
        out = {}
        for n in names:  # one at a time: an unknown topic must not hide the others
            try:
                d = self.a.describe_topics([n])[0]
                if d["error_code"]:
                    out[n] = Kerr.for_code(d["error_code"]).message
                else:
                    out[n] = [p["replica_nodes"] for p in sorted(d["partitions"], key=lambda p: p["partition_index"])]
            except Exception as e:
                out[n] = kp_error_name(e)
        return out

    def listed(self, names):
        return sorted(n for n in self.a.list_topics() if n in names)

    def configs(self, wanted, kind=ConfigResourceType.TOPIC, key="topic"):
        got = self.a.describe_configs([KpConfigResource(kind, t) for t in wanted], config_filter="all")
        out = {}
        for t, keys in wanted.items():
            entries = got.get(key, {}).get(t)
            if entries is None:
                out[t] = "missing"
                continue
            out[t] = {k: ([entries[k]["value"], entries[k]["config_source"]] if k in entries else None) for k in keys}
        return out

    def offsets(self, groups):
        out = {}
        for g in groups:
            try:
                r = self.a.list_group_offsets({g: None})[g]
                out[g] = {"%s[%d]" % (tp.topic, tp.partition): [om.offset, epoch(om.leader_epoch), om.metadata or ""]
                          for tp, om in r.items() if om.offset >= 0}
            except Exception as e:
                out[g] = kp_error_name(e)
        return out

    def groups(self, names):
        return sorted(g["group_id"] for g in self.a.list_groups() if g["group_id"] in names)

    def states(self, names):
        got = self.a.describe_groups(names)
        return {g: got[g]["group_state"].upper() if not got[g]["error"] else str(got[g]["error"]) for g in names}

    def brokerConfigs(self, wanted):
        return self.configs(wanted, ConfigResourceType.BROKER, "broker")

    def acls(self):
        f = ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                      ResourcePatternFilter(KpResourceType.ANY, None, ACLResourcePatternType.ANY))
        got, _ = self.a.describe_acls(f)  # raises the broker's error
        return sorted(acl_line(a.resource_pattern.resource_type.value, a.resource_pattern.resource_name,
                               a.resource_pattern.pattern_type.value, a.principal, a.host, a.operation.value,
                               a.permission_type.value) for a in got)

    def scram(self, users):
        got = self.a.describe_user_scram_credentials()
        bad = {u: d["error"] for u, d in got.items() if d["error"]}
        if bad:
            raise RuntimeError("describe_user_scram_credentials: %s" % bad)
        return {u: sorted("%s/%d" % (MECHANISM[int(i["mechanism"])], i["iterations"]) for i in d["credential_infos"])
                for u, d in got.items() if u in users}

    def login(self, user, mechanism, password):
        a = KafkaAdminClient(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
                             sasl_plain_username=user, sasl_plain_password=password, request_timeout_ms=10000)
        try:
            a.list_topics()
        finally:
            a.close()
        return "ok"

    # write steps
    def createTopics(self, topics):
        new = {}
        for t in topics:
            o = {"configs": t.get("configs", {})}
            if t.get("assignment"):
                o["assignments"] = {i: r for i, r in enumerate(t["assignment"])}
            else:
                o["num_partitions"] = t["partitions"]
                o["replication_factor"] = t.get("replicationFactor", -1)
            new[t["name"]] = o
        self.a.create_topics(new)
        return "ok"

    def createPartitions(self, totals):
        self.a.create_partitions(dict(totals))  # raises the first topic error
        return "ok"

    def deleteOffsets(self, groups):
        for g, keys in groups.items():
            r = self.a.delete_group_offsets(g, [KpTP(*partition_key(k)) for k in keys])
            bad = {str(tp): e.__name__ for tp, e in r.items() if e is not Kerr.NoError}
            if bad:
                raise RuntimeError("delete_group_offsets %s: %s" % (g, bad))
        return "ok"

    def alterConfigs(self, changes):
        res = []
        for topic, c in changes.items():
            cfg = {k: (AlterConfigOp.SET, v) for k, v in c.get("set", {}).items()}
            cfg.update({k: (AlterConfigOp.DELETE, None) for k in c.get("delete", [])})
            res.append(KpConfigResource(ConfigResourceType.TOPIC, topic, configs=cfg))
        # raise_on_unknown=False: kafka-python otherwise checks the keys against a describe
        # first, and Tansu describes only the keys already set.
        r = self.a.alter_configs(res, raise_on_unknown=False)  # {"topic": {name: "OK" or the error's name}}
        bad = {n: e for by_name in r.values() for n, e in by_name.items() if e != "OK"}
        if bad:
            raise RuntimeError("alter_configs: %s" % bad)
        return "ok"

    def offsetsWrite(self, groups):
        for g, offs in groups.items():
            r = self.a.alter_group_offsets(g, {KpTP(*partition_key(k)): OffsetAndMetadata(off[0], off[2], off[1]) if isinstance(off, list)
                                               else OffsetAndMetadata(off, "", -1) for k, off in offs.items()})
            bad = {str(tp): e.__name__ for tp, e in r.items() if e is not Kerr.NoError}
            if bad:
                raise RuntimeError("alter_group_offsets %s: %s" % (g, bad))
        return "ok"

    def deleteGroups(self, groups):
        bad = {g: e for g, e in self.a.delete_groups(groups).items() if e != "OK"}
        if bad:
            raise RuntimeError("delete_groups: %s" % bad)
        return "ok"

    def deleteTopics(self, topics):
        self.a.delete_topics(topics)
        return "ok"

    def acl(self, a, filter):
        pattern = (ResourcePatternFilter if filter else ResourcePattern)(
            KpResourceType[a["resourceType"]], a["name"], ACLResourcePatternType[a["pattern"]])
        return (ACLFilter if filter else ACL)(a["principal"], a["host"], ACLOperation[a["operation"]],
                                              ACLPermissionType[a["permission"]], pattern)

    def createAcls(self, acls):
        r = self.a.create_acls([self.acl(a, False) for a in acls])
        if r.get("failed"):
            raise RuntimeError("create_acls: %s" % r["failed"])
        return "ok"

    def deleteAcls(self, filters):
        r = self.a.delete_acls([self.acl(f, True) for f in filters])
        bad = [err.__name__ for _, _, err in r if err is not Kerr.NoError]
        if bad:
            raise RuntimeError("delete_acls: %s" % bad)
        return "ok"

    def scramUpsert(self, users):
        r = self.a.alter_user_scram_credentials([KpUpsert(u["user"], KpMechanism(wire(MECHANISM, u["mechanism"])), u["password"],
                                                          iterations=u["iterations"]) for u in users])
        bad = {u: e for u, e in r.items() if e}
        if bad:
            raise RuntimeError("alter_user_scram_credentials: %s" % bad)
        return "ok"

    def scramDelete(self, users):
        r = self.a.alter_user_scram_credentials([KpDelete(u["user"], KpMechanism(wire(MECHANISM, u["mechanism"]))) for u in users])
        bad = {u: e for u, e in r.items() if e}
        if bad:
            raise RuntimeError("alter_user_scram_credentials: %s" % bad)
        return "ok"

    def close(self):
        self.a.close()

CLIENTS = [("rdkafka", Rd), ("kafka-python", Kp)]
WRITE_STEPS = [("createTopics", "createTopics"), ("createPartitions", "createPartitions"), ("alterConfigs", "alterConfigs"),
               ("replaceConfigs", "replaceConfigs"), ("offsets", "offsetsWrite"), ("deleteOffsets", "deleteOffsets"), ("deleteGroups", "deleteGroups"), ("deleteTopics", "deleteTopics"), ("createAcls", "createAcls"),
               ("deleteAcls", "deleteAcls"), ("scramUpsert", "scramUpsert"), ("scramDelete", "scramDelete")]

result = {}
for name, cls in CLIENTS:
    out = {}
    client = cls()
    if mode == "read":
        if "topics" in spec:
            section(out, "topics", lambda: client.topics(spec["topics"]))
            section(out, "listed", lambda: client.listed(spec["topics"]))
        if "configs" in spec:
            section(out, "configs", lambda: client.configs(spec["configs"]))
        if "brokerConfigs" in spec:
            section(out, "brokerConfigs", lambda: client.brokerConfigs(spec["brokerConfigs"]))
        if "groups" in spec:
            section(out, "offsets", lambda: client.offsets(spec["groups"]))
            section(out, "groups", lambda: client.groups(spec["groups"]))
            section(out, "states", lambda: client.states(spec["groups"]))
        if spec.get("acls"):
            section(out, "acls", client.acls)
        if "users" in spec:
            section(out, "scram", lambda: client.scram(spec["users"]))
        if "logins" in spec:
            logins = {}
            for l in spec["logins"]:
                section(logins, "%s %s" % (l["user"], l["mechanism"]), lambda: client.login(l["user"], l["mechanism"], l["password"]))
            out["logins"] = logins
    else:
        steps = spec.get(name, {})
        for key, method in WRITE_STEPS:
            if key in steps:
                section(out, key, lambda: getattr(client, method)(steps[key]))
    client.close()
    result[name] = out
print(json.dumps(result, sort_keys=True))
