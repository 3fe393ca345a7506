/// Whether a batch's timestamps were set by the producer or by the broker on append.
public enum TimestampType: Sendable, Equatable {
    case createTime
    case logAppendTime
}

/// The INT16 attributes of a v2 record batch: codec in bits 0-2, timestamp type bit 3,
/// transactional bit 4, control bit 5, delete-horizon bit 6. The raw value is kept so
/// unknown bits survive a round trip.
public struct RecordBatchAttributes: Sendable, Equatable, Hashable {
    public var rawValue: Int16

    public init(rawValue: Int16) { self.rawValue = rawValue }

    public init(codec: CompressionCodec = .none, timestampType: TimestampType = .createTime, isTransactional: Bool = false,
                isControl: Bool = false, hasDeleteHorizon: Bool = false) {
        var v = Int16(codec.rawValue)
        if timestampType == .logAppendTime { v |= 0x08 }
        if isTransactional { v |= 0x10 }
        if isControl { v |= 0x20 }
        if hasDeleteHorizon { v |= 0x40 }
        rawValue = v
    }

    /// The codec bits as a number (may name a codec this library does not know).
    public var codecID: Int { Int(rawValue & 0x07) }
    /// The codec, or nil for an unknown id.
    public var codec: CompressionCodec? { CompressionCodec(rawValue: UInt8(codecID)) }
    public var timestampType: TimestampType { rawValue & 0x08 != 0 ? .logAppendTime : .createTime }
    public var isTransactional: Bool { rawValue & 0x10 != 0 }
    public var isControl: Bool { rawValue & 0x20 != 0 }
    /// Set when the base timestamp holds the delete horizon of a compacted batch (KIP-534).
    public var hasDeleteHorizon: Bool { rawValue & 0x40 != 0 }
}
