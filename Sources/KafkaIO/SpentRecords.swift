import KafkaStateMachines

/// Runs of records the engine is done with, whose keys and values a producing thread frees
/// one record at a time, between the allocations of the records it makes (see
/// `CommandInbox.recycle`).
///
/// glibc keeps a few freed blocks of each size in a per-thread cache (tcache, 7 of them),
/// and an allocation of that size takes one straight back. Freeing a run of thousands at
/// once overflows the cache into the arena's bins, where neighbours coalesce; each later
/// allocation then splits a block off again. At 100 B that was about 200 instructions for
/// each malloc and each free (callgrind), against a few dozen through the cache. So one
/// record goes for each record that comes, and the queue stays a run or two behind rather
/// than draining: a producer that finds it empty allocates from the bins again.
///
/// Only the key and the value go one at a time (set to nil, no other field touched); the
/// rest of a run goes when its array is emptied. At most `maxRuns` runs and
/// `maxBytes` of their records wait here; the caller frees a run offered past that itself.
struct SpentRecords: Sendable {
    static let maxRuns = 8
    /// Past this many runs waiting, two records go for each that comes.
    static let catchUpRuns = 4
    let maxBytes: Int
    /// Oldest first; the first is being freed from `next` on.
    private var runs: [[ProducerRecord]] = []
    private var runBytes: [Int] = []
    private var next = 0

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
        runs.reserveCapacity(Self.maxRuns)
        runBytes.reserveCapacity(Self.maxRuns)
    }

    /// Records whose key and value have not gone yet.
    var waiting: Int { runs.reduce(0) { $0 + $1.count } - next }

    /// No record waits (a run leaves as soon as its last record has gone).
    var isEmpty: Bool { runs.isEmpty }

    /// Whether the queue is far enough behind for two records to go at a time.
    var isBacklogged: Bool { runs.count >= Self.catchUpRuns }

    /// Takes `run` (of `runBytes` buffer charge), swapped, so it is left empty, if there is
    /// room; false leaves it with the caller.
    mutating func offer(_ run: inout [ProducerRecord], bytes runBytes: Int) -> Bool {
        guard !run.isEmpty, runs.count < Self.maxRuns,
              runs.isEmpty || self.runBytes.reduce(0, +) + runBytes <= maxBytes else { return false }
        runs.append([])
        swap(&runs[runs.count - 1], &run)
        self.runBytes.append(runBytes)
        return true
    }

    /// A run whose keys and values have all gone, for the caller to take (`takeEmptied`)
    /// and reuse.
    private(set) var emptied: [ProducerRecord] = []

    /// Frees the next record's key and value (in place: this is called under the inbox's
    /// lock, and the frees themselves are cheap; moving them out to free after the lock cost
    /// more in the moves and releases than the frees); false when no record is left. A run
    /// whose records have all gone moves to `emptied` if that is free, else it goes here.
    @discardableResult
    mutating func freeNext() -> Bool {
        guard !runs.isEmpty else { return false }
        runs[0][next].key = nil
        runs[0][next].value = nil
        next += 1
        if next == runs[0].count {
            if emptied.isEmpty { swap(&emptied, &runs[0]) }
            runs.removeFirst()
            runBytes.removeFirst()
            next = 0
        }
        return true
    }

    /// Takes every waiting run (and the emptied one) out, for the caller to free: the
    /// producer has gone quiet, and nothing else would free them.
    mutating func takeAll() -> [[ProducerRecord]] {
        var all: [[ProducerRecord]] = []
        swap(&all, &runs)
        if !emptied.isEmpty { all.append(emptied); emptied = [] }
        runBytes.removeAll(keepingCapacity: true)
        next = 0
        return all
    }

    /// Swaps the emptied run into `run` (which should be empty).
    mutating func takeEmptied(into run: inout [ProducerRecord]) {
        swap(&emptied, &run)
    }
}
