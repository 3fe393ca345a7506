import KafkaIO
import Tracing

/// Writes the tracer's propagation fields (W3C `traceparent` / `tracestate` with an
/// OpenTelemetry tracer) as record headers, replacing headers of the same key so a record
/// produced again does not carry two parents.
public struct RecordHeadersInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into headers: inout [RecordHeader]) {
        headers.removeAll { $0.key == key }
        headers.append(RecordHeader(key: key, value: Array(value.utf8)))
    }
}

/// Reads propagation fields from record headers: the last header of the key wins (Kafka
/// keeps every header; a record produced again may carry an older one before it).
public struct RecordHeadersExtractor: Extractor {
    public init() {}

    public func extract(key: String, from headers: [RecordHeader]) -> String? {
        guard let header = headers.last(where: { $0.key == key }), let value = header.value else { return nil }
        return String(decoding: value, as: UTF8.self)
    }
}
