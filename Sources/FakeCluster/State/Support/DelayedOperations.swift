/// Requests a broker holds back on virtual time: a fetch waiting for min bytes (until its
/// max wait), a produce with acks=all waiting for the high watermark (until its timeout).
/// The queue only remembers who waits for what; the handler re-evaluates a request when
/// one of its partitions changes (`touched`) and answers it finally when it expires.
struct DelayedOperations<Token: Hashable & Comparable & Sendable>: Sendable, Equatable {
    struct Entry: Equatable, Sendable {
        var token: Token
        var deadline: Instant
        var partitions: [TopicPartition]
    }

    private(set) var entries: [Token: Entry] = [:]

    var isEmpty: Bool { entries.isEmpty }

    mutating func park(_ token: Token, until deadline: Instant, watching partitions: [TopicPartition]) {
        entries[token] = Entry(token: token, deadline: deadline, partitions: partitions)
    }

    @discardableResult
    mutating func complete(_ token: Token) -> Entry? { entries.removeValue(forKey: token) }

    /// Waiting requests that watch any of `partitions`, in token order (still parked: the
    /// handler decides whether each is now satisfied and calls `complete`).
    func touched(_ partitions: [TopicPartition]) -> [Token] {
        entries.keys.sorted().filter { t in entries[t]!.partitions.contains { partitions.contains($0) } }
    }

    /// Removes and returns the requests whose deadline has passed, in (deadline, token) order.
    mutating func expire(now: Instant) -> [Entry] {
        let due = entries.values.filter { $0.deadline <= now }.sorted { ($0.deadline, $0.token) < ($1.deadline, $1.token) }
        for e in due { entries[e.token] = nil }
        return due
    }

    var nextDeadline: Instant? { entries.values.map(\.deadline).min() }
}
