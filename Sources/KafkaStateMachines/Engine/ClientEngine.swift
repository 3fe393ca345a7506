/// The client engine: owns the connection state machines, the metadata cache, the
/// coordinator cache and the request router. Sans-IO: the driver feeds it inputs (each with
/// `now`), drains `pollAction()` until nil, and calls `tick(now:)` at `nextDeadline()`.
///
/// A driver's loop, in outline:
///
///     engine.request(req, to: .automatic, promise: p, now: clock.now)   // or any input
///     while let action = engine.pollAction() {
///         switch action {
///         case .open(let c, _, let host, let port, let tls): dial; later connectionOpened(c) / connectionFailed(c)
///         case .write(let c, let bytes): write; reads go to bytesReceived(c, bytes); EOF to connectionClosed(c)
///         case .close(let c): close the socket (the engine has forgotten c)
///         case .complete(let p, let result): resume the caller waiting on p
///         }
///     }
///     schedule a timer for engine.nextDeadline(); when it fires, engine.tick(now:) and drain again
///
/// Every answer to a `request` is exactly one `.complete`. Inputs for connections the
/// engine no longer knows are ignored, so races between a close and a read are harmless.
public struct ClientEngine {
    public let config: EngineConfig
    var rng: SeededGenerator
    var actions: [Action] = []
    private var actionIndex = 0
    var isClosed = false

    private struct ConnectionKey: Hashable {
        var broker: BrokerID
        var purpose: ConnectionPurpose
    }
    private var connections: [ConnectionID: ConnectionStateMachine] = [:]
    private var connectionByKey: [ConnectionKey: ConnectionID] = [:]
    private var nextConnectionId: UInt64 = 1
    /// Brokers that closed the connection on ApiVersions; they get the fallback release.
    private var brokersWithoutApiVersions: Set<BrokerID> = []
    /// KIP-219: until when each broker asked us to hold back; a connection opened meanwhile
    /// starts throttled too (the quota is the broker's, not the connection's).
    private var brokerThrottledUntil: [BrokerID: Instant] = [:]
    /// SCRAM salted passwords derived so far, handed to each new connection.
    private(set) var saltedPasswords = ScramSaltedPasswords()
    /// How many times a connection had to run SCRAM's key derivation (tests check the cache).
    private(set) var saltedPasswordDerivations = 0
    /// Versions each broker reported, kept past its connections' lifetimes.
    public internal(set) var brokerVersions: [BrokerID: BrokerVersions] = [:]

    public internal(set) var metadata = MetadataCache()
    var metadataRefreshId: UInt64?
    private var metadataRefreshScheduled: Instant?
    private var metadataRefreshAgain = false
    /// Whether an ask folded into `metadataRefreshAgain` was urgent (see `requestMetadataRefresh`).
    private var metadataRefreshAgainUrgent = false
    /// The folded-in refresh asks about topics never asked about: it skips the minimum age.
    var metadataRefreshUrgent = false
    /// When the last refresh was started; with a failed refresh this, not the cache's last
    /// success, dates the next periodic one (else a past deadline would repeat at once).
    private var metadataLastAttempt: Instant?

    private var coordinators = CoordinatorCache()
    private var findCoordinatorIds: [CoordinatorKey: UInt64] = [:]
    /// Addresses of nodes learned from FindCoordinator (a coordinator may be missing from a
    /// metadata response that raced with a broker joining).
    var coordinatorAddresses: [Int32: BrokerAddress] = [:]

    var pending: [UInt64: PendingRequest] = [:]
    private var sharded: [UInt64: ShardedRequest] = [:]
    private var nextRequestId: UInt64 = 1
    private var anyBrokerCursor = 0
    /// The direct consumer's fetch path (ClientEngine+Fetcher.swift).
    var fetcher: Fetcher
    /// The producer sub-machine, created by the first produce (ClientEngine+Producer.swift).
    var producer: ProducerStateMachine?

    public init(config: EngineConfig, seed: UInt64) {
        self.config = config
        self.rng = SeededGenerator(seed: seed)
        self.fetcher = Fetcher(config: config.fetcher)
    }

    // MARK: driver interface

