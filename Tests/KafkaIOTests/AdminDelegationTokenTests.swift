import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin's delegation-token calls (KIP-48) against FakeCluster's TCP listener: tokens
/// created over SASL for oneself or another owner, described by owner, renewed and expired
/// only by their owner, requester or renewers, the broker's refusals (not found, expired,
/// not over SASL), bad input refused before sending, and brokers too old.
@Suite struct AdminDelegationTokenTests {
    static func server(seed: UInt64 = 1) throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], seed: seed, users: ["alice", "bob", "admin", "eve"].map {
            .init(mechanism: .plain, name: $0, password: "pw-\($0)")
        })
        config.autoCreateTopics = false
        return try FakeClusterServer.start(config)
    }

    static func admin(_ server: FakeClusterServer, as user: String) throws -> KafkaAdmin {
        let broker = server.brokers[0]
        var config = TestEnvironment.configuration([BrokerAddress(host: broker.host, port: Int(broker.port))])
        config.sasl = .plain(username: user, password: "pw-\(user)")
        return KafkaAdmin(client: try KafkaClient(configuration: config, logger: TestEnvironment.logger))
    }

    static func refusal(_ code: KafkaErrorCode) -> KafkaAdminError { .broker(code, message: nil) }

    @Test func tokensCreatedDescribedRenewedAndExpired() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let alice = try Self.admin(server, as: "alice"), bob = try Self.admin(server, as: "bob")
        let admin = try Self.admin(server, as: "admin"), eve = try Self.admin(server, as: "eve")
        defer { Task { [alice, bob, admin, eve] in for a in [alice, bob, admin, eve] { await a.client.close() } } }

        let t1 = try await alice.createDelegationToken(renewers: ["User:bob"])
        #expect(t1.owner == "User:alice" && t1.requester == "User:alice" && t1.renewers == ["User:bob"])
        #expect(t1.hmac.count == 64 && !t1.tokenId.isEmpty)
        // Kafka's defaults: renewed every 24 hours, for at most 7 days.
        #expect(t1.expiryTimestamp - t1.issueTimestamp == 86_400_000 && t1.maxTimestamp - t1.issueTimestamp == 604_800_000)
        let t2 = try await admin.createDelegationToken(maxLifetime: .seconds(3600), owner: "User:carol")
        #expect(t2.owner == "User:carol" && t2.requester == "User:admin" && t2.renewers.isEmpty)
        #expect(t2.maxTimestamp - t2.issueTimestamp == 3_600_000 && t2.expiryTimestamp == t2.maxTimestamp)
        #expect(t1.tokenId != t2.tokenId && t1.hmac != t2.hmac)

        var described = try await bob.describeDelegationTokens()
        #expect(described == [t1, t2])
        #expect(try await bob.describeDelegationTokens(owners: ["User:carol"]).map(\.tokenId) == [t2.tokenId])
        #expect(try await bob.describeDelegationTokens(owners: []).isEmpty)

        // A renewer renews; someone else, or an unknown HMAC, is refused.
        let renewed = try await bob.renewDelegationToken(hmac: t1.hmac, renewPeriod: .seconds(60))
        #expect(renewed > t1.issueTimestamp && renewed < t1.expiryTimestamp)
        await #expect(throws: Self.refusal(.delegationTokenOwnerMismatch)) { try await eve.renewDelegationToken(hmac: t1.hmac) }
        await #expect(throws: Self.refusal(.delegationTokenOwnerMismatch)) { try await bob.expireDelegationToken(hmac: t2.hmac) }
        await #expect(throws: Self.refusal(.delegationTokenNotFound)) { try await alice.renewDelegationToken(hmac: [1, 2, 3]) }

        // Expired in a millisecond: past it, renewals are refused and descriptions leave it out.
        let expiry = try await alice.expireDelegationToken(hmac: t1.hmac, expiryPeriod: .milliseconds(1))
        #expect(expiry >= t1.issueTimestamp && expiry < renewed)
        try await Task.sleep(for: .milliseconds(30))
        await #expect(throws: Self.refusal(.delegationTokenExpired)) { try await bob.renewDelegationToken(hmac: t1.hmac) }
        described = try await alice.describeDelegationTokens()
        #expect(described.map(\.tokenId) == [t2.tokenId])

        // The requester expires another owner's token at once: it is gone.
        _ = try await admin.expireDelegationToken(hmac: t2.hmac)
        await #expect(throws: Self.refusal(.delegationTokenNotFound)) { try await admin.renewDelegationToken(hmac: t2.hmac) }
        #expect(try await admin.describeDelegationTokens().isEmpty)
    }

    /// The token's id and HMAC come from the cluster's seed, not from a random source.
    @Test func tokensAreDeterministicFromTheSeed() async throws {
        var made: [DelegationToken] = []
        for seed: UInt64 in [5, 5, 6] {
            let server = try Self.server(seed: seed)
            defer { try? server.shutdown() }
            let alice = try Self.admin(server, as: "alice")
            made.append(try await alice.createDelegationToken())
            await alice.client.close()
        }
        #expect(made[0].tokenId == made[1].tokenId && made[0].hmac == made[1].hmac)
        #expect(made[0].tokenId != made[2].tokenId && made[0].hmac != made[2].hmac)
    }

    @Test func badInputNoSaslAndOldBrokers() async throws {
        let server = try AdminTests.server(brokers: 1)
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        await #expect(throws: KafkaAdminError.invalidArgument("createDelegationToken", reason: "principal \"bob\" is not of the form Type:name (User:alice)")) {
            try await admin.createDelegationToken(renewers: ["bob"])
        }
        await #expect(throws: KafkaAdminError.invalidArgument("createDelegationToken", reason: "maxLifetime must be positive (nil: the broker's)")) {
            try await admin.createDelegationToken(maxLifetime: .zero)
        }
        await #expect(throws: KafkaAdminError.invalidArgument("renewDelegationToken", reason: "an empty hmac")) {
            try await admin.renewDelegationToken(hmac: [])
        }
        await #expect(throws: KafkaAdminError.invalidArgument("expireDelegationToken", reason: "expiryPeriod is negative (nil: expire now)")) {
            try await admin.expireDelegationToken(hmac: [1], expiryPeriod: .seconds(-1))
        }
        await #expect(throws: KafkaAdminError.invalidArgument("renewDelegationToken", reason: "renewPeriod is negative (nil: the broker's)")) {
            try await admin.renewDelegationToken(hmac: [1], renewPeriod: .milliseconds(-5))
        }
        // Without SASL, as over a PLAINTEXT listener.
        await #expect(throws: Self.refusal(.delegationTokenRequestNotAllowed)) { try await admin.createDelegationToken() }
        await #expect(throws: Self.refusal(.delegationTokenRequestNotAllowed)) { try await admin.describeDelegationTokens() }
        await #expect(throws: Self.refusal(.delegationTokenRequestNotAllowed)) { try await admin.renewDelegationToken(hmac: [1]) }

        let v32 = try AdminTests.server(brokers: 1, release: KafkaRelease(3, 2))
        defer { try? v32.shutdown() }
        let admin32 = try AdminTests.admin(v32)
        defer { Task { [client = admin32.client] in await client.close() } }
        await #expect(throws: KafkaAdminError.unsupportedByBroker(call: "createDelegationToken", api: .createDelegationToken, version: 3, release: KafkaRelease(3, 3))) {
            try await admin32.createDelegationToken(owner: "User:carol")
        }
        let v10 = try AdminTests.server(brokers: 1, release: KafkaRelease(1, 0))
        defer { try? v10.shutdown() }
        let admin10 = try AdminTests.admin(v10)
        defer { Task { [client = admin10.client] in await client.close() } }
        await #expect(throws: KafkaAdminError.unsupportedByBroker(call: "describeDelegationTokens", api: .describeDelegationToken, version: 0, release: KafkaRelease(1, 1))) {
            try await admin10.describeDelegationTokens()
        }
    }
}
