import CoreMetrics
import KafkaIO
import NIOConcurrencyHelpers

/// The client's hooks as swift-metrics: set it in `KafkaClientConfiguration.hooks` and
/// bootstrap any backend (swift-prometheus, StatsD, OTel …). Labels are bounded: topic,
/// API name and error kind, never a record, partition or broker.
///
/// | metric (prefix `kafka`) | kind | labels | from |
/// | --- | --- | --- | --- |
/// | `_produced_records_total`, `_produced_bytes_total` | counter | topic | records acknowledged |
/// | `_produce_failed_records_total`, `_produce_failed_bytes_total` | counter | topic | records failed for good |
/// | `_consumed_records_total`, `_consumed_bytes_total` | counter | topic | fetched batches (bytes on the wire) |
/// | `_requests_total` | counter | api | requests written |
/// | `_errors_total` | counter | error | failed records by error (broker error code name, or the failure's kind); failed dials as `connect_<kind>` |
/// | `_throttles_total` | counter | — | KIP-219 throttles |
/// | `_buffered_records`, `_buffered_bytes` | meter (gauge) | — | produced, not yet acknowledged or failed |
/// | `_connections` | meter (gauge) | — | open broker connections |
/// | `_request_duration` | timer | api | write to response read |
/// | `_produce_ack_latency` | timer | topic | the record reaching the client to its acknowledgement |
///
/// Byte counts are what each record took from the producer's buffer (its estimated size).
/// One instance may serve several clients.
public final class KafkaMetricsHook: KafkaHook {
    private let prefix: String
    private let factory: any MetricsFactory
    private let cache = NIOLockedValueBox(Handles())

    private struct Handles {
        var counters: [Key: Counter] = [:]
        var timers: [Key: Timer] = [:]
    }
    private struct Key: Hashable {
        var name: String
        var label: String
    }

    private let bufferedRecords: Meter
    private let bufferedBytes: Meter
    private let connections: Meter
    private let throttles: Counter

    /// `factory`: where metrics go (swift-metrics' bootstrapped system by default).
    public init(prefix: String = "kafka", factory: any MetricsFactory = MetricsSystem.factory) {
        self.prefix = prefix
        self.factory = factory
        bufferedRecords = Meter(label: "\(prefix)_buffered_records", dimensions: [], factory: factory)
        bufferedBytes = Meter(label: "\(prefix)_buffered_bytes", dimensions: [], factory: factory)
        connections = Meter(label: "\(prefix)_connections", dimensions: [], factory: factory)
        throttles = Counter(label: "\(prefix)_throttles_total", dimensions: [], factory: factory)
    }

    /// The counter `name` with one label, made once.
    private func counter(_ name: String, _ dimension: String, _ value: String) -> Counter {
        let key = Key(name: name, label: value)
        return cache.withLockedValue { h in
            if let c = h.counters[key] { return c }
            let c = Counter(label: "\(prefix)_\(name)", dimensions: [(dimension, value)], factory: factory)
            h.counters[key] = c
            return c
        }
    }

    private func timer(_ name: String, _ dimension: String, _ value: String) -> Timer {
        let key = Key(name: name, label: value)
        return cache.withLockedValue { h in
            if let t = h.timers[key] { return t }
            let t = Timer(label: "\(prefix)_\(name)", dimensions: [(dimension, value)], factory: factory)
            h.timers[key] = t
            return t
        }
    }

    public func brokerConnected(_ broker: KafkaHookBroker, dialTime: Duration) { connections.increment() }
    public func brokerDisconnected(_ broker: KafkaHookBroker) { connections.decrement() }
    public func brokerConnectFailed(_ broker: KafkaHookBroker, reason: ConnectionFailure) {
        counter("errors_total", "error", "connect_\(reason.kind)").increment()
    }

    public func requestWritten(_ event: KafkaRequestWritten) {
        counter("requests_total", "api", event.apiKey.name).increment()
    }

    public func responseRead(_ event: KafkaResponseRead) {
        timer("request_duration", "api", event.apiKey.name).recordNanoseconds(Self.nanoseconds(event.timeOnWire))
    }

    public func throttled(_ broker: KafkaHookBroker, for duration: Duration) { throttles.increment() }

    public func fetchBatchRead(_ event: KafkaBatchEvent) {
        counter("consumed_records_total", "topic", event.topic).increment(by: event.records)
        counter("consumed_bytes_total", "topic", event.topic).increment(by: event.compressedBytes)
    }

    public func recordsBuffered(topic: String, records: Int, bytes: Int) {
        bufferedRecords.increment(by: Double(records))
        bufferedBytes.increment(by: Double(bytes))
    }

    public func recordsDelivered(_ event: KafkaDeliveryEvent) {
        bufferedRecords.decrement(by: Double(event.records))
        bufferedBytes.decrement(by: Double(event.bytes))
        counter("produced_records_total", "topic", event.topic).increment(by: event.records)
        counter("produced_bytes_total", "topic", event.topic).increment(by: event.bytes)
        timer("produce_ack_latency", "topic", event.topic).recordNanoseconds(Self.nanoseconds(event.latency))
    }

    public func recordsFailed(_ event: KafkaDeliveryEvent, error: ProduceError) {
        bufferedRecords.decrement(by: Double(event.records))
        bufferedBytes.decrement(by: Double(event.bytes))
        counter("produce_failed_records_total", "topic", event.topic).increment(by: event.records)
        counter("produce_failed_bytes_total", "topic", event.topic).increment(by: event.bytes)
        counter("errors_total", "error", Self.errorLabel(error)).increment(by: event.records)
    }

    /// A bounded name for a produce failure: the broker's error code name, or the case.
    static func errorLabel(_ error: ProduceError) -> String {
        switch error {
        case .broker(let code, _): return code.name
        case .fatal(let inner): return errorLabel(inner)
        case .transactionMustAbort: return "transaction_must_abort"
        case .request: return "request_failed"
        case .emptyTopic, .negativePartition, .partitionOutOfRange, .partitionRequired, .recordTooLarge, .invalidConfiguration:
            return "invalid_record"
        case .bufferFull: return "buffer_full"
        case .unknownTopic: return "unknown_topic"
        case .deliveryTimeout: return "delivery_timeout"
        case .clientClosed: return "client_closed"
        case .notInTransaction: return "not_in_transaction"
        case .transactionAborted: return "transaction_aborted"
        case .cancelled: return "cancelled"
        }
    }

    private static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
