/// Reads Kafka wire primitives from a byte array, bounds-checked at every step.
///
/// Every read takes the name of the field it reads (a `StaticString`, free to pass) so that
/// a failure names the field and the byte offset; the message name is added by the
/// message's top-level decoder. Lengths read from the wire are checked against the bytes
/// that remain before anything is allocated, so no input can make a decoder allocate more
/// than the input's own size (decompression has its own explicit limit).
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    /// Absolute index of the next byte to read.
    public private(set) var offset: Int
    /// Absolute index one past the last readable byte.
    public let end: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
    }

    /// A reader over `bytes[range]`; offsets in errors stay absolute.
    public init(_ bytes: [UInt8], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count)
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset >= end }

    func truncated(_ field: StaticString, _ need: Int) -> KafkaDecodingError {
        KafkaDecodingError(field: field.description, offset: offset, kind: .truncated(needed: need, available: end - offset))
    }

    mutating func need(_ n: Int, _ field: StaticString) throws(KafkaDecodingError) {
        if end - offset < n { throw truncated(field, n) }
    }

    // MARK: fixed-width integers

    public mutating func readUInt8(_ field: StaticString) throws(KafkaDecodingError) -> UInt8 {
        try need(1, field)
        let v = bytes[offset]
        offset += 1
        return v
    }

    public mutating func readInt8(_ field: StaticString) throws(KafkaDecodingError) -> Int8 {
        Int8(bitPattern: try readUInt8(field))
    }

    /// Kafka booleans: any non-zero byte is true (as the Java client reads them).
    public mutating func readBool(_ field: StaticString) throws(KafkaDecodingError) -> Bool {
        try readUInt8(field) != 0
    }

    public mutating func readUInt16(_ field: StaticString) throws(KafkaDecodingError) -> UInt16 {
        try need(2, field)
        let v = UInt16(bytes[offset]) &<< 8 | UInt16(bytes[offset + 1])
        offset += 2
        return v
    }

    public mutating func readInt16(_ field: StaticString) throws(KafkaDecodingError) -> Int16 {
        Int16(bitPattern: try readUInt16(field))
    }

    public mutating func readUInt32(_ field: StaticString) throws(KafkaDecodingError) -> UInt32 {
        try need(4, field)
        let o = offset
        let v = UInt32(bytes[o]) &<< 24 | UInt32(bytes[o + 1]) &<< 16 | UInt32(bytes[o + 2]) &<< 8 | UInt32(bytes[o + 3])
        offset = o + 4
        return v
    }

    public mutating func readInt32(_ field: StaticString) throws(KafkaDecodingError) -> Int32 {
        Int32(bitPattern: try readUInt32(field))
    }

    public mutating func readUInt64(_ field: StaticString) throws(KafkaDecodingError) -> UInt64 {
        let hi = try readUInt32(field)
        let lo = try readUInt32(field)
        return UInt64(hi) &<< 32 | UInt64(lo)
    }

    public mutating func readInt64(_ field: StaticString) throws(KafkaDecodingError) -> Int64 {
        Int64(bitPattern: try readUInt64(field))
    }

    public mutating func readFloat64(_ field: StaticString) throws(KafkaDecodingError) -> Double {
        Double(bitPattern: try readUInt64(field))
    }

    // MARK: varints

    /// UNSIGNED_VARINT: at most 5 bytes, and the value must fit 32 bits.
    public mutating func readUnsignedVarint(_ field: StaticString) throws(KafkaDecodingError) -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        let start = offset
        while true {
            guard offset < end else { throw truncated(field, 1) }
            let b = bytes[offset]
            offset += 1
            if shift == 28 && b > 0x0F {
                throw KafkaDecodingError(field: field.description, offset: start, kind: .varintTooLong)
            }
            result |= UInt32(b & 0x7F) &<< shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// UNSIGNED_VARLONG: at most 10 bytes, and the value must fit 64 bits.
    public mutating func readUnsignedVarlong(_ field: StaticString) throws(KafkaDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            guard offset < end else { throw truncated(field, 1) }
            let b = bytes[offset]
            offset += 1
            if shift == 63 && b > 0x01 {
                throw KafkaDecodingError(field: field.description, offset: start, kind: .varintTooLong)
            }
            result |= UInt64(b & 0x7F) &<< shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    public mutating func readVarint(_ field: StaticString) throws(KafkaDecodingError) -> Int32 {
        let u = try readUnsignedVarint(field)
        return Int32(bitPattern: (u &>> 1) ^ (0 &- (u & 1)))
    }

    public mutating func readVarlong(_ field: StaticString) throws(KafkaDecodingError) -> Int64 {
        let u = try readUnsignedVarlong(field)
        return Int64(bitPattern: (u &>> 1) ^ (0 &- (u & 1)))
    }

    // MARK: composite values

    public mutating func readUUID(_ field: StaticString) throws(KafkaDecodingError) -> KafkaUUID {
        try need(16, field)
        let hi = try readUInt64(field)
        let lo = try readUInt64(field)
        return KafkaUUID(high: hi, low: lo)
    }

    /// Reads `n` raw bytes (a copy).
    public mutating func readRaw(_ n: Int, _ field: StaticString) throws(KafkaDecodingError) -> [UInt8] {
        guard n >= 0 else { throw KafkaDecodingError(field: field.description, offset: offset, kind: .negativeLength(n)) }
        try need(n, field)
        let out = Array(bytes[offset ..< offset + n])
        offset += n
        return out
    }

    /// Advances past `n` bytes without copying them.
    public mutating func skip(_ n: Int, _ field: StaticString) throws(KafkaDecodingError) {
        guard n >= 0 else { throw KafkaDecodingError(field: field.description, offset: offset, kind: .negativeLength(n)) }
        try need(n, field)
        offset += n
    }

    /// Reads a length prefix; returns nil for null (-1 classic, 0 compact). The length is
    /// checked against the remaining bytes (times `minElementSize`) before returning.
    mutating func readLength(compact: Bool, wide: Bool, minElementSize: Int, _ field: StaticString) throws(KafkaDecodingError) -> Int? {
        let start = offset
        let n: Int
        if compact {
            let u = try readUnsignedVarint(field)
            if u == 0 { return nil }
            n = Int(u) - 1
        } else if wide {
            let v = try readInt32(field)
            if v < 0 {
                if v == -1 { return nil }
                throw KafkaDecodingError(field: field.description, offset: start, kind: .negativeLength(Int(v)))
            }
            n = Int(v)
        } else {
            let v = try readInt16(field)
            if v < 0 {
                if v == -1 { return nil }
                throw KafkaDecodingError(field: field.description, offset: start, kind: .negativeLength(Int(v)))
            }
            n = Int(v)
        }
        if minElementSize > 0 && n > (end - offset) / minElementSize {
            throw KafkaDecodingError(field: field.description, offset: start, kind: .lengthPastEnd(length: n, available: end - offset))
        }
        return n
    }

    public mutating func readNullableString(compact: Bool, _ field: StaticString) throws(KafkaDecodingError) -> String? {
        let start = offset
        guard let n = try readLength(compact: compact, wide: false, minElementSize: 1, field) else { return nil }
        let s = String(validating: bytes[offset ..< offset + n], as: UTF8.self)
        guard let s else { throw KafkaDecodingError(field: field.description, offset: start, kind: .invalidUTF8) }
        offset += n
        return s
    }

    public mutating func readString(compact: Bool, _ field: StaticString) throws(KafkaDecodingError) -> String {
        let start = offset
        guard let s = try readNullableString(compact: compact, field) else {
            throw KafkaDecodingError(field: field.description, offset: start, kind: .unexpectedNull)
        }
        return s
    }

    public mutating func readNullableBytes(compact: Bool, _ field: StaticString) throws(KafkaDecodingError) -> [UInt8]? {
        guard let n = try readLength(compact: compact, wide: true, minElementSize: 1, field) else { return nil }
        let out = Array(bytes[offset ..< offset + n])
        offset += n
        return out
    }

    public mutating func readBytes(compact: Bool, _ field: StaticString) throws(KafkaDecodingError) -> [UInt8] {
        let start = offset
        guard let b = try readNullableBytes(compact: compact, field) else {
            throw KafkaDecodingError(field: field.description, offset: start, kind: .unexpectedNull)
        }
        return b
    }

    /// Reads an array length (nil for a null array). Each element takes at least one byte on
    /// the wire, so a count larger than the remaining bytes is rejected before any
    /// allocation.
    public mutating func readArrayLength(compact: Bool, _ field: StaticString) throws(KafkaDecodingError) -> Int? {
        try readLength(compact: compact, wide: true, minElementSize: 1, field)
    }

    /// Like `readArrayLength` but a null array is an error.
    public mutating func readNonNullArrayLength(compact: Bool, _ field: StaticString) throws(KafkaDecodingError) -> Int {
        let start = offset
        guard let n = try readArrayLength(compact: compact, field) else {
            throw KafkaDecodingError(field: field.description, offset: start, kind: .unexpectedNull)
        }
        return n
    }

    // MARK: tagged fields

    /// Reads a tagged-field section header: the number of tagged fields that follow.
    public mutating func readTaggedFieldCount(_ field: StaticString) throws(KafkaDecodingError) -> Int {
        let start = offset
        let n = Int(try readUnsignedVarint(field))
        // Each tagged field takes at least two bytes (tag and size).
        if n > (end - offset) / 2 {
            throw KafkaDecodingError(field: field.description, offset: start, kind: .lengthPastEnd(length: n, available: end - offset))
        }
        return n
    }

    /// Reads one tagged field's tag and size, and returns a sub-reader limited to its body;
    /// the caller decodes from it (for a known tag) or keeps its bytes (unknown tag). The
    /// parent reader is advanced past the body.
    public mutating func readTaggedField(_ field: StaticString) throws(KafkaDecodingError) -> (tag: UInt32, body: ByteReader) {
        let tag = try readUnsignedVarint(field)
        let size = Int(try readUnsignedVarint(field))
        try need(size, field)
        let body = ByteReader(bytes, range: offset ..< offset + size)
        offset += size
        return (tag, body)
    }

    /// Reads a whole tagged-field section into unknown fields, in wire order (for structures
    /// that have no known tagged fields).
    public mutating func readUnknownTaggedFields(_ field: StaticString) throws(KafkaDecodingError) -> [TaggedField] {
        let n = try readTaggedFieldCount(field)
        var out: [TaggedField] = []
        out.reserveCapacity(n)
        for _ in 0 ..< n {
            let f = try readTaggedField(field)
            out.append(TaggedField(tag: f.tag, data: f.body.remainingBytes()))
        }
        return out
    }

    /// The bytes a sub-reader has left, as an unknown tagged field's data.
    public func remainingBytes() -> [UInt8] { Array(bytes[offset ..< end]) }

    /// Fails if a tagged field's body was not read to its end: a known tag whose body is
    /// longer than its type means the peer and we disagree on the schema.
    public func expectAtEnd(_ field: StaticString) throws(KafkaDecodingError) {
        if offset != end {
            throw KafkaDecodingError(field: field.description, offset: offset, kind: .trailingBytes(end - offset))
        }
    }
}
