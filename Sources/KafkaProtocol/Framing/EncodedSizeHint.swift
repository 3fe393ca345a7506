/// A request that knows roughly how large it encodes, so its frame is written into one
/// buffer of about the right size instead of one doubled a dozen times: a 1 MB Produce
/// built from a 256-byte start would copy itself ~2 MB through fresh allocations.
public protocol EncodedSizeHinting {
    /// Bytes the encoded body is expected to need (a little over is fine).
    var encodedSizeHint: Int { get }
}

extension ProduceRequest: EncodedSizeHinting {
    public var encodedSizeHint: Int {
        var n = 64 + (transactionalId?.utf8.count ?? 0)
        for t in topicData {
            n += 16 + t.name.utf8.count
            for p in t.partitionData { n += 16 + (p.records?.count ?? 0) }
        }
        return n
    }
}

extension FetchResponse: EncodedSizeHinting {
    public var encodedSizeHint: Int {
        var n = 64
        for t in responses {
            n += 32 + t.topic.utf8.count
            for p in t.partitions { n += 64 + 32 * (p.abortedTransactions?.count ?? 0) + (p.records?.count ?? 0) }
        }
        return n
    }
}