    /// The next action for the driver, or nil when there is nothing to do.
    public mutating func pollAction() -> Action? {
        guard actionIndex < actions.count else {
            if !actions.isEmpty { actions.removeAll(keepingCapacity: true); actionIndex = 0 }
            return nil
        }
        defer { actionIndex += 1 }
        return actions[actionIndex]
    }

    /// Drains every queued action at once.
    public mutating func drainActions() -> [Action] {
        var out: [Action] = []
        while let a = pollAction() { out.append(a) }
        return out
    }

    /// The earliest instant at which `tick(now:)` has work: a timeout, a backoff ending, a
    /// throttle lifting, a re-authentication, an idle connection to reap, a metadata refresh.
    public func nextDeadline() -> Instant? {
        guard !isClosed else { return nil }
        var d: Instant?
        func consider(_ t: Instant?) { if let t { d = d.map { min($0, t) } ?? t } }
        for c in connections.values {
            consider(c.nextDeadline())
            if c.isIdle { consider(c.lastActivity + config.connectionIdleTimeout) }
        }
        for p in pending.values { if case .backoff(let until) = p.state { consider(until) } }
        consider(metadataRefreshScheduled)
        if fetcher.isActive { consider(fetcher.nextDeadline()) }
        consider(producer?.nextDeadline())
        if metadataRefreshId == nil, let last = lastMetadataActivity { consider(last + config.metadataMaxAge) }
        return d
    }

    public mutating func connectionOpened(_ id: ConnectionID, now: Instant) {
        guard connections[id] != nil else { return }
        let events = connections[id]!.opened(now: now)
        apply(events, from: id, now: now)
    }

    public mutating func connectionFailed(_ id: ConnectionID, reason: ConnectionFailure, now: Instant) {
        guard connections[id] != nil else { return }
        let events = connections[id]!.failedToOpen(reason: reason, now: now)
        apply(events, from: id, now: now)
    }

    public mutating func connectionClosed(_ id: ConnectionID, now: Instant) {
        guard connections[id] != nil else { return }
        let events = connections[id]!.closedByPeer(now: now)
        apply(events, from: id, now: now)
    }

    public mutating func bytesReceived(_ id: ConnectionID, _ bytes: [UInt8], now: Instant) {
        guard connections[id] != nil else { return }
        let events = connections[id]!.received(bytes, now: now)
        apply(events, from: id, now: now)
    }

    /// Issues `request`; the engine answers with one `.complete(promise, …)`.
    /// `pin` narrows the versions for this request; `maxRetries` overrides the configured one.
    public mutating func request(_ request: any KafkaRequest, to target: RequestTarget = .automatic, pin: ClosedRange<Int16>? = nil,
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
        let id = takeRequestId()
        pending[id] = PendingRequest(owner: .user(promise), request: request, target: resolved, pin: pin, firstAttempt: now, maxRetries: retries)
        route(id, now: now)
    }

    /// The caller gave up on the request named by `promise`: it completes at once with
    /// `.cancelled`. Not yet sent, it never will be; already written, its late answer is
    /// ignored. A promise that already completed (or was never issued) is ignored.
    public mutating func cancel(promise: PromiseID, now: Instant) {
        if let parent = sharded.keys.sorted().first(where: { sharded[$0]!.promise == promise }) {
            let s = sharded.removeValue(forKey: parent)!
            for shard in s.shards { forget(shard) }
            actions.append(.complete(promise, .failure(.cancelled)))
            return
        }
        guard let id = pending.keys.sorted().first(where: {
            if case .user(let p) = pending[$0]!.owner { return p == promise } else { return false }
        }) else { return }
        forget(id)
        actions.append(.complete(promise, .failure(.cancelled)))
    }

    /// Drops a pending request without completing it, telling its connection if it holds it.
    private mutating func forget(_ id: UInt64) {
        guard let p = pending.removeValue(forKey: id) else { return }
        if case .sent(let cid) = p.state { connections[cid]?.abandon(token: id) }
    }

