import Testing
@testable import KafkaStateMachines

/// The producer's pure parts and its engine transcript up to the wire.
struct ProducerTests {
    @Test func murmur2MatchesJavaVectors() {
        // Values of org.apache.kafka.common.utils.Utils.murmur2 for these UTF-8 strings.
        let vectors: [(String, Int32)] = [("1", -1993445489), ("12", 126087238), ("123", -267702483), ("1234", -1614185708),
                                          ("12345", -1188365604), ("21", -973932308)]
        for (s, h) in vectors { #expect(Murmur2.hash(Array(s.utf8)) == h, "\(s)") }
        // toPositive(hash) % n: "1" lands where Java puts it among 12 partitions.
        #expect(Murmur2.partition(forKey: Array("1".utf8), partitions: 12) == Int32((Int(-1993445489) & 0x7fff_ffff) % 12))
    }

    @Test func acknowledgedBatchBodiesAreReusedUpToTheLimit() {
        var spares = BatchBodies()
        var storage: [UInt8] = []
        storage.reserveCapacity(1000)
        var batch = ProducerBatch(opened: .zero, storage: storage)
        storage = []
        batch.append(ProducerRecord(topic: "t", value: Array(repeating: 7, count: 500), timestamp: 1, token: 1), charge: 1)
        let address = batch.bytes.withUnsafeBufferPointer { $0.baseAddress }
        spares.keep(&batch.bytes)
        #expect(batch.bytes.isEmpty, "kept storage leaves the batch")
        let small = spares.take(capacity: 4096)
        #expect(small.isEmpty && small.capacity >= 4096, "a kept body too small for the batch is not handed out")
        let reused = spares.take(capacity: 500)
        #expect(reused.isEmpty, "a kept body comes back emptied")
        #expect(reused.withUnsafeBufferPointer { $0.baseAddress } == address)
        // The next batch on that storage starts with the header's room again.
        let next = ProducerBatch(opened: .zero, storage: reused)
        #expect(next.bytes.count == ProducerBatch.headerRoom && next.records.isEmpty)
        // More bodies than the limit: the extra ones are let go.
        for _ in 0 ..< BatchBodies.limit + 2 {
            var b: [UInt8] = []
            b.reserveCapacity(64)
            var batch = ProducerBatch(opened: .zero, storage: b)
            spares.keep(&batch.bytes)
        }
        #expect(spares.count == BatchBodies.limit)
    }

    /// An uncompressed batch is sealed where it stands: the wire bytes are the batch's own
    /// storage, not a copy. Sealed again for a retry with another sequence while a request
    /// still holds the first seal, the first seal keeps its bytes (copy on write).
    @Test func anUncompressedBatchIsSealedInPlace() throws {
        var b = ProducerBatch(opened: .zero)
        for i in 0 ..< 3 { b.append(ProducerRecord(topic: "t", key: [UInt8(i)], value: Array(repeating: UInt8(i), count: 100), timestamp: 9 + Int64(i), token: UInt64(i)), charge: 1) }
        b.sequence = 5
        let contexts = CompressionContexts()
        let first = try b.sealed(codec: .none, producerId: 7, epoch: 1, contexts: contexts)
        #expect(first.withUnsafeBufferPointer { $0.baseAddress } == b.bytes.withUnsafeBufferPointer { $0.baseAddress })
        #expect(try b.sealed(codec: .none, producerId: 7, epoch: 1, contexts: contexts) == first, "nothing changed: the same seal")
        b.sequence = 8
        let second = try b.sealed(codec: .none, producerId: 7, epoch: 2, contexts: contexts)
        for (wire, sequence, epoch) in [(first, Int32(5), Int16(1)), (second, 8, 2)] {
            // decodeAll checks the CRC.
            let batch = try #require(RecordsReader.decodeAll(wire, contexts: contexts).batches.first)
            #expect(batch.header.baseSequence == sequence && batch.header.producerEpoch == epoch && batch.header.producerId == 7)
            #expect(batch.header.maxTimestamp == 11 && batch.header.lastOffsetDelta == 2)
            #expect(batch.records.map { $0.valueBytes ?? [] } == (0 ..< 3).map { Array(repeating: UInt8($0), count: 100) })
        }
        // Compressed, the records are sealed into a new array; the batch's own are left as they were.
        let zstd = try b.sealed(codec: .zstd, producerId: 7, epoch: 2, contexts: contexts)
        #expect(try RecordsReader.decodeAll(zstd, contexts: contexts).batches.first?.records.count == 3)
        #expect(b.bytes == second)
    }

    @Test func conflictingConfigurationIsATypedError() {
        var c = ProducerConfig()
        c.acks = .leader
        #expect(throws: ProducerConfigError.idempotenceNeedsAcksAll(.leader)) { try c.validate() }
        c.idempotent = false
        #expect(throws: Never.self) { try c.validate() }
        c.maxInFlightPerBroker = 0
        #expect(throws: ProducerConfigError.self) { try c.validate() }
        var d = ProducerConfig()
        d.compression = []
        #expect(throws: ProducerConfigError.self) { try d.validate() }
    }

    @Test func badRecordsAreRefusedAtTheCall() {
        var config = Harness.config()
        config.producer.maxBatchBytes = 1000
        var h = Harness(config)
        #expect(h.engine.produce(ProducerRecord(topic: "", value: [1], timestamp: 0, token: 1), now: h.now) == .emptyTopic)
        #expect(h.engine.produce(ProducerRecord(topic: "t", partition: -1, value: [1], timestamp: 0, token: 2), now: h.now) == .negativePartition(-1))
        if case .recordTooLarge? = h.engine.produce(ProducerRecord(topic: "t", value: Array(repeating: 0, count: 2000), timestamp: 0, token: 3), now: h.now) {
        } else { Issue.record("an oversize record was not refused") }
        #expect(h.engine.producerBufferedRecords == 0)
    }

    @Test func invalidEngineConfigurationFailsEveryRecord() {
        var config = Harness.config()
        config.producer.acks = .none
        var h = Harness(config)
        #expect(h.engine.produce(ProducerRecord(topic: "t", value: [1], timestamp: 0, token: 1), now: h.now)
                == .invalidConfiguration(.idempotenceNeedsAcksAll(.none)))
    }

