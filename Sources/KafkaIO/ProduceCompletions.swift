import NIOCore

/// The callbacks of records handed to the engine, by token. Tokens are handed out in
/// sequence and mostly come back in sequence (per partition they do), so a ring indexed
/// by `token - firstToken` replaces a hash map: no hashing and no per-record node on the
/// hot path. A gap left by an out-of-order completion is skipped once the front reaches it.
struct ProduceCompletions {
    struct Entry {
        var completion: ProduceCompletion
        var timestamp: Int64
        /// What the record took from the client's buffer gate; returned on completion.
        var charge: Int
    }

    private var ring = CircularBuffer<Entry?>(initialCapacity: 1024)
    /// The token of `ring.first`.
    private var firstToken: UInt64 = 1
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    /// The token the next `add` gets.
    var nextToken: UInt64 { firstToken + UInt64(ring.count) }

    /// Stores `entries` under the next tokens, in order.
    mutating func add(contentsOf entries: ArraySlice<Entry>) {
        for e in entries { ring.append(e) }
        count += entries.count
    }

    /// Takes the entry of `token` out; nil when unknown or already taken.
    mutating func remove(_ token: UInt64) -> Entry? {
        guard token >= firstToken, token < nextToken else { return nil }
        let i = ring.index(ring.startIndex, offsetBy: Int(token - firstToken))
        guard let entry = ring[i] else { return nil }
        ring[i] = nil
        count -= 1
        while let front = ring.first, front == nil {
            ring.removeFirst()
            firstToken += 1
        }
        return entry
    }
}
