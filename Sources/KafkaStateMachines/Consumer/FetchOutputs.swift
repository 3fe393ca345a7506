import KafkaProtocol

/// What the fetcher hands the user in one go: the partitions of one fetch response (or
/// partitions that stopped, or data loss found while validating).
package struct FetchBatch: Sendable, CustomStringConvertible {
    /// The broker that answered (nil for reports not tied to a fetch response).
    public var broker: Int32?
    public var partitions: [FetchedPartition]
    public var dataLoss: [DataLoss]
    /// Record bytes in `partitions`; the user hands them back with
    /// `ClientEngine.fetchConsumed(bytes:now:)` once polled (backpressure).
    public var bytes: Int

    public init(broker: Int32?, partitions: [FetchedPartition], dataLoss: [DataLoss] = []) {
        self.broker = broker
        self.partitions = partitions
        self.dataLoss = dataLoss
        self.bytes = partitions.reduce(0) { $0 + $1.records.count }
    }

    public var description: String {
        let parts = partitions.map { p in
            "\(p.topicPartition)@\(p.fetchOffset)->\(p.nextOffset)" + (p.error.map { " \($0)" } ?? "")
        }
        return "broker \(broker.map { "\($0)" } ?? "-"): [\(parts.joined(separator: ", "))]" + (dataLoss.isEmpty ? "" : " \(dataLoss)")
    }
}
