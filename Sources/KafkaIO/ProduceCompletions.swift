import KafkaProtocol
import KafkaStateMachines
/// The callbacks of records handed to the engine, by token. Tokens are handed out in
/// sequence and mostly come back in sequence (per partition they do), so a ring indexed
/// by `token - firstToken` replaces a hash map: no hashing and no per-record node on the
/// hot path. A hole left by an out-of-order completion is skipped once the front reaches
/// it. The ring's storage doubles when full and is otherwise reused, slot for slot.
struct ProduceCompletions {
    struct Entry {
        var completion: ProduceCompletion
        var timestamp: Int64
        /// What the record took from the client's buffer gate; returned on completion.
        var charge: Int
        /// When it reached the driver (hooks' produce-to-ack latency).
        var queuedAt: Instant = .zero
    }

    /// Power-of-two sized; the live span is `length` slots from `head`, wrapping.
    private var slots: [Entry?] = Array(repeating: nil, count: 1024)
    private var head = 0
    private var length = 0
    /// The token of the slot at `head`.
    private var firstToken: UInt64 = 1
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    /// The token the next added entry gets.
    var nextToken: UInt64 { firstToken + UInt64(length) }

    /// Stores `entries` under the next tokens, in order, moving them out: each is left a
    /// placeholder without a context. A copy would retain every callback's context here
    /// and release it where the inbox's array is freed, on the producing thread: with one
    /// callback for many records, both threads updating one reference count.
    mutating func add(moving entries: UnsafeMutableBufferPointer<Entry>, at now: Instant) {
        if length + entries.count > slots.count { grow(toHold: length + entries.count) }
        let mask = slots.count - 1
        let placeholder = Entry(completion: { _ in }, timestamp: 0, charge: 0)
        let start = head + length
        slots.withUnsafeMutableBufferPointer { ring in
            for k in entries.indices {
                var e = (entries.baseAddress! + k).move()
                (entries.baseAddress! + k).initialize(to: placeholder)
                e.queuedAt = now
                ring[(start + k) & mask] = consume e
            }
        }
        length += entries.count
        count += entries.count
    }

    /// Stores copies of `entries` (through `add(moving:at:)`; for tests).
    mutating func add(contentsOf entries: ArraySlice<Entry>, at now: Instant) {
        var copies = Array(entries)
        copies.withUnsafeMutableBufferPointer { add(moving: $0, at: now) }
    }

    /// Takes the entry of `token` out; nil when unknown or already taken (through
    /// `remove(_:into:)`; for tests).
    mutating func remove(_ token: UInt64) -> Entry? {
        var entries: [Entry?] = []
        _ = remove([token], into: &entries)
        return entries[0]
    }

    /// Takes the entries of `tokens` out, in order (nil for unknown or taken ones), into
    /// `entries`; returns how many were found and their charges' sum. One call per report:
    /// the driver holds the ring in a class, where each access is checked at run time.
    mutating func remove(_ tokens: [UInt64], into entries: inout [Entry?]) -> (records: Int, bytes: Int) {
        var records = 0
        var bytes = 0
        let mask = slots.count - 1
        var (head, length, firstToken) = (self.head, self.length, self.firstToken)
        // Through the storage's pointer: subscripting `slots` checked its uniqueness at every access.
        slots.withUnsafeMutableBufferPointer { ring in
            let base = ring.baseAddress!
            for token in tokens {
                guard token >= firstToken, token < firstToken + UInt64(length) else {
                    entries.append(nil)
                    continue
                }
                // Moved as bytes from the ring into `entries` (the slot left nil): a copy
                // retained the callback's context, which the producing thread retains too.
                let slot = base + ((head + Int(token - firstToken)) & mask)
                let taken = slot.move()
                slot.initialize(to: nil)
                if let charge = taken?.charge {
                    records += 1
                    bytes += charge
                }
                entries.append(consume taken)
                while length > 0, case .none = ring[head] {
                    head = (head + 1) & mask
                    length -= 1
                    firstToken += 1
                }
            }
        }
        (self.head, self.length, self.firstToken) = (head, length, firstToken)
        count -= records
        return (records, bytes)
    }

    /// Moves the live span to the front of storage at least twice the size needed.
    /// Built in place: `Array(repeating: nil, count:)` copied `nil` into each slot through
    /// Optional's generic value witness (about 90 instructions a slot).
    private mutating func grow(toHold needed: Int) {
        var size = slots.count
        while size < needed { size *= 2 }
        let (head, length) = (self.head, self.length)
        let bigger = [Entry?](unsafeUninitializedCapacity: size) { buffer, initialized in
            slots.withUnsafeMutableBufferPointer { old in
                // Moved as bytes (no reference counting), in the span's two runs; the old
                // slots are then refilled with nil so that freeing them releases nothing.
                let first = min(length, old.count - head)
                buffer.baseAddress!.moveInitialize(from: old.baseAddress! + head, count: first)
                (buffer.baseAddress! + first).moveInitialize(from: old.baseAddress!, count: length - first)
                (old.baseAddress! + head).initialize(repeating: nil, count: first)
                old.baseAddress!.initialize(repeating: nil, count: length - first)
            }
            (buffer.baseAddress! + length).initialize(repeating: nil, count: size - length)
            initialized = size
        }
        slots = bigger
        self.head = 0
    }
}
