import KafkaProtocol

/// User requests split by key (`.keyCoordinators`, `.namedBrokers`, `.everyBroker`):
/// coordinators looked up per key, keys sharing a broker batched in one part, the parts'
/// answers merged; keys whose coordinator moved asked again within the retry budget.
extension ClientEngine {
    mutating func startKeyed(_ request: any KafkaRequest, sharder: any KeySharder, pin: ClosedRange<Int16>?, maxRetries: Int,
                             promise: PromiseID, now: Instant) {
        let id = takeRequestId()
        keyed[id] = KeyedRequest(promise: promise, request: request, sharder: sharder, pin: pin, maxRetries: maxRetries, firstAttempt: now)
        splitByKey(id, now: now)
    }

    /// Plans and sends this round's parts, or waits for what planning needs.
    mutating func splitByKey(_ parent: UInt64, now: Instant) {
        guard var s = keyed[parent], s.shards.isEmpty else { return }
        let failedKeys = Set(s.failed.map(\.0))
        var keys: [String] = []
        var seen: Set<String> = []
        for k in s.sharder.keys(of: s.request) where (s.retryKeys?.contains(k) ?? true) && !failedKeys.contains(k) && seen.insert(k).inserted {
            keys.append(k)
        }
        var plan: [(RequestTarget, [String])] = []
        switch s.sharder.routing {
        case .coordinator(let kind):
            let missing = keys.map { CoordinatorKey(kind, $0) }.filter { coordinators[$0] == nil }
            if !missing.isEmpty {
                s.waitingCoordinators = Set(missing)
                keyed[parent] = s
                // A lookup failing at once (no broker to ask) ends the wait re-entrantly.
                for k in missing { findCoordinator(k, now: now) }
                return
            }
            plan = KeySharding.plan(keys) { coordinators[CoordinatorKey(kind, $0)]?.nodeId }.map { ($0.0.map { .broker($0) } ?? .anyBroker, $0.1) }
        case .namedBroker:
            plan = KeySharding.plan(keys) { KeySharding.namedBroker(ofKey: $0) }.map { ($0.0.map { .broker($0) } ?? .anyBroker, $0.1) }
        case .everyBroker:
            // The broker list must be current: a broker our metadata lost while it was cut
            // off or down would be skipped with its part of the answer. One refresh first
            // (urgent asks keep only the stale-refresh floor from the last one started).
            if !s.refreshedBrokers {
                s.refreshedBrokers = true
                s.waitingMetadata = true
                keyed[parent] = s
                requestMetadataRefresh(now: now, urgent: true)
                return
            }
            if metadata.brokers.isEmpty {
                if metadata.lastRefresh != nil {
                    keyed[parent] = nil
                    actions.append(.complete(s.promise, .failure(.unroutable("no brokers in the cluster metadata"))))
                    return
                }
                s.waitingMetadata = true
                keyed[parent] = s
                requestMetadataRefresh(now: now)
                return
            }
            plan = metadata.brokerIds.map { (.broker($0), ["\($0)"]) }
        }
        for (target, partKeys) in plan {
            let id = takeRequestId()
            s.shards.append(id)
            s.shardKeys[id] = partKeys
            let part = s.sharder.routing == .everyBroker ? s.request : s.sharder.subset(s.request, keeping: Set(partKeys))
            pending[id] = PendingRequest(owner: .shard(parent: parent), request: part, target: target, pin: s.pin,
                                         firstAttempt: now, maxRetries: s.maxRetries)
        }
        keyed[parent] = s
        if s.shards.isEmpty { return completeKeyedIfDone(parent, now: now) }
        for id in s.shards { route(id, now: now) }
    }

    /// A coordinator lookup ended: requests waiting for it are split once nothing else is
    /// missing; a failed lookup answers its key with the error.
    mutating func keyedLookupEnded(_ key: CoordinatorKey, error: KafkaClientError?, now: Instant) {
        for id in keyed.keys where keyed[id]?.waitingCoordinators.contains(key) == true {
            keyed[id]!.waitingCoordinators.remove(key)
            if let error { keyed[id]!.failed.append((key.key, Self.errorCode(of: error))) }
            if keyed[id]!.waitingCoordinators.isEmpty { splitByKey(id, now: now) }
        }
    }

