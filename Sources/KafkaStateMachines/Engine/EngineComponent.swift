import KafkaProtocol

/// A sub-machine the engine's core drives: the producer, the fetcher, and (to come) the
/// group member and the transaction manager. Every component is driven the same way — the
/// core hands it answers to its requests, metadata updates, ticks and close, asks its next
/// deadline, and lets it `run`: do what it may now and hand over its outputs, one type for
/// all (`ComponentOutput`). Components never reach into each other or into the core; what
/// one tells another goes through the engine.
///
/// The core calls `run` after every input it gives a component. Outputs are carried out in
/// order; an answer that arrives while they are (a request refused before it left, an
/// acks=0 produce) is handed to the component at once, and `run` is called again after.
protocol EngineComponent {
    /// The answer to the request sent with `tag` (exactly one per request).
    mutating func answered(_ tag: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, context: ComponentContext, now: Instant)
    /// A metadata answer was applied (the engine's refresh, or a user's Metadata request).
    mutating func metadataUpdated(context: ComponentContext, now: Instant)
    /// Time advanced; returns whether `run` has anything to do.
    mutating func tick(context: ComponentContext, now: Instant) -> Bool
    /// The earliest instant after `floor` at which `tick` has work; nil when none. `floor`
    /// is the engine's last tick: a deadline at or before it was handled then (what could
    /// not go waits for an input), and reporting it again would spin the driver. This is
    /// the engine's one guard for that contract.
    func nextDeadline(after floor: Instant?) -> Instant?
    /// The client is closing: fail or report what is left (outstanding requests are
    /// answered with `.clientClosed` before this).
    mutating func close(context: ComponentContext, now: Instant)
    /// Does what it may now and moves its outputs into `outputs`.
    mutating func run(context: ComponentContext, now: Instant, into outputs: inout [ComponentOutput])
}

/// What a component may read of the engine's state.
struct ComponentContext {
    var metadata: MetadataCache
    /// The versions each broker reported, kept past its connections.
    var brokerVersions: [BrokerID: BrokerVersions]
    var isClosed: Bool
    /// The engine's previous tick (see `nextDeadline(after:)`).
    var lastTick: Instant?
    /// The coordinators known now.
    var coordinators = CoordinatorCache()

    /// The version a request of this type would go to `key`'s coordinator at (our range and
    /// the broker's), or nil when the coordinator or its versions are not known yet: for
    /// fields only some versions carry.
    func coordinatorVersion<R: KafkaRequest>(_ type: R.Type, _ key: CoordinatorKey) -> Int16? {
        guard let node = coordinators[key]?.nodeId, let broker = brokerVersions[.node(node)]?.range(for: R.apiKey) else { return nil }
        return negotiateVersion(ours: R.validVersions, broker: broker, pin: nil)
    }
}

/// Which component a request or output belongs to. Declared order is the order the core
/// visits components in (ticks, metadata updates, close).
enum ComponentID: Int, CaseIterable, Comparable, Sendable {
    case fetcher, producer, group

    static func < (a: ComponentID, b: ComponentID) -> Bool { a.rawValue < b.rawValue }
}

/// The one output type of every component.
enum ComponentOutput {
    /// Send a request; its answer comes back to `answered(tag, …)`.
    case send(ComponentRequest)
    /// Metadata should cover these topics (nil: every topic), and maybe a refresh: at once
    /// when a topic is new (nothing to wait for), else no sooner than the minimum metadata
    /// age allows, or for an urgent ask (what the component holds cannot move until the
    /// refresh lands) the stale-metadata floor.
    case metadata(topics: [String]?, refresh: MetadataAsk)
    /// A node's address learned from an answer (KIP-951 leader hints name brokers the
    /// metadata may not list yet).
    case brokerAddress(node: Int32, BrokerAddress)
    /// Something for the driver: records fetched, a delivery report, a notice.
    case action(Action)
    /// An engine input, as if the driver had given it: how one component steers another
    /// (the group member assigns partitions to the fetcher).
    case input(EngineInput)
    /// An answer said the coordinator moved: look it up again before the next request.
    case coordinatorMoved(CoordinatorKey)
    /// For the driver's hooks only (emitted when `EngineConfig.observe` is on).
    case observation(Observation)
    /// For the driver's log (kept only when `EngineConfig.reportDecisions` is on).
    case decision(EngineDecision)
}

/// Whether a component's metadata output asks for a refresh, and how soon.
enum MetadataAsk: Equatable {
    case notNeeded, normal, urgent
}

/// A request a component asks the core to send.
struct ComponentRequest {
    var tag: UInt64
    var request: any KafkaRequest
    var target: RequestTarget
    var pin: ClosedRange<Int16>?
    /// Retries of retriable failures by the core; nil: the engine's configured count; 0:
    /// the component retries itself.
    var maxRetries: Int?
    /// Requests of one component to one broker with this flag reach it in the order made:
    /// one waiting for the broker's address holds back the later ones (a partition
    /// pipelines its batches to the leader by sequence number).
    var orderedPerBroker: Bool

    init(tag: UInt64, _ request: any KafkaRequest, to target: RequestTarget, pin: ClosedRange<Int16>? = nil,
         maxRetries: Int? = nil, orderedPerBroker: Bool = false) {
        self.tag = tag
        self.request = request
        self.target = target
        self.pin = pin
        self.maxRetries = maxRetries
        self.orderedPerBroker = orderedPerBroker
    }
}
