import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import Testing

/// The `kgo` admin verbs end to end (the built binary against a three-broker
/// FakeClusterTCP): text and `--json` output, and a non-zero exit naming each failed item
/// while the other items are still done.
@Suite struct KgoAdminCommandTests {
    static func kgo(_ arguments: [String]) async throws -> (status: Int32, output: String) { try await KgoCommandTests.kgo(arguments) }

    @Test func brokerLoggerVerbs() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        var r = try await Self.kgo(["config", "set"] + b + ["broker-logger", "2", "kafka=debug"])
        #expect(r.status == 0, "\(r.output)")
        r = try await Self.kgo(["config", "get"] + b + ["broker-logger", "2", "kafka", "kafka.server.ReplicaManager"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("kafka=DEBUG DYNAMIC_BROKER_LOGGER_CONFIG") && r.output.contains("kafka.server.ReplicaManager=DEBUG"), "\(r.output)")
        r = try await Self.kgo(["config", "set"] + b + ["broker-logger", "2", "kafka=LOUD"])
        #expect(r.status != 0 && r.output.contains("kafka: level LOUD is not one of TRACE, DEBUG"), "\(r.output)")
        r = try await Self.kgo(["config", "set"] + b + ["broker-logger", "2", "no.such=INFO"])
        #expect(r.status != 0 && r.output.contains("broker-logger 2") && r.output.contains("does not exist"), "\(r.output)")
        r = try await Self.kgo(["config", "delete"] + b + ["broker-logger", "2", "kafka"])
        #expect(r.status == 0, "\(r.output)")
        r = try await Self.kgo(["config", "get"] + b + ["broker-logger", "2", "kafka"])
        #expect(r.output.contains("kafka=INFO"), "\(r.output)")
    }

    @Test func topicVerbs() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        var r = try await Self.kgo(["topic", "create"] + b + ["orders", "bad name", "--partitions", "3", "--replication-factor", "2", "--config", "retention.ms=1000"])
        #expect(r.status != 0, "\(r.output)")
        #expect(r.output.contains("created orders: 3 partitions, replication factor 2"), "\(r.output)")
        #expect(r.output.contains("error: bad name: invalid topic name \"bad name\""), "\(r.output)")

        r = try await Self.kgo(["topic", "list"] + b + ["--json"])
        #expect(r.status == 0, "\(r.output)")
        let listed = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]
        #expect(listed?.compactMap { $0["name"] as? String } == ["existing", "orders"], "\(r.output)")

        r = try await Self.kgo(["topic", "describe"] + b + ["orders"])
        #expect(r.status == 0 && r.output.contains("topic orders") && r.output.contains("partition 2 leader"), "\(r.output)")

        r = try await Self.kgo(["topic", "add-partitions"] + b + ["orders", "nope", "--total", "4"])
        #expect(r.status != 0, "\(r.output)")
        #expect(r.output.contains("orders now has 4 partitions") && r.output.contains("error: nope: UNKNOWN_TOPIC_OR_PARTITION"), "\(r.output)")

        r = try await Self.kgo(["config", "set"] + b + ["topic", "orders", "retention.ms=5000"])
        #expect(r.status == 0, "\(r.output)")
        r = try await Self.kgo(["config", "get"] + b + ["topic", "orders", "retention.ms", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let got = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]
        let configs = got?.first?["configs"] as? [[String: Any]]
        #expect(configs?.first?["value"] as? String == "5000" && configs?.first?["source"] as? String == "DYNAMIC_TOPIC_CONFIG", "\(r.output)")
        r = try await Self.kgo(["config", "delete"] + b + ["topic", "orders", "retention.ms"])
        #expect(r.status == 0, "\(r.output)")
        r = try await Self.kgo(["config", "get"] + b + ["topic", "nope"])
        #expect(r.status != 0 && r.output.contains("error: topic nope:"), "\(r.output)")

        r = try await Self.kgo(["cluster"] + b)
        #expect(r.status == 0 && r.output.contains("broker 1 ") && r.output.contains("broker 3 "), "\(r.output)")

        r = try await Self.kgo(["topic", "delete"] + b + ["orders", "nope"])
        #expect(r.status != 0 && r.output.contains("deleted orders") && r.output.contains("error: nope: UNKNOWN_TOPIC_OR_PARTITION"), "\(r.output)")
    }

    @Test func groupAndOffsetVerbs() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        let admin = try AdminTests.admin(server)
        _ = try await admin.createTopics([NewTopic("t", partitions: 2, replicationFactor: 1)])
        let produced = await admin.client.produceAndWait((0 ..< 6).map { KafkaRecord(topic: "t", partition: 0, value: Array("v\($0)".utf8)) })
        #expect(produced.allSatisfy { (try? $0.get()) != nil })
        await admin.client.close()

        var r = try await Self.kgo(["offsets"] + b + ["t", "nope"])
        #expect(r.status != 0, "\(r.output)")
        #expect(r.output.contains("t[0] 6") && r.output.contains("t[1] 0") && r.output.contains("error: nope: UNKNOWN_TOPIC_OR_PARTITION"), "\(r.output)")
        r = try await Self.kgo(["offsets"] + b + ["t", "--at", "earliest", "--partition", "0"])
        #expect(r.status == 0 && r.output.contains("t[0] 0") && !r.output.contains("t[1]"), "\(r.output)")

        r = try await Self.kgo(["group", "seek"] + b + ["--to", "2", "g", "t"])
        #expect(r.status == 0 && r.output.contains("t[0] set") && r.output.contains("t[1] set"), "\(r.output)")
        r = try await Self.kgo(["group", "lag"] + b + ["g"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("t 0 2 6 4") && r.output.contains("total lag 4"), "\(r.output)")
        r = try await Self.kgo(["group", "seek"] + b + ["--to", "end", "g", "t"])
        #expect(r.status == 0, "\(r.output)")
        r = try await Self.kgo(["group", "lag"] + b + ["g", "--json"])
        let lag = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]
        #expect(lag?.compactMap { $0["lag"] as? Int } == [0, 0], "\(r.output)")

        r = try await Self.kgo(["group", "list"] + b)
        #expect(r.status == 0 && r.output.contains("g Empty"), "\(r.output)")
        r = try await Self.kgo(["group", "delete"] + b + ["g", "nope"])
        #expect(r.status != 0 && r.output.contains("deleted g") && r.output.contains("error: nope: GROUP_ID_NOT_FOUND"), "\(r.output)")
    }
}
