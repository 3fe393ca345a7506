/// Where a newly assigned partition starts reading.
public enum StartOffset: Sendable, Equatable, CustomStringConvertible {
    /// The log start offset (ListOffsets earliest).
    case start
    /// The end: the high watermark, or the last stable offset for read_committed.
    case end
    /// This offset, unvalidated.
    case exact(Int64)
    /// This offset, consumed last under `epoch`: validated with OffsetForLeaderEpoch
    /// (KIP-320) before the first fetch, so a truncation since is detected.
    case exactWithEpoch(Int64, epoch: Int32)
    /// `n` records after the start (clamped at the start).
    case relativeToStart(Int64)
    /// `n` records before the end (clamped at the start).
    case relativeToEnd(Int64)
    /// The first record whose timestamp is at or after this one (milliseconds); the end
    /// when there is none.
    case afterTimestamp(Int64)

    /// The ListOffsets timestamp this start needs, nil when no lookup is needed.
    var listTimestamp: Int64? {
        switch self {
        case .start, .relativeToStart: return -2
        case .end, .relativeToEnd: return -1
        case .afterTimestamp(let ts): return ts
        case .exact, .exactWithEpoch: return nil
        }
    }

    public var description: String {
        switch self {
        case .start: return "start"
        case .end: return "end"
        case .exact(let o): return "\(o)"
        case .exactWithEpoch(let o, let e): return "\(o)@epoch\(e)"
        case .relativeToStart(let n): return "start+\(n)"
        case .relativeToEnd(let n): return "end-\(n)"
        case .afterTimestamp(let t): return "@\(t)ms"
        }
    }
}

/// What happens when a fetch answers OFFSET_OUT_OF_RANGE.
public enum OffsetResetPolicy: Sendable, Equatable {
    case start
    case end
    /// Stop the partition and report `.offsetOutOfRange` to the user.
    case error
}

/// Kafka's isolation levels (the wire value is the raw value).
public enum IsolationLevel: Int8, Sendable, Equatable {
    case readUncommitted = 0
    /// Only records of committed transactions, up to the last stable offset.
    case readCommitted = 1
}
