import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import Testing

/// `kgo reassign list|execute` and `kgo elect-leaders` end to end (the built binary against a
/// three-broker FakeClusterTCP): a kafka-reassign-partitions plan executed and cancelled,
/// `--json` output, and a non-zero exit naming the failed item.
@Suite struct KgoReassignCommandTests {
    static func kgo(_ arguments: [String]) async throws -> (status: Int32, output: String) { try await KgoCommandTests.kgo(arguments) }

    @Test func reassignAndElectVerbs() async throws {
        let server = try AdminReassignmentTests.server(reassignmentMs: 60_000)
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let topic = AdminReassignmentTests.topic
        let p0 = try await AdminReassignmentTests.partition(admin, 0)
        let c = try #require([Int32(1), 2, 3].first { !p0.replicas.contains($0) })

        let plan = FileManager.default.temporaryDirectory.appendingPathComponent("kgo-reassign-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: plan) }
        try Data("""
        {"version":1,"partitions":[{"topic":"\(topic)","partition":0,"replicas":[\(c),\(p0.replicas[0])]},
                                   {"topic":"\(topic)","partition":1,"replicas":[7]}]}
        """.utf8).write(to: plan)
        var r = try await Self.kgo(["reassign", "execute"] + b + ["--plan", plan.path])
        #expect(r.status != 0 && r.output.contains("reassigning \(topic)[0]")
            && r.output.contains("error: \(topic)[1]: INVALID_REPLICA_ASSIGNMENT: broker 7 is not in the cluster"), "\(r.output)")
        r = try await Self.kgo(["reassign", "list"] + b + ["--json"])
        #expect(r.status == 0, "\(r.output)")
        let listed = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]
        #expect(listed?.count == 1 && listed?.first?["adding"] as? [Int] == [Int(c)] && listed?.first?["removing"] as? [Int] == [Int(p0.replicas[1])],
                "\(r.output)")
        r = try await Self.kgo(["reassign", "execute"] + b + ["--plan", plan.path, "--cancel"])
        #expect(r.status != 0 && r.output.contains("cancelled \(topic)[0]") && r.output.contains("error: \(topic)[1]: NO_REASSIGNMENT_IN_PROGRESS"),
                "\(r.output)")
        r = try await Self.kgo(["reassign", "list"] + b)
        #expect(r.status == 0 && r.output.isEmpty, "\(r.output)")
        try Data("{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"replicas\":[1]},{\"topic\":\"t\",\"partition\":0,\"replicas\":[2]}]}".utf8).write(to: plan)
        r = try await Self.kgo(["reassign", "execute"] + b + ["--plan", plan.path])
        #expect(r.status == 64 && r.output.contains("t[0] is named twice in the plan"), "\(r.output)")

        r = try await Self.kgo(["elect-leaders"] + b + [topic, "nope:0", "--json"])
        #expect(r.status != 0 && r.output.contains("error: nope[0]: UNKNOWN_TOPIC_OR_PARTITION"), "\(r.output)")
        r = try await Self.kgo(["elect-leaders"] + b + ["\(topic):0", "--type", "unclean"])
        #expect(r.status == 0 && r.output.contains("\(topic)[0]: leader already elected"), "\(r.output)")
        r = try await Self.kgo(["elect-leaders"] + b + ["\(topic):0", "--type", "bogus"])
        #expect(r.status == 64 && r.output.contains("preferred or unclean"), "\(r.output)")
    }
}
