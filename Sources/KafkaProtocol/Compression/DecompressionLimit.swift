/// How much a decompressor may produce. Compressed input is attacker-controlled: a few
/// kilobytes can claim gigabytes, so every decompressor stops at `maxOutputBytes` with
/// `.decompressionLimitExceeded` rather than allocating past it.
public struct DecompressionLimit: Sendable, Equatable {
    public var maxOutputBytes: Int

    public init(maxOutputBytes: Int) {
        self.maxOutputBytes = max(0, maxOutputBytes)
    }

    /// 256 MiB: above any batch a broker accepts by default (message.max.bytes is ~1 MiB,
    /// and the largest configurable values are far below this once compressed 10x).
    public static let `default` = DecompressionLimit(maxOutputBytes: 256 << 20)
}

/// Errors from one codec, before the caller adds which batch and field it was decoding.
@usableFromInline
func corrupt(_ codec: StaticString, _ why: String, offset: Int = 0) -> KafkaDecodingError {
    KafkaDecodingError(field: codec.description, offset: offset, kind: .corruptCompressedData(why))
}

@usableFromInline
func limitExceeded(_ codec: StaticString, _ limit: Int, offset: Int = 0) -> KafkaDecodingError {
    KafkaDecodingError(field: codec.description, offset: offset, kind: .decompressionLimitExceeded(limit: limit))
}

/// A starting output capacity: a guess from the input size, never above the limit.
@usableFromInline
func initialOutputCapacity(inputCount: Int, limit: Int) -> Int {
    let (guess, o) = inputCount.multipliedReportingOverflow(by: 4)
    return min(limit, o ? limit : max(guess, 1024))
}

/// The next capacity when output is full: doubles, capped at the limit.
@usableFromInline
func grownCapacity(_ current: Int, limit: Int) -> Int {
    let (d, o) = current.multipliedReportingOverflow(by: 2)
    return o ? limit : min(limit, max(d, 1024))
}
