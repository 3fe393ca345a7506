import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin against FakeCluster with an authorizer on: each admin call made as alice is
/// refused with Kafka's typed error (per item where Kafka answers per item) until the super
/// user creates the ACL it needs, and then works.
@Suite struct AdminAuthorizationTests {
    static func server() throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], users: ["alice", "admin"].map {
            .init(mechanism: .plain, name: $0, password: "pw-\($0)")
        }, topics: [.init(name: "orders", partitions: 1), .init(name: "logs", partitions: 1)])
        config.autoCreateTopics = false
        config.authorization = true
        config.superUsers = ["User:admin"]
        return try FakeClusterServer.start(config)
    }

    /// The super user's admin and alice's.
    static func admins(_ server: FakeClusterServer) throws -> (root: KafkaAdmin, alice: KafkaAdmin) {
        (KafkaAdmin(client: try KafkaClient(configuration: AuthorizationTests.configuration(server, as: "admin"), logger: TestEnvironment.logger)),
         KafkaAdmin(client: try KafkaClient(configuration: AuthorizationTests.configuration(server, as: "alice"), logger: TestEnvironment.logger)))
    }

    static func close(_ admins: (root: KafkaAdmin, alice: KafkaAdmin)) async {
        await admins.root.client.close()
        await admins.alice.client.close()
    }

    static func allow(_ root: KafkaAdmin, _ type: AclResourceType, _ name: String, _ op: AclOperation,
                      pattern: AclPatternType = .literal) async throws {
        let acl = AclBinding(type, name, patternType: pattern, principal: "User:alice", operation: op)
        #expect(AdminTests.outcomes(try await root.createACLs([acl])) == ["\(acl): ok"])
    }

    /// Each item's broker error code, or "ok".
    static func codes<V>(_ results: [AdminResult<V>]) -> [String] {
        results.map { r in
            guard let e = r.error else { return "\(r.name): ok" }
            if case .broker(let code, _) = e { return "\(r.name): \(code.name)" }
            return "\(r.name): \(e)"
        }
    }

    /// Some items, and each ends with `suffix`.
    static func every(_ codes: [String], _ suffix: String) -> Bool {
        !codes.isEmpty && codes.allSatisfy { $0.hasSuffix(suffix) }
    }

    /// The broker's code, whether it refused the item or the routing (FindCoordinator).
    static func code(_ e: KafkaAdminError) -> KafkaErrorCode? {
        if case .broker(let c, _) = e { return c }
        if case .client(.brokerError(let c, _)) = e { return c }
        return nil
    }

    /// The broker code of a call that threw, or of its only item.
    static func failureCode<V>(_ r: Result<[AdminResult<V>], KafkaAdminError>) -> KafkaErrorCode? {
        switch r {
        case .failure(let e): return code(e)
        case .success(let items): return items.count == 1 ? items[0].error.flatMap(code) : nil
        }
    }

    /// The broker code a call threw, or nil when it did not throw.
    static func thrown<T>(_ call: () async throws(KafkaAdminError) -> T) async -> KafkaErrorCode? {
        do {
            _ = try await call()
            return nil
        } catch {
            return code(error) ?? .unknownServerError
        }
    }

    static let p = TopicPartition("orders", 0)
    static let logs0 = TopicPartition("logs", 0)

    /// OffsetCommit: READ on the group is checked for the whole request; a topic the caller
    /// may not READ is refused per partition, and the others are committed.
    @Test func offsetCommitRefusesUnreadableTopicsPerPartition() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let a = try Self.admins(server)
        let alice = a.alice
        // Nothing on the group: its coordinator cannot even be found (FindCoordinator needs DESCRIBE).
        let unfound: Result<[AdminResult<AdminDone>], KafkaAdminError>
        do { unfound = .success(try await alice.alterOffsets(group: "g", [Self.p: 0])) } catch { unfound = .failure(error) }
        #expect(Self.failureCode(unfound) == .groupAuthorizationFailed, "\(unfound)")
        // DESCRIBE but no READ on the group: OffsetCommit is refused whole, on every partition.
        try await Self.allow(a.root, .group, "g", .describe)
        #expect(Self.codes(try await a.alice.alterOffsets(group: "g", [Self.p: 0, Self.logs0: 0]))
            == ["logs[0]: GROUP_AUTHORIZATION_FAILED", "orders[0]: GROUP_AUTHORIZATION_FAILED"])
        try await Self.allow(a.root, .group, "g", .read)
        try await Self.allow(a.root, .topic, "orders", .read)
        // READ on the group and on orders only: logs is refused on its own.
        #expect(Self.codes(try await a.alice.alterOffsets(group: "g", [Self.p: 0, Self.logs0: 0]))
            == ["logs[0]: TOPIC_AUTHORIZATION_FAILED", "orders[0]: ok"])
        #expect(try await a.root.fetchOffsets(group: "g").map(\.topicPartition) == [Self.p])
        // OffsetFetch leaves out the topics alice may not DESCRIBE.
        _ = try await a.root.alterOffsets(group: "g", [Self.logs0: 1])
        #expect(try await a.root.fetchOffsets(group: "g").map(\.topicPartition) == [Self.logs0, Self.p])
        #expect(try await a.alice.fetchOffsets(group: "g").map(\.topicPartition) == [Self.p])
        await Self.close(a)
    }

    /// CreateTopics v5+ returns a created topic's configs only to a caller that may
    /// DESCRIBE_CONFIGS it; otherwise the topic is created and its configs withheld with
    /// TOPIC_AUTHORIZATION_FAILED.
    @Test func createdTopicConfigsNeedDescribeConfigs() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let a = try Self.admins(server)
        try await Self.allow(a.root, .cluster, "kafka-cluster", .create)
        let first = try await a.alice.createTopics([NewTopic("c-1", partitions: 2, replicationFactor: 1, configs: ["retention.ms": "1000"])])
        #expect(Self.codes(first) == ["c-1: ok"])
        let withheld = try #require(first.first?.value)
        #expect(withheld.partitions == 2 && withheld.configs == nil && withheld.configsError == .topicAuthorizationFailed)
        #expect(try await a.root.listTopics().map(\.name).contains("c-1"))

        try await Self.allow(a.root, .topic, "c-2", .describeConfigs)
        let second = try await a.alice.createTopics([NewTopic("c-2", partitions: 1, replicationFactor: 1, configs: ["retention.ms": "1000"])])
        let shown = try #require(second.first?.value)
        #expect(shown.configsError == nil)
        let retention = try #require(shown.configs?.first { $0.name == "retention.ms" })
        #expect(retention.value == "1000" && retention.source == .dynamicTopic)
        #expect(shown.configs?.first { $0.name == "cleanup.policy" }?.source == .defaultConfig)
        // The super user always sees them.
        let root = try await a.root.createTopics([NewTopic("c-3", partitions: 1, replicationFactor: 1)])
        #expect(root.first?.value?.configsError == nil && root.first?.value?.configs?.isEmpty == false)
        await Self.close(a)
    }

    @Test func topicsNeedCreateAlterAndDelete() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let a = try Self.admins(server)
        try await Self.allow(a.root, .topic, "orders", .describe)
        let created = try await a.alice.createTopics([NewTopic("a-1", partitions: 1, replicationFactor: 1)])
        #expect(Self.codes(created) == ["a-1: TOPIC_AUTHORIZATION_FAILED"])
        // CREATE on a topic prefix allows those topics only.
        try await Self.allow(a.root, .topic, "a-", .create, pattern: .prefixed)
        let second = try await a.alice.createTopics([NewTopic("a-1", partitions: 1, replicationFactor: 1),
                                                     NewTopic("b-1", partitions: 1, replicationFactor: 1)])
        #expect(Self.codes(second) == ["a-1: ok", "b-1: TOPIC_AUTHORIZATION_FAILED"])
        // CREATE on the cluster allows any topic.
        try await Self.allow(a.root, .cluster, "kafka-cluster", .create)
        #expect(Self.codes(try await a.alice.createTopics([NewTopic("b-1", partitions: 1, replicationFactor: 1)])) == ["b-1: ok"])

        #expect(Self.codes(try await a.alice.createPartitions([PartitionIncrease("orders", totalCount: 2)]))
            == ["orders: TOPIC_AUTHORIZATION_FAILED"])
        try await Self.allow(a.root, .topic, "orders", .alter)
        #expect(Self.codes(try await a.alice.createPartitions([PartitionIncrease("orders", totalCount: 2)])) == ["orders: ok"])

        _ = await a.root.client.produceAndWait([KafkaRecord(topic: "orders", partition: 0, value: Array("v".utf8))])
        #expect(Self.codes(try await a.alice.deleteRecords([Self.p: 1])) == ["orders[0]: TOPIC_AUTHORIZATION_FAILED"])
        #expect(Self.codes(try await a.alice.deleteTopics(["orders"])) == ["orders: TOPIC_AUTHORIZATION_FAILED"])
        try await Self.allow(a.root, .topic, "orders", .delete)
        #expect(Self.codes(try await a.alice.deleteRecords([Self.p: 1])) == ["orders[0]: ok"])
        #expect(Self.codes(try await a.alice.deleteTopics(["orders", "logs"])) == ["orders: ok", "logs: TOPIC_AUTHORIZATION_FAILED"])
        await Self.close(a)
    }

    /// A topic's configs need DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic, a broker's on
    /// the cluster; each resource is refused on its own.
    @Test func configsNeedDescribeConfigsAndAlterConfigs() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let a = try Self.admins(server)
        let resources: [ConfigResource] = [.topic("orders"), .broker(1)]
        #expect(Self.codes(try await a.alice.describeConfigs(resources, keys: ["retention.ms"]))
            == ["topic orders: TOPIC_AUTHORIZATION_FAILED", "broker 1: CLUSTER_AUTHORIZATION_FAILED"])
        try await Self.allow(a.root, .topic, "orders", .describeConfigs)
        #expect(Self.codes(try await a.alice.describeConfigs(resources, keys: ["retention.ms"]))
            == ["topic orders: ok", "broker 1: CLUSTER_AUTHORIZATION_FAILED"])

        let changes = [ConfigChange(.topic("orders"), [.set("retention.ms", "1000")]),
                       ConfigChange(.broker(1), [.set("log.retention.bytes", "1000")])]
        #expect(Self.codes(try await a.alice.alterConfigs(changes))
            == ["topic orders: TOPIC_AUTHORIZATION_FAILED", "broker 1: CLUSTER_AUTHORIZATION_FAILED"])
        // ALTER_CONFIGS on the cluster covers brokers, not topics.
        try await Self.allow(a.root, .cluster, "kafka-cluster", .alterConfigs)
        let altered = Self.codes(try await a.alice.alterConfigs(changes))
        #expect(altered == ["topic orders: TOPIC_AUTHORIZATION_FAILED", "broker 1: ok"], "\(altered)")
        try await Self.allow(a.root, .topic, "orders", .alterConfigs)
        #expect(Self.codes(try await a.alice.alterConfigs([changes[0]])) == ["topic orders: ok"])
        await Self.close(a)
    }

    /// ACLs, SCRAM credentials, log dirs, reassignments and elections need DESCRIBE or
    /// ALTER on the cluster; client quotas DESCRIBE_CONFIGS or ALTER_CONFIGS.
    @Test func clusterCallsNeedTheCluster() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let a = try Self.admins(server)
        let alice = a.alice
        let acl = AclBinding(.topic, "orders", principal: "User:bob", operation: .read)
        let quota = ClientQuotaAlteration(.user("bob"), [.set("producer_byte_rate", 1024)])
        let denied = KafkaErrorCode.clusterAuthorizationFailed

        #expect(await Self.thrown { () async throws(KafkaAdminError) in try await alice.describeACLs() } == denied)
        #expect(Self.codes(try await alice.createACLs([acl])) == ["\(acl): CLUSTER_AUTHORIZATION_FAILED"])
        #expect(Self.every(Self.codes(try await alice.deleteACLs([AclFilter(.topic)])), "CLUSTER_AUTHORIZATION_FAILED"))
        #expect(await Self.thrown { () async throws(KafkaAdminError) in try await alice.describeUserScramCredentials() } == denied)
        let upsert = Self.codes(try await alice.upsertScramUsers([ScramUpsertion(user: "bob", mechanism: .sha256, password: "pw")]))
        #expect(upsert == ["bob SCRAM-SHA-256: CLUSTER_AUTHORIZATION_FAILED"], "\(upsert)")
        #expect(await Self.thrown { () async throws(KafkaAdminError) in try await alice.describeClientQuotas([]) } == denied)
        #expect(Self.every(Self.codes(try await alice.alterClientQuotas([quota])), "CLUSTER_AUTHORIZATION_FAILED"))
        #expect(Self.every(Self.codes(try await alice.describeLogDirs([Self.p])), "CLUSTER_AUTHORIZATION_FAILED"))
        #expect(await Self.thrown { () async throws(KafkaAdminError) in try await alice.listPartitionReassignments() } == denied)
        #expect(await Self.thrown { () async throws(KafkaAdminError) in try await alice.alterPartitionReassignments([Self.p: [1]]) } == denied)
        #expect(await Self.thrown { () async throws(KafkaAdminError) in try await alice.electLeaders(.preferred, [Self.p]) } == denied)

        try await Self.allow(a.root, .cluster, "kafka-cluster", .alter)
        try await Self.allow(a.root, .cluster, "kafka-cluster", .alterConfigs)
        // ALTER implies DESCRIBE, ALTER_CONFIGS implies DESCRIBE_CONFIGS.
        #expect(Self.codes(try await alice.createACLs([acl])) == ["\(acl): ok"])
        #expect(try await alice.describeACLs(AclFilter(.topic)).contains(acl))
        let upserted = Self.codes(try await alice.upsertScramUsers([ScramUpsertion(user: "bob", mechanism: .sha256, password: "pw")]))
        #expect(upserted == ["bob SCRAM-SHA-256: ok"], "\(upserted)")
        #expect(try await alice.describeUserScramCredentials().map(\.name) == ["bob"])
        #expect(Self.every(Self.codes(try await alice.alterClientQuotas([quota])), ": ok"))
        #expect(try await alice.describeClientQuotas([]).count == 1)
        #expect(Self.every(Self.codes(try await alice.describeLogDirs([Self.p])), ": ok"))
        #expect(try await alice.listPartitionReassignments().isEmpty)
        #expect(await Self.thrown { () async throws(KafkaAdminError) in try await alice.electLeaders(.preferred, [Self.p]) } != denied)
        await Self.close(a)
    }

    /// Groups: listed and described only with DESCRIBE on the group, deleted with DELETE;
    /// OffsetDelete needs DELETE on the group and READ on each topic.
    @Test func groupsNeedDescribeAndDelete() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let a = try Self.admins(server)
        for g in ["g-a", "g-b"] {
            #expect(Self.codes(try await a.root.alterOffsets(group: g, [Self.p: 0])) == ["orders[0]: ok"])
        }
        #expect(try await a.alice.listGroups().groups.isEmpty)
        #expect(Self.codes(try await a.alice.describeGroups(["g-a"])) == ["g-a: GROUP_AUTHORIZATION_FAILED"])
        try await Self.allow(a.root, .group, "g-a", .describe)
        #expect(try await a.alice.listGroups().groups.map(\.groupId) == ["g-a"])
        #expect(Self.codes(try await a.alice.describeGroups(["g-a", "g-b"])) == ["g-a: ok", "g-b: GROUP_AUTHORIZATION_FAILED"])

        let alice = a.alice
        #expect(await Self.thrown { () async throws(KafkaAdminError) in try await alice.deleteOffsets(group: "g-a", [Self.p]) }
            == .groupAuthorizationFailed)
        #expect(Self.codes(try await alice.deleteGroups(["g-a"])) == ["g-a: GROUP_AUTHORIZATION_FAILED"])
        try await Self.allow(a.root, .group, "g-a", .delete)
        #expect(Self.codes(try await alice.deleteOffsets(group: "g-a", [Self.p])) == ["orders[0]: TOPIC_AUTHORIZATION_FAILED"])
        try await Self.allow(a.root, .topic, "orders", .read)
        #expect(Self.codes(try await alice.deleteOffsets(group: "g-a", [Self.p])) == ["orders[0]: ok"])
        #expect(Self.codes(try await alice.deleteGroups(["g-a"])) == ["g-a: ok"])
        // DESCRIBE on the cluster lists every group.
        try await Self.allow(a.root, .cluster, "kafka-cluster", .describe)
        #expect(try await a.alice.listGroups().groups.map(\.groupId) == ["g-b"])
        await Self.close(a)
    }

    /// DescribeProducers needs READ on the topic; transactions are listed and described only
    /// with DESCRIBE on their transactional id.
    @Test func producersAndTransactionsNeedReadAndDescribe() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let a = try Self.admins(server)
        var c = AuthorizationTests.configuration(server, as: "admin")
        c.producer.transactionalId = "tx-1"
        let producer = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        try await producer.beginTransaction()
        let r = await producer.produceAndWait([KafkaRecord(topic: "orders", partition: 0, value: Array("t".utf8))])
        #expect((try? r[0].get()) != nil, "\(r)")

        // DESCRIBE lets alice find the partition's leader; DescribeProducers itself needs READ.
        try await Self.allow(a.root, .topic, "orders", .describe)
        #expect(Self.codes(try await a.alice.describeProducers([Self.p])) == ["orders[0]: TOPIC_AUTHORIZATION_FAILED"])
        #expect(try await a.alice.listTransactions().transactions.isEmpty)
        #expect(Self.codes(try await a.alice.describeTransactions(["tx-1"])) == ["tx-1: TRANSACTIONAL_ID_AUTHORIZATION_FAILED"])
        try await Self.allow(a.root, .topic, "orders", .read)
        try await Self.allow(a.root, .transactionalId, "tx-1", .describe)
        #expect(try await a.alice.describeProducers([Self.p]).first?.value?.count == 1)
        #expect(try await a.alice.listTransactions().transactions.map(\.transactionalId) == ["tx-1"])
        #expect(Self.codes(try await a.alice.describeTransactions(["tx-1"])) == ["tx-1: ok"])
        try await producer.abortTransaction()
        await producer.close()
        await Self.close(a)
    }
}
