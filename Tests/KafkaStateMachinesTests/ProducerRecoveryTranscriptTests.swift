import Testing
@testable import KafkaStateMachines

private let t0 = TopicPartition("t", 0)
private let t1 = TopicPartition("t", 1)

/// Engine transcripts of the producer recovering: retries in order, KIP-360 epoch bumps and
/// fatal errors, MESSAGE_TOO_LARGE, leaders moving.
@Suite struct ProducerRecoveryTranscriptTests {
    /// Batches 1..3 in flight; batch 1 fails retriably. The later answers no longer count
    /// (even ones that would otherwise bump the epoch); after the backoff the same three
    /// batches go again, in order, with the same sequences and epoch.
    @Test func retriableErrorAtTheHeadResendsInOrderWithTheSameSequences() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.produce("t", 0, [3])
        #expect(w.held.map { $0.batches[0].sequence } == [0, 1, 2])
        w.answer(0, errors: [t0: .notLeaderOrFollower])
        w.answer(0, errors: [t0: .outOfOrderSequenceNumber])
        w.answer(0, errors: [t0: .unknownProducerId])
        #expect(w.reports.isEmpty && w.notices.isEmpty)
        #expect(w.inits.count == 1, "a stale answer must not bump the epoch")
        #expect(w.allSent.count == 3, "nothing resent before the backoff")
        w.run(until: 79)  // backoff: 100 ms ± 20 %
        #expect(w.allSent.count == 3)
        w.run(until: 200)
        let resent = w.allSent.dropFirst(3)
        #expect(resent.map(\.broker) == [1, 1, 1])
        #expect(resent.map { $0.batches.map(\.values) } == [[["v1"]], [["v2"]], [["v3"]]])
        #expect(resent.map { $0.batches[0].sequence } == [0, 1, 2])
        #expect(resent.allSatisfy { $0.batches[0].header.producerEpoch == 0 && $0.batches[0].header.producerId == 1000 })
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1], [2], [3]])
        #expect(w.reports.map(\.baseOffset) == [0, 1, 2])
        #expect(w.log[t0] == ["v1", "v2", "v3"])
    }

    /// A dropped connection loses every answer on it: all in-flight batches go again in
    /// order with their sequences, once (one request at a time until an answer: below).
    @Test func droppedConnectionResendsEverythingInOrder() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        let c = w.held[0].seen.connection
        #expect(w.held.allSatisfy { $0.seen.connection == c })
        w.held.removeAll()
        w.h.engine.connectionClosed(c, now: w.now)
        w.settle()
        #expect(w.reports.isEmpty)
        w.run(until: 500)
        w.answerAll()
        let resent = w.allSent.dropFirst(2)
        #expect(resent.map { $0.batches[0].values } == [["v1"], ["v2"]])
        #expect(resent.map { $0.batches[0].sequence } == [0, 1])
        #expect(resent.allSatisfy { $0.seen.connection != c })
        #expect(w.reports.map(\.tokens) == [[1], [2]] && w.log[t0] == ["v1", "v2"])
    }

    /// Issue 22: a path that cuts connections after so many bytes never carries a full
    /// pipeline, which was lost and resent whole after every cut. After a Produce is lost
    /// with its connection, one request goes to that broker, holding one partition's front
    /// batch, until it is answered; each answer then allows one more, up to the limit.
    @Test func afterAConnectionLossOneRequestIsInFlightUntilOneIsAnswered() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1), .init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 1, [2])
        w.produce("t", 0, [3])
        w.produce("t", 1, [4])
        #expect(w.held.count == 4)
        let c = w.held[0].seen.connection
        w.held.removeAll()
        w.h.engine.connectionClosed(c, now: w.now)
        w.settle()
        w.run(until: 500)  // past both partitions' backoff
        w.produce("t", 1, [5])
        #expect(w.allSent.count == 5, "one request after the loss, however much is ready")
        #expect(w.held.map { $0.batches.map(\.tp) } == [[t0]], "the probe carries one partition's front batch")
        let probe = w.held.first?.batches.first
        #expect(probe?.values == ["v1"] && probe?.sequence == 0 && probe?.header.producerEpoch == 0)
        w.run(until: 5_000)
        #expect(w.allSent.count == 5, "still one while unanswered")

        w.answer()  // the probe is answered: two may go
        #expect(w.held.count == 2)
        #expect(w.held.map { $0.batches.map(\.tp) } == [[t0, t1], [t1]])
        #expect(w.held.map { $0.batches.map(\.sequence) } == [[1, 0], [1]])
        w.answerAll()  // three, then four
        #expect(w.log[t0] == ["v1", "v3"] && w.log[t1] == ["v2", "v4", "v5"])

        // Four answers after the loss, the configured five may be in flight again.
        for t in UInt64(6) ... 11 { w.produce("t", 0, [t]) }
        #expect(w.held.count == 5)
        w.answerAll()
        #expect(w.log[t0] == ["v1", "v3"] + (6 ... 11).map { "v\($0)" })
        #expect(w.failedTokens.isEmpty)
    }

    /// KIP-360: UNKNOWN_PRODUCER_ID asks InitProducerId with the current id and epoch; the
    /// bumped epoch restarts the partition's sequences at 0 and the batch is resent.
    @Test func unknownProducerIdBumpsTheEpochAndRestartsSequences() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.answer()
        w.answer(0, errors: [t0: .unknownProducerId])
        #expect(w.inits.count == 2)
        #expect(w.inits.last?.producerId == 1000 && w.inits.last?.producerEpoch == 0)
        let resent = w.allSent.last!.batches[0]
        #expect(resent.values == ["v2"])
        #expect(resent.header.producerId == 1000 && resent.header.producerEpoch == 1 && resent.sequence == 0)
        w.produce("t", 0, [3])
        #expect(w.allSent.last!.batches[0].sequence == 1 && w.allSent.last!.batches[0].header.producerEpoch == 1)
        #expect(w.notices.isEmpty)
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1], [2], [3]] && w.reports.allSatisfy { $0.error == nil })
    }

    /// The bump waits until nothing is outstanding (another partition's request is still
    /// out under the old epoch); meanwhile nothing new is sent. Afterwards every partition
    /// numbers from 0 under the new epoch.
    /// A batch refused for good (INVALID_RECORD) after an earlier attempt that was written
    /// (NOT_ENOUGH_REPLICAS_AFTER_APPEND) spent its sequence: the producer bumps its epoch
    /// before the partition's next batch, which goes at epoch 1 from sequence 0. Renumbered
    /// onto the spent sequence instead, the broker would take it for a duplicate of the
    /// written one: acknowledged, never written.
    @Test func batchRefusedAfterAWrittenAttemptBumpsTheEpoch() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.answer(errors: [t0: .notEnoughReplicasAfterAppend])
        while w.held.isEmpty, w.step(limitMs: 10_000) {}
        #expect(w.held.first?.batches.first?.sequence == 0)
        w.answer(errors: [t0: .invalidRecord])
        #expect(w.failedTokens == [1])
        w.produce("t", 0, [2])
        while w.held.isEmpty, w.step(limitMs: 10_000) {}
        #expect(w.inits.count == 2 && w.inits.last?.producerId == 1000 && w.inits.last?.producerEpoch == 0)
        #expect(w.held.first?.batches.first?.header.producerEpoch == 1 && w.held.first?.batches.first?.sequence == 0)
    }

    @Test func epochBumpWaitsForOutstandingRequests() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1), .init(leader: 2)]
        w.produce("t", 0, [1])
        w.produce("t", 1, [2])
        w.produce("t", 1, [3])
        #expect(w.held.map(\.broker) == [1, 2, 2])
        w.answer(0, errors: [t0: .unknownProducerId])
        w.produce("t", 0, [4])
        #expect(w.inits.count == 1, "bumped while requests of the old epoch are out")
        #expect(w.allSent.count == 3)
        w.answer()
        #expect(w.inits.count == 1)
        w.answer()
        #expect(w.inits.count == 2)
        let after = w.allSent.dropFirst(3).flatMap(\.batches)
        #expect(after.map(\.values) == [["v1"], ["v4"]])
        #expect(after.map(\.sequence) == [0, 1])
        #expect(after.allSatisfy { $0.header.producerEpoch == 1 })
        w.produce("t", 1, [5])
        #expect(w.allSent.last!.batches[0].tp == t1 && w.allSent.last!.batches[0].sequence == 0)
        #expect(w.allSent.last!.batches[0].header.producerEpoch == 1)
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[2], [3], [1], [4], [5]] && w.reports.allSatisfy { $0.error == nil })
    }

    /// OUT_OF_ORDER_SEQUENCE_NUMBER for the head batch: the broker lost what it had
    /// acknowledged. The loss is reported, the epoch bumped, the batch resent from 0.
    @Test func outOfOrderSequenceReportsDataLossAndBumps() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.answer()
        w.answer(0, errors: [t0: .outOfOrderSequenceNumber])
        #expect(w.notices == [.dataLossDetected(t0)])
        #expect(w.inits.count == 2 && w.inits[1].producerId == 1000 && w.inits[1].producerEpoch == 0)
        let resent = w.allSent.last!.batches[0]
        #expect(resent.values == ["v2"] && resent.sequence == 0 && resent.header.producerEpoch == 1)
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1], [2]] && w.reports.allSatisfy { $0.error == nil })
    }

    /// INVALID_PRODUCER_EPOCH / PRODUCER_FENCED: another producer took over. Fatal: a
    /// notice, every buffered record (in flight or never sent) fails with it, an answer
    /// still out delivers nothing, later produce calls are refused, no bump is tried.
    @Test(arguments: [KafkaErrorCode.invalidProducerEpoch, .producerFenced])
    func fencedProducerIsFatal(code: KafkaErrorCode) {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1), .init(leader: -1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.produce("t", 1, [3])  // no leader: never sent
        #expect(w.held.count == 2)
        w.answer(0, errors: [t0: code])
        let cause = ProduceError.broker(code, message: nil)
        #expect(w.notices == [.fatal(cause)])
        #expect(w.reports.flatMap(\.tokens).sorted() == [1, 2, 3])
        #expect(w.reports.allSatisfy { $0.error == .fatal(cause) })
        w.answer()
        #expect(w.reports.count == 3)
        #expect(w.deliveredTokens.isEmpty, "nothing is delivered after the producer failed")
        #expect(w.produce("t", 0, [4]) == [.fatal(cause)])
        #expect(w.inits.count == 1)
        #expect(w.h.engine.producerBufferedRecords == 0)
    }

    /// A bump refused with INVALID_PRODUCER_EPOCH (a broker without KIP-360) starts over
    /// with a new producer id; sequences restart at 0 under it.
    @Test func refusedBumpStartsOverWithANewProducerId() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.initErrors = [.invalidProducerEpoch]
        w.answer(0, errors: [t0: .unknownProducerId])
        #expect(w.inits.count == 2 && w.inits[1].producerId == 1000)
        w.run(until: 500)
        #expect(w.inits.count == 3 && w.inits[2].producerId == -1 && w.inits[2].producerEpoch == -1)
        let resent = w.allSent.last!.batches[0]
        #expect(resent.values == ["v1"] && resent.header.producerId == 1001 && resent.header.producerEpoch == 0 && resent.sequence == 0)
        w.answerAll()
        #expect(w.deliveredTokens == [1] && w.notices.isEmpty)
    }

    /// A bump answered with an error that retrying cannot fix is fatal.
    @Test func failedBumpIsFatal() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.initErrors = [.clusterAuthorizationFailed]
        w.answer(0, errors: [t0: .unknownProducerId])
        let cause = ProduceError.broker(.clusterAuthorizationFailed, message: nil)
        #expect(w.notices == [.fatal(cause)])
        #expect(w.outcomes.map(\.0) == [[1]] && w.reports.first?.error == .fatal(cause))
        #expect(w.produce("t", 0, [2]) == [.fatal(cause)])
    }

    /// MESSAGE_TOO_LARGE for a multi-record batch: split in two halves, sent in order with
    /// consecutive sequences (the batch behind keeps its own), all delivered in order.
    @Test func tooLargeBatchIsSplitAndDeliveredInOrder() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produceTogether("t", 0, [1, 2, 3, 4])
        w.produce("t", 0, [5])
        #expect(w.held.map { $0.batches[0].sequence } == [0, 4])
        w.answer(0, errors: [t0: .messageTooLarge])
        #expect(w.allSent.count == 2, "waits for the stale answer")
        w.answer(0, errors: [t0: .outOfOrderSequenceNumber])
        let resent = w.allSent.dropFirst(2).flatMap(\.batches)
        #expect(resent.map(\.values) == [["v1", "v2"], ["v3", "v4"], ["v5"]])
        #expect(resent.map(\.sequence) == [0, 2, 4])
        #expect(resent.allSatisfy { $0.header.producerEpoch == 0 })
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1, 2], [3, 4], [5]])
        #expect(w.reports.map(\.baseOffset) == [0, 2, 4] && w.reports.allSatisfy { $0.error == nil })
        #expect(w.log[t0] == ["v1", "v2", "v3", "v4", "v5"])
        #expect(w.inits.count == 1 && w.notices.isEmpty)
    }

    /// MESSAGE_TOO_LARGE for a single record: only it fails; the batches behind take over
    /// its sequence numbers (it was never written) and are delivered.
    @Test func tooLargeSingleRecordFailsAloneAndLaterRecordsDeliver() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.produce("t", 0, [3])
        w.answer(0, errors: [t0: .messageTooLarge])
        #expect(w.outcomes.map(\.0) == [[1]] && w.reports[0].error == .broker(.messageTooLarge, message: nil))
        w.answer(0, errors: [t0: .outOfOrderSequenceNumber])
        w.answer(0, errors: [t0: .outOfOrderSequenceNumber])
        let resent = w.allSent.dropFirst(3).flatMap(\.batches)
        #expect(resent.map(\.values) == [["v2"], ["v3"]])
        #expect(resent.map(\.sequence) == [0, 1])
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1], [2], [3]])
        #expect(w.reports.map(\.baseOffset) == [-1, 0, 1])
        #expect(w.deliveredTokens == [2, 3] && w.log[t0] == ["v2", "v3"])
        #expect(w.inits.count == 1)
    }

    /// KIP-951: NOT_LEADER_OR_FOLLOWER naming the new leader moves the partition's batches
    /// there in order with their sequences, without waiting for metadata; metadata still
    /// naming the old leader at an older epoch does not move it back.
    @Test func leaderHintMovesBatchesInOrder() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1, epoch: 0)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.produce("t", 0, [3])
        w.advance(to: 2000)
        let refreshesBefore = w.metadataRequests.count
        w.answer(0, errors: [t0: .notLeaderOrFollower], hints: [t0: .init(leader: 2, epoch: 1)])
        w.answer(0, errors: [t0: .notLeaderOrFollower])
        w.answer(0, errors: [t0: .notLeaderOrFollower])
        w.run(until: 2200)
        let moved = w.allSent.dropFirst(3)
        #expect(moved.map(\.broker) == [2, 2, 2])
        #expect(moved.map { $0.batches[0].values } == [["v1"], ["v2"], ["v3"]])
        #expect(moved.map { $0.batches[0].sequence } == [0, 1, 2])
        w.answerAll()
        w.run(until: 8000)
        #expect(w.metadataRequests.count > refreshesBefore, "a refresh was asked for")
        w.produce("t", 0, [4])
        #expect(w.allSent.last?.broker == 2 && w.allSent.last?.batches[0].sequence == 3)
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1], [2], [3], [4]] && w.log[t0] == ["v1", "v2", "v3", "v4"])
    }

    /// Metadata moving the leader while batches are out: their answers stop counting, and
    /// once they are back everything goes to the new leader in order, with the same
    /// sequences, followed by what was produced meanwhile.
    @Test func metadataLeaderMoveMovesBatchesInOrder() {
        var w = ProducerWorld(engine: { $0.metadataMaxAge = .seconds(1) })
        w.topics["t"] = [.init(leader: 1, epoch: 0)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.topics["t"] = [.init(leader: 2, epoch: 1)]
        w.run(until: 1000)
        #expect(w.metadataRequests.count == 2)
        w.produce("t", 0, [3])
        #expect(w.allSent.count == 2, "nothing goes to the new leader while old requests are out")
        w.answer(0, errors: [t0: .notLeaderOrFollower])
        #expect(w.allSent.count == 2)
        w.answer(0, errors: [t0: .notLeaderOrFollower])
        let moved = w.allSent.dropFirst(2)
        #expect(moved.map(\.broker) == [2, 2, 2])
        #expect(moved.map { $0.batches[0].values } == [["v1"], ["v2"], ["v3"]])
        #expect(moved.map { $0.batches[0].sequence } == [0, 1, 2])
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1], [2], [3]] && w.reports.map(\.baseOffset) == [0, 1, 2])
    }

    /// Seed 41 of producer-100k: while metadata names no address for the leader, the
    /// producer's requests wait in the engine. A user's Metadata answer that brings the
    /// address back sends them, in the order they were made, before anything newer.
    @Test func requestsWaitingForTheLeadersAddressGoOutInOrderWhenAUserAnswerBringsIt() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.answerAll()
        // Broker 1 drops out of the broker list (still named leader): a user's answer says so.
        w.brokers = [2, 3]
        w.h.engine.request(MetadataRequest(), to: .broker(2), promise: PromiseID(900), now: w.now)
        w.settle()
        w.produce("t", 0, [2])
        w.produce("t", 0, [3])
        #expect(w.held.isEmpty)
        w.brokers = [1, 2, 3]
        w.h.engine.request(MetadataRequest(), to: .broker(2), promise: PromiseID(901), now: w.now)
        w.settle()
        #expect(w.held.map { $0.batches[0].values } == [["v2"], ["v3"]])
        #expect(w.held.map { $0.batches[0].sequence } == [1, 2])
        w.produce("t", 0, [4])
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1], [2], [3], [4]] && w.log[t0] == ["v1", "v2", "v3", "v4"])
    }
}
