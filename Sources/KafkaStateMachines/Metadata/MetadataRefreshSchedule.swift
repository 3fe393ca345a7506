/// When the engine refreshes metadata: one refresh outstanding at a time, asks meanwhile
/// folded into one more; never sooner than the minimum age after the last success, except
/// for urgent asks (answers said our leaders or controller moved, or a request's broker or
/// controller is missing from the metadata: requests wait on them),
/// which keep only `metadataStaleRefreshFloor` from the last refresh started (as franz-go
/// lets such triggers bypass its min age); a periodic refresh at the maximum age. It only
/// decides: the engine sends the request (ClientEngine+Metadata.swift).
struct MetadataRefreshSchedule {
    /// The outstanding refresh's request id.
    private(set) var inFlight: UInt64?
    /// A refresh waiting for the minimum age.
    private(set) var scheduled: Instant?
    /// Asks made while one was in flight, folded into one more after it.
    private var again = false
    /// Whether a folded-in ask was urgent.
    private var againUrgent = false
    /// A folded-in ask about topics never asked about: it skips the minimum age.
    var nextSkipsMinAge = false
    /// When the last refresh was started; with a failed refresh this, not the cache's last
    /// success, dates the next periodic one (else a past deadline would repeat at once).
    private var lastAttempt: Instant?

    /// An ask for a refresh: true when one should start now; otherwise it is folded into
    /// the one in flight or scheduled for when the minimum age (or the floor) allows.
    mutating func ask(now: Instant, urgent: Bool, lastRefresh: Instant?, config: EngineConfig) -> Bool {
        if inFlight != nil {
            again = true
            if urgent { againUrgent = true }
            return false
        }
        let last: Instant?
        let gap: Interval
        if urgent {
            last = [lastRefresh, lastAttempt].compactMap { $0 }.max()
            gap = min(config.metadataStaleRefreshFloor, config.metadataMinAge)
        } else {
            last = lastRefresh
            gap = config.metadataMinAge
        }
        if let last, now < last + gap {
            let at = last + gap
            scheduled = min(scheduled ?? at, at)
            return false
        }
        return true
    }

    /// A refresh with request id `id` was started.
    mutating func started(_ id: UInt64, now: Instant) {
        lastAttempt = now
        scheduled = nil
        again = false
        againUrgent = false
        inFlight = id
    }

    /// The refresh in flight was answered or failed.
    mutating func ended() { inFlight = nil }

    enum FollowUp { case none, startNow, ask(urgent: Bool) }

    /// After a successful refresh was applied: the refresh the asks folded into it want.
    mutating func followUp() -> FollowUp {
        guard again else { return .none }
        if nextSkipsMinAge {
            nextSkipsMinAge = false
            return .startNow
        }
        return .ask(urgent: againUrgent)
    }

    /// The later of the last successful refresh and the last attempt; nil before any.
    private func lastActivity(lastRefresh: Instant?) -> Instant? {
        guard let success = lastRefresh else { return nil }
        return max(success, lastAttempt ?? success)
    }

    func nextDeadline(lastRefresh: Instant?, config: EngineConfig) -> Instant? {
        var d = scheduled
        if inFlight == nil, let last = lastActivity(lastRefresh: lastRefresh) {
            let periodic = last + config.metadataMaxAge
            d = d.map { min($0, periodic) } ?? periodic
        }
        return d
    }

    /// Whether a refresh is due at `now` (a scheduled one, or the periodic one).
    mutating func due(now: Instant, lastRefresh: Instant?, config: EngineConfig) -> Bool {
        if let at = scheduled, now >= at {
            scheduled = nil
            return true
        }
        if inFlight == nil, let last = lastActivity(lastRefresh: lastRefresh), now >= last + config.metadataMaxAge { return true }
        return false
    }
}
