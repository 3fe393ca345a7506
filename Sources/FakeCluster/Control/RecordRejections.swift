/// KIP-467 for tests: records a broker refuses one by one, as its record validation would
/// (a record without a key on a compacted topic, a bad timestamp). A Produce to a chosen
/// partition whose records include a chosen value is answered INVALID_RECORD, naming each
/// such record's index in RecordErrors with the rule's message (from Produce v8; earlier
/// versions get the bare error), and nothing of it is appended.
struct RecordRejections: Sendable, Equatable {
    struct Rule: Sendable, Equatable {
        var partition: TopicPartition
        var values: [[UInt8]]
        var message: String
    }

    var rules: [Rule] = []

    /// The indices of the records to refuse in `records` (counted across its batches) and
    /// their message; nil when none is refused.
    func refused(_ tp: TopicPartition, records: [UInt8]) -> (indices: [Int32], message: String)? {
        let matching = rules.filter { $0.partition == tp }
        guard !matching.isEmpty, let decoded = try? RecordsReader.decodeAll(records, contexts: CompressionContexts()) else { return nil }
        var indices: [Int32] = []
        var message: String? = nil
        var index: Int32 = 0
        for batch in decoded.batches where !batch.isControl {
            for record in batch.records {
                if let value = record.valueBytes, let rule = matching.first(where: { $0.values.contains(value) }) {
                    indices.append(index)
                    message = message ?? rule.message
                }
                index += 1
            }
        }
        guard let message, !indices.isEmpty else { return nil }
        return (indices, message)
    }
}
