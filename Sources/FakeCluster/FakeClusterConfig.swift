/// How a fake cluster starts: its brokers, seed, emulated Kafka release, SASL users and
/// initial topics. Everything else (leaders, coordinators, faults) is changed at run time
/// through the control API.
public struct FakeClusterConfig: Sendable {
    public struct Broker: Sendable, Equatable {
        public var nodeId: Int32
        public var host: String
        public var port: Int32
        public var rack: String?
        public init(nodeId: Int32, host: String = "127.0.0.1", port: Int32, rack: String? = nil) {
            self.nodeId = nodeId
            self.host = host
            self.port = port
            self.rack = rack
        }
    }

    public enum SaslMechanism: String, Sendable, Equatable, CaseIterable {
        case plain = "PLAIN", scramSha256 = "SCRAM-SHA-256", scramSha512 = "SCRAM-SHA-512"
        /// RFC 7628: a user's `password` is the bearer token it presents (no signature checks).
        case oauthBearer = "OAUTHBEARER"
    }

    public struct User: Sendable, Equatable {
        public var mechanism: SaslMechanism
        public var name: String
        public var password: String
        public init(mechanism: SaslMechanism, name: String, password: String) {
            self.mechanism = mechanism
            self.name = name
            self.password = password
        }
    }

    public struct Topic: Sendable, Equatable {
        public var name: String
        public var partitions: Int32
        /// -1: min(3, brokers).
        public var replicationFactor: Int16
        public var configs: [String: String]
        public init(name: String, partitions: Int32, replicationFactor: Int16 = -1, configs: [String: String] = [:]) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
    }

