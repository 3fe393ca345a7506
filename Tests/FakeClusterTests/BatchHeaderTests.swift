import Testing
@testable import FakeCluster

@Suite struct BatchHeaderTests {
    @Test func crc32cKnownVector() {
        // RFC 3720 / iSCSI check value for "123456789".
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func parsesBuiltBatch() throws {
        let b = makeBatch(count: 3, timestamp: 500, timestampStep: 10, producerId: 7, epoch: 2, sequence: 40)
        let h = try BatchHeader.parse(b)
        #expect(h.magic == 2)
        #expect(h.recordCount == 3)
        #expect(h.lastOffsetDelta == 2)
        #expect(h.baseTimestamp == 500)
        #expect(h.maxTimestamp == 520)
        #expect(h.producerId == 7 && h.producerEpoch == 2 && h.baseSequence == 40)
        #expect(h.lastSequence == 42)
        #expect(h.totalSize == b.count)
    }

    @Test func patchKeepsCRCValid() throws {
        var b = makeBatch(count: 2)
        try RecordBatchPatch.setBaseOffset(&b, batchAt: 0, 1234)
        try RecordBatchPatch.setPartitionLeaderEpoch(&b, batchAt: 0, 9)
        let h = try BatchHeader.parse(b) // verifies CRC
        #expect(h.baseOffset == 1234)
        #expect(h.partitionLeaderEpoch == 9)
    }

    @Test func rejectsCorruption() {
        var b = makeBatch(count: 2)
        b[b.count - 1] ^= 0xFF
        #expect(throws: KafkaDecodingError.self) { try BatchHeader.parse(b) }
        var m = makeBatch()
        m[16] = 1
        #expect { try BatchHeader.parse(m) } throws: { ($0 as? KafkaDecodingError)?.field == "magic" }
        #expect(throws: KafkaDecodingError.self) { try BatchHeader.parse(Array(m[0 ..< 10])) }
        // One batch must span the bytes exactly.
        #expect(throws: KafkaDecodingError.self) { try BatchHeader.parse(makeBatch() + [0]) }
    }

    @Test func splitsConcatenatedBatches() throws {
        let a = makeBatch(count: 1), b = makeBatch(count: 4)
        let parts = try BatchHeader.split(a + b)
        #expect(parts == [a, b])
        #expect(throws: KafkaDecodingError.self) { try BatchHeader.split(a + Array(b.dropLast())) }
    }

    @Test func sequenceWrapsAtInt32Max() {
        #expect(ProducerSequence.next(Int32.max) == 0)
        #expect(ProducerSequence.add(Int32.max - 1, 3) == 1)
        let h = header(makeBatch(count: 3, producerId: 1, epoch: 0, sequence: Int32.max - 1))
        #expect(h.lastSequence == 0) // max-1, max, 0
    }

    @Test func controlBatchLayout() throws {
        let b = ControlBatch.marker(commit: true, producerId: 5, producerEpoch: 3, coordinatorEpoch: 11, timestamp: 99)
        let h = try BatchHeader.parse(b)
        #expect(h.isControl && h.isTransactional)
        #expect(h.producerId == 5 && h.producerEpoch == 3 && h.baseSequence == -1)
        #expect(h.recordCount == 1)
        #expect(PartitionLog.controlType(b) == true)
        let abort = ControlBatch.marker(commit: false, producerId: 5, producerEpoch: 3, coordinatorEpoch: 11, timestamp: 99)
        #expect(PartitionLog.controlType(abort) == false)
    }
}
