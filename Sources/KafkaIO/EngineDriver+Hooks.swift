import KafkaProtocol
import KafkaStateMachines

/// Calling the user's hooks (KafkaHooks.swift). Every caller checks `clientHooks.isEmpty`
/// first, so without hooks none of this runs and no event is built.
extension EngineDriver {
    func hookConnected(_ id: ConnectionID, at now: Instant) {
        guard let broker = brokers[id] else { return }
        let dialTime = dialStarts.removeValue(forKey: id).map { Duration(now - $0) } ?? .zero
        for h in clientHooks { h.brokerConnected(KafkaHookBroker(broker), dialTime: dialTime) }
    }

    /// The engine's observations of its last turn, in order.
    func callHooks(_ observations: [Observation]) {
        for o in observations {
            switch o {
            case .requestWritten(let broker, let key, let version, let bytes, let queued):
                let e = KafkaRequestWritten(broker: KafkaHookBroker(broker), apiKey: key, version: version, bytes: bytes, timeQueued: Duration(queued))
                for h in clientHooks { h.requestWritten(e) }
            case .responseRead(let broker, let key, let version, let bytes, let onWire, let throttleMs):
                let e = KafkaResponseRead(broker: KafkaHookBroker(broker), apiKey: key, version: version, bytes: bytes,
                                          timeOnWire: Duration(onWire), throttle: .milliseconds(Int64(throttleMs)))
                for h in clientHooks { h.responseRead(e) }
            case .throttled(let broker, let interval):
                for h in clientHooks { h.throttled(KafkaHookBroker(broker), for: Duration(interval)) }
            case .produceBatchWritten(let broker, let topic, let partition, let records, let bytes, let compressed, let codec):
                let e = KafkaBatchEvent(broker: broker, topic: topic, partition: partition, records: records, bytes: bytes,
                                        compressedBytes: compressed, codec: codec)
                for h in clientHooks { h.produceBatchWritten(e) }
            }
        }
    }

    /// Records handed to the engine in one hop, one event per run of the same topic.
    func hookBuffered(_ records: ArraySlice<ProducerRecord>, callbacks: ArraySlice<ProduceCompletions.Entry>) {
        var i = records.startIndex
        var c = callbacks.startIndex
        while i < records.endIndex {
            let topic = records[i].topic
            var count = 0
            var bytes = 0
            while i < records.endIndex, records[i].topic == topic {
                count += 1
                bytes += callbacks[c].charge
                i += 1
                c += 1
            }
            for h in clientHooks { h.recordsBuffered(topic: topic, records: count, bytes: bytes) }
        }
    }

    /// One delivery report's records (those still waiting: `entries`).
    func hookDelivered(_ report: DeliveryReport, _ entries: [ProduceCompletions.Entry?], now: Instant) {
        var records = 0
        var bytes = 0
        var earliest: Instant?
        for case let e? in entries {
            records += 1
            bytes += e.charge
            earliest = min(earliest ?? e.queuedAt, e.queuedAt)
        }
        guard records > 0 else { return }
        let e = KafkaDeliveryEvent(topic: report.topic, partition: report.partition, records: records, bytes: bytes,
                                   latency: earliest.map { Duration(now - $0) } ?? .zero)
        if let error = report.error {
            for h in clientHooks { h.recordsFailed(e, error: error) }
        } else {
            for h in clientHooks { h.recordsDelivered(e) }
        }
    }

    /// One event per record batch in a fetch response, read from the batch headers only.
    func hookFetched(_ batch: FetchBatch) {
        for p in batch.partitions where !p.records.isEmpty {
            for b in BatchHeaders(p.records) {
                let e = KafkaBatchEvent(broker: batch.broker, topic: p.topicPartition.topic, partition: p.topicPartition.partition,
                                        records: b.records, bytes: b.bytes, compressedBytes: b.bytes, codec: b.codec)
                for h in clientHooks { h.fetchBatchRead(e) }
            }
        }
    }
}

/// The record batches in fetched bytes, from their headers: v2 batches give their record
/// count and codec; a legacy message set (v0/v1) counts as one batch of one record per
/// message (a compressed wrapper counts as one) and its codec. Stops at the first header it cannot read (the fetcher has cut
/// truncated tails and reported corrupt batches already).
struct BatchHeaders: Sequence, IteratorProtocol {
    struct Header { var records: Int; var bytes: Int; var codec: CompressionCodec }
    private let bytes: [UInt8]
    private var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> Header? {
        // baseOffset (8) length (4) then, for v2: epoch (4) magic (1) crc (4) attributes (2)
        // lastOffsetDelta (4) times (16) producer (14) count (4): 61 bytes.
        guard bytes.count - at >= 17 else { return nil }
        let length = Int(int32(at + 8))
        guard length >= 5, length <= bytes.count - at - 12 else { return nil }
        let magic = bytes[at + 16]
        let size = 12 + length
        defer { at += size }
        if magic >= 2 {
            guard length >= 49 else { return nil }
            let attributes = Int(bytes[at + 22])
            let count = Int(int32(at + 57))
            return Header(records: Swift.max(0, count), bytes: size, codec: CompressionCodec(rawValue: UInt8(attributes & 0x07)) ?? .none)
        }
        // Legacy: offset, size, crc (4), magic, attributes.
        guard length >= 6 else { return nil }
        let attributes = Int(bytes[at + 17])
        return Header(records: 1, bytes: size, codec: CompressionCodec(rawValue: UInt8(attributes & 0x07)) ?? .none)
    }

    private func int32(_ i: Int) -> Int32 {
        Int32(bitPattern: UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3]))
    }
}
