/// Runs a recording's inputs through a fresh engine (the recorded configuration and seed)
/// and checks, at every entry, that the engine emitted the same actions as when it was
/// recorded. A production incident recorded this way becomes a deterministic test.
package struct RecordingReplay {
    /// Where the replay stopped agreeing with the recording.
    public struct Divergence: Sendable, Equatable, CustomStringConvertible {
        /// Index of the entry whose checkpoint failed (0-based, across segments).
        public var entry: Int
        public var now: Instant
        public var expectedActions: UInt64
        public var actualActions: UInt64
        public var expectedDigest: UInt64
        public var actualDigest: UInt64
        public var reason: String

        public var description: String {
            "entry \(entry) at \(now): \(reason) (recorded \(expectedActions) actions, digest \(hex(expectedDigest)); replay \(actualActions) actions, digest \(hex(actualDigest)))"
        }
    }

    public struct Report: Sendable {
        public var inputs = 0
        public var actions: UInt64 = 0
        public var connectionsOpened = 0
        public var bytesReceived = 0
        public var requests = 0
        public var completions = 0
        public var failures = 0
        /// Recorded time from the first to the last entry.
        public var duration = Interval.zero
        public var divergence: Divergence?
        public var truncatedTail = false
        public var endedCleanly = false
        /// Passwords were left out of the recording; a SASL login diverges.
        public var secretsMissing = false
        public var digest = ActionDigest()

        public var ok: Bool { divergence == nil }
    }

    /// Replays `recording`. `onAction` sees every action the replayed engine emits.
    public static func run(_ recording: FlightRecording,
                           onAction: (Action, Instant) -> Void = { _, _ in }) throws(FlightRecordingError) -> Report {
        // OAUTHBEARER tokens are recorded inputs (`.oauthToken`): the provider is never called.
        let (config, secretsMissing) = try RecordedConfig.decode(recording.start.config)
        var engine = ClientEngine(config: config, seed: recording.start.seed)
        var report = Report()
        report.truncatedTail = recording.truncatedTail
        report.endedCleanly = recording.endedCleanly
        report.secretsMissing = secretsMissing
        if let first = recording.entries.first, let last = recording.entries.last { report.duration = last.now - first.now }
        var now = Instant.zero

        /// Takes actions from the engine until `count` have been seen; false when it has fewer.
        func catchUp(to count: UInt64) -> Bool {
            while report.digest.actions < count {
                guard let a = engine.pollAction() else { return false }
                report.digest.record(a)
                switch a {
                case .open: report.connectionsOpened += 1
                case .complete(_, .success): report.completions += 1
                case .complete(_, .failure): report.completions += 1; report.failures += 1
                default: break
                }
                onAction(a, now)
            }
            return true
        }

        for (index, entry) in recording.entries.enumerated() {
            let reached = catchUp(to: entry.actionsObserved)
            if !reached || report.digest.value != entry.digest {
                report.divergence = Divergence(entry: index, now: entry.now, expectedActions: entry.actionsObserved, actualActions: report.digest.actions,
                                               expectedDigest: entry.digest, actualDigest: report.digest.value,
                                               reason: reached ? "the engine emitted different actions" : "the engine emitted fewer actions")
                break
            }
            now = entry.now
            guard case .input(let input) = entry.payload else { continue }
            report.inputs += 1
            switch input {
            case .bytesReceived(_, let bytes): report.bytesReceived += bytes.count
            case .request: report.requests += 1
            default: break
            }
            engine.handle(input, now: now)
        }
        if report.divergence == nil {
            // Whatever the last inputs caused, recorded or not (a crash loses the tail).
            while let a = engine.pollAction() {
                report.digest.record(a)
                onAction(a, now)
            }
        }
        report.actions = report.digest.actions
        return report
    }
}

private func hex(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
