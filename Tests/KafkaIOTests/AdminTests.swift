import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin against FakeCluster's TCP listener (three brokers): every call, its
/// per-item errors (bad input refused before sending, broker refusals) beside the items
/// that succeed in the same call, and a broker too old for a call.
@Suite struct AdminTests {
    static func server(brokers: Int32 = 3, release: KafkaRelease = .latest) throws -> FakeClusterServer {
        try FakeClusterServer.start(FakeClusterConfig(brokers: (1 ... brokers).map { .init(nodeId: $0, port: 0) }, release: release,
                                                      topics: [.init(name: "existing", partitions: 1)]))
    }

    static func admin(_ server: FakeClusterServer) throws -> KafkaAdmin {
        let broker = server.brokers[0]
        let client = try KafkaClient(configuration: TestEnvironment.configuration([BrokerAddress(host: broker.host, port: Int(broker.port))]),
                                     logger: TestEnvironment.logger)
        return KafkaAdmin(client: client)
    }

    /// "name: ok" or "name: <error>" per result, to compare whole calls at once.
    static func outcomes<V>(_ results: [AdminResult<V>]) -> [String] {
        results.map { r in "\(r.name): \(r.error.map { "\($0)" } ?? "ok")" }
    }

    @Test func topicsCreatedDescribedListedGrownAndDeleted() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }

        let created = try await admin.createTopics([
            NewTopic("orders", partitions: 3, replicationFactor: 2, configs: ["retention.ms": "1000"]),
            NewTopic("bad name!", partitions: 1, replicationFactor: 1),
            NewTopic("big", partitions: 1, replicationFactor: 4),
            NewTopic("orders", partitions: 1, replicationFactor: 1),
            NewTopic("assigned", replicaAssignment: [[1, 2], [2, 3]]),
            NewTopic("mixed", partitions: 2, replicaAssignment: [[1]]),
            NewTopic("zero", partitions: 0, replicationFactor: 1),
            NewTopic("existing", partitions: 1, replicationFactor: 1),
            NewTopic("defaults"),
        ])
        #expect(Self.outcomes(created) == [
            "orders: ok",
            "bad name!: invalid topic name \"bad name!\": only letters, digits, '.', '_' and '-' are allowed",
            "big: topic big: replication factor 4 is above the 3 brokers in the cluster",
            "orders: orders named more than once",
            "assigned: ok",
            "mixed: topic mixed: give partitions and replication factor, or a replica assignment, not both",
            "zero: topic zero: partitions must be at least 1 (or -1 for the broker's default)",
            "existing: \(created[7].error.map { "\($0)" } ?? "ok")",
            "defaults: ok",
        ])
        #expect(created[7].error.map { if case .broker(.topicAlreadyExists, _) = $0 { true } else { false } } == true)
        let orders = try #require(created[0].value)
        #expect(orders.partitions == 3 && orders.replicationFactor == 2 && orders.topicId != .zero)

        let described = try await admin.describeTopics(["orders", "assigned", "nope", ""])
        #expect(Self.outcomes(described) == ["orders: ok", "assigned: ok", "nope: UNKNOWN_TOPIC_OR_PARTITION", ": invalid topic name \"\": empty"])
        let ordersParts = try #require(described[0].value).partitions
        #expect(ordersParts.map(\.partition) == [0, 1, 2])
        for p in ordersParts {
            #expect(p.replicas.count == 2 && p.isr.count == 2 && p.offlineReplicas.isEmpty && p.error == nil)
            #expect(p.leader.map { p.replicas.contains($0) } == true)
        }
        #expect(try #require(described[1].value).partitions.map(\.replicas) == [[1, 2], [2, 3]])
        #expect(try #require(described[0].value).topicId == orders.topicId)

        #expect(try await admin.listTopics().map(\.name) == ["assigned", "defaults", "existing", "orders"])

        let grown = try await admin.createPartitions([PartitionIncrease("orders", totalCount: 5), PartitionIncrease("nope", totalCount: 2),
                                                      PartitionIncrease("assigned", totalCount: 0)])
        #expect(Self.outcomes(grown) == ["orders: ok", "nope: UNKNOWN_TOPIC_OR_PARTITION", "assigned: topic assigned: the total partition count must be at least 1"])
        #expect(grown[0].value == 5)
        #expect(try await admin.describeTopics(["orders"])[0].value?.partitions.count == 5)

        let deleted = try await admin.deleteTopics(["assigned", "nope", "a/b"])
        #expect(Self.outcomes(deleted) == ["assigned: ok", "nope: UNKNOWN_TOPIC_OR_PARTITION",
                                           "a/b: invalid topic name \"a/b\": only letters, digits, '.', '_' and '-' are allowed"])
        let byId = try await admin.deleteTopics(ids: [orders.topicId, .zero])
        #expect(Self.outcomes(byId) == ["\(orders.topicId): ok", "\(KafkaUUID.zero): topic id: the zero id names no topic"])
        #expect(byId[0].value == "orders")
        #expect(try await admin.listTopics().map(\.name) == ["defaults", "existing"])
    }

    @Test func configsDescribedWithSynonymsAndAlteredIncrementally() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        _ = try await admin.createTopics([NewTopic("t", partitions: 1, replicationFactor: 1, configs: ["retention.ms": "1000"])])

        // Broker resources are answered only by the broker they name (FakeCluster refuses
        // another's, as Kafka does): the routing sends each to its broker.
        let described = try await admin.describeConfigs([.topic("t"), .broker(2), .topic("nope"), .topic(""), .broker(-1), .broker(3), .brokerDefault])
        #expect(Self.outcomes(described) == ["topic t: ok", "broker 2: ok", "topic nope: \(described[2].error.map { "\($0)" } ?? "ok")",
                                             "topic : invalid topic name \"\": empty", "broker -1: broker -1: a broker id is not negative",
                                             "broker 3: ok", "broker default: ok"])
        #expect(described[2].error != nil)
        #expect(described[1].value?.first { $0.name == "broker.id" }?.value == "2")
        #expect(described[5].value?.first { $0.name == "broker.id" }?.value == "3")
        let retention = try #require(described[0].value?.first { $0.name == "retention.ms" })
        #expect(retention.value == "1000" && retention.source == .dynamicTopic)
        #expect(retention.synonyms.first.map { "\($0.name)=\($0.value ?? "-") \($0.source)" } == "retention.ms=1000 DYNAMIC_TOPIC_CONFIG")
        #expect(retention.synonyms.count >= 2)
        #expect(described[1].value?.isEmpty == false)

        let altered = try await admin.alterConfigs([
            ConfigChange(.topic("t"), [.set("retention.ms", "2000")]),
            ConfigChange(.topic("nope"), [.set("retention.ms", "1")]),
            ConfigChange(.topic("t"), [.delete("retention.ms")]),
            ConfigChange(.topic("u"), [.set("a", "1"), .set("a", "2")]),
            ConfigChange(.topic("u2"), []),
        ])
        #expect(Self.outcomes(altered)[0] == "topic t: ok")
        #expect(altered[1].error != nil)
        #expect(Self.outcomes(altered)[2...] == ["topic t: topic t named more than once", "topic u: topic u: config a changed twice",
                                                 "topic u2: topic u2: no operations"])
        let after = try await admin.describeConfigs([.topic("t")], keys: ["retention.ms"])
        #expect(after[0].value?.map(\.value) == ["2000"])
        // Unknown keys are the broker's to refuse, per resource.
        let unknown = try await admin.alterConfigs([ConfigChange(.topic("t"), [.set("no.such.config", "1")])])
        #expect(unknown[0].error != nil)
    }

    /// Dynamic broker configs: one broker's value over the cluster-wide default over the
    /// static value, each shown with its source and in the synonyms in that order; read-only
    /// and unknown keys and badly typed values refused per resource; a delete falls back.
    @Test func brokerConfigsAlteredPerBrokerAndClusterWide() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let altered = try await admin.alterConfigs([
            ConfigChange(.broker(2), [.set("log.retention.bytes", "1000")]),
            ConfigChange(.brokerDefault, [.set("log.retention.bytes", "500"), .set("message.max.bytes", "2000000")]),
            ConfigChange(.broker(3), [.set("broker.id", "9")]),
            ConfigChange(.broker(1), [.set("no.such.config", "1")]),
            ConfigChange(.broker(1), [.set("log.segment.bytes", "lots")]),
        ])
        #expect(Self.outcomes(altered)[0 ... 1] == ["broker 2: ok", "broker default: ok"])
        #expect(altered[2 ... 4].allSatisfy { $0.error != nil }, "\(Self.outcomes(altered))")
        func entry(_ broker: Int32, _ key: String) async throws -> String {
            let d = try await admin.describeConfigs([.broker(broker)], keys: [key])
            let e = try #require(d[0].value?.first)
            return "\(e.value ?? "-") \(e.source) [" + e.synonyms.map { "\($0.value ?? "-") \($0.source)" }.joined(separator: ", ") + "]"
        }
        #expect(try await entry(2, "log.retention.bytes")
                == "1000 DYNAMIC_BROKER_CONFIG [1000 DYNAMIC_BROKER_CONFIG, 500 DYNAMIC_DEFAULT_BROKER_CONFIG, -1 DEFAULT_CONFIG]")
        #expect(try await entry(3, "log.retention.bytes") == "500 DYNAMIC_DEFAULT_BROKER_CONFIG [500 DYNAMIC_DEFAULT_BROKER_CONFIG, -1 DEFAULT_CONFIG]")
        #expect(try await entry(3, "message.max.bytes").hasPrefix("2000000 DYNAMIC_DEFAULT_BROKER_CONFIG"))
        #expect(try await entry(3, "broker.id") == "3 STATIC_BROKER_CONFIG [3 STATIC_BROKER_CONFIG]")
        _ = try await admin.alterConfigs([ConfigChange(.broker(2), [.delete("log.retention.bytes")])])
        #expect(try await entry(2, "log.retention.bytes") == "500 DYNAMIC_DEFAULT_BROKER_CONFIG [500 DYNAMIC_DEFAULT_BROKER_CONFIG, -1 DEFAULT_CONFIG]")
    }

    @Test func brokerLoggersDescribedSetAndReset() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        func levels(_ broker: Int32, _ loggers: [String]) async throws -> [String] {
            let d = try await admin.describeBrokerLoggers([broker], loggers: loggers)
            return try #require(d[0].value).map { "\($0.name)=\($0.level)" }
        }
        // Stock levels; a logger without its own level logs at its parent's.
        #expect(try await levels(2, ["root", "kafka", "kafka.server.ReplicaManager"])
                == ["kafka=INFO", "kafka.server.ReplicaManager=INFO", "root=INFO"])
        let all = try await admin.describeBrokerLoggers([1])
        #expect(all[0].value?.contains(BrokerLogger(name: "kafka.controller", level: "TRACE")) == true, "\(all)")
        let sources = try await admin.describeConfigs([.brokerLogger(1)], keys: ["root"])
        #expect(sources[0].value?.map { "\($0.source) \($0.synonyms.count)" } == ["DYNAMIC_BROKER_LOGGER_CONFIG 0"])

        // Set on broker 2 only: its children follow, broker 3 keeps the stock levels.
        let set = try await admin.alterBrokerLoggers(2, [.set("kafka", .debug), .set("root", .warn)])
        #expect(set.error == nil, "\(set)")
        #expect(try await levels(2, ["kafka", "kafka.server.ReplicaManager", "org.apache.kafka.clients.NetworkClient", "root"])
                == ["kafka=DEBUG", "kafka.server.ReplicaManager=DEBUG", "org.apache.kafka.clients.NetworkClient=INFO", "root=WARN"])
        #expect(try await levels(3, ["kafka", "root"]) == ["kafka=INFO", "root=INFO"])

        // Per-item errors, each naming the broker; a refused change leaves every logger as it was.
        let refused = [
            try await admin.alterBrokerLoggers(2, [.set("kafka", .error), .set("no.such.logger", .info)]),
            try await admin.alterBrokerLoggers(2, [.reset("root")]),
            try await admin.alterBrokerLoggers(2, [.reset("state.change.logger")], validateOnly: true),
        ]
        #expect(Self.outcomes(refused) == [
            "broker-logger 2: INVALID_CONFIG: Logger no.such.logger does not exist!",
            "broker-logger 2: broker-logger 2: the root logger's level cannot be reset",
            "broker-logger 2: ok",
        ], "\(Self.outcomes(refused))")
        #expect(try await levels(2, ["kafka", "state.change.logger"]) == ["kafka=DEBUG", "state.change.logger=INFO"])
        // What the typed call cannot send, the broker refuses too: a bad level, APPEND, a DELETE of the root.
        let raw = try await admin.alterConfigs([ConfigChange(.brokerLogger(1), [.set("kafka", "LOUD")])])
            + admin.alterConfigs([ConfigChange(.brokerLogger(2), [.append("kafka", "INFO")])])
            + admin.alterConfigs([ConfigChange(.brokerLogger(3), [.delete("root")])])
        #expect(raw.map { $0.error.map { "\($0)".prefix(15) } } == ["INVALID_CONFIG:", "INVALID_REQUEST", "INVALID_REQUEST"], "\(Self.outcomes(raw))")

        // Reset: back to the parent's level.
        let reset = try await admin.alterBrokerLoggers(2, [.reset("kafka")])
        #expect(reset.error == nil, "\(reset)")
        #expect(try await levels(2, ["kafka", "kafka.server.ReplicaManager"]) == ["kafka=WARN", "kafka.server.ReplicaManager=WARN"])
        // A bad broker id is an item error, the others still answered.
        let mixed = try await admin.describeBrokerLoggers([3, -1])
        #expect(Self.outcomes(mixed) == ["broker-logger 3: ok", "broker-logger -1: broker-logger -1: a broker id is not negative"])
    }

    @Test func groupsListedDescribedOffsetsAlteredLaggedAndDeleted() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        // Three groups on three different coordinators: each asked of its own.
        try await server.withCluster { cluster, now in
            let out = cluster.moveCoordinator("g1", .group, to: 1, now: now) + cluster.moveCoordinator("g2", .group, to: 2, now: now)
                + cluster.moveCoordinator("g3", .group, to: 3, now: now)
            return ((), out)
        }.get()
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        _ = try await admin.createTopics([NewTopic("t", partitions: 2, replicationFactor: 2)])
        let produced = await admin.client.produceAndWait((0 ..< 10).map { KafkaRecord(topic: "t", partition: 0, value: Array("v\($0)".utf8)) })
        #expect(produced.allSatisfy { (try? $0.get()) != nil })

        let set = try await admin.alterOffsets(group: "g1", [TopicPartition("t", 0): 4, TopicPartition("t", 1): 0, TopicPartition("t", -1): 3,
                                                             TopicPartition("t", 9): 1])
        #expect(Self.outcomes(set)[0] == "t[-1]: t[-1]: a partition index is not negative")
        #expect(Self.outcomes(set)[1 ... 2] == ["t[0]: ok", "t[1]: ok"])
        #expect(Self.outcomes(set)[3] == "t[9]: UNKNOWN_TOPIC_OR_PARTITION")
        _ = try await admin.alterOffsets(group: "g2", [TopicPartition("t", 0): 10])
        _ = try await admin.alterOffsets(group: "g3", [TopicPartition("t", 1): 0])
        await #expect(throws: KafkaAdminError.invalidArgument("group id", reason: "empty")) {
            _ = try await admin.alterOffsets(group: "", [TopicPartition("t", 0): 1])
        }

        let fetched = try await admin.fetchOffsets(groups: ["g1", "g2", "g3", ""])
        #expect(Self.outcomes(fetched) == ["g1: ok", "g2: ok", "g3: ok", ": group id: empty"])
        #expect(fetched[0].value?.map { "\($0.topicPartition)=\($0.offset)" } == ["t[0]=4", "t[1]=0"])
        #expect(fetched[1].value?.map(\.offset) == [10])

        let lag = try await admin.lag(group: "g1")
        let lag0 = try #require(lag.first { $0.topicPartition == TopicPartition("t", 0) })
        #expect(lag0.committed == 4 && lag0.end == 10 && lag0.lag == 6)
        let lag1 = try #require(lag.first { $0.topicPartition == TopicPartition("t", 1) })
        #expect(lag1.end == 0 && lag1.lag == 0)

        let listed = try await admin.listGroups()
        #expect(listed.groups.map(\.groupId) == ["g1", "g2", "g3"] && listed.brokerError == nil)
        #expect(listed.groups.allSatisfy { $0.state == "Empty" })
        #expect(try await admin.listGroups(states: ["Stable"]).groups.isEmpty)
        #expect(try await admin.listGroups(states: ["Empty"]).groups.count == 3)

        let described = try await admin.describeGroups(["g1", "g2", "g3", ""])
        #expect(Self.outcomes(described) == ["g1: ok", "g2: ok", "g3: ok", ": group id: empty"])
        #expect(described.prefix(3).allSatisfy { $0.value?.state == "Empty" && $0.value?.members.isEmpty == true })

        let removed = try await admin.deleteOffsets(group: "g1", [TopicPartition("t", 1), TopicPartition("", 0)])
        #expect(Self.outcomes(removed) == ["t[1]: ok", "[0]: invalid topic name \"\": empty"])
        #expect(try await admin.fetchOffsets(group: "g1").map(\.topicPartition).contains(TopicPartition("t", 1)) == false)

        let gone = try await admin.deleteGroups(["g1", "g2", "nope", ""])
        #expect(Self.outcomes(gone) == ["g1: ok", "g2: ok", "nope: GROUP_ID_NOT_FOUND", ": group id: empty"])
        #expect(try await admin.listGroups().groups.map(\.groupId) == ["g3"])
    }

    @Test func offsetsListedAndRecordsDeleted() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        _ = try await admin.createTopics([NewTopic("t", partitions: 2, replicationFactor: 3)])
        let base: Int64 = 1_700_000_000_000
        let produced = await admin.client.produceAndWait((0 ..< 10).map {
            KafkaRecord(topic: "t", partition: 0, value: Array("v\($0)".utf8), timestamp: base + Int64($0) * 1000)
        })
        #expect(produced.allSatisfy { (try? $0.get()) != nil })
        let parts = [TopicPartition("t", 0), TopicPartition("t", 1), TopicPartition("nope", 0), TopicPartition("t", -2)]
        func offsets(_ spec: OffsetSpec) async throws -> [String] {
            try await admin.listOffsets(parts, spec).map { r in "\(r.name)=\(r.value.map { String($0.offset) } ?? "\(r.error!)")" }
        }
        let tail = ["nope[0]=UNKNOWN_TOPIC_OR_PARTITION", "t[-2]=t[-2]: a partition index is not negative"]
        #expect(try await offsets(.earliest) == ["t[0]=0", "t[1]=0"] + tail)
        #expect(try await offsets(.latest) == ["t[0]=10", "t[1]=0"] + tail)
        #expect(try await offsets(.timestamp(base + 3500)) == ["t[0]=4", "t[1]=-1"] + tail)
        #expect(try await offsets(.maxTimestamp).first == "t[0]=9")
        let bad = try await admin.listOffsets([TopicPartition("t", 0)], .timestamp(-7))
        #expect(Self.outcomes(bad) == ["t[0]: timestamp -7: a timestamp is not negative"])

        let deleted = try await admin.deleteRecords([TopicPartition("t", 0): 4, TopicPartition("t", 1): -3, TopicPartition("nope", 0): 1])
        #expect(Self.outcomes(deleted) == ["nope[0]: UNKNOWN_TOPIC_OR_PARTITION", "t[0]: ok", "t[1]: t[1]: offset -3 is below -1 (the high watermark)"])
        #expect(deleted[1].value == 4)
        #expect(try await offsets(.earliest).first == "t[0]=4")
    }

    @Test func clusterDescribed() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let cluster = try await admin.describeCluster()
        #expect(cluster.brokers.map(\.id) == [1, 2, 3])
        #expect(cluster.brokers.map(\.port) == server.brokers.map { Int($0.port) })
        #expect(cluster.controller.map { [1, 2, 3].contains($0) } == true)
    }

    /// What the admin wrote survives the control API's faults: a broker restarted and the
    /// group's coordinator moved, the configs and offsets read back are the ones written
    /// (asked of the new coordinator after the old one says it moved).
    @Test func adminStateSurvivesRestartsAndCoordinatorMoves() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        _ = try await admin.createTopics([NewTopic("kept", partitions: 1, replicationFactor: 3, configs: ["retention.ms": "4321"])])
        try await server.withCluster { cluster, now in ((), cluster.moveCoordinator("keeper", .group, to: 2, now: now)) }.get()
        #expect(Self.outcomes(try await admin.alterOffsets(group: "keeper", [TopicPartition("kept", 0): 7])) == ["kept[0]: ok"])
        try await server.withCluster { cluster, now in
            ((), cluster.stopBroker(2, now: now) + cluster.restartBroker(2, now: now) + cluster.moveCoordinator("keeper", .group, to: 3, now: now))
        }.get()
        #expect(try await admin.fetchOffsets(group: "keeper").map(\.offset) == [7])
        #expect(try await admin.describeGroups(["keeper"])[0].value?.state == "Empty")
        let configs = try await admin.describeConfigs([.topic("kept")], keys: ["retention.ms"])
        #expect(configs[0].value?.map(\.value) == ["4321"])
    }

    /// A broker too old for a call: the error names the call and the first release that has it.
    @Test func aBrokerTooOldForACallIsToldByRelease() async throws {
        let server = try Self.server(brokers: 1, release: KafkaRelease(2, 0))
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        await #expect(throws: KafkaAdminError.unsupportedByBroker(call: "deleteOffsets", api: .offsetDelete, version: 0, release: KafkaRelease(2, 4))) {
            _ = try await admin.deleteOffsets(group: "g", [TopicPartition("existing", 0)])
        }
        await #expect(throws: KafkaAdminError.unsupportedByBroker(call: "listOffsets", api: .listOffsets, version: 7, release: KafkaRelease(3, 0))) {
            _ = try await admin.listOffsets([TopicPartition("existing", 0)], .maxTimestamp)
        }
        // What 2.0 has still works there: OffsetFetch falls back to the one-group form.
        let fetched = try await admin.fetchOffsets(groups: ["g"])
        #expect(fetched[0].value == [])
    }
}