    public var brokers: [Broker]
    public var seed: UInt64
    /// The release whose API versions the brokers advertise and accept.
    public var release: KafkaRelease
    /// With users configured, every connection must authenticate before anything but
    /// ApiVersions and the SASL requests (like a SASL_PLAINTEXT listener).
    public var users: [User]
    public var autoCreateTopics: Bool
    public var topics: [Topic]
    /// socket.request.max.bytes: a larger frame closes the connection.
    public var maxFrameSize: Int
    /// connections.max.reauth.ms (KIP-368): 0 means sessions never expire.
    public var saslSessionLifetimeMs: Int64
    /// Records every decoded request and response in `FakeCluster.events`.
    public var recordEvents: Bool
    /// Kafka's group.initial.rebalance.delay.ms (default here 0, so tests need no wait).
    public var initialRebalanceDelayMs: Int32
    /// group.min.session.timeout.ms.
    public var minSessionTimeoutMs: Int32
    /// offsets.retention.minutes, in milliseconds (Kafka's default: 7 days). An Empty group's
    /// offsets expire this long after it became Empty; see GroupCoordinator.expireOffsets.
    public var offsetsRetentionMs: Int64
    /// offsets.retention.check.interval.ms: how often expired offsets are removed (Kafka: 10 min).
    public var offsetsRetentionCheckIntervalMs: Int64
    /// The coordinator's WriteTxnMarkers round trip: after EndTxn (or an abort by
    /// InitProducerId or timeout) the transaction stays in PrepareCommit/PrepareAbort this
    /// long, answering CONCURRENT_TRANSACTIONS and holding the LSO, before its markers land.
    public var transactionMarkerDelayMs: Int64
    /// The transaction coordinator's load window: after a broker takes over a
    /// transactional id (its coordinator stopped, or moved) it answers
    /// COORDINATOR_LOAD_IN_PROGRESS for that id this long, and writes a prepared
    /// transaction's markers only after it. 0 (the default): no window.
    public var transactionCoordinatorLoadMs: Int64
    /// How long a partition reassignment (AlterPartitionReassignments) stays under way, its
    /// replicas the old and new sets together, before the new set alone remains. 0 (the
    /// default): it completes within the request.
    public var reassignmentMs: Int64 = 0
    /// Every broker's log directories (DescribeLogDirs, AlterReplicaLogDirs); a replica
    /// starts in the first.
    public var logDirs: [String] = ["/var/lib/kafka/data"]
    /// The finalized `transaction.version` feature (KIP-890 part 2; 0, the default: none
    /// advertised, every request as before). At 2 ApiVersions advertises it, a transactional
    /// Produce v12+ or TxnOffsetCommit v5+ adds its partition or group to the transaction
    /// (beginning it), and EndTxn v5+ bumps the producer epoch and answers the new pair.
    public var transactionVersion: Int16 = 0
    /// Every broker's supported feature levels (KIP-584), as ApiVersions v3+ advertises them
    /// and UpdateFeatures checks them (defaults: Kafka 3.9 / 4.0's).
    public var supportedFeatures: [String: ClosedRange<Int16>] = [
        "group.version": 0 ... 1, "kraft.version": 0 ... 1, "metadata.version": 1 ... 21, "transaction.version": 0 ... 2,
    ]
    /// The finalized feature levels the cluster starts with (a non-zero `transactionVersion`
    /// finalizes transaction.version too). None, the default: ApiVersions' finalized epoch is
    /// -1 until an UpdateFeatures finalizes one.
    public var finalizedFeatures: [String: Int16] = [:]
    /// group.consumer.session.timeout.ms (KIP-848 consumer groups; Kafka's default 45 s): a
    /// member that sends no ConsumerGroupHeartbeat for this long is fenced.
    public var consumerGroupSessionTimeoutMs: Int32 = 45_000
    /// group.consumer.heartbeat.interval.ms (Kafka's default 5 s), told to every member in
    /// its ConsumerGroupHeartbeat answers.
    public var consumerGroupHeartbeatIntervalMs: Int32 = 5_000
    /// group.consumer.migration.policy (KIP-848; Kafka 4.0's default bidirectional): whether
    /// a classic group with members is upgraded online when a ConsumerGroupHeartbeat joins it,
    /// and a consumer group left with only classic members downgraded when its last
    /// consumer-protocol member leaves.
    public var consumerGroupMigrationPolicy: ConsumerGroupMigrationPolicy = .bidirectional
    /// An authorizer with `allow.everyone.if.no.acl.found=false` (off by default): produce,
    /// fetch, offsets, metadata, group and transaction requests, and the admin APIs
    /// (delegation tokens aside), are checked against the ACLs with Kafka's rules
    /// (Handlers/Authorization.swift). The caller is its SASL user, `User:NAME`, or
    /// `User:ANONYMOUS`.
    public var authorization = false
    /// super.users: principals (`User:NAME`) the authorizer allows everything.
    public var superUsers: [String] = []

    public init(brokers: [Broker], seed: UInt64 = 1, release: KafkaRelease = .latest, users: [User] = [],
                autoCreateTopics: Bool = true, topics: [Topic] = [], maxFrameSize: Int = 100 * 1024 * 1024,
                saslSessionLifetimeMs: Int64 = 0, recordEvents: Bool = false) {
        self.brokers = brokers
        self.seed = seed
        self.release = release
        self.users = users
        self.autoCreateTopics = autoCreateTopics
        self.topics = topics
        self.maxFrameSize = maxFrameSize
        self.saslSessionLifetimeMs = saslSessionLifetimeMs
        self.recordEvents = recordEvents
        initialRebalanceDelayMs = 0
        minSessionTimeoutMs = 1_000
        offsetsRetentionMs = 7 * 24 * 60 * 60 * 1000
        offsetsRetentionCheckIntervalMs = 600_000
        transactionMarkerDelayMs = 5
        transactionCoordinatorLoadMs = 0
    }

    /// `count` brokers with ids 1…count on consecutive ports from `firstPort`; `firstPort` 0
    /// gives every broker port 0, so a TCP listener binds each to a free port of its own
    /// (consecutive ports from 0 would be the fixed ports 1, 2, … and collide across runs).
    public static func brokers(_ count: Int, host: String = "127.0.0.1", firstPort: Int32) -> [Broker] {
        (0 ..< count).map { Broker(nodeId: Int32($0 + 1), host: host, port: firstPort == 0 ? 0 : firstPort + Int32($0)) }
    }
}
