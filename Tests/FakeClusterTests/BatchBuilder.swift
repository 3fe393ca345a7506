@testable import FakeCluster

/// Builds whole v2 record batches from parts, with every header field under the test's
/// control (producer fields, sequences, attributes), to make produce payloads.
enum BatchBuilder {
    struct Record {
        var timestampDelta: Int64 = 0
        var key: [UInt8]?
        var value: [UInt8]?
    }

    /// A batch with the given header fields; offsets are relative (delta i for record i),
    /// and the CRC is computed over attributes onward.
    static func build(baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1, attributes: Int16 = 0,
                      baseTimestamp: Int64, maxTimestamp: Int64? = nil, producerId: Int64 = -1,
                      producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
                      records: [Record]) -> [UInt8] {
        var w = ByteWriter(capacity: 61 + records.count * 16)
        w.writeInt64(baseOffset)
        let lengthAt = w.reserveInt32()
        w.writeInt32(partitionLeaderEpoch)
        w.writeInt8(2)
        let crcAt = w.reserveInt32()
        w.writeInt16(attributes)
        w.writeInt32(Int32(max(0, records.count - 1)))
        w.writeInt64(baseTimestamp)
        let maxDelta = records.map(\.timestampDelta).max() ?? 0
        w.writeInt64(maxTimestamp ?? (baseTimestamp + maxDelta))
        w.writeInt64(producerId)
        w.writeInt16(producerEpoch)
        w.writeInt32(baseSequence)
        w.writeInt32(Int32(records.count))
        for (i, r) in records.enumerated() {
            var body = ByteWriter(capacity: 16)
            body.writeInt8(0)
            body.writeVarlong(r.timestampDelta)
            body.writeVarint(Int32(i))
            writeVarBytes(&body, r.key)
            writeVarBytes(&body, r.value)
            body.writeVarint(0) // no headers
            w.writeVarint(Int32(body.count))
            w.writeRaw(body.bytes)
        }
        w.patchInt32(at: lengthAt, Int32(w.count - 12))
        w.patchUInt32(at: crcAt, w.bytes[21...].withUnsafeBytes { CRC32C.checksum($0) })
        return w.bytes
    }

    private static func writeVarBytes(_ w: inout ByteWriter, _ b: [UInt8]?) {
        guard let b else { w.writeVarint(-1); return }
        w.writeVarint(Int32(b.count))
        w.writeRaw(b)
    }
}
