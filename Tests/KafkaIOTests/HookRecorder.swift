import KafkaIO
import NIOConcurrencyHelpers

/// A hook that keeps every event it is given, in order, for tests to read back.
final class HookRecorder: KafkaHook {
    enum Seen: Sendable, Equatable {
        case connected(KafkaHookBroker, Duration)
        case connectFailed(KafkaHookBroker, ConnectionFailure)
        case disconnected(KafkaHookBroker)
        case written(KafkaRequestWritten)
        case read(KafkaResponseRead)
        case throttled(KafkaHookBroker, Duration)
        case produced(KafkaBatchEvent)
        case fetched(KafkaBatchEvent)
        case buffered(topic: String, records: Int, bytes: Int)
        case delivered(KafkaDeliveryEvent)
        case failed(KafkaDeliveryEvent, ProduceError)
        case group(String)
        case transaction(KafkaTransactionHookEvent, TransactionError?)
    }

    private let box = NIOLockedValueBox<[Seen]>([])
    var seen: [Seen] { box.withLockedValue { $0 } }

    private func add(_ s: Seen) { box.withLockedValue { $0.append(s) } }

    func brokerConnected(_ broker: KafkaHookBroker, dialTime: Duration) { add(.connected(broker, dialTime)) }
    func brokerConnectFailed(_ broker: KafkaHookBroker, reason: ConnectionFailure) { add(.connectFailed(broker, reason)) }
    func brokerDisconnected(_ broker: KafkaHookBroker) { add(.disconnected(broker)) }
    func requestWritten(_ event: KafkaRequestWritten) { add(.written(event)) }
    func responseRead(_ event: KafkaResponseRead) { add(.read(event)) }
    func throttled(_ broker: KafkaHookBroker, for duration: Duration) { add(.throttled(broker, duration)) }
    func produceBatchWritten(_ event: KafkaBatchEvent) { add(.produced(event)) }
    func fetchBatchRead(_ event: KafkaBatchEvent) { add(.fetched(event)) }
    func recordsBuffered(topic: String, records: Int, bytes: Int) { add(.buffered(topic: topic, records: records, bytes: bytes)) }
    func recordsDelivered(_ event: KafkaDeliveryEvent) { add(.delivered(event)) }
    func recordsFailed(_ event: KafkaDeliveryEvent, error: ProduceError) { add(.failed(event, error)) }
    func groupEvent(_ event: GroupConsumerEvent) { add(.group("\(event)")) }
    func transactionEvent(_ event: KafkaTransactionHookEvent, error: TransactionError?) { add(.transaction(event, error)) }

    var written: [KafkaRequestWritten] { seen.compactMap { if case .written(let e) = $0 { return e } else { return nil } } }
    var read: [KafkaResponseRead] { seen.compactMap { if case .read(let e) = $0 { return e } else { return nil } } }
    var produced: [KafkaBatchEvent] { seen.compactMap { if case .produced(let e) = $0 { return e } else { return nil } } }
    var fetched: [KafkaBatchEvent] { seen.compactMap { if case .fetched(let e) = $0 { return e } else { return nil } } }
    var delivered: [KafkaDeliveryEvent] { seen.compactMap { if case .delivered(let e) = $0 { return e } else { return nil } } }
    var groupEvents: [String] { seen.compactMap { if case .group(let e) = $0 { return e } else { return nil } } }
    var transactions: [KafkaTransactionHookEvent] { seen.compactMap { if case .transaction(let e, _) = $0 { return e } else { return nil } } }
}
