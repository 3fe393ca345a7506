/// Where a request goes.
public enum RequestTarget: Hashable, Sendable {
    /// Decided from the request type (see `resolved(for:)`).
    case automatic
    /// Any broker: one already connected if possible, else the next in turn.
    case anyBroker
    case broker(Int32)
    case controller
    case groupCoordinator(String)
    case transactionCoordinator(String)
    /// Split by partition across the partitions' leaders; the answers are merged into one
    /// response (ListOffsets, DeleteRecords, OffsetForLeaderEpoch).
    case partitionLeaders
}

package struct CoordinatorKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Kind: Int8, Sendable { case group = 0, transaction = 1 }
    public var kind: Kind
    public var key: String
    public init(_ kind: Kind, _ key: String) {
        self.kind = kind
        self.key = key
    }
    public static func < (a: CoordinatorKey, b: CoordinatorKey) -> Bool { (a.kind.rawValue, a.key) < (b.kind.rawValue, b.key) }
    public var description: String { "\(kind == .group ? "group" : "txn") \(key)" }
}

extension RequestTarget {
    /// The target `.automatic` means for this request, as kgo's `Request` routes it, from the
    /// generated `routing` and `routingKey` (kafka-gen's routing table).
    static func resolved(for request: any KafkaRequest) -> RequestTarget {
        switch type(of: request).routing {
        case .groupCoordinator:
            // A request naming no single group (DescribeGroups, DeleteGroups,
            // ConsumerGroupDescribe, OffsetFetch v8+ batching groups) goes to any broker for
            // now: the admin issue will split those by coordinator.
            guard let group = request.routingKey else { return .anyBroker }
            return .groupCoordinator(group)
        case .transactionCoordinator:
            // No transactional id (idempotent InitProducerId, AddPartitionsToTxn v4+) or many
            // (DescribeTransactions, which the admin issue will split): any broker.
            guard let id = request.routingKey else { return .anyBroker }
            return .transactionCoordinator(id)
        case .controller:
            return .controller
        case .partitionLeaders:
            // Only what the engine can split and merge; Produce and Fetch are targeted by
            // the producer and fetcher, share fetches are not supported yet.
            return PartitionSharding.sharder(for: type(of: request).apiKey) != nil ? .partitionLeaders : .anyBroker
        case .everyBroker, .namedBroker, .anyBroker:
            // everyBroker (ListGroups, ListTransactions, DescribeLogDirs) and namedBroker
            // (configs of a broker resource) go to any broker for now: the admin issue will
            // fan them out / target the named broker from the generated kind.
            return .anyBroker
        }
    }

    var coordinatorKey: CoordinatorKey? {
        switch self {
        case .groupCoordinator(let g): return CoordinatorKey(.group, g)
        case .transactionCoordinator(let t): return CoordinatorKey(.transaction, t)
        default: return nil
        }
    }
}
