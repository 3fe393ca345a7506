import Testing
@testable import KafkaStateMachines

private let t0 = TopicPartition("t", 0)

/// Engine transcripts of the per-record retry limit (`recordRetries`, kgo's RecordRetries):
/// a batch re-sent that many times after retriable failures fails with the last failure;
/// without a limit it is retried until delivered.
@Suite struct ProducerRetryLimitTranscriptTests {
    /// Answers the oldest held request with `code`, then waits out the backoff.
    static func refuse(_ w: inout ProducerWorld, _ code: KafkaErrorCode, until ms: inout UInt64) {
        w.answer(0, errors: [t0: code])
        ms += 2_000
        w.run(until: ms)
    }

    /// recordRetries 2: the first send and two re-sends are refused (NOT_LEADER, retriable);
    /// the third refusal fails the record with it. A batch failed after more than one send
    /// bumps the idempotent producer's epoch (as any failed batch that went out more than
    /// once): the next record goes under epoch 1 from sequence 0.
    @Test func aBatchFailsAfterItsRetries() {
        var w = ProducerWorld { $0.recordRetries = 2 }
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        var ms: UInt64 = 0
        for _ in 0 ..< 2 { Self.refuse(&w, .notLeaderOrFollower, until: &ms) }
        #expect(w.reports.isEmpty, "failed before its retries were used: \(w.outcomes)")
        #expect(w.allSent.count == 3 && w.held.count == 1)
        Self.refuse(&w, .notLeaderOrFollower, until: &ms)
        #expect(w.outcomes.map(\.0) == [[1]])
        #expect(w.reports.first?.error == .broker(.notLeaderOrFollower, message: nil))
        #expect(w.held.isEmpty && w.allSent.count == 3)
        w.produce("t", 0, [2])
        w.run(until: ms + 2_000)
        #expect(w.inits.count == 2)
        #expect(w.held.first?.batches.first?.sequence == 0 && w.held.first?.batches.first?.header.producerEpoch == 1)
        w.answerAll()
        #expect(w.deliveredTokens == [2])
    }

    /// Without a limit the same refusals are retried until the broker takes the batch.
    @Test func withoutALimitTheBatchIsRetriedUntilDelivered() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        var ms: UInt64 = 0
        for _ in 0 ..< 8 { Self.refuse(&w, .notLeaderOrFollower, until: &ms) }
        #expect(w.reports.isEmpty && w.allSent.count == 9)
        w.answerAll()
        #expect(w.deliveredTokens == [1])
    }

    /// recordRetries 0 and a lost answer (the connection closed with two batches out): the
    /// front batch fails at once. It may have been written, so the idempotent producer bumps
    /// its epoch before sending the other batch again, from sequence 0.
    @Test func aLostAnswerOutOfRetriesBumpsTheEpoch() {
        var w = ProducerWorld { $0.recordRetries = 0 }
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        #expect(w.held.count == 2)
        let c = w.held[0].seen.connection
        w.held.removeAll()
        w.h.engine.connectionClosed(c, now: w.now)
        w.settle()
        #expect(w.outcomes.map(\.0) == [[1]])
        guard case .request? = w.reports.first?.error else {
            Issue.record("\(w.outcomes)")
            return
        }
        w.run(until: 2_000)
        #expect(w.inits.count == 2, "no epoch bump after failing a batch that may be in the log")
        let resent = w.allSent.dropFirst(2)
        #expect(resent.map { $0.batches.map(\.values) } == [[["v2"]]])
        #expect(resent.first?.batches.first?.sequence == 0 && resent.first?.batches.first?.header.producerEpoch == 1)
        w.answerAll()
        #expect(w.deliveredTokens == [2])
    }

    @Test func aNegativeLimitIsRefused() {
        var c = ProducerConfig()
        c.recordRetries = -1
        #expect(throws: ProducerConfigError.outOfRange("recordRetries", "-1")) { try c.validate() }
        c.recordRetries = 0
        #expect(throws: Never.self) { try c.validate() }
    }
}
