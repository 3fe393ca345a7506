/// A record as decoded from a fetched batch. It holds the batch's buffer (the fetch
/// response bytes, or the decompressed payload: one shared array, so holding it is a
/// retain) and the positions of its key, value and headers: decoding copies nothing per
/// record, and bytes are copied only when the caller asks for a copy.
public struct Record: Sendable {
    /// Absolute offset in the partition.
    public var offset: Int64
    /// Milliseconds since the epoch; for log-append-time batches the broker's time; -1 for
    /// magic 0 messages, which carry no timestamp.
    public var timestamp: Int64
    /// The record's own attributes byte (unused by Kafka today; magic 0/1: the message's).
    public var attributes: Int8
    /// Number of headers (magic 2).
    public var headerCount: Int

    /// The buffer the positions below point into.
    public let buffer: [UInt8]
    @usableFromInline let keyStart: Int
    /// -1 for a null key.
    @usableFromInline let keyLength: Int
    @usableFromInline let valueStart: Int
    /// -1 for a null value.
    @usableFromInline let valueLength: Int
    /// The encoded headers (after their count), already validated by the decoder.
    @usableFromInline let headersRange: Range<Int>

    init(offset: Int64, timestamp: Int64, attributes: Int8, buffer: [UInt8], keyStart: Int, keyLength: Int,
         valueStart: Int, valueLength: Int, headersRange: Range<Int>, headerCount: Int) {
        self.offset = offset
        self.timestamp = timestamp
        self.attributes = attributes
        self.buffer = buffer
        self.keyStart = keyStart
        self.keyLength = keyLength
        self.valueStart = valueStart
        self.valueLength = valueLength
        self.headersRange = headersRange
        self.headerCount = headerCount
    }

    /// The key as a view of the batch buffer (no copy); nil for a null key.
    @inlinable public var key: ArraySlice<UInt8>? {
        keyLength < 0 ? nil : buffer[keyStart ..< keyStart + keyLength]
    }

    /// The value as a view of the batch buffer (no copy); nil for a null value.
    @inlinable public var value: ArraySlice<UInt8>? {
        valueLength < 0 ? nil : buffer[valueStart ..< valueStart + valueLength]
    }

    /// A copy of the key.
    public var keyBytes: [UInt8]? { key.map { Array($0) } }
    /// A copy of the value.
    public var valueBytes: [UInt8]? { value.map { Array($0) } }

    /// The headers, decoded (and copied) now. The decoder validated their framing, so
    /// this cannot fail; header keys that are not valid UTF-8 are repaired rather than
    /// failing the record, as the Java client does.
    public var headers: [RecordHeader] {
        guard headerCount > 0 else { return [] }
        var out: [RecordHeader] = []
        out.reserveCapacity(headerCount)
        var r = ByteReader(buffer, range: headersRange)
        for _ in 0 ..< headerCount {
            guard let (k, v) = try? RecordHeaderFraming.read(&r) else { break }
            out.append(RecordHeader(key: String(decoding: buffer[k], as: UTF8.self), value: v.map { Array(buffer[$0]) }))
        }
        return out
    }
}

/// The wire framing of one v2 header: varint key length, key, varint value length (-1 for
/// null), value.
enum RecordHeaderFraming {
    /// Reads one header's key and value positions (value nil when null).
    @inline(__always)
    static func read(_ r: inout ByteReader) throws(KafkaDecodingError) -> (key: Range<Int>, value: Range<Int>?) {
        let kAt = r.offset
        let kLen = Int(try r.readVarint("headerKeyLength"))
        guard kLen >= 0 else { throw KafkaDecodingError(field: "headerKeyLength", offset: kAt, kind: .negativeLength(kLen)) }
        let k = r.offset ..< r.offset + kLen
        try r.skip(kLen, "headerKey")
        let vAt = r.offset
        let vLen = Int(try r.readVarint("headerValueLength"))
        if vLen == -1 { return (k, nil) }
        guard vLen >= 0 else { throw KafkaDecodingError(field: "headerValueLength", offset: vAt, kind: .negativeLength(vLen)) }
        let v = r.offset ..< r.offset + vLen
        try r.skip(vLen, "headerValue")
        return (k, v)
    }
}