    @Test func bufferLimitRefusesWithBufferFull() {
        var config = Harness.config()
        config.producer.maxBufferedRecords = 3
        var h = Harness(config)
        for i in 1 ... 3 { #expect(h.engine.produce(ProducerRecord(topic: "t", value: [1], timestamp: 0, token: UInt64(i)), now: h.now) == nil) }
        #expect(h.engine.produce(ProducerRecord(topic: "t", value: [1], timestamp: 0, token: 4), now: h.now) == .bufferFull)
        #expect(h.engine.producerBufferedRecords == 3)
        // Closing fails what is buffered, once each.
        h.engine.close(now: h.now)
        let reports = h.drain().compactMap { if case .delivery(let r) = $0 { return r } else { return nil } }
        #expect(reports.flatMap(\.tokens).sorted() == [1, 2, 3])
        #expect(reports.allSatisfy { $0.error == .clientClosed })
    }

    @Test func firstProduceAsksForMetadataOfItsTopic() {
        var h = Harness(Harness.config())
        #expect(h.engine.produce(ProducerRecord(topic: "orders", value: [1], timestamp: 0, token: 1), now: h.now) == nil)
        let a = h.drain()
        #expect(opens(a).count == 1)
        _ = h.handshake(1)
        let requests = decodeWrites(h.log)
        let meta = requests.compactMap { $0.body as? MetadataRequest }
        #expect(meta.first?.topics?.map(\.name) == ["orders"])
    }

    @Test func splitKeepsRecordsInOrderWithFreshDeltas() throws {
        var b = ProducerBatch(opened: .zero)
        for i in 0 ..< 5 {
            b.append(ProducerRecord(topic: "t", key: [UInt8(i)], value: Array("v\(i)".utf8), timestamp: 1000 + Int64(i), token: UInt64(i)), charge: 10)
        }
        let (x, y) = try #require(b.split())
        #expect(x.tokens == [0, 1] && y.tokens == [2, 3, 4])
        #expect(y.baseTimestamp == 1002)
        var bx = x, by = y
        let contexts = CompressionContexts()
        for (batch, values) in [(try bx.sealed(codec: .none, producerId: -1, epoch: -1, contexts: contexts), ["v0", "v1"]),
                                (try by.sealed(codec: .none, producerId: -1, epoch: -1, contexts: contexts), ["v2", "v3", "v4"])] {
            let decoded = try RecordsReader.decodeAll(batch, contexts: contexts).batches
            #expect(decoded.count == 1)
            #expect(decoded[0].records.map { String(decoding: $0.valueBytes ?? [], as: UTF8.self) } == values)
            #expect(decoded[0].records.map(\.offset) == Array(0 ..< Int64(values.count)))
        }
        #expect(by.records.count > 0)
    }

    @Test func sealedBatchCarriesSequenceEpochAndCodec() throws {
        var b = ProducerBatch(opened: .zero)
        for i in 0 ..< 3 { b.append(ProducerRecord(topic: "t", value: Array(repeating: UInt8(i), count: 200), timestamp: 5, token: UInt64(i)), charge: 1) }
        b.sequence = 42
        let contexts = CompressionContexts()
        let wire = try b.sealed(codec: .zstd, producerId: 7, epoch: 3, contexts: contexts)
        let batch = try #require(RecordsReader.decodeAll(wire, contexts: contexts).batches.first)
        #expect(batch.header.producerId == 7 && batch.header.producerEpoch == 3 && batch.header.baseSequence == 42)
        #expect(batch.header.attributes.codec == .zstd)
        #expect(batch.records.count == 3)
    }

    /// For a broker before 0.11 the same batch is sealed as a legacy message set, and
    /// sealed again (not reused) when the broker's format changes between attempts.
    @Test func sealedForAnOldBrokerIsALegacyMessageSet() throws {
        var b = ProducerBatch(opened: .zero)
        for i in 0 ..< 3 { b.append(ProducerRecord(topic: "t", value: [UInt8(i)], timestamp: 5 + Int64(i), token: UInt64(i)), charge: 1) }
        let contexts = CompressionContexts()
        for (magic, codec) in [(Int8(1), CompressionCodec.gzip), (0, .lz4), (1, .none)] {
            let wire = try b.sealed(codec: codec, producerId: -1, epoch: -1, legacyMagic: magic, contexts: contexts)
            #expect(wire[16] == UInt8(magic) && Int(wire[17] & 0x07) == Int(codec.rawValue))
            let records = try RecordsReader.decodeAll(wire, contexts: contexts).batches.flatMap(\.records)
            #expect(records.map { $0.valueBytes ?? [] } == [[0], [1], [2]])
            #expect(records.map(\.timestamp) == (magic == 0 ? [-1, -1, -1] : [5, 6, 7]))
        }
        let v2 = try b.sealed(codec: .none, producerId: -1, epoch: -1, contexts: contexts)
        #expect(v2[16] == 2)
    }

    @Test func sequencesWrapAtInt32Max() {
        #expect(PartitionQueue.add(Int32.max - 1, 3) == 1)
        #expect(PartitionQueue.add(0, 5) == 5)
    }
}

extension ProducerBatch {
    /// Appends `r`, sizing it first (false when a field is too long for the format): the
    /// producer sizes each record once at the call and passes the size in.
    @discardableResult
    mutating func append(_ r: ProducerRecord, charge: Int) -> Bool {
        guard let size = sizeIfAppended(r) else { return false }
        append(r, charge: charge, size: size)
        return true
    }
}
