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
    /// The target `.automatic` means for this request, as kgo's `Request` routes it.
    static func resolved(for request: any KafkaRequest) -> RequestTarget {
        if PartitionSharding.sharder(for: type(of: request).apiKey) != nil { return .partitionLeaders }
        switch request {
        case let r as JoinGroupRequest: return .groupCoordinator(r.groupId)
        case let r as SyncGroupRequest: return .groupCoordinator(r.groupId)
        case let r as HeartbeatRequest: return .groupCoordinator(r.groupId)
        case let r as LeaveGroupRequest: return .groupCoordinator(r.groupId)
        case let r as OffsetCommitRequest: return .groupCoordinator(r.groupId)
        case let r as OffsetFetchRequest where !r.groupId.isEmpty: return .groupCoordinator(r.groupId)
        case let r as TxnOffsetCommitRequest: return .groupCoordinator(r.groupId)
        case let r as AddOffsetsToTxnRequest: return .transactionCoordinator(r.transactionalId)
        case let r as EndTxnRequest: return .transactionCoordinator(r.transactionalId)
        case let r as InitProducerIdRequest:
            if let id = r.transactionalId, !id.isEmpty { return .transactionCoordinator(id) }
            return .anyBroker
        case is CreateTopicsRequest, is DeleteTopicsRequest, is CreatePartitionsRequest, is ElectLeadersRequest,
             is AlterPartitionReassignmentsRequest, is ListPartitionReassignmentsRequest:
            return .controller
        default:
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
