import KafkaProtocol
import OrderedCollections

/// The client engine, the one type a driver holds. Sans-IO: the driver feeds it inputs
/// (each with `now`) through `handle(_:now:)`, drains `pollAction()` until nil, and feeds
/// `.tick` at `nextDeadline()`.
///
/// A driver's loop, in outline:
///
///     engine.handle(.request(UserRequest(req, promise: p)), now: clock.now)   // or any input
///     while let action = engine.pollAction() {
///         switch action {
///         case .open(let c, _, let host, let port, let tls): dial; later .connectionOpened(c) / .connectionFailed(c)
///         case .write(let c, let bytes): write; reads are .bytesReceived(c, bytes); EOF is .connectionClosed(c)
///         case .close(let c): close the socket (the engine has forgotten c)
///         case .complete(let p, let result): resume the caller waiting on p
///         …
///         }
///     }
///     schedule a timer for engine.nextDeadline(); when it fires, handle(.tick) and drain again
///
/// Every answer to a `request` is exactly one `.complete`. Inputs for connections the
/// engine no longer knows are ignored, so races between a close and a read are harmless.
///
/// The state is held by parts that each own one concern — the connection pool
/// (ConnectionPool), metadata and its refresh schedule (MetadataCache,
/// MetadataRefreshSchedule), coordinator lookup (CoordinatorCache), the request table
/// below — and the components (EngineComponent: fetcher, producer). The request core that
/// joins them is split by concern over ClientEngine+Routing (where a request goes),
/// +Answers (retries, completion), +Sharding (split and merge), +Metadata (refreshes and
/// their waiters), +Connections (connection inputs and events) and +Components.
package struct ClientEngine {
    public let config: EngineConfig
    var rng: SeededGenerator
    var actions: [Action] = []
    private var actionIndex = 0
    /// Built only when `config.observe` is on (Observation.swift).
    var observations: [Observation] = []
    /// Built only when `config.reportDecisions` is on (EngineDecision.swift).
    var decisions: [EngineDecision] = []
    var isClosed = false
    /// When the last tick ran: components report only deadlines after it.
    var lastTickAt: Instant?

    var pool = ConnectionPool()
    public internal(set) var metadata = MetadataCache()
    var refresh = MetadataRefreshSchedule()
    var coordinators = CoordinatorCache()
    /// Addresses of nodes learned from answers rather than metadata: FindCoordinator (a
    /// coordinator may be missing from a metadata response that raced with a broker
    /// joining) and KIP-951 leader hints.
    var learnedAddresses: [Int32: BrokerAddress] = [:]

    /// Requests the engine answers for, by id. Ids only grow, so insertion order is id
    /// order: walks are deterministic without sorting.
    var pending: OrderedDictionary<UInt64, PendingRequest> = [:]
    /// User requests split across partition leaders, by id.
    var sharded: OrderedDictionary<UInt64, ShardedRequest> = [:]
    /// User requests split by key (coordinators, named brokers, every broker), by parent id.
    var keyed: OrderedDictionary<UInt64, KeyedRequest> = [:]
    private var nextRequestId: UInt64 = 1
    var anyBrokerCursor = 0

    /// The components (EngineComponent): the direct consumer's fetch path, and the producer,
    /// created by the first produce (ClientEngine+Producer.swift).
    var fetcher: Fetcher
    var producer: ProducerStateMachine?
    var group: GroupMember?
    /// A group transact session's rebalance came before the producer existed: its first
    /// transaction must abort (see `transactionRebalanced`).
    var rebalancedBeforeProducer = false
    /// A group transact session's offsets asked for while its member rejoins with partitions
    /// kept: sent once it is in a generation again (see `sendOffsetsToTransaction`).
    var offsetsAwaitingGeneration: [PromiseID] = []
    /// Components running now, and those to run again (bit per ComponentID; runComponent).
    var componentsRunning: UInt8 = 0
    var componentsRerun: UInt8 = 0
    /// An emptied output buffer kept for the next run.
    var componentScratch: [ComponentOutput]?

    public init(config: EngineConfig, seed: UInt64) {
        self.config = config
        self.rng = SeededGenerator(seed: seed)
        self.fetcher = Fetcher(config: config.fetcher)
    }

    // MARK: driver interface

    /// Takes one input (see `EngineInput`); its actions wait in `pollAction()`.
    public mutating func handle(_ input: EngineInput, now: Instant) {
        switch input {
        case .connectionOpened(let c): connectionOpened(c, now: now)
        case .connectionFailed(let c, let reason): connectionFailed(c, reason: reason, now: now)
        case .connectionClosed(let c): connectionClosed(c, now: now)
        case .bytesReceived(let c, let bytes): bytesReceived(c, bytes, now: now)
        case .oauthToken(let c, let result): oauthTokenArrived(c, result, now: now)
        case .request(let r): request(r.request, to: r.target, pin: r.pin, maxRetries: r.maxRetries, promise: r.promise, now: now)
        case .cancel(let p): cancel(promise: p, now: now)
        case .assign(let a): assign(a, now: now)
        case .unassign(let p): unassign(p, now: now)
        case .subscribe(let s): subscribe(s, now: now)
        case .seek(let tp, let start): seek(tp, to: start, now: now)
        case .skip(let tp): skip(tp, now: now)
        case .stopPartition(let tp, let offset, let error, let skipTo): stopPartition(tp, at: offset, error: error, skipTo: skipTo, now: now)
        case .pause(let p): pause(p, now: now)
        case .resume(let p): resume(p, now: now)
        case .fetchConsumed(let n): fetchConsumed(bytes: n, now: now)
        case .joinGroup(let c): joinGroup(c, now: now)
        case .leaveGroup(let p): leaveGroup(p, now: now)
        case .commitOffsets(let o, let p): commitOffsets(o, promise: p, now: now)
        case .groupConsumed(let c): groupConsumed(c, now: now)
        case .groupRevocationHandled(let id): groupRevocationHandled(id, now: now)
        case .produce(let records): produce(records, now: now)
        case .flush(let p): flush(promise: p, now: now)
        case .beginTransaction(let p): beginTransaction(p, now: now)
        case .endTransaction(let commit, let p): endTransaction(commit: commit, p, now: now)
        case .sendOffsetsToTransaction(let o, let p): sendOffsetsToTransaction(o, p, now: now)
        case .transactionEnded(let committed, let offsets): transactionEnded(committed: committed, offsets: offsets, now: now)
        case .transactionRebalanced: transactionRebalanced(now: now)
        case .tick: tick(now: now)
        case .close: close(now: now)
        }
    }

    /// The next action for the driver, or nil when there is nothing to do.
    public mutating func pollAction() -> Action? {
        guard actionIndex < actions.count else {
            if !actions.isEmpty { actions.removeAll(keepingCapacity: true); actionIndex = 0 }
            return nil
        }
        defer { actionIndex += 1 }
        return actions[actionIndex]
    }

    /// Hands over what was observed since the last call (empty unless `config.observe`).
    public mutating func takeObservations() -> [Observation] {
        guard !observations.isEmpty else { return [] }
        defer { observations.removeAll(keepingCapacity: true) }
        return observations
    }

    /// Hands over the decisions made since the last call (empty unless `config.reportDecisions`).
    public mutating func takeDecisions() -> [EngineDecision] {
        guard !decisions.isEmpty else { return [] }
        defer { decisions.removeAll(keepingCapacity: true) }
        return decisions
    }

    /// Drains every queued action at once.
    public mutating func drainActions() -> [Action] {
        var out: [Action] = []
        while let a = pollAction() { out.append(a) }
        return out
    }

    /// The earliest instant at which `.tick` has work: a timeout, a backoff ending, a
    /// throttle lifting, a re-authentication, an idle connection to reap, a metadata
    /// refresh, a component's deadline.
    public func nextDeadline() -> Instant? {
        guard !isClosed else { return nil }
        var d: Instant?
        func consider(_ t: Instant?) { if let t { d = d.map { min($0, t) } ?? t } }
        consider(pool.nextDeadline(idleTimeout: config.connectionIdleTimeout))
        for i in pending.values.indices { if case .backoff(let until) = pending.values[i].state { consider(until) } }
        consider(refresh.nextDeadline(lastRefresh: metadata.lastRefresh, config: config))
        consider(componentsNextDeadline())
        return d
    }

    /// The release a broker most likely runs, from the versions it reported.
    public func guessRelease(of broker: BrokerID) -> KafkaRelease? {
        brokerVersions[broker].flatMap { KafkaRelease.guess(from: $0) }
    }

    /// Versions each broker reported, kept past its connections' lifetimes.
    public var brokerVersions: [BrokerID: BrokerVersions] { pool.brokerVersions }

    /// SCRAM salted passwords derived so far.
    var saltedPasswords: ScramSaltedPasswords { pool.saltedPasswords }

    // MARK: inputs

    /// Issues `request`; the engine answers with one `.complete(promise, …)`.
    /// `pin` narrows the versions for this request; `maxRetries` overrides the configured one.
    mutating func request(_ request: any KafkaRequest, to target: RequestTarget = .automatic, pin: ClosedRange<Int16>? = nil,
                          maxRetries: Int? = nil, promise: PromiseID, now: Instant) {
        guard !isClosed else {
            actions.append(.complete(promise, .failure(.clientClosed)))
            return
        }
        let resolved = target == .automatic ? RequestTarget.resolved(for: request) : target
        let retries = maxRetries ?? config.maxRetries
        if resolved == .partitionLeaders {
            guard let sharder = PartitionSharding.sharder(for: type(of: request).apiKey) else {
                actions.append(.complete(promise, .failure(.unroutable("\(type(of: request).apiKey) cannot be split by partition"))))
                return
            }
            let id = takeRequestId()
            sharded[id] = ShardedRequest(promise: promise, request: request, sharder: sharder, pin: pin, maxRetries: retries, firstAttempt: now)
            let topics = Set(sharder.partitions(of: request).map(\.topic))
            if metadata.knows(topics) {
                split(id, now: now)
            } else {
                metadata.addInterest(topics)
                sharded[id]!.waitingMetadata = true
                requestMetadataRefresh(now: now)
            }
            return
        }
        if resolved == .keyCoordinators || resolved == .everyBroker || resolved == .namedBrokers {
            guard let sharder = KeySharding.sharder(for: type(of: request).apiKey), resolved.splits(by: sharder.routing) else {
                actions.append(.complete(promise, .failure(.unroutable("\(type(of: request).apiKey) cannot be sent as \(resolved)"))))
                return
            }
            startKeyed(request, sharder: sharder, pin: pin, maxRetries: retries, promise: promise, now: now)
            return
        }
        let id = takeRequestId()
        pending[id] = PendingRequest(owner: .user(promise), request: request, target: resolved, pin: pin, firstAttempt: now, maxRetries: retries)
        route(id, now: now)
    }

    /// The caller gave up on the request named by `promise`: it completes at once with
    /// `.cancelled`. Not yet sent, it never will be; already written, its late answer is
    /// ignored. A promise that already completed (or was never issued) is ignored.
    mutating func cancel(promise: PromiseID, now: Instant) {
        if let parent = sharded.first(where: { $0.value.promise == promise })?.key {
            let s = sharded.removeValue(forKey: parent)!
            for shard in s.shards { forget(shard) }
            actions.append(.complete(promise, .failure(.cancelled)))
            return
        }
        if let parent = keyed.first(where: { $0.value.promise == promise })?.key {
            let s = keyed.removeValue(forKey: parent)!
            for shard in s.shards { forget(shard) }
            actions.append(.complete(promise, .failure(.cancelled)))
            return
        }
        guard let id = pending.first(where: {
            if case .user(let p) = $0.value.owner { return p == promise } else { return false }
        })?.key else { return }
        forget(id)
        actions.append(.complete(promise, .failure(.cancelled)))
    }

    mutating func tick(now: Instant) {
        for id in pool.ids {
            guard let events = pool.update(id, { $0.tick(now: now) }) else { continue }
            apply(events, from: id, now: now)
        }
        for id in pool.idle(at: now, idleTimeout: config.connectionIdleTimeout) {
            guard let events = pool.update(id, { $0.close(with: .connectionClosed(broker: $0.broker)) }) else { continue }
            apply(events, from: id, now: now)
        }
        for id in pending.keys {
            guard case .backoff(let until)? = pendingState(id), now >= until else { continue }
            updatePending(id) { $0.state = .routing }
            route(id, now: now)
        }
        if refresh.due(now: now, lastRefresh: metadata.lastRefresh, config: config) { startMetadataRefresh(now: now) }
        componentsTick(now: now)
        lastTickAt = now
    }

    /// Fails everything outstanding with `.clientClosed` and closes every connection.
    mutating func close(now: Instant) {
        guard !isClosed else { return }
        isClosed = true
        for id in pending.keys { finish(id, .failure(.clientClosed), now: now) }
        for id in sharded.keys {
            if let s = sharded.removeValue(forKey: id) { actions.append(.complete(s.promise, .failure(.clientClosed))) }
        }
        for id in keyed.keys {
            if let s = keyed.removeValue(forKey: id) { actions.append(.complete(s.promise, .failure(.clientClosed))) }
        }
        for id in pool.ids {
            guard let events = pool.update(id, { $0.close(with: .clientClosed) }) else { continue }
            apply(events, from: id, now: now)
        }
        componentsClose(now: now)
    }

    /// Changes a pending request in place (by position: the keyed subscript's modify moves
    /// the value out and back).
    @discardableResult
    mutating func updatePending<R>(_ id: UInt64, _ body: (inout PendingRequest) -> R) -> R? {
        guard let i = pending.index(forKey: id) else { return nil }
        return body(&pending.values[i])
    }

    /// The state of a pending request, read without copying the request.
    func pendingState(_ id: UInt64) -> PendingRequest.State? {
        guard let i = pending.index(forKey: id) else { return nil }
        return pending.values[i].state
    }

    mutating func takeRequestId() -> UInt64 {
        defer { nextRequestId += 1 }
        return nextRequestId
    }

    /// Drops a pending request without completing it, telling its connection if it holds it.
    mutating func forget(_ id: UInt64) {
        guard let p = pending.removeValue(forKey: id) else { return }
        if case .sent(let cid) = p.state { _ = pool.update(cid) { $0.abandon(token: id); return [] } }
    }
}
