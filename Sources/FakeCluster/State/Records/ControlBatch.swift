/// The transaction markers the broker writes itself: a control batch holding one commit or
/// abort record, encoded by KafkaProtocol's record batch encoder.
enum ControlBatch {
    static func marker(commit: Bool, producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32,
                       timestamp: Int64) -> [UInt8] {
        let record = ControlRecord(type: commit ? .commit : .abort, coordinatorEpoch: coordinatorEpoch)
            .encodedRecord(timestamp: timestamp)
        let options = RecordBatchOptions(isTransactional: true, isControl: true, producerId: producerId,
                                         producerEpoch: producerEpoch)
        // Uncompressed, one record with small fixed fields: encoding cannot fail.
        return (try? RecordBatchEncoder.encode([record], options: options, contexts: CompressionContexts())) ?? []
    }
}
