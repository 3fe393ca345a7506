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
    /// Split by key (group ids, transactional ids) across the keys' coordinators, keys that
    /// share a coordinator batched in one request; the answers merged, a key whose
    /// coordinator lookup failed answered with that error in its slot (DescribeGroups,
    /// DeleteGroups, ConsumerGroupDescribe, OffsetFetch v8+, DescribeTransactions …).
    case keyCoordinators
    /// The same request to every broker, the answers merged (ListGroups, ListTransactions,
    /// DescribeLogDirs).
    case everyBroker
    /// Config resources naming a broker (BROKER, BROKER_LOGGER) to that broker, the rest to
    /// any broker, the answers merged (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs).
    case namedBrokers
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
            // ConsumerGroupDescribe, OffsetFetch v8+ batching groups): split by coordinator.
            if let group = request.routingKey { return .groupCoordinator(group) }
            return KeySharding.sharder(for: type(of: request).apiKey) != nil ? .keyCoordinators : .anyBroker
        case .transactionCoordinator:
            if let id = request.routingKey { return .transactionCoordinator(id) }
            // Many ids (DescribeTransactions): split by coordinator. No id (idempotent
            // InitProducerId, AddPartitionsToTxn v4+, which brokers send): any broker.
            return KeySharding.sharder(for: type(of: request).apiKey) != nil ? .keyCoordinators : .anyBroker
        case .controller:
            return .controller
        case .partitionLeaders:
            // Only what the engine can split and merge; Produce and Fetch are targeted by
            // the producer and fetcher, share fetches are not supported yet.
            return PartitionSharding.sharder(for: type(of: request).apiKey) != nil ? .partitionLeaders : .anyBroker
        case .everyBroker:
            return .everyBroker
        case .namedBroker:
            return .namedBrokers
        case .anyBroker:
            return .anyBroker
        }
    }

    /// Whether this split target is the one a key sharder's routing needs.
    func splits(by routing: KeyRouting) -> Bool {
        switch (self, routing) {
        case (.keyCoordinators, .coordinator), (.everyBroker, .everyBroker), (.namedBrokers, .namedBroker): return true
        default: return false
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
