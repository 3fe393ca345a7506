import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import Testing

/// `kgo cluster features|update-features` and `kgo token` end to end (the built binary
/// against FakeClusterTCP): text and `--json` output, and a non-zero exit naming the failed
/// item.
@Suite struct KgoFeatureTokenCommandTests {
    static func kgo(_ arguments: [String]) async throws -> (status: Int32, output: String) { try await KgoCommandTests.kgo(arguments) }

    static func object(_ output: String) throws -> [String: Any]? {
        try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
    }

    @Test func featureVerbs() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        var r = try await Self.kgo(["cluster", "features"] + b)
        #expect(r.status == 0 && r.output.contains("finalized epoch -") && r.output.contains("metadata.version supported 1-21 finalized -"), "\(r.output)")

        r = try await Self.kgo(["cluster", "update-features"] + b + ["metadata.version=21", "transaction.version=2"])
        #expect(r.status == 0 && r.output.contains("updated metadata.version=21") && r.output.contains("updated transaction.version=2"), "\(r.output)")
        r = try await Self.kgo(["cluster", "update-features"] + b + ["metadata.version=20", "group.version=1"])
        #expect(r.status != 0 && r.output.contains("error: metadata.version: INVALID_UPDATE_VERSION")
            && r.output.contains("error: group.version: FEATURE_UPDATE_FAILED"), "\(r.output)")
        r = try await Self.kgo(["cluster", "update-features"] + b + ["metadata.version=20", "--downgrade", "safe", "--validate-only", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let validated = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]
        #expect(validated?.first?["name"] as? String == "metadata.version" && validated?.first?["validateOnly"] as? Bool == true, "\(r.output)")
        r = try await Self.kgo(["cluster", "update-features"] + b + ["metadata.version=20", "--downgrade", "sideways"])
        #expect(r.status != 0 && r.output.contains("--downgrade is safe or unsafe"), "\(r.output)")

        r = try await Self.kgo(["cluster", "features"] + b + ["--json"])
        #expect(r.status == 0, "\(r.output)")
        let f = try Self.object(r.output)
        #expect(f?["finalizedEpoch"] as? Int == 1, "\(r.output)")
        #expect((f?["finalized"] as? [[String: Any]])?.map { "\($0["name"]!)=\($0["maxVersionLevel"]!)" } == ["metadata.version=21", "transaction.version=2"], "\(r.output)")
        // The bare verb still describes the cluster.
        r = try await Self.kgo(["cluster"] + b)
        #expect(r.status == 0 && r.output.contains("broker 1 "), "\(r.output)")
    }

    @Test func tokenVerbs() async throws {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], users: ["alice", "bob", "eve"].map {
            .init(mechanism: .plain, name: $0, password: "pw")
        })
        config.autoCreateTopics = false
        let server = try FakeClusterServer.start(config)
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        func sasl(_ user: String) -> [String] { ["--sasl", "PLAIN:\(user):pw"] }

        var r = try await Self.kgo(["token", "create"] + b + sasl("alice") + ["--renewer", "User:bob", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let created = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]
        let hmac = try #require(created?.first?["hmac"] as? String, "\(r.output)")
        #expect(created?.first?["owner"] as? String == "User:alice" && created?.first?["renewers"] as? [String] == ["User:bob"], "\(r.output)")

        r = try await Self.kgo(["token", "describe"] + b + sasl("bob") + ["--owner", "User:alice"])
        #expect(r.status == 0 && r.output.contains("hmac \(hmac) owner User:alice requester User:alice renewers User:bob"), "\(r.output)")
        r = try await Self.kgo(["token", "renew", hmac] + b + sasl("eve"))
        #expect(r.status != 0 && r.output.contains("error: \(hmac): DELEGATION_TOKEN_OWNER_MISMATCH"), "\(r.output)")
        r = try await Self.kgo(["token", "renew", hmac] + b + sasl("bob") + ["--period-ms", "60000"])
        #expect(r.status == 0 && r.output.contains("renewed \(hmac) expires "), "\(r.output)")
        r = try await Self.kgo(["token", "expire", hmac] + b + sasl("alice"))
        #expect(r.status == 0 && r.output.contains("expired \(hmac) at "), "\(r.output)")
        r = try await Self.kgo(["token", "expire", hmac] + b + sasl("alice"))
        #expect(r.status != 0 && r.output.contains("error: \(hmac): DELEGATION_TOKEN_NOT_FOUND"), "\(r.output)")
        r = try await Self.kgo(["token", "describe"] + b + sasl("alice") + ["--json"])
        #expect(r.status == 0, "\(r.output)")
        #expect((try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [Any])?.isEmpty == true, "\(r.output)")
        r = try await Self.kgo(["token", "renew", "%%%"] + b + sasl("alice"))
        #expect(r.status != 0 && r.output.contains("not a base64 HMAC"), "\(r.output)")

        // Without SASL (a cluster with no users): refused, the item named.
        let plain = try AdminTests.server(brokers: 1)
        defer { try? plain.shutdown() }
        r = try await Self.kgo(["token", "create", "-b", KgoCommandTests.bootstrap(plain)])
        #expect(r.status != 0 && r.output.contains("error: token: DELEGATION_TOKEN_REQUEST_NOT_ALLOWED"), "\(r.output)")
    }

    /// `--sasl-token`: the verbs log in with a token a SCRAM-less user created; that login
    /// may not create tokens; a token mechanism other than SCRAM is a usage error.
    @Test func tokenLogin() async throws {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], users: [.init(mechanism: .plain, name: "alice", password: "pw")],
                                       topics: [.init(name: "orders", partitions: 1)])
        config.autoCreateTopics = false
        let server = try FakeClusterServer.start(config)
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        var r = try await Self.kgo(["token", "create"] + b + ["--sasl", "PLAIN:alice:pw", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let created = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]
        let id = try #require(created?.first?["tokenId"] as? String, "\(r.output)")
        let hmac = try #require(created?.first?["hmac"] as? String, "\(r.output)")

        let token = ["--sasl-token", "SCRAM-SHA-256:\(id):\(hmac)"]
        r = try await Self.kgo(["topic", "list"] + b + token)
        #expect(r.status == 0 && r.output.contains("orders"), "\(r.output)")
        r = try await Self.kgo(["token", "create"] + b + token)
        #expect(r.status != 0 && r.output.contains("DELEGATION_TOKEN_REQUEST_NOT_ALLOWED"), "\(r.output)")
        let forged = (hmac.first == "A" ? "B" : "A") + hmac.dropFirst()
        r = try await Self.kgo(["topic", "list"] + b + ["--sasl-token", "SCRAM-SHA-256:\(id):\(forged)"])
        #expect(r.status != 0 && r.output.contains("authentication failed"), "\(r.output)")
        r = try await Self.kgo(["topic", "list"] + b + ["--sasl-token", "PLAIN:\(id):\(hmac)"])
        #expect(r.status == 64 && r.output.contains("SCRAM-SHA-256 or SCRAM-SHA-512"), "\(r.output)")
    }
}
