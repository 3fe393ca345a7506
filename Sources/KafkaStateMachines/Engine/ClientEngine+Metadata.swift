import KafkaProtocol

/// Metadata refreshes (when: MetadataRefreshSchedule) and what waits on them: requests for
/// a broker, the controller or a leader not known yet, split requests for unknown topics,
/// and the components.
extension ClientEngine {
    /// Asks for a refresh: now if the last one is at least `metadataMinAge` old, else when it
    /// will be. One refresh is outstanding at a time; asks meanwhile fold into one more.
    /// `urgent` asks come from answers that said our leaders or controller moved: requests
    /// wait on them, so they keep only `metadataStaleRefreshFloor` from the last refresh
    /// started.
    mutating func requestMetadataRefresh(now: Instant, urgent: Bool = false) {
        if refresh.ask(now: now, urgent: urgent, lastRefresh: metadata.lastRefresh, config: config) { startMetadataRefresh(now: now) }
    }

    mutating func startMetadataRefresh(now: Instant) {
        guard refresh.inFlight == nil, !isClosed else { return }
        let id = takeRequestId()
        refresh.started(id, now: now)
        pending[id] = PendingRequest(owner: .metadataRefresh, request: metadata.refreshRequest(autoCreate: config.allowAutoTopicCreation), target: .anyBroker,
                                     firstAttempt: now, maxRetries: config.maxRetries)
        route(id, now: now)
    }

    mutating func wakeMetadataWaiters(now: Instant) {
        for id in pending.keys where pendingState(id) == .waitingMetadata {
            updatePending(id) { $0.state = .routing }
            route(id, now: now)
        }
    }

    /// Our own refresh was applied.
    mutating func metadataUpdated(now: Instant) {
        wakeMetadataWaiters(now: now)
        for id in sharded.keys where sharded[id]?.waitingMetadata == true {
            sharded[id]!.waitingMetadata = false
            split(id, now: now)
        }
        keyedMetadataUpdated(now: now)
        switch refresh.followUp() {
        case .none: break
        case .startNow: startMetadataRefresh(now: now)
        case .ask(let urgent): requestMetadataRefresh(now: now, urgent: urgent)
        }
        componentsMetadataUpdated(now: now)
    }

    mutating func failMetadataWaiters(_ error: KafkaClientError, now: Instant) {
        for id in pending.keys where pendingState(id) == .waitingMetadata {
            finish(id, .failure(error), now: now)
        }
        for id in sharded.keys where sharded[id]?.waitingMetadata == true {
            let s = sharded.removeValue(forKey: id)!
            actions.append(.complete(s.promise, .failure(error)))
        }
        failKeyedMetadataWaiters(error)
    }
}
