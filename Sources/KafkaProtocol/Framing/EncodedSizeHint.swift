/// A request that knows roughly how large it encodes, so its frame is written into one
/// buffer of about the right size instead of one doubled a dozen times: a 1 MB Produce
/// built from a 256-byte start would copy itself ~2 MB through fresh allocations.
public protocol EncodedSizeHinting {
    /// Bytes the encoded body is expected to need (a little over is fine), not counting
    /// BYTES fields of `splicingFrom` bytes or more (spliced into the frame, not written
    /// into its buffer: `OutboundFrame`).
    func encodedSizeHint(splicingFrom: Int) -> Int
}

extension EncodedSizeHinting {
    public var encodedSizeHint: Int { encodedSizeHint(splicingFrom: .max) }
}

extension ProduceRequest: EncodedSizeHinting {
    public func encodedSizeHint(splicingFrom: Int) -> Int {
        var n = 64 + (transactionalId?.utf8.count ?? 0)
        for t in topicData {
            n += 16 + t.name.utf8.count
            for p in t.partitionData {
                let records = p.records?.count ?? 0
                n += 16 + (records >= splicingFrom ? 0 : records)
            }
        }
        return n
    }
}

extension FetchResponse: EncodedSizeHinting {
    public func encodedSizeHint(splicingFrom: Int) -> Int {
        var n = 64
        for t in responses {
            n += 32 + t.topic.utf8.count
            for p in t.partitions {
                let records = p.records?.count ?? 0
                n += 64 + 32 * (p.abortedTransactions?.count ?? 0) + (records >= splicingFrom ? 0 : records)
            }
        }
        return n
    }
}
