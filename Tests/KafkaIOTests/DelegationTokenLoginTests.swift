import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// Logging in with a delegation token (KIP-48, `SaslConfig.delegationToken`) against
/// FakeCluster's TCP listener: a SCRAM user creates a token with KafkaAdmin, a second
/// client logs in with it and produces and consumes as the token's owner; a token expired
/// (or past its expiry) is refused with a typed SASL authentication failure; a
/// token-authenticated connection may not create tokens.
@Suite struct DelegationTokenLoginTests {
    static func server(authorization: Bool = false) throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], users: [
            .init(mechanism: .scramSha256, name: "alice", password: "pw-alice"),
            .init(mechanism: .scramSha512, name: "admin", password: "pw-admin"),
        ], topics: [.init(name: "orders", partitions: 1)])
        config.autoCreateTopics = false
        config.authorization = authorization
        config.superUsers = ["User:admin"]
        return try FakeClusterServer.start(config)
    }

    static func configuration(_ server: FakeClusterServer, _ sasl: SaslConfig) -> KafkaClientConfiguration {
        let broker = server.brokers[0]
        var c = TestEnvironment.configuration([BrokerAddress(host: broker.host, port: Int(broker.port))])
        c.sasl = sasl
        // Far from the hang: a loaded CI machine once took over 5 s to deliver.
        c.producer.deliveryTimeout = .seconds(60)
        return c
    }

    static func aliceAdmin(_ server: FakeClusterServer) throws -> KafkaAdmin {
        KafkaAdmin(client: try KafkaClient(configuration: configuration(server, .scram(.sha256, username: "alice", password: "pw-alice")),
                                           logger: TestEnvironment.logger))
    }

    /// The login's failure, nil when the client logged in (a Metadata request answered).
    static func loginFailure(_ server: FakeClusterServer, _ sasl: SaslConfig) async -> KafkaClientError? {
        let (result, _) = await SaslTests.metadata(server, sasl)
        guard case .failure(let e) = result else { return nil }
        return BadInputTests.rootCause(e)
    }

    @Test(arguments: [ScramAlgorithm.sha256, .sha512])
    func aTokenLogsInAndProducesAndConsumes(_ algorithm: ScramAlgorithm) async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let alice = try Self.aliceAdmin(server)
        let token = try await alice.createDelegationToken()
        await alice.client.close()

        let client = try KafkaClient(configuration: Self.configuration(server, token.sasl(algorithm)), logger: TestEnvironment.logger)
        let produced = await client.produceAndWait([KafkaRecord(topic: "orders", partition: 0, value: Array("by-token".utf8))])
        #expect((try? produced[0].get())?.offset == 0, "\(produced)")
        client.assign([TopicPartition("orders", 0): .start])
        let clock = ContinuousClock()
        let start = clock.now
        var got: [[UInt8]] = []
        while got.isEmpty, clock.now - start < .seconds(15) {
            got = await client.poll(timeout: .milliseconds(200)).records.compactMap { $0.value.map { Array($0) } }
        }
        #expect(got == [Array("by-token".utf8)])

        // KIP-48: a connection that logged in with a token may not create or renew tokens.
        let viaToken = KafkaAdmin(client: client)
        await #expect(throws: KafkaAdminError.broker(.delegationTokenRequestNotAllowed, message: nil)) {
            try await viaToken.createDelegationToken()
        }
        await #expect(throws: KafkaAdminError.broker(.delegationTokenRequestNotAllowed, message: nil)) {
            try await viaToken.renewDelegationToken(hmac: token.hmac)
        }
        await client.close()
    }

    /// With an authorizer on, the token's client acts as its owner: alice's ACLs apply.
    @Test func aTokenActsAsItsOwner() async throws {
        let server = try Self.server(authorization: true)
        defer { try? server.shutdown() }
        let alice = try Self.aliceAdmin(server)
        let token = try await alice.createDelegationToken()
        await alice.client.close()
        let root = KafkaAdmin(client: try KafkaClient(configuration: Self.configuration(server, .scram(.sha512, username: "admin", password: "pw-admin")),
                                                      logger: TestEnvironment.logger))
        let acl = AclBinding(.topic, "orders", principal: "User:alice", operation: .write)
        #expect(AdminTests.outcomes(try await root.createACLs([acl])) == ["\(acl): ok"])
        await root.client.close()

        var c = Self.configuration(server, token.sasl())
        c.producer.idempotent = false
        let client = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        let produced = await client.produceAndWait([KafkaRecord(topic: "orders", partition: 0, value: Array("v".utf8))])
        #expect((try? produced[0].get())?.offset == 0, "\(produced)")
        await client.close()
    }

    @Test func anExpiredTokenIsRefused() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let alice = try Self.aliceAdmin(server)
        let live = try await alice.createDelegationToken()
        let lapsed = try await alice.createDelegationToken()
        let expired = try await alice.expireDelegationToken(hmac: lapsed.hmac, expiryPeriod: .milliseconds(1))
        // Past its (renewed-down) expiry on the broker's clock, which the client reads back.
        let clock = ContinuousClock()
        let start = clock.now
        while try await alice.describeDelegationTokens().contains(where: { $0.tokenId == lapsed.tokenId }) {
            // A hang guard only: the expiry is 1 ms away.
            guard clock.now - start < .seconds(10) else { Issue.record("the token never expired"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(expired > 0)
        let gone = try await alice.createDelegationToken()
        _ = try await alice.expireDelegationToken(hmac: gone.hmac)
        await alice.client.close()

        #expect(await Self.loginFailure(server, live.sasl()) == nil)
        for t in [lapsed, gone] {
            let failure = await Self.loginFailure(server, t.sasl())
            guard case .saslAuthenticationFailed(let mechanism, _)? = failure else {
                Issue.record("token \(t.tokenId) logged in after expiry: \(String(describing: failure))")
                continue
            }
            #expect(mechanism == "SCRAM-SHA-512")
        }
        // The right id with another HMAC is refused too.
        let forged = SaslConfig.delegationToken(.sha512, tokenId: live.tokenId, hmac: Array(live.hmac.reversed()))
        guard case .saslAuthenticationFailed? = await Self.loginFailure(server, forged) else {
            Issue.record("a forged HMAC logged in")
            return
        }
    }
}
