import ArgumentParser
import Foundation
import KafkaIO

/// `kgo offsets TOPIC... [--at earliest|latest|max|TIMESTAMP]`: one offset per partition.
struct OffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "offsets", abstract: "List each partition's earliest, latest, max-timestamp or by-timestamp offset.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: AdminOutput
    @Option(help: "earliest, latest, max (the record with the largest timestamp) or a timestamp in ms.") var at: String = "latest"
    @Option(help: "Only this partition.") var partition: Int32?
    @Argument(help: "Topics.") var topics: [String]

    func run() async throws {
        let spec: OffsetSpec
        switch at {
        case "earliest": spec = .earliest
        case "latest": spec = .latest
        case "max": spec = .maxTimestamp
        default:
            guard let ts = Int64(at) else { throw ValidationError("--at \(at): earliest, latest, max or a timestamp") }
            spec = .timestamp(ts)
        }
        let results = try await connection.withClient { client -> [AdminResult<ListedOffset>] in
            let admin = KafkaAdmin(client: client)
            var partitions: [TopicPartition] = []
            var failed: [AdminResult<ListedOffset>] = []
            for d in try await admin.describeTopics(topics) {
                switch d.result {
                case .success(let t):
                    partitions += t.partitions.map { TopicPartition(t.name, $0.partition) }.filter { partition == nil || $0.partition == partition }
                case .failure(let e):
                    failed.append(AdminResult(d.name, .failure(e)))
                }
            }
            return failed + (partitions.isEmpty ? [] : try await admin.listOffsets(partitions, spec))
        }
        try output.report(results, text: { n, o in "\(n) \(o.offset)\(o.timestamp >= 0 ? " timestamp \(o.timestamp)" : "")" },
                          object: { ["offset": $0.offset, "timestamp": $0.timestamp] })
    }
}
