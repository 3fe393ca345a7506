import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// The client against FakeCluster with an authorizer on (`FakeClusterConfig.authorization`,
/// Kafka's `allow.everyone.if.no.acl.found=false`): each data path is refused with its typed
/// error until an ACL created through KafkaAdmin (as the super user) allows it, and then works.
@Suite struct AuthorizationTests {
    static func server() throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], users: ["alice", "admin"].map {
            .init(mechanism: .plain, name: $0, password: "pw-\($0)")
        }, topics: [.init(name: "orders", partitions: 1)])
        config.autoCreateTopics = false
        config.authorization = true
        config.superUsers = ["User:admin"]
        return try FakeClusterServer.start(config)
    }

    static func configuration(_ server: FakeClusterServer, as user: String) -> KafkaClientConfiguration {
        let broker = server.brokers[0]
        var c = TestEnvironment.configuration([BrokerAddress(host: broker.host, port: Int(broker.port))])
        c.sasl = .plain(username: user, password: "pw-\(user)")
        // A hang guard: every refusal here is answered at once; a loaded CI machine once took
        // longer than 5 s to get one through.
        c.producer.deliveryTimeout = .seconds(60)
        return c
    }

    static func allow(_ admin: KafkaAdmin, _ type: AclResourceType, _ name: String, _ op: AclOperation) async throws {
        let acl = AclBinding(type, name, principal: "User:alice", operation: op)
        #expect(AdminTests.outcomes(try await admin.createACLs([acl])) == ["\(acl): ok"])
    }

    static func brokerCode(_ e: ProduceError) -> KafkaErrorCode? {
        switch e {
        case .broker(let c, _): return c
        case .fatal(let inner), .transactionMustAbort(let inner): return brokerCode(inner)
        default: return nil
        }
    }

    /// KIP-679: an idempotent producer's InitProducerId needs IDEMPOTENT_WRITE on the cluster
    /// or WRITE on some topic; without either the producer fails for good (as Java's does).
    /// A producer without idempotence meets the topic's own checks: DESCRIBE to see it in
    /// Metadata, WRITE to produce.
    @Test func producingNeedsDescribeAndWriteOnTheTopic() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = KafkaAdmin(client: try KafkaClient(configuration: Self.configuration(server, as: "admin"), logger: TestEnvironment.logger))
        defer { Task { [client = admin.client] in await client.close() } }
        func produce(idempotent: Bool) async throws -> Result<ProducedRecord, ProduceError> {
            var c = Self.configuration(server, as: "alice")
            c.producer.idempotent = idempotent
            let alice = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
            let r = await alice.produceAndWait([KafkaRecord(topic: "orders", partition: 0, value: Array("v".utf8))])[0]
            await alice.close()
            return r
        }
        // Nothing allowed: the topic cannot even be described.
        guard case .failure(let e1) = try await produce(idempotent: false) else { Issue.record("produced without an ACL"); return }
        #expect(Self.brokerCode(e1) == .topicAuthorizationFailed, "\(e1)")
        // Described but not writable: the Produce itself is refused.
        try await Self.allow(admin, .topic, "orders", .describe)
        guard case .failure(let e2) = try await produce(idempotent: false) else { Issue.record("produced with DESCRIBE only"); return }
        #expect(Self.brokerCode(e2) == .topicAuthorizationFailed, "\(e2)")
        // With idempotence, InitProducerId is refused first: no WRITE on any topic yet.
        guard case .failure(let fatal) = try await produce(idempotent: true) else { Issue.record("idempotent without WRITE"); return }
        guard case .fatal = fatal else { Issue.record("not fatal: \(fatal)"); return }
        #expect(Self.brokerCode(fatal) == .clusterAuthorizationFailed, "\(fatal)")
        // WRITE (which implies DESCRIBE, and allows idempotence): delivered.
        try await Self.allow(admin, .topic, "orders", .write)
        let ok = try await produce(idempotent: true)
        #expect((try? ok.get())?.offset == 0, "\(ok)")
    }

    @Test func aGroupNeedsReadOnTheGroup() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = KafkaAdmin(client: try KafkaClient(configuration: Self.configuration(server, as: "admin"), logger: TestEnvironment.logger))
        defer { Task { [client = admin.client] in await client.close() } }
        _ = await admin.client.produceAndWait([KafkaRecord(topic: "orders", partition: 0, value: Array("v".utf8))])
        try await Self.allow(admin, .topic, "orders", .read)

        func join(_ id: String) throws -> KafkaGroupConsumer {
            var g = GroupConfiguration(groupId: id, topics: ["orders"])
            g.sessionTimeout = .seconds(6)
            g.heartbeatInterval = .milliseconds(500)
            return try KafkaGroupConsumer(configuration: Self.configuration(server, as: "alice"), group: g, logger: TestEnvironment.logger)
        }
        // No READ on the group: the membership fails with the broker's refusal.
        let refused = try join("g-denied")
        refused.join()
        var failure: GroupError?
        for await e in refused.events {
            if case .failed(let f) = e { failure = f; break }
        }
        #expect(failure.map { "\($0)" }?.contains("GROUP_AUTHORIZATION_FAILED") == true, "\(String(describing: failure))")
        await refused.leave()

        // READ on the group (a prefixed ACL): the record is consumed.
        let acl = AclBinding(.group, "g-ok", patternType: .prefixed, principal: "User:alice", operation: .read)
        _ = try await admin.createACLs([acl])
        let member = try join("g-ok-1")
        member.join()
        let clock = ContinuousClock()
        let start = clock.now
        var got: [Int64] = []
        while got.isEmpty, clock.now - start < .seconds(15) {
            got = await member.poll(timeout: .milliseconds(200)).records.map(\.offset)
        }
        #expect(got == [0])
        await member.leave()
    }

    @Test func aTransactionalIdNeedsWrite() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = KafkaAdmin(client: try KafkaClient(configuration: Self.configuration(server, as: "admin"), logger: TestEnvironment.logger))
        defer { Task { [client = admin.client] in await client.close() } }
        try await Self.allow(admin, .topic, "orders", .write)

        var denied = Self.configuration(server, as: "alice")
        denied.producer.transactionalId = "tx-denied"
        let refused = try KafkaClient(configuration: denied, logger: TestEnvironment.logger)
        do {
            try await refused.beginTransaction()
            Issue.record("began a transaction without WRITE on its id")
        } catch {
            #expect("\(error)".contains("TRANSACTIONAL_ID_AUTHORIZATION_FAILED"), "\(error)")
        }
        await refused.close()

        try await Self.allow(admin, .transactionalId, "tx-ok", .write)
        var allowed = Self.configuration(server, as: "alice")
        allowed.producer.transactionalId = "tx-ok"
        let producer = try KafkaClient(configuration: allowed, logger: TestEnvironment.logger)
        try await producer.beginTransaction()
        let r = await producer.produceAndWait([KafkaRecord(topic: "orders", partition: 0, value: Array("t".utf8))])
        #expect((try? r[0].get()) != nil, "\(r)")
        try await producer.commitTransaction()
        await producer.close()
    }
}
