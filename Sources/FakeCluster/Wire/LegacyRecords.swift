/// Message format conversion for clients of pre-0.11 releases. The fake's logs hold v2
/// batches only: a produced magic 0/1 message set becomes one v2 batch, and a Fetch below
/// v4 (whose clients cannot read v2) gets the batches back as legacy messages, each batch's
/// run compressed with the batch's codec in one wrapper message, as a 0.11+ broker
/// down-converts for old consumers. zstd has no legacy form (it needs v2): those runs go
/// out uncompressed.
enum LegacyRecords {
    /// The magic byte of the first batch or message (offset 16 in every format), if present.
    static func magic(_ records: [UInt8]) -> Int8? {
        records.count > 16 ? Int8(bitPattern: records[16]) : nil
    }

    /// A legacy message set (possibly compressed) as one v2 batch, compressed with the codec
    /// of the set's first compressed wrapper (an old broker keeps the wrapper as written, so
    /// an old consumer gets that codec back); nil if it does not decode.
    static func upConvert(_ records: [UInt8]) -> [UInt8]? {
        let contexts = CompressionContexts()
        guard let decoded = try? RecordsReader.decodeAll(records, contexts: contexts), decoded.truncatedTailBytes == 0 else {
            return nil
        }
        let all = decoded.batches.flatMap(\.records).map {
            EncodableRecord(key: $0.keyBytes, value: $0.valueBytes, timestamp: $0.timestamp)
        }
        guard !all.isEmpty else { return nil }
        var options = RecordBatchOptions()
        options.codec = decoded.batches.first { $0.codec != .none }?.codec ?? .none
        return try? RecordBatchEncoder.encode(all, options: options, contexts: contexts)
    }

    /// v2 batches as a legacy message set of `magic` (control batches dropped; an
    /// incomplete tail batch is left out).
    static func downConvert(_ records: [UInt8], magic: Int8) -> [UInt8] {
        guard !records.isEmpty else { return records }
        let contexts = CompressionContexts()
        guard let decoded = try? RecordsReader.decodeAll(records, contexts: contexts) else { return [] }
        var w = ByteWriter(capacity: records.count + 64)
        for batch in decoded.batches where !batch.isControl && !batch.records.isEmpty {
            // One run of consecutive offsets at a time: the encoder numbers messages from a base.
            var run: [EncodableRecord] = []
            var runBase: Int64 = 0
            let codec = batch.codec == .zstd ? .none : batch.codec
            func flush() {
                if !run.isEmpty {
                    try? LegacyMessageSetEncoder.encode(run, magic: magic, codec: codec, baseOffset: runBase, contexts: contexts, into: &w)
                }
                run = []
            }
            for r in batch.records {
                if run.isEmpty || r.offset != runBase + Int64(run.count) { flush(); runBase = r.offset }
                run.append(EncodableRecord(key: r.keyBytes, value: r.valueBytes, timestamp: magic == 0 ? -1 : r.timestamp))
            }
            flush()
        }
        return w.bytes
    }
}
