/// A producer keeps its batches as v2 record bodies (so a retry can re-seal them); for a
/// broker older than 0.11 the same body is written as a legacy message set instead.
extension LegacyMessageSetEncoder {
    /// Writes the `count` length-prefixed v2 record bodies in `body` from `start` (as
    /// `RecordBatchEncoder.appendRecordBody` builds them, timestamps relative to
    /// `baseTimestamp`) as a message set of `magic` 0 or 1. A record with headers cannot be
    /// carried (headers need magic 2): an encoding error.
    public static func encode(v2Body body: [UInt8], from start: Int = 0, count: Int, baseTimestamp: Int64, magic: Int8, codec: CompressionCodec,
                              contexts: CompressionContexts, into writer: inout ByteWriter) throws(KafkaEncodingError) {
        let records: [EncodableRecord]
        do throws(KafkaDecodingError) {
            records = try recordsOfV2Body(body, from: start, count: count, baseTimestamp: baseTimestamp)
        } catch {
            throw KafkaEncodingError(message: "LegacyMessageSet", field: "records", kind: .invalidValue("malformed record body: \(error)"))
        }
        if records.contains(where: { !$0.headers.isEmpty }) {
            throw KafkaEncodingError(message: "LegacyMessageSet", field: "headers",
                                     kind: .invalidValue("record headers need magic 2 (Kafka 0.11 or later)"))
        }
        try encode(records, magic: magic, codec: codec, contexts: contexts, into: &writer)
    }

    /// The records of a v2 record body sequence: key, value, headers and absolute timestamp.
    static func recordsOfV2Body(_ body: [UInt8], from start: Int = 0, count: Int, baseTimestamp: Int64) throws(KafkaDecodingError) -> [EncodableRecord] {
        var r = ByteReader(body, range: start ..< body.count)
        var out: [EncodableRecord] = []
        out.reserveCapacity(count)
        for _ in 0 ..< count {
            let lenAt = r.offset
            let len = Int(try r.readVarint("length"))
            guard len >= 0 else {
                throw KafkaDecodingError(field: "length", offset: lenAt, kind: .negativeLength(len))
            }
            _ = try r.readInt8("attributes")
            let tsDelta = try r.readVarlong("timestampDelta")
            _ = try r.readVarint("offsetDelta")
            let key = try readVarintBytes(&r, "key")
            let value = try readVarintBytes(&r, "value")
            let headerCount = Int(try r.readVarint("headerCount"))
            var headers: [RecordHeader] = []
            for _ in 0 ..< max(0, headerCount) {
                let k = try readVarintBytes(&r, "headerKey") ?? []
                headers.append(RecordHeader(key: String(decoding: k, as: UTF8.self), value: try readVarintBytes(&r, "headerValue")))
            }
            out.append(EncodableRecord(key: key, value: value, headers: headers, timestamp: baseTimestamp &+ tsDelta))
        }
        return out
    }

    private static func readVarintBytes(_ r: inout ByteReader, _ field: StaticString) throws(KafkaDecodingError) -> [UInt8]? {
        let at = r.offset
        let n = Int(try r.readVarint(field))
        if n == -1 { return nil }
        guard n >= 0 else { throw KafkaDecodingError(field: field.description, offset: at, kind: .negativeLength(n)) }
        return try r.readRaw(n, field)
    }
}
