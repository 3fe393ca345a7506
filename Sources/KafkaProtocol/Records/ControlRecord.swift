/// The type of a control record (the INT16 after the version in its key).
public enum ControlRecordType: Sendable, Equatable {
    case abort
    case commit
    /// A type this library does not know (Kafka may add some, e.g. KIP-890's).
    case unknown(Int16)

    public init(rawValue: Int16) {
        switch rawValue {
        case 0: self = .abort
        case 1: self = .commit
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int16 {
        switch self {
        case .abort: 0
        case .commit: 1
        case .unknown(let v): v
        }
    }
}

/// A control record's key (version INT16, type INT16) and, for commit/abort markers, the
/// value (version INT16, coordinator epoch INT32). Control records live in batches with the
/// control attribute set; a read-committed consumer uses the markers to drop aborted data.
public struct ControlRecord: Sendable, Equatable {
    public var version: Int16
    public var type: ControlRecordType
    /// The transaction coordinator's epoch, from an end-transaction marker's value.
    public var coordinatorEpoch: Int32?

    public init(version: Int16 = 0, type: ControlRecordType, coordinatorEpoch: Int32? = nil) {
        self.version = version
        self.type = type
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// Parses a control record from a record of a control batch. The key must hold at
    /// least version and type; a marker's value is read when present.
    public init(parsing record: Record) throws(KafkaDecodingError) {
        guard let key = record.key else {
            throw KafkaDecodingError(message: "ControlRecord", field: "key", offset: record.keyStart, kind: .unexpectedNull)
        }
        var k = ByteReader(record.buffer, range: key.indices)
        let version = try k.readInt16("key.version")
        let type = ControlRecordType(rawValue: try k.readInt16("key.type"))
        var epoch: Int32?
        if let value = record.value, type == .commit || type == .abort {
            var v = ByteReader(record.buffer, range: value.indices)
            _ = try v.readInt16("value.version")
            epoch = try v.readInt32("value.coordinatorEpoch")
        }
        self.init(version: version, type: type, coordinatorEpoch: epoch)
    }

    /// The key and value bytes of this control record.
    public func encodedRecord(timestamp: Int64) -> EncodableRecord {
        var k = ByteWriter(capacity: 4)
        k.writeInt16(version)
        k.writeInt16(type.rawValue)
        var value: [UInt8]?
        if let coordinatorEpoch {
            var v = ByteWriter(capacity: 6)
            v.writeInt16(0)
            v.writeInt32(coordinatorEpoch)
            value = v.bytes
        }
        return EncodableRecord(key: k.bytes, value: value, timestamp: timestamp)
    }

    /// An end-transaction marker batch (commit or abort) as a transaction coordinator asks
    /// the partition leader to write it: transactional, control, one record.
    public static func endTransactionMarkerBatch(commit: Bool, producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32,
                                                 timestamp: Int64, baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1,
                                                 contexts: CompressionContexts) throws(KafkaEncodingError) -> [UInt8] {
        let marker = ControlRecord(type: commit ? .commit : .abort, coordinatorEpoch: coordinatorEpoch)
        let options = RecordBatchOptions(baseOffset: baseOffset, partitionLeaderEpoch: partitionLeaderEpoch, isTransactional: true,
                                         isControl: true, producerId: producerId, producerEpoch: producerEpoch, baseSequence: -1)
        return try RecordBatchEncoder.encode([marker.encodedRecord(timestamp: timestamp)], options: options, contexts: contexts)
    }
}
