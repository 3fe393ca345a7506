import Testing
@testable import KafkaStateMachines

private let t0 = TopicPartition("t", 0)

/// Engine transcripts of KIP-467: a Produce answer naming records of a batch
/// (RecordErrors, ErrorMessage) fails only those records, each with its own message; the
/// broker wrote none of the batch, so the others go again, under the same sequence.
@Suite struct ProducerRecordErrorsTranscriptTests {
    /// The records' timestamps in the last batch sent.
    static func lastTimestamps(_ w: ProducerWorld) -> [Int64] {
        guard let bytes = w.allSent.last?.request.topicData.first?.partitionData.first?.records,
              let decoded = try? RecordsReader.decodeAll(bytes, contexts: CompressionContexts()) else { return [] }
        return decoded.batches.flatMap { $0.records.map(\.timestamp) }
    }

    /// Records 2 and 4 of five are refused: they fail with INVALID_RECORD and their
    /// messages (the per-record one, else the partition's); 1, 3 and 5 are sent again at
    /// once as one batch with sequence 0, their own timestamps, and are delivered.
    @Test func namedRecordsFailAndTheOthersAreRetried() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produceTogether("t", 0, [1, 2, 3, 4, 5])
        #expect(w.held.count == 1 && w.held[0].batches[0].values.count == 5)
        w.answer(0, errors: [t0: .invalidRecord], recordErrors: [t0: ([(1, "key missing"), (3, nil)], "batch refused")])
        #expect(w.outcomes.map(\.0) == [[2], [4]])
        #expect(w.reports.map(\.error) == [.broker(.invalidRecord, message: "key missing"), .broker(.invalidRecord, message: "batch refused")])
        #expect(w.log[t0] == nil)
        w.run(until: 10)
        #expect(w.held.count == 1)
        let resent = w.held.first?.batches.first
        #expect(resent?.values == ["v1", "v3", "v5"])
        #expect(resent?.sequence == 0 && resent?.header.producerEpoch == 0)
        #expect(Self.lastTimestamps(w) == [1001, 1003, 1005])
        w.answerAll()
        #expect(w.deliveredTokens == [1, 3, 5])
        #expect(w.reports.last?.baseOffset == 0)
        #expect(w.log[t0] == ["v1", "v3", "v5"])
        #expect(w.inits.count == 1)
        #expect(w.h.engine.producerBufferedRecords == 0)
    }

    /// The first record refused: the kept batch's timestamps start at the second record.
    /// A later batch in flight (its answer, out of order at the broker, no longer counts) is
    /// renumbered after the shorter batch.
    @Test func laterBatchesAreRenumberedAfterTheShorterOne() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produceTogether("t", 0, [1, 2, 3])
        w.produceTogether("t", 0, [4, 5])
        #expect(w.held.map { $0.batches[0].sequence } == [0, 3])
        w.answer(0, errors: [t0: .invalidRecord], recordErrors: [t0: ([(0, "bad")], nil)])
        w.answer(0, errors: [t0: .outOfOrderSequenceNumber])
        #expect(w.outcomes.map(\.0) == [[1]] && w.inits.count == 1)
        w.run(until: 10)
        #expect(w.held.map { $0.batches[0].values } == [["v2", "v3"], ["v4", "v5"]])
        #expect(w.held.map { $0.batches[0].sequence } == [0, 2])
        #expect(w.held.first?.batches.first?.header.baseTimestamp == 1002)
        w.answerAll()
        #expect(w.deliveredTokens == [2, 3, 4, 5])
        #expect(w.log[t0] == ["v2", "v3", "v4", "v5"])
    }

    /// Every record named: each fails with its message, nothing is resent, and the next
    /// batch takes the refused batch's sequence.
    @Test func everyRecordNamedFailsTheBatchRecordByRecord() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produceTogether("t", 0, [1, 2])
        w.answer(0, errors: [t0: .invalidRecord], recordErrors: [t0: ([(0, "a"), (1, "b")], nil)])
        #expect(w.outcomes.map(\.0) == [[1], [2]])
        #expect(w.reports.map(\.error) == [.broker(.invalidRecord, message: "a"), .broker(.invalidRecord, message: "b")])
        w.run(until: 10)
        #expect(w.held.isEmpty && w.allSent.count == 1)
        w.produce("t", 0, [3])
        #expect(w.held.first?.batches.first?.sequence == 0)
        w.answerAll()
        #expect(w.deliveredTokens == [3])
    }

    /// Without RecordErrors (a broker before KIP-467, or an index outside the batch) the
    /// whole batch fails with the partition's error, as before.
    @Test func withoutRecordErrorsTheWholeBatchFails() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produceTogether("t", 0, [1, 2])
        w.answer(0, errors: [t0: .invalidRecord])
        #expect(w.outcomes.map(\.0) == [[1, 2]])
        w.produceTogether("t", 0, [3, 4])
        w.answer(0, errors: [t0: .invalidRecord], recordErrors: [t0: ([(7, "not in the batch")], "refused")])
        #expect(w.outcomes.map(\.0) == [[1, 2], [3, 4]])
        #expect(w.reports.last?.error == .broker(.invalidRecord, message: "refused"))
        #expect(w.allSent.count == 2)
    }
}
