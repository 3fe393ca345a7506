import KafkaProtocol

/// Where a pending request goes: its target resolved to a broker (any, a named node, the
/// controller, a coordinator), or the request parked until what it needs is known.
extension ClientEngine {
    func address(of broker: BrokerID) -> BrokerAddress? {
        switch broker {
        case .seed(let i): return i < config.seeds.count ? config.seeds[i] : nil
        case .node(let n): return metadata.brokers[n] ?? learnedAddresses[n]
        }
    }

    /// Sends a pending request toward its target, or parks it until what it needs is known.
    mutating func route(_ id: UInt64, now: Instant) {
        guard let p = pending[id] else { return }
        let broker: BrokerID
        switch p.target {
        case .anyBroker, .automatic, .partitionLeaders, .keyCoordinators, .everyBroker, .namedBrokers:
            guard let b = pickAnyBroker(purpose: ConnectionPurpose.of(type(of: p.request).apiKey)) else {
                finish(id, .failure(.unroutable("no seed brokers configured")), now: now)
                return
            }
            broker = b
        case .broker(let n):
            guard address(of: .node(n)) != nil else { return waitForMetadata(id, missing: "broker \(n)", now: now) }
            // Ordered requests of one owner to one broker reach it in the order made (the
            // producer pipelines a partition's batches by sequence): while an earlier one
            // waits for metadata, a later one waits behind it. Waiters wake in id order.
            if p.orderedPerBroker, orderedRequestWaiting(before: id, broker: n, owner: p.owner) {
                updatePending(id) { $0.state = .waitingMetadata }
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
                updatePending(id) { $0.state = .waitingCoordinator(key) }
                findCoordinator(key, now: now)
                return
            }
            broker = .node(entry.nodeId)
        }
        send(id, to: broker, now: now)
    }

    private func orderedRequestWaiting(before id: UInt64, broker n: Int32, owner: PendingRequest.Owner) -> Bool {
        guard case .component(let component, _) = owner else { return false }
        // Ids only grow: the requests made before `id` come first.
        for i in pending.values.indices {
            guard pending.keys[i] < id else { break }
            let r = pending.values[i]
            guard r.orderedPerBroker, r.state == .waitingMetadata, r.target == .broker(n), case .component(component, _) = r.owner else { continue }
            return true
        }
        return false
    }

    mutating func waitForMetadata(_ id: UInt64, missing: String, now: Instant) {
        if pending[id]!.waitedForMetadata && metadata.lastRefresh != nil {
            finish(id, .failure(.unroutable("\(missing) is not in the cluster metadata")), now: now)
            return
        }
        pending[id]!.waitedForMetadata = true
        updatePending(id) { $0.state = .waitingMetadata }
        // Urgent (only the stale-refresh floor, not the minimum age): the request can go
        // nowhere until the refresh, and a broker that left the metadata while it was
        // stopped must not hold requests for it for the whole minimum age after it is back.
        requestMetadataRefresh(now: now, urgent: true)
    }

    /// An already-connected broker if there is one (fewest connections opened), else the
    /// next broker in turn, so that retries after a failed dial move on to another broker.
    mutating func pickAnyBroker(purpose: ConnectionPurpose) -> BrokerID? {
        let candidates: [BrokerID] = metadata.brokers.isEmpty
            ? config.seeds.indices.map { BrokerID.seed($0) }
            : metadata.brokerIds.map { BrokerID.node($0) }
        guard !candidates.isEmpty else { return nil }
        if let connected = candidates.first(where: { pool.isConnected($0, purpose: purpose) }) {
            return connected
        }
        defer { anyBrokerCursor += 1 }
        return candidates[anyBrokerCursor % candidates.count]
    }

    // MARK: coordinators

    mutating func findCoordinator(_ key: CoordinatorKey, now: Instant) {
        guard !coordinators.isFinding(key) else { return }
        let id = takeRequestId()
        coordinators.findStarted(key, request: id)
        pending[id] = PendingRequest(owner: .findCoordinator(key), request: CoordinatorCache.findRequest(for: key), target: .anyBroker,
                                     firstAttempt: now, maxRetries: config.maxRetries)
        route(id, now: now)
    }

    mutating func wakeCoordinatorWaiters(_ key: CoordinatorKey, now: Instant) {
        for id in pending.keys where pendingState(id) == .waitingCoordinator(key) {
            updatePending(id) { $0.state = .routing }
            route(id, now: now)
        }
    }
}