    public mutating func tick(now: Instant) {
        for id in connections.keys.sorted() {
            guard connections[id] != nil else { continue }
            let events = connections[id]!.tick(now: now)
            apply(events, from: id, now: now)
        }
        for id in connections.keys.sorted() {
            guard let c = connections[id], c.isIdle, now >= c.lastActivity + config.connectionIdleTimeout else { continue }
            let events = connections[id]!.close(with: .connectionClosed(broker: c.broker))
            apply(events, from: id, now: now)
        }
        for id in pending.keys.sorted() {
            guard let p = pending[id], case .backoff(let until) = p.state, now >= until else { continue }
            pending[id]!.state = .routing
            route(id, now: now)
        }
        if let at = metadataRefreshScheduled, now >= at {
            metadataRefreshScheduled = nil
            startMetadataRefresh(now: now)
        } else if metadataRefreshId == nil, let last = lastMetadataActivity, now >= last + config.metadataMaxAge {
            startMetadataRefresh(now: now)
        }
        runFetcher(now: now)
        producerTick(now: now)
    }

    /// Fails everything outstanding with `.clientClosed` and closes every connection.
    public mutating func close(now: Instant) {
        guard !isClosed else { return }
        isClosed = true
        for id in pending.keys.sorted() { finish(id, .failure(.clientClosed), now: now) }
        for id in sharded.keys.sorted() {
            if let s = sharded.removeValue(forKey: id) { actions.append(.complete(s.promise, .failure(.clientClosed))) }
        }
        for id in connections.keys.sorted() {
            let events = connections[id]!.close(with: .clientClosed)
            apply(events, from: id, now: now)
        }
        producerClose(now: now)
    }

    /// The release a broker most likely runs, from the versions it reported.
    public func guessRelease(of broker: BrokerID) -> KafkaRelease? {
        brokerVersions[broker].flatMap { KafkaRelease.guess(from: $0) }
    }

    // MARK: connection events

    private mutating func apply(_ events: [ConnectionEvent], from id: ConnectionID, now: Instant) {
        for event in events {
            switch event {
            case .write(let bytes):
                actions.append(.write(id, bytes))
            case .apiVersionsRefused:
                if let c = connections[id] { brokersWithoutApiVersions.insert(c.broker) }
            case .ready(let versions):
                if let c = connections[id] { brokerVersions[c.broker] = versions }
            case .response(let token, let result):
                handleResult(token, result, from: id, now: now)
            case .saltedPasswordDerived(let entry):
                saltedPasswordDerivations += 1
                saltedPasswords.remember(entry)
            case .throttled(let until):
                guard let broker = connections[id]?.broker else { continue }
                brokerThrottledUntil[broker] = max(brokerThrottledUntil[broker] ?? until, until)
                for other in connections.keys.sorted() where other != id && connections[other]!.broker == broker {
                    connections[other]!.throttle(until: until)
                }
            case .failed(let error, let tokens, let timedOut, let closeNeeded):
                if let c = connections.removeValue(forKey: id) {
                    if connectionByKey[ConnectionKey(broker: c.broker, purpose: c.purpose)] == id {
                        connectionByKey[ConnectionKey(broker: c.broker, purpose: c.purpose)] = nil
                    }
                    if closeNeeded { actions.append(.close(id)) }
                    for (token, key) in timedOut { handleResult(token, .failure(.requestTimeout(apiKey: key, broker: c.broker)), from: id, now: now) }
                    for token in tokens { handleResult(token, .failure(error), from: id, now: now) }
                }
            }
        }
    }

