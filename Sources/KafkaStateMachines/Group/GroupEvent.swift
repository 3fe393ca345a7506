import KafkaProtocol

/// Why a membership ended or a commit failed.
public enum GroupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The coordinator refused with this code (fatal for the membership where Kafka says so:
    /// FENCED_INSTANCE_ID, GROUP_AUTHORIZATION_FAILED, INCONSISTENT_GROUP_PROTOCOL, ...).
    case broker(KafkaErrorCode, String)
    /// The request itself failed (connection, timeout, retries spent).
    case request(KafkaClientError)
    /// A commit while the member has no generation (not joined, or between generations).
    case notInGroup
    /// The settings cannot work (the reason).
    case invalidConfiguration(String)
    /// The client closed first.
    case clientClosed
    /// The consumer group protocol (KIP-848) was asked for and the group coordinator does not
    /// serve ConsumerGroupHeartbeat (a broker before Kafka 4.0, or one with the protocol off);
    /// the member does not fall back to the classic protocol by itself.
    case groupProtocolUnsupported(String)
    /// The waiting task was cancelled first (a commit already sent may still take effect).
    case cancelled

    public var description: String {
        switch self {
        case .broker(let c, let what): return "\(what): \(c)"
        case .request(let e): return "request failed: \(e)"
        case .notInGroup: return "not a member of the group (no generation)"
        case .invalidConfiguration(let r): return "invalid group configuration: \(r)"
        case .clientClosed: return "client closed"
        case .groupProtocolUnsupported(let why): return "the consumer group protocol is not available: \(why)"
        case .cancelled: return "cancelled while waiting"
        }
    }
}

/// A commit's outcome: what was asked, and which partitions failed (empty: all committed).
public struct CommitReport: Sendable, Equatable {
    /// nil for an automatic commit or one made on revoke or leave.
    package var promise: PromiseID?
    public var offsets: [TopicPartition: CommitPosition]
    public var failed: [TopicPartition: GroupError]
    /// Set when the whole request failed (then `failed` names every partition too).
    public var error: GroupError?
    public var ok: Bool { failed.isEmpty && error == nil }

    /// For users' tests of code that reads commit outcomes.
    public init(offsets: [TopicPartition: CommitPosition], failed: [TopicPartition: GroupError] = [:], error: GroupError? = nil) {
        self.init(promise: nil, offsets: offsets, failed: failed, error: error)
    }

    package init(promise: PromiseID?, offsets: [TopicPartition: CommitPosition], failed: [TopicPartition: GroupError], error: GroupError?) {
        self.promise = promise
        self.offsets = offsets
        self.failed = failed
        self.error = error
    }
}

/// What the group member tells the driver (`Action.group`).
package enum GroupEvent: Sendable, CustomStringConvertible {
    /// Joined a generation (after SyncGroup).
    case joined(memberId: String, generation: Int32, leader: Bool, protocolName: String)
    /// These partitions are now consumed (fetching starts at their committed offsets).
    case assigned([TopicPartition], generation: Int32)
    /// These partitions are being given up: the fetcher no longer fetches them; the driver
    /// drops what it buffered of them, lets the user finish, reports what was consumed
    /// (`.groupConsumed`) and answers `.groupRevokeHandled(id)`. The commit on revoke and the
    /// rejoin wait for that answer.
    case revoking(id: UInt64, [TopicPartition])
    /// These partitions were lost (the membership ended without a chance to commit):
    /// another member may own them already.
    case lost([TopicPartition])
    case committed(CommitReport)
    /// A group transact session's transaction aborted: these partitions start again from
    /// their committed offsets (the driver drops what it buffered and the positions it
    /// tracked; no user callback: the partitions stay this member's).
    case rewound([TopicPartition])
    /// `leaveGroup(promise)` finished: committed, left (unless static), nothing owned.
    case left(PromiseID)
    /// Something the user should know that does not stop the group (a balancer's invalid
    /// plan replaced, a member's subscription that could not be read).
    case warning(String)
    /// The membership ended for good.
    case failed(GroupError)

    public var description: String {
        func list(_ p: [TopicPartition]) -> String { p.map { "\($0.topic)/\($0.partition)" }.joined(separator: ",") }
        switch self {
        case .joined(let m, let g, let l, let p): return "joined(\(m), gen \(g)\(l ? ", leader" : ""), \(p))"
        case .assigned(let p, let g): return "assigned(gen \(g): \(list(p)))"
        case .revoking(let id, let p): return "revoking(\(id): \(list(p)))"
        case .lost(let p): return "lost(\(list(p)))"
        case .rewound(let p): return "rewound(\(list(p)))"
        case .committed(let r): return "committed(\(r.offsets.count) partitions\(r.ok ? "" : ", failed \(r.failed.count)"))"
        case .left(let p): return "left(\(p))"
        case .warning(let w): return "warning(\(w))"
        case .failed(let e): return "failed(\(e))"
        }
    }
}
