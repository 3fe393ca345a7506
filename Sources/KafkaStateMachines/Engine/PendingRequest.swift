/// A request the engine is responsible for until it completes: a user's, one shard of a
/// user's split request, or one the engine issued itself (metadata, FindCoordinator).
struct PendingRequest {
    enum Owner {
        case user(PromiseID)
        case shard(parent: UInt64)
        case metadataRefresh
        case findCoordinator(CoordinatorKey)
        /// A component's request, by the tag the component gave it (EngineComponent).
        case component(ComponentID, tag: UInt64)
    }

    enum State: Equatable {
        /// Being routed right now.
        case routing
        case waitingMetadata
        case waitingCoordinator(CoordinatorKey)
        case backoff(until: Instant)
        case sent(ConnectionID)
    }

    var owner: Owner
    var request: any KafkaRequest
    var target: RequestTarget
    var pin: ClosedRange<Int16>?
    var state = State.routing
    /// Attempts sent so far.
    var attempts = 0
    var firstAttempt: Instant
    var maxRetries: Int
    /// Set once the request waited for a metadata refresh, so a second miss fails it
    /// instead of waiting forever for a broker or controller that does not exist.
    var waitedForMetadata = false
    /// Kept in order with the owner's other ordered requests to the same broker
    /// (`ComponentRequest.orderedPerBroker`).
    var orderedPerBroker = false
}

/// A user request split across partition leaders: it completes when every shard has.
struct ShardedRequest {
    var promise: PromiseID
    var request: any KafkaRequest
    var sharder: any PartitionSharder
    var pin: ClosedRange<Int16>?
    var maxRetries: Int
    /// Shard ids in leader order; their results fill in as they finish.
    var shards: [UInt64] = []
    var results: [UInt64: Result<any KafkaResponse, KafkaClientError>] = [:]
    var unroutable: [(TopicPartition, KafkaErrorCode)] = []
    var waitingMetadata = false
    /// Rounds of splitting done; a round after the first re-sends only the partitions whose
    /// answers said our leaders were stale.
    var rounds = 0
    var firstAttempt: Instant
    var retryPartitions: Set<TopicPartition>?
    /// Answers kept from earlier rounds (already merged, stale partitions removed).
    var kept: [any KafkaResponse] = []
}

/// A user request split by key (KeySharding): across coordinators, to named brokers, or
/// copied to every broker. It completes when every part has, each key's result (or the
/// error that kept it from being asked) in the merged answer.
struct KeyedRequest {
    var promise: PromiseID
    var request: any KafkaRequest
    var sharder: any KeySharder
    var pin: ClosedRange<Int16>?
    var maxRetries: Int
    var firstAttempt: Instant
    /// Coordinator lookups this request waits for before it can be split.
    var waitingCoordinators: Set<CoordinatorKey> = []
    /// Waiting for the broker list (every-broker requests wait for one refresh first).
    var waitingMetadata = false
    var refreshedBrokers = false
    /// Part ids in broker order, the keys each carries, and their results as they finish.
    var shards: [UInt64] = []
    var shardKeys: [UInt64: [String]] = [:]
    var results: [UInt64: Result<any KafkaResponse, KafkaClientError>] = [:]
    /// Keys answered without being sent: their coordinator could not be found.
    var failed: [(String, KafkaErrorCode)] = []
    /// Rounds after the first re-ask only the keys whose coordinator moved.
    var rounds = 0
    var retryKeys: Set<String>?
    /// Answers kept from earlier rounds (merged, moved keys removed).
    var kept: [any KafkaResponse] = []
}
