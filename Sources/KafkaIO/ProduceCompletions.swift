/// The callbacks of records handed to the engine, by token. Tokens are handed out in
/// sequence and mostly come back in sequence (per partition they do), so an array indexed
/// by `token - firstToken` replaces a hash map: no hashing and no per-record node on the
/// hot path. A hole left by an out-of-order completion is skipped once the front reaches
/// it; the consumed front is cut off in bulk now and then.
struct ProduceCompletions {
    struct Entry {
        var completion: ProduceCompletion
        var timestamp: Int64
        /// What the record took from the client's buffer gate; returned on completion.
        var charge: Int
    }

    private var slots: [Entry?] = []
    /// The index in `slots` of `firstToken`; slots before it are spent.
    private var head = 0
    /// The token of `slots[head]`.
    private var firstToken: UInt64 = 1
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    /// The token the next added entry gets.
    var nextToken: UInt64 { firstToken + UInt64(slots.count - head) }

    /// Stores `entries` under the next tokens, in order.
    mutating func add(contentsOf entries: ArraySlice<Entry>) {
        if head > 0 && head >= slots.count / 2 {
            slots.removeFirst(head)
            head = 0
        }
        for e in entries { slots.append(e) }
        count += entries.count
    }

    /// Takes the entry of `token` out; nil when unknown or already taken.
    mutating func remove(_ token: UInt64) -> Entry? {
        guard token >= firstToken, token < nextToken else { return nil }
        let i = head + Int(token - firstToken)
        guard let entry = slots[i] else { return nil }
        slots[i] = nil
        count -= 1
        while head < slots.count, case .none = slots[head] {
            head += 1
            firstToken += 1
        }
        return entry
    }
}