    private mutating func handleResult(_ id: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, from connection: ConnectionID, now: Instant) {
        guard let p = pending[id], p.state == .sent(connection) else { return }
        switch result {
        case .failure(let error):
            if error.isRetriable { retry(id, after: error, now: now) } else { finish(id, .failure(error), now: now) }
        case .success(let response):
            if case .producer(let ticket) = p.owner {
                pending[id] = nil
                producerAnswered(ticket, .success(response), now: now)
                return
            }
            if case .metadataRefresh = p.owner, let m = response as? MetadataResponse {
                pending[id] = nil
                metadataRefreshId = nil
                metadata.apply(m, now: now)
                metadataUpdated(now: now)
                return
            }
            if case .findCoordinator(let key) = p.owner, let f = response as? FindCoordinatorResponse {
                switch CoordinatorCache.parse(f) {
                case .success(let entry):
                    pending[id] = nil
                    findCoordinatorIds[key] = nil
                    coordinators.set(key, entry)
                    coordinatorAddresses[entry.nodeId] = entry.address
                    wakeCoordinatorWaiters(key, now: now)
                case .failure(let error):
                    if error.isRetriable { retry(id, after: error, now: now) } else { finish(id, .failure(error), now: now) }
                }
                return
            }
            if let m = response as? MetadataResponse {
                // A user's metadata answer is as fresh as our own refresh would be: what
                // waited for an address it names goes now.
                metadata.apply(m, now: now)
                wakeMetadataWaiters(now: now)
            }
            // Top-level errors are the caller's to interpret, except the ones that say the
            // route was wrong: a coordinator that moved or is still loading, a controller
            // that is no longer one. Those are retried here, like a failed connection.
            if let code = response.topLevelErrorCode, code != .noError {
                if let key = p.target.coordinatorKey, CoordinatorCache.meansMoved(code) || code == .coordinatorLoadInProgress {
                    if CoordinatorCache.meansMoved(code) { coordinators.invalidate(key) }
                    retry(id, after: .brokerError(code, message: nil), now: now)
                    return
                }
                if p.target == .controller, code == .notController {
                    retry(id, after: .brokerError(code, message: nil), now: now, waitForMetadata: true)
                    return
                }
            }
            finish(id, .success(response), now: now)
        }
    }

    // MARK: retries

    /// Schedules another attempt after backoff, or gives up when the budget is spent.
    /// With `waitForMetadata`, the next attempt waits for a metadata refresh (which keeps to
    /// the minimum metadata age) instead of a backoff: routing again before it would only
    /// reach the same wrong broker.
    private mutating func retry(_ id: UInt64, after error: KafkaClientError, now: Instant, waitForMetadata: Bool = false) {
        guard var p = pending[id] else { return }
        if let key = p.target.coordinatorKey, error != .brokerError(.coordinatorLoadInProgress, message: nil) {
            coordinators.invalidate(key)
        }
        let retriesDone = p.attempts - 1
        let delay = config.backoff.delay(attempt: retriesDone, using: &rng)
        if retriesDone >= p.maxRetries || now + delay >= p.firstAttempt + config.retryTimeout || isClosed {
            finish(id, .failure(p.attempts > 1 || p.maxRetries > 0 ? .retriesExhausted(attempts: p.attempts, last: error) : error), now: now)
            return
        }
        if waitForMetadata {
            p.state = .waitingMetadata
            pending[id] = p
            requestMetadataRefresh(now: now, urgent: true)
            return
        }
        p.state = .backoff(until: now + delay)
        pending[id] = p
    }

    /// Completes a pending request, telling whoever owns it.
    private mutating func finish(_ id: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        guard let p = pending.removeValue(forKey: id) else { return }
        switch p.owner {
        case .user(let promise):
            actions.append(.complete(promise, result))
        case .shard(let parent):
            guard sharded[parent] != nil else { return }
            sharded[parent]!.results[id] = result
            completeShardedIfDone(parent, now: now)
        case .metadataRefresh:
            metadataRefreshId = nil
            if case .failure(let error) = result { failMetadataWaiters(error, now: now) }
        case .producer(let ticket):
            producerAnswered(ticket, result, now: now)
        case .findCoordinator(let key):
            findCoordinatorIds[key] = nil
            if case .failure(let error) = result {
                for wid in pending.keys.sorted() where pending[wid]?.state == .waitingCoordinator(key) {
                    finish(wid, .failure(error), now: now)
                }
            }
        case .fetcher(let tag):
            fetcherCompleted(tag, result, now: now)
        }
    }

    // MARK: routing

    mutating func takeRequestId() -> UInt64 {
        defer { nextRequestId += 1 }
        return nextRequestId
    }

    private func address(of broker: BrokerID) -> BrokerAddress? {
        switch broker {
        case .seed(let i): return i < config.seeds.count ? config.seeds[i] : nil
        case .node(let n): return metadata.brokers[n] ?? coordinatorAddresses[n]
        }
    }

