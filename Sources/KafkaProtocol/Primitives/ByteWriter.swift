/// Appends Kafka wire primitives (big-endian integers, varints, strings, bytes, arrays and
/// tagged-field sections) to one growing byte array. Every request is encoded straight into
/// one writer; nothing is copied per field.
public struct ByteWriter: Sendable {
    public var bytes: [UInt8]
    /// BYTES fields at least this long are spliced, not copied (see `OutboundFrame`):
    /// only a frame encoder sets it.
    @usableFromInline var spliceFrom = Int.max
    @usableFromInline var splices: [OutboundFrame.Splice] = []
    @usableFromInline var splicedCount = 0

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Bytes written, spliced ones included.
    public var count: Int { bytes.count + splicedCount }

    // MARK: fixed-width integers

    @inlinable public mutating func writeBool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    @inlinable public mutating func writeInt8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    @inlinable public mutating func writeUInt8(_ v: UInt8) { bytes.append(v) }

    @inlinable public mutating func writeInt16(_ v: Int16) { writeUInt16(UInt16(bitPattern: v)) }
    @inlinable public mutating func writeUInt16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v &>> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inlinable public mutating func writeInt32(_ v: Int32) { writeUInt32(UInt32(bitPattern: v)) }
    @inlinable public mutating func writeUInt32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v &>> 24))
        bytes.append(UInt8(truncatingIfNeeded: v &>> 16))
        bytes.append(UInt8(truncatingIfNeeded: v &>> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inlinable public mutating func writeInt64(_ v: Int64) { writeUInt64(UInt64(bitPattern: v)) }
    @inlinable public mutating func writeUInt64(_ v: UInt64) {
        writeUInt32(UInt32(truncatingIfNeeded: v &>> 32))
        writeUInt32(UInt32(truncatingIfNeeded: v))
    }

    @inlinable public mutating func writeFloat64(_ v: Double) { writeUInt64(v.bitPattern) }

    // MARK: varints

    @inlinable public mutating func writeUnsignedVarint(_ v: UInt32) { writeUnsignedVarlong(UInt64(v)) }

    @inlinable public mutating func writeUnsignedVarlong(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v &>>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// Zig-zag encoded signed 32-bit varint (record fields).
    @inlinable public mutating func writeVarint(_ v: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (v &<< 1) ^ (v &>> 31)))
    }

    /// Zig-zag encoded signed 64-bit varint (record fields).
    @inlinable public mutating func writeVarlong(_ v: Int64) {
        writeUnsignedVarlong(UInt64(bitPattern: (v &<< 1) ^ (v &>> 63)))
    }

    // MARK: composite values

    @inlinable public mutating func writeUUID(_ v: KafkaUUID) {
        writeUInt64(v.high)
        writeUInt64(v.low)
    }

    @inlinable public mutating func writeRaw<C: Collection>(_ data: C) where C.Element == UInt8 {
        bytes.append(contentsOf: data)
    }

    /// Length of an array: INT32 (or -1 for null) in classic versions, UNSIGNED_VARINT of
    /// length+1 (or 0 for null) in flexible versions.
    @inlinable public mutating func writeArrayLength(_ n: Int, compact: Bool) {
        if compact { writeUnsignedVarint(UInt32(truncatingIfNeeded: n + 1)) } else { writeInt32(Int32(truncatingIfNeeded: n)) }
    }

    @inlinable public mutating func writeNullArrayLength(compact: Bool) {
        if compact { writeUnsignedVarint(0) } else { writeInt32(-1) }
    }

    /// STRING (INT16 length) or COMPACT_STRING. Both forms are limited to 32767 bytes, as
    /// Kafka's own codec limits them (a broker rejects a longer compact string too).
    public mutating func writeString(_ s: String, compact: Bool, _ field: StaticString = "") throws(KafkaEncodingError) {
        let utf8 = s.utf8
        let n = utf8.count
        guard n <= Int(Int16.max) else {
            throw KafkaEncodingError(message: "", field: field.description, kind: .valueTooLong(n))
        }
        if compact {
            writeUnsignedVarint(UInt32(truncatingIfNeeded: n + 1))
        } else {
            writeInt16(Int16(n))
        }
        bytes.append(contentsOf: utf8)
    }

    public mutating func writeNullableString(_ s: String?, compact: Bool, _ field: StaticString = "") throws(KafkaEncodingError) {
        guard let s else {
            if compact { writeUnsignedVarint(0) } else { writeInt16(-1) }
            return
        }
        try writeString(s, compact: compact, field)
    }

    /// BYTES (INT32 length) or COMPACT_BYTES.
    @inlinable public mutating func writeBytes(_ b: [UInt8], compact: Bool) {
        if compact { writeUnsignedVarint(UInt32(truncatingIfNeeded: b.count + 1)) } else { writeInt32(Int32(truncatingIfNeeded: b.count)) }
        if b.count >= spliceFrom {
            splices.append(OutboundFrame.Splice(at: bytes.count, bytes: b))
            splicedCount += b.count
        } else {
            bytes.append(contentsOf: b)
        }
    }

    @inlinable public mutating func writeNullableBytes(_ b: [UInt8]?, compact: Bool) {
        guard let b else {
            if compact { writeUnsignedVarint(0) } else { writeInt32(-1) }
            return
        }
        writeBytes(b, compact: compact)
    }

    // MARK: tagged fields

    /// Writes one tagged field: its tag, the size of its body, then the body that `body`
    /// writes into a scratch writer.
    public mutating func writeTaggedField(tag: UInt32, _ body: (inout ByteWriter) throws(KafkaEncodingError) -> Void) throws(KafkaEncodingError) {
        var inner = ByteWriter(capacity: 16)
        try body(&inner)
        writeUnsignedVarint(tag)
        writeUnsignedVarint(UInt32(truncatingIfNeeded: inner.bytes.count))
        bytes.append(contentsOf: inner.bytes)
    }

    /// Writes one tagged field whose body was encoded into a scratch writer.
    @inlinable public mutating func writeTaggedField(tag: UInt32, body: [UInt8]) {
        writeUnsignedVarint(tag)
        writeUnsignedVarint(UInt32(truncatingIfNeeded: body.count))
        bytes.append(contentsOf: body)
    }

    /// Writes a whole tagged-field section made only of preserved unknown fields (the
    /// structure has no known tagged fields).
    public mutating func writeTaggedFields(_ fields: [TaggedField]) {
        writeUnsignedVarint(UInt32(truncatingIfNeeded: fields.count))
        for f in fields { writeUnknownTaggedField(f) }
    }

    /// Writes the unknown fields from `index` on whose tag is below `tag` (all that remain
    /// when `tag` is nil), advancing `index`: generated encoders call this before each known
    /// tag so that the section stays in tag order. `fields` is expected in tag order, as a
    /// decoder leaves it.
    public mutating func writeUnknownTaggedFields(_ fields: [TaggedField], before tag: UInt32?, from index: inout Int) {
        while index < fields.count {
            if let tag, fields[index].tag >= tag { return }
            writeUnknownTaggedField(fields[index])
            index += 1
        }
    }

    /// Writes a preserved unknown tagged field exactly as it was received.
    @inlinable public mutating func writeUnknownTaggedField(_ f: TaggedField) {
        writeUnsignedVarint(f.tag)
        writeUnsignedVarint(UInt32(truncatingIfNeeded: f.data.count))
        bytes.append(contentsOf: f.data)
    }

    // MARK: back-patching

    /// Reserves four bytes for an INT32 filled in later with `patchInt32(at:_:)`.
    @inlinable public mutating func reserveInt32() -> Int {
        let at = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0] as [UInt8])
        return at
    }

    @inlinable public mutating func patchInt32(at offset: Int, _ v: Int32) {
        let u = UInt32(bitPattern: v)
        bytes[offset] = UInt8(truncatingIfNeeded: u &>> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: u &>> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: u &>> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: u)
    }

    @inlinable public mutating func patchUInt32(at offset: Int, _ v: UInt32) {
        patchInt32(at: offset, Int32(bitPattern: v))
    }
}
