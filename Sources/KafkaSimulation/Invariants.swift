import KafkaStateMachines

/// The invariant names a scenario may select; each is owned by one checker.
package enum Invariant {
    package static let all = [
        "completion",            // RequestLedger: each request completes exactly once
        "sent-before-complete",  // RequestLedger: no success before the broker saw the request
        "liveness",              // RequestLedger: liveness-phase requests succeed within the bound
        "acked-in-log",          // LogChecker: acked produce records are in the log at their offsets
        "offsets-visible",       // ListOffsetsWorkload: latest offset covers every acked record
        "commit-readback",       // CommitWorkload: OffsetFetch returns the last committed offset
        "settled",               // each workload: its last requests were clean
        "throttle",              // Simulation: nothing sent to a broker while it throttles us (KIP-219)
        "consume-order",         // ConsumerWorkload: offsets only go back after a reported data loss
        "consumed-log",          // ConsumerChecker: the consumer caught up and saw the leader's log
        "read-committed",        // ConsumerChecker: read_committed saw exactly the committed values, in order
        "determinism",           // Sweep: the action hash matches across two runs
        "producer-delivery",     // ProducerWorkload: every record reported once, acked ones once in the log, in produce order
        "producer-flushed",      // ProducerWorkload: the flush completed with nothing left buffered
        "producer-idempotence",  // ProducerWorkload: a defaulted idempotence turned off on an old cluster is on again after its upgrade
        "txn-progress",          // TxnProducerWorkload: every transaction ended (unless fenced), answers as expected
        "txn-visible",           // TxnChecker: read_committed sees exactly the committed transactions, once, in order
        "txn-closed",            // TxnChecker: no transaction left open at the coordinator
        "txn-timeout",           // TxnChecker.overdue: no transaction stays Ongoing past its timeout (virtual time)
    ]
}

/// Every violation found, in the order found (the first is the one reported).
package struct Violations: Sendable {
    package private(set) var list: [String] = []
    /// When the first violation was found (virtual ns).
    package private(set) var firstAt: UInt64?
    let enabled: [String]

    package init(enabled: [String]) { self.enabled = enabled }

    package func checks(_ name: String) -> Bool { enabled.isEmpty || enabled.contains(name) }

    package mutating func add(_ name: String, _ message: String, at now: UInt64) {
        guard checks(name) else { return }
        if list.isEmpty { firstAt = now }
        list.append("\(name) at \(DurationText.format(now / 1_000_000 * 1_000_000)): \(message)")
    }
}

/// Tracks each request from issue to completion: exactly one completion each, none lost,
/// no success before the broker could have seen it, and bounded latency once faults stop.
package struct RequestLedger: Sendable {
    struct Entry: Sendable {
        var apiKey: ApiKey
        var issuedAt: UInt64
        var liveness: Bool
    }

    var outstanding: [PromiseID: Entry] = [:]
    var completed: Set<PromiseID> = []
    /// When the broker last received a request of each API key.
    var lastDelivered: [ApiKey: UInt64] = [:]
    package let livenessBound: UInt64
    package private(set) var issuedCount = 0
    package private(set) var succeeded = 0

    package init(livenessBound: UInt64) { self.livenessBound = livenessBound }

    package mutating func issued(_ p: PromiseID, _ key: ApiKey, at now: UInt64, liveness: Bool) {
        outstanding[p] = Entry(apiKey: key, issuedAt: now, liveness: liveness)
        issuedCount += 1
    }

    package mutating func delivered(_ key: ApiKey, at now: UInt64) { lastDelivered[key] = now }

    package mutating func completed(_ p: PromiseID, success: Bool, error: String, at now: UInt64, into v: inout Violations) {
        guard let e = outstanding.removeValue(forKey: p) else {
            v.add("completion", completed.contains(p) ? "\(p) completed twice" : "\(p) completed but never issued", at: now)
            return
        }
        completed.insert(p)
        if success {
            succeeded += 1
            if (lastDelivered[e.apiKey] ?? 0) < e.issuedAt || now <= e.issuedAt {
                v.add("sent-before-complete", "\(p) (\(e.apiKey.name)) succeeded before any \(e.apiKey.name) request reached a broker", at: now)
            }
        }
        if e.liveness {
            if !success { v.add("liveness", "\(p) (\(e.apiKey.name)) failed after faults healed: \(error)", at: now) }
            else if now - e.issuedAt > livenessBound {
                v.add("liveness", "\(p) (\(e.apiKey.name)) took \(DurationText.format((now - e.issuedAt) / 1_000_000 * 1_000_000)) after faults healed", at: now)
            }
        }
    }

    /// At the end of a run: everything issued must have completed.
    package func finish(at now: UInt64, into v: inout Violations) {
        for p in outstanding.keys.sorted() {
            let e = outstanding[p]!
            v.add("completion", "\(p) (\(e.apiKey.name), issued at \(DurationText.format(e.issuedAt / 1_000_000 * 1_000_000))) never completed", at: now)
        }
    }
}