    /// Sends a pending request toward its target, or parks it until what it needs is known.
    mutating func route(_ id: UInt64, now: Instant) {
        guard let p = pending[id] else { return }
        let broker: BrokerID
        switch p.target {
        case .anyBroker, .automatic, .partitionLeaders:
            guard let b = pickAnyBroker(purpose: ConnectionPurpose.of(type(of: p.request).apiKey)) else {
                finish(id, .failure(.unroutable("no seed brokers configured")), now: now)
                return
            }
            broker = b
        case .broker(let n):
            guard address(of: .node(n)) != nil else { return waitForMetadata(id, missing: "broker \(n)", now: now) }
            // The producer's requests to one broker must reach it in the order it made them
            // (a partition pipelines its batches there by sequence): while an earlier one
            // waits for metadata, a later one waits behind it. Waiters wake in id order.
            if case .producer = p.owner, producerRequestWaiting(before: id, broker: n) {
                pending[id]!.state = .waitingMetadata
                return
            }
            broker = .node(n)
        case .controller:
            guard let c = metadata.controllerId, address(of: .node(c)) != nil else {
                return waitForMetadata(id, missing: "the controller", now: now)
            }
            broker = .node(c)
        case .groupCoordinator, .transactionCoordinator:
            let key = p.target.coordinatorKey!
            guard let entry = coordinators[key] else {
                pending[id]!.state = .waitingCoordinator(key)
                findCoordinator(key, now: now)
                return
            }
            broker = .node(entry.nodeId)
        }
        send(id, to: broker, now: now)
    }

    private func producerRequestWaiting(before id: UInt64, broker n: Int32) -> Bool {
        pending.contains { other, r in
            guard other < id, r.state == .waitingMetadata, r.target == .broker(n), case .producer = r.owner else { return false }
            return true
        }
    }

    private mutating func waitForMetadata(_ id: UInt64, missing: String, now: Instant) {
        if pending[id]!.waitedForMetadata && metadata.lastRefresh != nil {
            finish(id, .failure(.unroutable("\(missing) is not in the cluster metadata")), now: now)
            return
        }
        pending[id]!.waitedForMetadata = true
        pending[id]!.state = .waitingMetadata
        requestMetadataRefresh(now: now)
    }

    /// An already-connected broker if there is one (fewest connections opened), else the
    /// next broker in turn, so that retries after a failed dial move on to another broker.
    private mutating func pickAnyBroker(purpose: ConnectionPurpose) -> BrokerID? {
        let candidates: [BrokerID] = metadata.brokers.isEmpty
            ? config.seeds.indices.map { BrokerID.seed($0) }
            : metadata.brokerIds.map { BrokerID.node($0) }
        guard !candidates.isEmpty else { return nil }
        if let connected = candidates.first(where: { connectionByKey[ConnectionKey(broker: $0, purpose: purpose)] != nil }) {
            return connected
        }
        defer { anyBrokerCursor += 1 }
        return candidates[anyBrokerCursor % candidates.count]
    }

    private mutating func send(_ id: UInt64, to broker: BrokerID, now: Instant) {
        guard let address = address(of: broker) else {
            finish(id, .failure(.unroutable("no address for \(broker)")), now: now)
            return
        }
        let request = pending[id]!.request
        let purpose = ConnectionPurpose.of(type(of: request).apiKey)
        let key = ConnectionKey(broker: broker, purpose: purpose)
        let cid: ConnectionID
        if let existing = connectionByKey[key] {
            cid = existing
        } else {
            cid = ConnectionID(nextConnectionId)
            nextConnectionId += 1
            let assumed = brokersWithoutApiVersions.contains(broker) ? config.apiVersionsFallbackRelease : nil
            connections[cid] = ConnectionStateMachine(id: cid, broker: broker, purpose: purpose, config: config, rng: rng.fork(), now: now,
                                                      assumedRelease: assumed, saltedPasswords: saltedPasswords)
            connectionByKey[key] = cid
            if let until = brokerThrottledUntil[broker] {
                if until > now { connections[cid]!.throttle(until: until) } else { brokerThrottledUntil[broker] = nil }
            }
            actions.append(.open(cid, broker: broker, host: address.host, port: address.port, tls: config.tls))
        }
        pending[id]!.attempts += 1
        pending[id]!.state = .sent(cid)
        let outbound = OutboundRequest(token: id, request: request, pin: pending[id]!.pin, brokerTimeout: brokerSideTimeout(of: request))
        let events = connections[cid]!.enqueue(outbound, now: now)
        apply(events, from: cid, now: now)
    }

