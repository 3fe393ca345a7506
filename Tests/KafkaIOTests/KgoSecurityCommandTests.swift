import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import Testing

/// `kgo acl`, `kgo quota` and `kgo user` end to end (the built binary against a
/// three-broker FakeClusterTCP): text and `--json` output, and a non-zero exit naming the
/// failed item.
@Suite struct KgoSecurityCommandTests {
    static func kgo(_ arguments: [String]) async throws -> (status: Int32, output: String) { try await KgoCommandTests.kgo(arguments) }

    static func json(_ output: String) throws -> [[String: Any]]? {
        try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]
    }

    @Test func aclVerbs() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        var r = try await Self.kgo(["acl", "create"] + b + ["--type", "topic", "--name", "ord", "--pattern", "prefixed", "--principal", "User:alice",
                                                      "--operation", "read", "--operation", "describe-configs"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("created ALLOW User:alice@* READ TOPIC:PREFIXED:ord")
            && r.output.contains("created ALLOW User:alice@* DESCRIBE_CONFIGS TOPIC:PREFIXED:ord"), "\(r.output)")
        r = try await Self.kgo(["acl", "create"] + b + ["--type", "cluster", "--name", "x", "--principal", "User:bob", "--operation", "alter",
                                                  "--permission", "deny"])
        #expect(r.status != 0 && r.output.contains("error: DENY User:bob@* ALTER CLUSTER:LITERAL:x: INVALID_REQUEST"), "\(r.output)")
        r = try await Self.kgo(["acl", "create"] + b + ["--type", "topic", "--name", "t", "--principal", "User:bob", "--operation", "bogus"])
        #expect(r.status != 0 && r.output.contains("unknown operation bogus"), "\(r.output)")

        r = try await Self.kgo(["acl", "list"] + b + ["--type", "topic", "--name", "orders", "--pattern", "match", "--json"])
        #expect(r.status == 0, "\(r.output)")
        #expect(try Self.json(r.output)?.compactMap { $0["operation"] as? String } == ["READ", "DESCRIBE_CONFIGS"], "\(r.output)")
        r = try await Self.kgo(["acl", "list"] + b + ["--operation", "write"])
        #expect(r.status == 0 && r.output.isEmpty, "\(r.output)")

        r = try await Self.kgo(["acl", "delete"] + b)
        #expect(r.status != 0 && r.output.contains("--all"), "\(r.output)")
        r = try await Self.kgo(["acl", "delete"] + b + ["--operation", "read", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let deleted = try Self.json(r.output)?.first?["deleted"] as? [[String: Any]]
        #expect(deleted?.compactMap { $0["principal"] as? String } == ["User:alice"], "\(r.output)")
        r = try await Self.kgo(["acl", "list"] + b)
        #expect(r.status == 0 && r.output.trimmingCharacters(in: .whitespacesAndNewlines) == "ALLOW User:alice@* DESCRIBE_CONFIGS TOPIC:PREFIXED:ord",
                "\(r.output)")
    }

    @Test func quotaVerbs() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        var r = try await Self.kgo(["quota", "alter"] + b + ["--entity", "user=alice", "--set", "producer_byte_rate=1024", "--set", "consumer_byte_rate=2048"])
        #expect(r.status == 0 && r.output.contains("altered user=alice"), "\(r.output)")
        r = try await Self.kgo(["quota", "alter"] + b + ["--entity", "client-id=<default>", "--set", "request_percentage=25.5"])
        #expect(r.status == 0 && r.output.contains("altered client-id=<default>"), "\(r.output)")
        r = try await Self.kgo(["quota", "alter"] + b + ["--entity", "ip=10.0.0.1", "--set", "producer_byte_rate=1"])
        #expect(r.status != 0 && r.output.contains("error: ip=10.0.0.1: INVALID_REQUEST"), "\(r.output)")

        r = try await Self.kgo(["quota", "describe"] + b)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("user=alice consumer_byte_rate=2048 producer_byte_rate=1024")
            && r.output.contains("client-id=<default> request_percentage=25.5"), "\(r.output)")
        r = try await Self.kgo(["quota", "alter"] + b + ["--entity", "user=alice", "--remove", "consumer_byte_rate"])
        #expect(r.status == 0, "\(r.output)")
        r = try await Self.kgo(["quota", "describe"] + b + ["user", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let entries = try Self.json(r.output)
        #expect(entries?.count == 1 && (entries?.first?["values"] as? [String: Double]) == ["producer_byte_rate": 1024], "\(r.output)")
        r = try await Self.kgo(["quota", "describe"] + b + ["client-id=<default>"])
        #expect(r.status == 0 && r.output.contains("client-id=<default>") && !r.output.contains("alice"), "\(r.output)")
    }

    @Test func userVerbs() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        var r = try await Self.kgo(["user", "set"] + b + ["carol", "--mechanism", "SCRAM-SHA-256", "--password", "pw", "--iterations", "4096"])
        #expect(r.status == 0 && r.output.contains("set carol SCRAM-SHA-256"), "\(r.output)")
        r = try await Self.kgo(["user", "set"] + b + ["carol", "--mechanism", "scram-sha-512", "--password", "pw", "--iterations", "100"])
        #expect(r.status != 0 && r.output.contains("error: carol SCRAM-SHA-512: carol SCRAM-SHA-512: iterations must be within 4096...16384"), "\(r.output)")
        r = try await Self.kgo(["user", "list"] + b)
        #expect(r.status == 0 && r.output.contains("carol SCRAM-SHA-256:4096"), "\(r.output)")
        r = try await Self.kgo(["user", "list"] + b + ["carol", "nobody", "--json"])
        #expect(r.status != 0, "\(r.output)")
        #expect(r.output.contains("\"iterations\" : 4096") && r.output.contains("error: nobody: RESOURCE_NOT_FOUND"), "\(r.output)")
        r = try await Self.kgo(["user", "delete"] + b + ["carol", "--mechanism", "SCRAM-SHA-256"])
        #expect(r.status == 0 && r.output.contains("deleted carol SCRAM-SHA-256"), "\(r.output)")
        r = try await Self.kgo(["user", "delete"] + b + ["carol", "--mechanism", "SCRAM-SHA-256"])
        #expect(r.status != 0 && r.output.contains("RESOURCE_NOT_FOUND"), "\(r.output)")
    }
}
