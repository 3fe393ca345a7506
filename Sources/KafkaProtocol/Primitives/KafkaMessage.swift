/// A structure that appears inside messages: generated nested structs and the embedded
/// data schemas. Every field is a `var` with the schema's default, so `init()` builds the
/// default value and callers set what they need.
public protocol KafkaStruct: Sendable, Equatable {
    init()
    /// Appends this value as `version` lays it out. Throws when a field holds a value the
    /// version cannot carry (see `KafkaEncodingError.Kind`).
    func encode(into writer: inout ByteWriter, version: Int16) throws(KafkaEncodingError)
    /// Reads a value laid out as `version`.
    init(from reader: inout ByteReader, version: Int16) throws(KafkaDecodingError)
}

/// A top-level versioned schema: a request, a response, a header or an embedded data schema.
public protocol KafkaMessage: KafkaStruct {
    /// The schema's name as Kafka's JSON names it ("ProduceRequest").
    static var messageName: String { get }
    static var validVersions: ClosedRange<Int16> { get }
    /// The first version with compact encodings and tagged fields; nil when none is.
    static var firstFlexibleVersion: Int16? { get }
}

public protocol KafkaRequest: KafkaMessage {
    associatedtype Response: KafkaResponse
    static var apiKey: ApiKey { get }
}

public protocol KafkaResponse: KafkaMessage {
    static var apiKey: ApiKey { get }
}

extension KafkaMessage {
    public static func isFlexible(_ version: Int16) -> Bool {
        guard let f = firstFlexibleVersion else { return false }
        return version >= f
    }

    /// Encodes the body alone (no size prefix, no header).
    public func encoded(version: Int16) throws(KafkaEncodingError) -> [UInt8] {
        var w = ByteWriter(capacity: 128)
        try encode(into: &w, version: version)
        return w.bytes
    }

    /// Decodes a body that must span all of `bytes`.
    public static func decode(_ bytes: [UInt8], version: Int16) throws(KafkaDecodingError) -> Self {
        var r = ByteReader(bytes)
        let v = try Self(from: &r, version: version)
        if !r.isAtEnd {
            throw KafkaDecodingError(message: "\(messageName) v\(version)", field: "", offset: r.offset, kind: .trailingBytes(r.remaining))
        }
        return v
    }
}
