import KafkaProtocol

/// What happens to an answer: the engine's own requests (metadata, FindCoordinator) are
/// applied; a wrong route (coordinator moved or loading, not the controller) and retriable
/// failures are retried within the request's budget; everything else completes the request
/// for its owner — the user, a split request, or a component.
extension ClientEngine {
    mutating func handleResult(_ id: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, from connection: ConnectionID, now: Instant) {
        // The owner and target only, not the pending request: a copy of it would hold the
        // request (a produce request's batches) while the owner handles the answer, and a
        // producer reuses an acknowledged batch's storage only when nothing else holds it.
        guard let (state, owner, target) = pending[id].map({ ($0.state, $0.owner, $0.target) }), state == .sent(connection) else { return }
        switch result {
        case .failure(let error):
            if error.isRetriable { retry(id, after: error, now: now) } else { finish(id, .failure(error), now: now) }
        case .success(let response):
            if case .metadataRefresh = owner, let m = response as? MetadataResponse {
                pending[id] = nil
                refresh.ended()
                applyMetadata(m, now: now)
                metadataUpdated(now: now)
                return
            }
            if case .findCoordinator(let key) = owner, let f = response as? FindCoordinatorResponse {
                switch CoordinatorCache.parse(f) {
                case .success(let entry):
                    pending[id] = nil
                    coordinators.findEnded(key)
                    coordinators.set(key, entry)
                    learnedAddresses[entry.nodeId] = entry.address
                    wakeCoordinatorWaiters(key, now: now)
                    keyedLookupEnded(key, error: nil, now: now)
                case .failure(let error):
                    if error.isRetriable { retry(id, after: error, now: now) } else { finish(id, .failure(error), now: now) }
                }
                return
            }
            if let m = response as? MetadataResponse {
                // A user's metadata answer is as fresh as our own refresh would be: what
                // waited for an address it names goes now.
                applyMetadata(m, now: now)
                wakeMetadataWaiters(now: now)
            }
            // Top-level errors are the caller's to interpret, except the ones that say the
            // route was wrong: a coordinator that moved or is still loading, a controller
            // that is no longer one. Those are retried here, like a failed connection.
            if let code = response.topLevelErrorCode, code != .noError {
                if let key = target.coordinatorKey, CoordinatorCache.meansMoved(code) || code == .coordinatorLoadInProgress {
                    if CoordinatorCache.meansMoved(code) { coordinators.invalidate(key) }
                    retry(id, after: .brokerError(code, message: nil), now: now)
                    return
                }
                if target == .controller, code == .notController {
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
    mutating func retry(_ id: UInt64, after error: KafkaClientError, now: Instant, waitForMetadata: Bool = false) {
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
        if config.reportDecisions {
            decisions.append(.retrying(apiKey: type(of: p.request).apiKey, attempt: p.attempts + 1, reason: error,
                                       delay: waitForMetadata ? nil : delay))
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
    mutating func finish(_ id: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        // The request goes here (see `handleResult`).
        guard let owner = pending.removeValue(forKey: id)?.owner else { return }
        switch owner {
        case .user(let promise):
            actions.append(.complete(promise, result))
        case .shard(let parent):
            if sharded[parent] != nil {
                sharded[parent]!.results[id] = result
                completeShardedIfDone(parent, now: now)
            } else if keyed[parent] != nil {
                keyed[parent]!.results[id] = result
                completeKeyedIfDone(parent, now: now)
            }
        case .metadataRefresh:
            refresh.ended()
            if case .failure(let error) = result { failMetadataWaiters(error, now: now) }
        case .findCoordinator(let key):
            coordinators.findEnded(key)
            if case .failure(let error) = result {
                for wid in pending.keys where pendingState(wid) == .waitingCoordinator(key) {
                    finish(wid, .failure(error), now: now)
                }
                keyedLookupEnded(key, error: error, now: now)
            }
        case .component(let component, let tag):
            componentAnswered(component, tag: tag, result, now: now)
        }
    }
}
