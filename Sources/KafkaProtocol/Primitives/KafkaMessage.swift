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

// The per-API facts below are generated for every message (kafka-gen's FactsEmitter.swift:
// its routing table and broker-timeout rule say what the JSON does not), so no caller needs
// a type switch over messages.

public protocol KafkaRequest: KafkaMessage {
    associatedtype Response: KafkaResponse
    static var apiKey: ApiKey { get }
    /// Where the request must go.
    static var routing: RequestRouting { get }
    /// The coordinator key (group id, transactional id) for a coordinator's request; nil
    /// when the request has no single one (or leaves an optional one empty: any broker then).
    var routingKey: String? { get }
    /// How long the broker may hold the request before answering (Produce timeoutMs, Fetch
    /// maxWaitMs, JoinGroup rebalanceTimeoutMs, admin timeoutMs ...); nil when it has no
    /// such field.
    var brokerTimeoutMilliseconds: Int32? { get }
}

public protocol KafkaResponse: KafkaMessage {
    static var apiKey: ApiKey { get }
    /// Whether the response carries throttle_time_ms at `version` (KIP-219).
    static func carriesThrottle(version: Int16) -> Bool
    /// throttle_time_ms; nil when the response has no such field (at a version without it,
    /// the field's default, 0).
    var throttleMilliseconds: Int32? { get }
    /// Sets throttle_time_ms; false (and nothing set) when the response has no such field.
    mutating func setThrottleMilliseconds(_ milliseconds: Int32) -> Bool
    /// Whether the response carries a top-level error code at `version`.
    static func carriesTopLevelErrorCode(version: Int16) -> Bool
    /// The top-level error code; nil when the response has none (per-partition errors only).
    var topLevelErrorCode: KafkaErrorCode? { get }
    /// Sets the top-level error code; false (and nothing set) when the response has none.
    mutating func setTopLevelErrorCode(_ code: KafkaErrorCode) -> Bool
}

/// Where a request must go, per API key (generated as `KafkaRequest.routing`).
public enum RequestRouting: Hashable, Sendable {
    /// Any broker can answer.
    case anyBroker
    /// The cluster's controller.
    case controller
    /// The coordinator of the group (`routingKey`).
    case groupCoordinator
    /// The coordinator of the transactional id (`routingKey`).
    case transactionCoordinator
    /// Each partition's leader: split by leader, answers merged.
    case partitionLeaders
    /// Every broker, answers merged (each knows only its own part).
    case everyBroker
    /// Broker resources to the broker they name, the rest to any broker (configs).
    case namedBroker
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
