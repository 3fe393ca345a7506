import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import Testing

/// `kgo log-dirs describe|alter` end to end (the built binary against FakeClusterTCP with
/// two log dirs per broker): text and `--json`, a move, and a non-zero exit naming the failed item.
@Suite struct KgoLogDirsCommandTests {
    static func kgo(_ arguments: [String]) async throws -> (status: Int32, output: String) { try await KgoCommandTests.kgo(arguments) }

    @Test func logDirsVerbs() async throws {
        let server = try AdminLogDirsTests.server()
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let topic = AdminLogDirsTests.topic
        let q0 = try #require(try await admin.describeTopics([topic])[0].value?.partitions[0])
        let broker = q0.replicas[0]

        var r = try await Self.kgo(["log-dirs"] + b + [topic])
        #expect(r.status == 0 && r.output.contains("broker \(broker) /data/a\n  \(topic)[0] size 0 lag 0") && r.output.contains("broker 1 /data/b"),
                "\(r.output)")
        r = try await Self.kgo(["log-dirs", "alter"] + b + ["--move", "\(topic):0@\(broker)=/data/b", "--move", "\(topic):0@\(broker + 10)=/data/b"])
        #expect(r.status != 0 && r.output.contains("moved \(topic)[0] on broker \(broker)")
            && r.output.contains("error: \(topic)[0] on broker \(broker + 10): "), "\(r.output)")
        r = try await Self.kgo(["log-dirs", "alter"] + b + ["--move", "bad"])
        #expect(r.status == 64 && r.output.contains("expected TOPIC:PARTITION@BROKER=PATH"), "\(r.output)")
        r = try await Self.kgo(["log-dirs", "describe"] + b + [topic, "--json"])
        #expect(r.status == 0, "\(r.output)")
        let brokers = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]
        let dirs = brokers?.first { $0["name"] as? String == "broker \(broker)" }?["logDirs"] as? [[String: Any]]
        let inB = (dirs?.first { $0["path"] as? String == "/data/b" }?["replicas"] as? [[String: Any]])?.compactMap { $0["partition"] as? Int }
        #expect(inB == [0], "\(r.output)")
        r = try await Self.kgo(["log-dirs"] + b + ["nope"])
        #expect(r.status != 0 && r.output.contains("nope: UNKNOWN_TOPIC_OR_PARTITION"), "\(r.output)")
    }
}