    mutating func keyedMetadataUpdated(now: Instant) {
        for id in keyed.keys where keyed[id]?.waitingMetadata == true {
            keyed[id]!.waitingMetadata = false
            splitByKey(id, now: now)
        }
    }

    mutating func failKeyedMetadataWaiters(_ error: KafkaClientError) {
        for id in keyed.keys where keyed[id]?.waitingMetadata == true {
            let s = keyed.removeValue(forKey: id)!
            actions.append(.complete(s.promise, .failure(error)))
        }
    }

    mutating func completeKeyedIfDone(_ parent: UInt64, now: Instant) {
        guard let s = keyed[parent], s.waitingCoordinators.isEmpty, !s.waitingMetadata,
              s.shards.allSatisfy({ s.results[$0] != nil }) else { return }
        var responses: [any KafkaResponse] = []
        var failed = s.failed
        var firstError: KafkaClientError?
        var partFailedKeys: [String] = []
        for id in s.shards {
            switch s.results[id]! {
            case .success(let r): responses.append(r)
            case .failure(let error):
                firstError = firstError ?? error
                if Self.mayMeanMoved(error) { partFailedKeys += s.shardKeys[id, default: []] }
                failed += s.shardKeys[id, default: []].map { ($0, Self.errorCode(of: error)) }
            }
        }
        let order = s.sharder.keys(of: s.request)
        // Keys whose coordinator moved since we looked it up (NOT_COORDINATOR,
        // COORDINATOR_NOT_AVAILABLE in their slot, or their part failed without an answer:
        // its broker may be gone) are looked up and asked again, within the request's retry
        // budget; the rest of the answer is kept.
        if case .coordinator(let kind) = s.sharder.routing, !isClosed, s.rounds < s.maxRetries, now < s.firstAttempt + config.retryTimeout {
            let roundErrors = responses.flatMap { s.sharder.keyErrors(in: $0) }
            let moved = Set(roundErrors.filter { CoordinatorCache.meansMoved($0.1) }.map(\.0) + partFailedKeys)
            if !moved.isEmpty {
                for k in moved.sorted() { coordinators.invalidate(CoordinatorKey(kind, k)) }
                var next = s
                next.rounds += 1
                next.kept = [s.sharder.removing(moved, from: s.sharder.merge(s.kept + responses, failed: failed, order: order))]
                next.failed = []
                next.retryKeys = moved
                next.shards = []
                next.shardKeys = [:]
                next.results = [:]
                keyed[parent] = next
                splitByKey(parent, now: now)
                return
            }
        }
        keyed[parent] = nil
        // Nothing answered at all: the failure is the request's, not its keys'.
        if responses.isEmpty, s.kept.isEmpty, let firstError {
            actions.append(.complete(s.promise, .failure(firstError)))
            return
        }
        actions.append(.complete(s.promise, .success(s.sharder.merge(s.kept + responses, failed: failed, order: order))))
    }

    /// A part that failed for its connection (after its own retries) may have gone to a
    /// coordinator that is gone; one refused for its version or cancelled did not.
    static func mayMeanMoved(_ error: KafkaClientError) -> Bool {
        if case .retriesExhausted(_, let last) = error { return last.isConnectionLoss }
        return error.isConnectionLoss
    }

    /// The code a key's slot carries when its part or lookup failed without a broker's answer.
    static func errorCode(of error: KafkaClientError) -> KafkaErrorCode {
        switch error {
        case .brokerError(let code, _): return code
        case .retriesExhausted(_, let last): return errorCode(of: last)
        case .requestTimeout: return .requestTimedOut
        case .unsupportedVersion: return .unsupportedVersion
        default: return .networkException
        }
    }
}
