import KafkaProtocol

/// KIP-227: the fetch session with one broker. The first fetch is full (epoch 0) and asks
/// the broker for a session; later fetches are incremental: they name only partitions whose
/// fetch state changed, and the partitions to forget. Any session error or failed request
/// drops the session, and the next fetch is full again.
struct FetchSession: Equatable {
    /// What the broker holds for a partition in the session.
    struct Entry: Equatable {
        var offset: Int64
        var currentLeaderEpoch: Int32
        var lastFetchedEpoch: Int32
        var maxBytes: Int32
    }

    var enabled: Bool
    private(set) var id: Int32 = 0
    private(set) var epoch: Int32 = 0
    /// The partitions the broker's session holds, as last sent.
    private(set) var entries: [TopicPartition: Entry] = [:]

    init(enabled: Bool) { self.enabled = enabled }

    /// A request being built: what goes on the wire and what the session becomes if the
    /// broker accepts it.
    struct Plan {
        var sessionId: Int32
        var sessionEpoch: Int32
        var send: [(TopicPartition, Entry)]
        var forget: [TopicPartition]
        var isFull: Bool
        var wanted: [TopicPartition: Entry]
    }

    /// The request for `wanted` (sorted by partition in the result).
    func plan(_ wanted: [TopicPartition: Entry]) -> Plan {
        let keys = wanted.keys.sorted()
        guard enabled else {
            return Plan(sessionId: 0, sessionEpoch: -1, send: keys.map { ($0, wanted[$0]!) }, forget: [], isFull: true, wanted: wanted)
        }
        guard id != 0 else {
            return Plan(sessionId: 0, sessionEpoch: 0, send: keys.map { ($0, wanted[$0]!) }, forget: [], isFull: true, wanted: wanted)
        }
        let send = keys.filter { entries[$0] != wanted[$0] }.map { ($0, wanted[$0]!) }
        let forget = entries.keys.filter { wanted[$0] == nil }.sorted()
        return Plan(sessionId: id, sessionEpoch: epoch, send: send, forget: forget, isFull: false, wanted: wanted)
    }

    /// The broker answered `plan` without a top-level error.
    mutating func accepted(_ plan: Plan, responseSessionId: Int32) {
        guard enabled else { return }
        if plan.isFull {
            guard responseSessionId != 0 else { reset(); return }  // the broker keeps no session
            id = responseSessionId
            epoch = 1
        } else {
            epoch = epoch == Int32.max ? 1 : epoch + 1
        }
        entries = plan.wanted
    }

    /// The session is gone (session error, failed request, broker change).
    mutating func reset() {
        id = 0
        epoch = 0
        entries = [:]
    }

    /// Errors that mean the broker no longer has our session.
    static func isSessionError(_ code: KafkaErrorCode) -> Bool {
        code == .fetchSessionIdNotFound || code == .invalidFetchSessionEpoch || code == .fetchSessionTopicIdError
    }
}
