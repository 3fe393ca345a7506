/// The fixed 61-byte header of a v2 record batch, parsed by FakeCluster itself: the broker
/// only needs the header (offsets, producer fields, flags) and never decodes records.
///
/// Layout (big-endian): baseOffset i64 @0, batchLength i32 @8, partitionLeaderEpoch i32 @12,
/// magic i8 @16, crc u32 @17, attributes i16 @21, lastOffsetDelta i32 @23,
/// baseTimestamp i64 @27, maxTimestamp i64 @35, producerId i64 @43, producerEpoch i16 @51,
/// baseSequence i32 @53, recordCount i32 @57.
struct BatchHeader: Equatable, Sendable {
    static let size = 61
    static let baseOffsetPosition = 0
    static let partitionLeaderEpochPosition = 12
    /// The CRC covers attributes through the end of the batch.
    static let crcCoverageStart = 21

    var baseOffset: Int64
    /// Bytes after the batchLength field; the whole batch is `batchLength + 12` bytes.
    var batchLength: Int32
    var partitionLeaderEpoch: Int32
    var magic: Int8
    var crc: UInt32
    var attributes: Int16
    var lastOffsetDelta: Int32
    var baseTimestamp: Int64
    var maxTimestamp: Int64
    var producerId: Int64
    var producerEpoch: Int16
    var baseSequence: Int32
    var recordCount: Int32

    var compressionCodec: Int { Int(attributes & 0x7) }
    /// Bit 3: 1 means LogAppendTime.
    var isLogAppendTime: Bool { attributes & 0x8 != 0 }
    var isTransactional: Bool { attributes & 0x10 != 0 }
    var isControl: Bool { attributes & 0x20 != 0 }
    var totalSize: Int { Int(batchLength) + 12 }
    var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    var hasProducerId: Bool { producerId >= 0 }
    /// The last sequence in this batch, wrapping past Int32.max back to 0 as Kafka does.
    var lastSequence: Int32 { ProducerSequence.add(baseSequence, lastOffsetDelta) }

    enum ParseError: Error, Equatable {
        case tooShort(Int)
        case badMagic(Int8)
        case badLength(declared: Int, available: Int)
        case badCRC(expected: UInt32, actual: UInt32)
        case badRecordCount
    }

    /// Parses and validates one batch that must span `bytes` exactly (a produce request's
    /// partition carries one batch in modern clients; callers split multi-batch data first).
    static func parse(_ bytes: [UInt8], verifyCRC: Bool = true) throws(ParseError) -> BatchHeader {
        guard bytes.count >= size else { throw .tooShort(bytes.count) }
        let h = BatchHeader(
            baseOffset: Int64(bitPattern: be64(bytes, 0)),
            batchLength: Int32(bitPattern: be32(bytes, 8)),
            partitionLeaderEpoch: Int32(bitPattern: be32(bytes, 12)),
            magic: Int8(bitPattern: bytes[16]),
            crc: be32(bytes, 17),
            attributes: Int16(bitPattern: be16(bytes, 21)),
            lastOffsetDelta: Int32(bitPattern: be32(bytes, 23)),
            baseTimestamp: Int64(bitPattern: be64(bytes, 27)),
            maxTimestamp: Int64(bitPattern: be64(bytes, 35)),
            producerId: Int64(bitPattern: be64(bytes, 43)),
            producerEpoch: Int16(bitPattern: be16(bytes, 51)),
            baseSequence: Int32(bitPattern: be32(bytes, 53)),
            recordCount: Int32(bitPattern: be32(bytes, 57)))
        guard h.magic == 2 else { throw .badMagic(h.magic) }
        guard h.batchLength >= 49, h.totalSize == bytes.count else {
            throw .badLength(declared: Int(h.batchLength) + 12, available: bytes.count)
        }
        guard h.recordCount >= 0, h.lastOffsetDelta >= 0 else { throw .badRecordCount }
        if verifyCRC {
            let actual = bytes[crcCoverageStart...].withUnsafeBytes { CRC32C.checksum($0) }
            guard actual == h.crc else { throw .badCRC(expected: h.crc, actual: actual) }
        }
        return h
    }

    /// Splits concatenated v2 batches (a produce partition's `records` field) by their
    /// length fields, without validating each; a trailing partial batch is an error.
    static func split(_ bytes: [UInt8]) throws(ParseError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            guard bytes.count - i >= 12 else { throw .tooShort(bytes.count - i) }
            let len = Int(Int32(bitPattern: be32(bytes, i + 8)))
            guard len >= 49, len + 12 <= bytes.count - i else {
                throw .badLength(declared: len + 12, available: bytes.count - i)
            }
            out.append(Array(bytes[i ..< i + len + 12]))
            i += len + 12
        }
        return out
    }

    /// Rewrites the two broker-assigned fields in place. Both lie before the CRC'd range,
    /// so the batch's CRC stays valid.
    static func patch(_ bytes: inout [UInt8], baseOffset: Int64, partitionLeaderEpoch: Int32) {
        putBE64(&bytes, baseOffsetPosition, UInt64(bitPattern: baseOffset))
        putBE32(&bytes, partitionLeaderEpochPosition, UInt32(bitPattern: partitionLeaderEpoch))
    }

    static func be16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
    static func be64(_ b: [UInt8], _ i: Int) -> UInt64 { UInt64(be32(b, i)) << 32 | UInt64(be32(b, i + 4)) }
    static func putBE16(_ b: inout [UInt8], _ i: Int, _ v: UInt16) {
        b[i] = UInt8(truncatingIfNeeded: v >> 8)
        b[i + 1] = UInt8(truncatingIfNeeded: v)
    }
    static func putBE32(_ b: inout [UInt8], _ i: Int, _ v: UInt32) {
        b[i] = UInt8(truncatingIfNeeded: v >> 24)
        b[i + 1] = UInt8(truncatingIfNeeded: v >> 16)
        b[i + 2] = UInt8(truncatingIfNeeded: v >> 8)
        b[i + 3] = UInt8(truncatingIfNeeded: v)
    }
    static func putBE64(_ b: inout [UInt8], _ i: Int, _ v: UInt64) {
        putBE32(&b, i, UInt32(truncatingIfNeeded: v >> 32))
        putBE32(&b, i + 4, UInt32(truncatingIfNeeded: v))
    }
}

/// Kafka producer sequences are non-negative Int32 values that wrap from Int32.max to 0.
enum ProducerSequence {
    static func add(_ seq: Int32, _ delta: Int32) -> Int32 {
        let sum = Int64(seq) + Int64(delta)
        return sum > Int64(Int32.max) ? Int32(sum - Int64(Int32.max) - 1) : Int32(sum)
    }
    static func next(_ seq: Int32) -> Int32 { add(seq, 1) }
}
