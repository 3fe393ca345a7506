import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin's SCRAM user calls against FakeCluster's TCP listener: credentials salted on
/// the client, described by mechanism and iterations, and logged in with (the cluster's
/// SASL checks what AlterUserScramCredentials stored); deletion ends logins.
@Suite(.serialized) struct AdminScramTests {
    static func cluster() throws -> FakeClusterServer {
        try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], users: [
            .init(mechanism: .plain, name: "admin", password: "adm"),
            .init(mechanism: .scramSha256, name: "alice", password: "s3cret"),
        ]))
    }

    static func admin(_ server: FakeClusterServer) throws -> KafkaAdmin {
        let broker = server.brokers[0]
        var config = TestEnvironment.configuration([BrokerAddress(host: broker.host, port: Int(broker.port))])
        config.sasl = .plain(username: "admin", password: "adm")
        config.randomSeed = 7
        return KafkaAdmin(client: try KafkaClient(configuration: config, logger: TestEnvironment.logger))
    }

    static func logsIn(_ server: FakeClusterServer, _ sasl: SaslConfig) async -> Bool {
        (try? await SaslTests.metadata(server, sasl).0.get()) != nil
    }

    @Test func usersUpsertedDescribedLoggedInWithAndDeleted() async throws {
        let server = try Self.cluster()
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }

        let before = try await admin.describeUserScramCredentials()
        #expect(AdminTests.outcomes(before) == ["alice: ok"])
        #expect(before[0].value == [ScramCredentialInfo(mechanism: .sha256, iterations: 4096)])

        let upserted = try await admin.upsertScramUsers([
            ScramUpsertion(user: "carol", mechanism: .sha512, password: "pw1", iterations: 8192),
            ScramUpsertion(user: "carol", mechanism: .sha256, password: "pw2", salt: Array("fixed-salt".utf8)),
            ScramUpsertion(user: "dave", mechanism: .sha256, password: "x", iterations: 100),
            ScramUpsertion(user: "", mechanism: .sha256, password: "x"),
            ScramUpsertion(user: "carol", mechanism: .sha512, password: "again"),
        ])
        #expect(AdminTests.outcomes(upserted) == [
            "carol SCRAM-SHA-512: ok", "carol SCRAM-SHA-256: ok",
            "dave SCRAM-SHA-256: dave SCRAM-SHA-256: iterations must be within 4096...16384",
            " SCRAM-SHA-256:  SCRAM-SHA-256: empty user name",
            "carol SCRAM-SHA-512: carol SCRAM-SHA-512 named more than once",
        ])

        let described = try await admin.describeUserScramCredentials(["carol", "alice", "nobody"])
        #expect(AdminTests.outcomes(described) == ["carol: ok", "alice: ok", "nobody: RESOURCE_NOT_FOUND: Attempt to describe a user credential that does not exist"])
        #expect(described[0].value == [ScramCredentialInfo(mechanism: .sha256, iterations: 4096), ScramCredentialInfo(mechanism: .sha512, iterations: 8192)])

        // The new users log in with their passwords, and only with them.
        #expect(await Self.logsIn(server, .scram(.sha512, username: "carol", password: "pw1")))
        #expect(await Self.logsIn(server, .scram(.sha256, username: "carol", password: "pw2")))
        #expect(!(await Self.logsIn(server, .scram(.sha512, username: "carol", password: "pw2"))))

        // A configured user's credential can be replaced and deleted like a stored one.
        #expect(AdminTests.outcomes([try await admin.upsertScramUser("alice", .sha256, password: "new")]) == ["alice SCRAM-SHA-256: ok"])
        #expect(!(await Self.logsIn(server, .scram(.sha256, username: "alice", password: "s3cret"))))
        #expect(await Self.logsIn(server, .scram(.sha256, username: "alice", password: "new")))
        let deleted = try await admin.deleteScramUsers([("alice", .sha256), ("carol", .sha512), ("nobody", .sha256)])
        #expect(AdminTests.outcomes(deleted) == ["alice SCRAM-SHA-256: ok", "carol SCRAM-SHA-512: ok",
                                                 "nobody SCRAM-SHA-256: RESOURCE_NOT_FOUND: Attempt to delete a user credential that does not exist"])
        #expect(!(await Self.logsIn(server, .scram(.sha256, username: "alice", password: "new"))))
        #expect(!(await Self.logsIn(server, .scram(.sha512, username: "carol", password: "pw1"))))
        #expect(await Self.logsIn(server, .scram(.sha256, username: "carol", password: "pw2")))
        let after = try await admin.describeUserScramCredentials()
        #expect(AdminTests.outcomes(after) == ["carol: ok"])
        #expect(after[0].value == [ScramCredentialInfo(mechanism: .sha256, iterations: 4096)])
    }

    /// The broker's own checks, for clients that skip ours: too few iterations, one
    /// credential altered twice, an unknown mechanism.
    @Test func theBrokerRefusesBadCredentials() async throws {
        let server = try Self.cluster()
        defer { try? server.shutdown() }
        let admin = try Self.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        var r = AlterUserScramCredentialsRequest()
        func upsertion(_ user: String, _ mechanism: Int8, iterations: Int32) -> AlterUserScramCredentialsRequest.ScramCredentialUpsertion {
            var u = AlterUserScramCredentialsRequest.ScramCredentialUpsertion()
            u.name = user
            u.mechanism = mechanism
            u.iterations = iterations
            u.salt = [1, 2, 3]
            u.saltedPassword = [UInt8](repeating: 9, count: 32)
            return u
        }
        r.upsertions = [upsertion("few", 1, iterations: 1000), upsertion("twice", 1, iterations: 4096), upsertion("odd", 9, iterations: 4096)]
        var d = AlterUserScramCredentialsRequest.ScramCredentialDeletion()
        d.name = "twice"
        d.mechanism = 1
        r.deletions = [d]
        let resp = try await admin.client.request(r)
        #expect(resp.results.map { "\($0.user) \(KafkaErrorCode($0.errorCode).name)" } == [
            "twice DUPLICATE_RESOURCE", "few UNACCEPTABLE_CREDENTIAL", "odd UNSUPPORTED_SASL_MECHANISM",
        ])
        #expect(AdminTests.outcomes(try await admin.describeUserScramCredentials()) == ["alice: ok"])
    }
}