    // MARK: coordinators

    private mutating func findCoordinator(_ key: CoordinatorKey, now: Instant) {
        guard findCoordinatorIds[key] == nil else { return }
        let id = takeRequestId()
        findCoordinatorIds[key] = id
        pending[id] = PendingRequest(owner: .findCoordinator(key), request: CoordinatorCache.findRequest(for: key), target: .anyBroker,
                                     firstAttempt: now, maxRetries: config.maxRetries)
        route(id, now: now)
    }

    private mutating func wakeCoordinatorWaiters(_ key: CoordinatorKey, now: Instant) {
        for id in pending.keys.sorted() where pending[id]?.state == .waitingCoordinator(key) {
            pending[id]!.state = .routing
            route(id, now: now)
        }
    }

    // MARK: metadata

    /// Asks for a refresh: now if the last one is at least `metadataMinAge` old, else when it
    /// will be. One refresh is outstanding at a time; asks meanwhile fold into one more.
    /// `urgent` asks come from answers that said our leaders or controller moved: requests
    /// wait on them, so they keep only `metadataStaleRefreshFloor` from the last refresh
    /// started (as franz-go lets such triggers bypass its min age with a shorter floor).
    mutating func requestMetadataRefresh(now: Instant, urgent: Bool = false) {
        if metadataRefreshId != nil {
            metadataRefreshAgain = true
            if urgent { metadataRefreshAgainUrgent = true }
            return
        }
        let last: Instant?
        let gap: Interval
        if urgent {
            last = [metadata.lastRefresh, metadataLastAttempt].compactMap { $0 }.max()
            gap = min(config.metadataStaleRefreshFloor, config.metadataMinAge)
        } else {
            last = metadata.lastRefresh
            gap = config.metadataMinAge
        }
        if let last, now < last + gap {
            let at = last + gap
            metadataRefreshScheduled = min(metadataRefreshScheduled ?? at, at)
            return
        }
        startMetadataRefresh(now: now)
    }

    /// The later of the last successful refresh and the last attempt; nil before any.
    private var lastMetadataActivity: Instant? {
        guard let success = metadata.lastRefresh else { return nil }
        return max(success, metadataLastAttempt ?? success)
    }

    mutating func startMetadataRefresh(now: Instant) {
        guard metadataRefreshId == nil, !isClosed else { return }
        metadataLastAttempt = now
        metadataRefreshScheduled = nil
        metadataRefreshAgain = false
        metadataRefreshAgainUrgent = false
        let id = takeRequestId()
        metadataRefreshId = id
        pending[id] = PendingRequest(owner: .metadataRefresh, request: metadata.refreshRequest(), target: .anyBroker,
                                     firstAttempt: now, maxRetries: config.maxRetries)
        route(id, now: now)
    }

    private mutating func wakeMetadataWaiters(now: Instant) {
        for id in pending.keys.sorted() where pending[id]?.state == .waitingMetadata {
            pending[id]!.state = .routing
            route(id, now: now)
        }
    }

    private mutating func metadataUpdated(now: Instant) {
        wakeMetadataWaiters(now: now)
        for id in sharded.keys.sorted() where sharded[id]?.waitingMetadata == true {
            sharded[id]!.waitingMetadata = false
            split(id, now: now)
        }
        if metadataRefreshAgain {
            if metadataRefreshUrgent {
                metadataRefreshUrgent = false
                startMetadataRefresh(now: now)
            } else {
                requestMetadataRefresh(now: now, urgent: metadataRefreshAgainUrgent)
            }
        }
        fetcherMetadataUpdated(now: now)
        producerMetadataUpdated(now: now)
    }

