import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import Testing

/// `kgo txn list|describe|producers|abort` end to end (the built binary against a
/// three-broker FakeClusterTCP holding one open transaction): text and `--json` output, a
/// non-zero exit naming the failed item, and the open transaction aborted by its start offset.
@Suite struct KgoTxnCommandTests {
    static func kgo(_ arguments: [String]) async throws -> (status: Int32, output: String) { try await KgoCommandTests.kgo(arguments) }

    @Test func txnVerbs() async throws {
        let server = try AdminTransactionTests.server()
        defer { try? server.shutdown() }
        let b = ["-b", KgoCommandTests.bootstrap(server)]
        let open = try await AdminTransactionTests.openTransaction(server, id: "t-open", partition: 0)
        defer { Task { await open.close() } }
        let topic = AdminTransactionTests.topic

        var r = try await Self.kgo(["txn", "list"] + b + ["--json"])
        #expect(r.status == 0, "\(r.output)")
        let listed = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]
        let txns = listed?["transactions"] as? [[String: Any]]
        #expect(txns?.compactMap { $0["transactionalId"] as? String } == ["t-open"] && txns?.first?["state"] as? String == "Ongoing", "\(r.output)")
        let pid = try #require(txns?.first?["producerId"] as? Int64)
        r = try await Self.kgo(["txn", "list"] + b + ["--state", "Bogus"])
        #expect(r.status != 0 && r.output.contains("unknown state filters: Bogus"), "\(r.output)")

        r = try await Self.kgo(["txn", "describe"] + b + ["t-open", "nope"])
        #expect(r.status != 0, "\(r.output)")
        #expect(r.output.contains("t-open Ongoing producer \(pid) epoch 0") && r.output.contains("partitions \(topic)[0]")
            && r.output.contains("error: nope: TRANSACTIONAL_ID_NOT_FOUND"), "\(r.output)")

        r = try await Self.kgo(["txn", "producers"] + b + [topic, "--partition", "0"])
        #expect(r.status == 0 && r.output.contains("\(topic)[0] producer \(pid) epoch 0 last-sequence 0 coordinator-epoch - open-transaction-start 0"),
                "\(r.output)")
        r = try await Self.kgo(["txn", "producers"] + b + ["nope"])
        #expect(r.status != 0 && r.output.contains("error: nope: UNKNOWN_TOPIC_OR_PARTITION"), "\(r.output)")

        r = try await Self.kgo(["txn", "abort"] + b + ["--topic", topic, "--partition", "0", "--start-offset", "0", "--producer-id", "1"])
        #expect(r.status == 64 && r.output.contains("not both"), "\(r.output)")
        r = try await Self.kgo(["txn", "abort"] + b + ["--topic", topic, "--partition", "0", "--start-offset", "9"])
        #expect(r.status != 0 && r.output.contains("error: \(topic)[0]: \(topic)[0]: no open transaction starts at offset 9"), "\(r.output)")
        r = try await Self.kgo(["txn", "abort"] + b + ["--topic", topic, "--partition", "0", "--start-offset", "0"])
        #expect(r.status == 0 && r.output.contains("aborted \(topic)[0] producer \(pid)"), "\(r.output)")
        r = try await Self.kgo(["txn", "producers"] + b + [topic, "--partition", "0", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let parts = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [[String: Any]]
        let producer = (parts?.first?["producers"] as? [[String: Any]])?.first
        #expect(producer?["currentTransactionStartOffset"] is NSNull && producer?["coordinatorEpoch"] as? Int == 0, "\(r.output)")
    }
}
