/// One partition's records on their way: batches in produce order, the front `sentCount`
/// of them sent and awaiting an answer that still counts.
///
/// Order across retries: answers for one partition arrive in order (one broker, one
/// connection), so a counting answer is always for the front batch. When an attempt fails,
/// the partition *rewinds*: the generation moves on, requests still outstanding become
/// stale (their answers are ignored), and nothing is sent again until every stale request
/// has come back; then the same batches go out again in the same order, with the same
/// sequence numbers, to whichever broker leads the partition by then.
struct PartitionQueue {
    var batches: [ProducerBatch] = []
    var sentCount = 0
    var staleOutstanding = 0
    var generation: UInt64 = 0
    /// The broker the counting requests went to.
    var sentTo: Int32 = -1
    var leader: Int32 = -1
    var leaderEpoch: Int32 = -1
    var backoffUntil: Instant? = nil
    /// Failed attempts in a row, for the backoff.
    var failures = 0
    /// The sequence the next batch sent for the first time gets.
    var nextSequence: Int32 = 0
    var bufferedRecords = 0
    /// Body bytes of the last batch closed (full or sent): the next one reserves that much.
    var lastBatchBody = 0

    /// Sequence numbers wrap at Int32.max to 0, as the broker expects.
    static func add(_ s: Int32, _ n: Int) -> Int32 {
        Int32((Int64(s) + Int64(n)) % (Int64(Int32.max) + 1))
    }

    /// The open batch, if the last one is still taking records.
    var hasOpenBatch: Bool { !(batches.last?.closed ?? true) }

    /// The topic was created again under its name: the new one's leader epochs start
    /// from 0 again, below the old one's, and its partitions hold no producer state, so
    /// the sequence starts at 0 (unless batches of the old numbering are still out).
    mutating func startOver() {
        leader = -1
        leaderEpoch = -1
        failures = 0
        backoffUntil = nil
        if batches.allSatisfy({ $0.sequence < 0 }) { nextSequence = 0 }
    }

    /// Forgets the outstanding requests: their answers no longer count (see above).
    mutating func rewind(resolvedOne: Bool) {
        staleOutstanding += max(0, sentCount - (resolvedOne ? 1 : 0))
        sentCount = 0
        generation &+= 1
    }

    /// Gives batches from `index` on (those with a sequence) consecutive sequences from `start`.
    mutating func renumber(from index: Int, start: Int32) {
        var s = start
        var i = index
        while i < batches.count, batches[i].sequence >= 0 {
            batches[i].sequence = s
            s = Self.add(s, batches[i].count)
            i += 1
        }
        nextSequence = s
    }

    /// Whether the batch at `sentCount` may go to `broker` now.
    func canSend(to broker: Int32, now: Instant, lingerDone: (ProducerBatch) -> Bool, pipelining: Int) -> Bool {
        guard leader == broker, staleOutstanding == 0, sentCount < batches.count, sentCount < pipelining else { return false }
        if sentCount > 0 && sentTo != broker { return false }
        if let b = backoffUntil, now < b { return false }
        let next = batches[sentCount]
        return next.closed || lingerDone(next)
    }
}

/// A topic as the producer sees it: its partitions once metadata named them, records
/// waiting for that, and the partitioner's running state.
struct ProducerTopic {
    var name: String
    var partitions: [PartitionQueue] = []
    /// Partitions with a leader, ascending: what the partitioners choose among.
    var available: [Int32] = []
    /// Records produced before metadata knew the topic, in order, with their charge, body
    /// size at deltas 0, and arrival.
    var waiting: [WaitingRecord] = []
    var missingRefreshes = 0
    /// Metadata said the topic is gone after it had existed: its records fail.
    var deleted = false
    /// The ID metadata gave the topic (nil before Metadata v10).
    var topicId: KafkaUUID? = nil
    var sticky: Int32 = -1
    /// The sticky partition whose batch filled last: the next choice avoids it (KIP-480).
    var stickyBefore: Int32 = -1
    var stickyBytes = 0
    var roundRobin = 0

    init(name: String) { self.name = name }

    var isKnown: Bool { !partitions.isEmpty }
}

/// A record produced before metadata knew its topic, with its charge, body size at deltas 0,
/// and arrival. A struct, not a tuple: a tuple's copies and destroys in an array go through
/// the runtime's generic tuple witnesses.
struct WaitingRecord {
    var record: ProducerRecord
    var charge: Int
    var baseBody: Int
    var at: Instant
}