    private mutating func failMetadataWaiters(_ error: KafkaClientError, now: Instant) {
        for id in pending.keys.sorted() where pending[id]?.state == .waitingMetadata {
            finish(id, .failure(error), now: now)
        }
        for id in sharded.keys.sorted() where sharded[id]?.waitingMetadata == true {
            let s = sharded.removeValue(forKey: id)!
            actions.append(.complete(s.promise, .failure(error)))
        }
    }

    // MARK: split requests

    private mutating func split(_ parent: UInt64, now: Instant) {
        guard let s = sharded[parent] else { return }
        sharded[parent]!.rounds += 1
        let partitions = s.sharder.partitions(of: s.request).filter { s.retryPartitions?.contains($0) ?? true }
        let plan = PartitionSharding.plan(partitions) { metadata.leader(of: $0) }
        sharded[parent]!.unroutable = plan.unroutable.map { tp in
            let topicError = metadata.topicErrors[tp.topic] ?? .unknownTopicOrPartition
            if topicError != .noError { return (tp, topicError) }
            let partitionError = metadata.partitions[tp]?.errorCode ?? .unknownTopicOrPartition
            return (tp, partitionError != .noError ? partitionError : .leaderNotAvailable)
        }
        var shardIds: [UInt64] = []
        for (leader, keep) in plan.shards {
            let id = takeRequestId()
            shardIds.append(id)
            pending[id] = PendingRequest(owner: .shard(parent: parent), request: s.sharder.subset(s.request, keeping: keep),
                                         target: .broker(leader), pin: s.pin, firstAttempt: now, maxRetries: s.maxRetries)
        }
        sharded[parent]!.shards = shardIds
        if shardIds.isEmpty { completeShardedIfDone(parent, now: now) }
        for id in shardIds { route(id, now: now) }
    }

    private mutating func completeShardedIfDone(_ parent: UInt64, now: Instant) {
        guard let s = sharded[parent], s.shards.allSatisfy({ s.results[$0] != nil }) else { return }
        sharded[parent] = nil
        var responses: [any KafkaResponse] = []
        for id in s.shards {
            switch s.results[id]! {
            case .failure(let error):
                actions.append(.complete(s.promise, .failure(error)))
                return
            case .success(let r):
                responses.append(r)
            }
        }
        let merged = s.sharder.merge(s.kept + responses, unroutable: s.unroutable)
        // A partition answered by a broker that is no longer its leader (or with no leader
        // known) means our leaders are out of date: refresh, then ask again for just those
        // partitions, within the request's retry budget.
        let errors = s.sharder.partitionErrors(in: merged)
        let stale = Set(errors.filter { MetadataCache.isStale($0.1) }.map(\.0))
        if !stale.isEmpty { requestMetadataRefresh(now: now, urgent: true) }
        // A topic the fresh metadata did not know is not waited for: it does not exist.
        let missingTopics = Set(s.unroutable.filter { $0.1 == .unknownTopicOrPartition }.map(\.0))
        // Only this round's answers are candidates: what was kept from earlier rounds is final.
        let roundErrors = s.sharder.partitionErrors(in: s.sharder.merge(responses, unroutable: s.unroutable))
        let retriable = Set(roundErrors.filter { MetadataCache.isStale($0.1) && $0.1.isRetriable && !missingTopics.contains($0.0) }.map(\.0))
        if !retriable.isEmpty, s.rounds <= s.maxRetries, now < s.firstAttempt + config.retryTimeout, !isClosed {
            var next = s
            next.kept = [s.sharder.removing(retriable, from: merged)]
            next.unroutable = []
            next.retryPartitions = retriable
            next.shards = []
            next.results = [:]
            next.waitingMetadata = true
            sharded[parent] = next
            return
        }
        actions.append(.complete(s.promise, .success(merged)))
    }
}

/// The time a request may legitimately spend at the broker before answering; the engine
/// adds its overhead to this for the request's deadline.
func brokerSideTimeout(of request: any KafkaRequest) -> Interval {
    .milliseconds(request.brokerTimeoutMilliseconds ?? 0)
}
