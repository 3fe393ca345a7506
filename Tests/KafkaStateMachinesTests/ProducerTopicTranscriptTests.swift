import Testing
@testable import KafkaStateMachines

private let t0 = TopicPartition("t", 0)
private let t1 = TopicPartition("t", 1)

/// Engine transcripts of the producer against topics that change under it: unknown and
/// deleted topics, delivery timeouts, partition counts growing and shrinking.
@Suite struct ProducerTopicTranscriptTests {
    /// A topic metadata never knows: its records wait while metadata says it is missing,
    /// and fail with .unknownTopic on the (unknownTopicRetries + 1)th answer, never sent.
    @Test func unknownTopicFailsAfterItsRetries() {
        var w = ProducerWorld { $0.unknownTopicRetries = 2 }
        w.produce("nope", nil, [1])
        w.produce("nope", nil, [2])
        var answersAtFailure: Int?
        while answersAtFailure == nil, w.step(limitMs: 60_000) {
            if !w.reports.isEmpty { answersAtFailure = w.metadataRequests.count }
        }
        #expect(answersAtFailure == 3)
        #expect(w.metadataRequests.allSatisfy { $0.topics?.compactMap(\.name) == ["nope"] })
        #expect(w.reports.map(\.tokens) == [[1, 2]])
        #expect(w.reports.first?.error == .unknownTopic("nope") && w.reports.first?.partition == -1)
        #expect(w.allSent.isEmpty)
        #expect(w.h.engine.producerBufferedRecords == 0)
    }

    /// A record for a partition whose leader metadata does not know (none elected, or a
    /// leader missing from the broker list) waits, and the producer keeps asking metadata
    /// until a refresh names a leader, urgently (the 5 s min age does not hold it back);
    /// then the batch goes. Before, nothing asked again: the record waited for the
    /// 5-minute refresh (found by the txn-producer sweep).
    @Test func leaderlessPartitionKeepsAskingMetadataUntilALeaderIsKnown() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: -1), .init(leader: 1)]
        w.produce("t", 0, [1])
        w.run(until: 2_500)
        #expect(w.allSent.isEmpty)
        let asked = w.metadataRequests.count
        w.topics["t"] = [.init(leader: 2, epoch: 1), .init(leader: 1)]
        // Within about a second: the ask is urgent, not held to the 5 s min age.
        w.run(until: 3_800)
        #expect(w.metadataRequests.count > asked)
        #expect(w.allSent.count == 1 && w.allSent.first?.broker == 2)
    }

    /// A topic deleted under the producer: once metadata has said so more than
    /// unknownTopicRetries times, its records (in flight and retrying) fail with
    /// .unknownTopic, in order. The same name created again takes records normally.
    @Test func deletedTopicFailsItsRecordsThenRecreatedTopicWorks() {
        var w = ProducerWorld({ $0.unknownTopicRetries = 1 }, engine: { $0.metadataMaxAge = .seconds(20) })
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.answer()
        w.topics["t"] = nil
        w.advance(to: 2000)
        let before = w.metadataRequests.count
        w.produce("t", 0, [2])
        w.produce("t", 0, [3])
        var answersAtFailure: Int?
        while w.failedTokens.count < 2 {
            while !w.held.isEmpty { w.answer(0, errors: [t0: .unknownTopicOrPartition]) }
            if answersAtFailure == nil, !w.failedTokens.isEmpty { answersAtFailure = w.metadataRequests.count - before }
            guard w.step(limitMs: 60_000) else { break }
            if answersAtFailure == nil, !w.failedTokens.isEmpty { answersAtFailure = w.metadataRequests.count - before }
        }
        #expect(answersAtFailure == 2)
        #expect(w.reports.map(\.tokens) == [[1], [2], [3]])
        #expect(w.reports.dropFirst().allSatisfy { $0.error == .unknownTopic("t") })
        #expect(w.h.engine.producerBufferedRecords == 0)

        // Created again: a retriable error is retried, not taken for the deletion.
        w.topics["t"] = [.init(leader: 1, epoch: 1)]
        let seen = w.metadataRequests.count
        w.run(until: (w.now - .zero).milliseconds + 25_000)
        #expect(w.metadataRequests.count > seen, "metadata has seen the topic again")
        w.produce("t", 0, [4])
        #expect(w.held.count == 1)
        w.answer(0, errors: [t0: .notEnoughReplicas])
        #expect(w.reports.count == 3, "a retriable error on the recreated topic fails nothing")
        w.run(until: (w.now - .zero).milliseconds + 1500)  // backoff: at most 1 s + 20 %
        #expect(w.held.count == 1)
        w.answerAll()
        #expect(w.reports.last?.tokens == [4] && w.reports.last?.error == nil)
    }

    /// A topic recreated after a deletion is a new topic: its leader epochs start again
    /// from 0, below what the producer saw of the old one, and its partitions have no
    /// producer state, so sequences start again at 0. The producer must follow the new
    /// leader (an epoch check against the old topic would ignore it and retry against the
    /// old leader forever) and start the sequence over.
    @Test func recreatedTopicFollowsItsNewLeaderAtALowerEpoch() {
        var w = ProducerWorld({ $0.unknownTopicRetries = 0 }, engine: { $0.metadataMaxAge = .seconds(20) })
        w.topics["t"] = [.init(leader: 1, epoch: 7)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1, 2]] || w.reports.map(\.tokens) == [[1], [2]])
        w.topics["t"] = nil
        w.produce("t", 0, [3])
        while w.failedTokens.isEmpty {
            while !w.held.isEmpty { w.answer(0, errors: [t0: .unknownTopicOrPartition]) }
            guard w.step(limitMs: 60_000) else { break }
        }
        #expect(w.failedTokens == [3])

        w.topics["t"] = [.init(leader: 2, epoch: 0)]
        Self.expectStartedOver(&w, token: 4)
    }

    /// After metadata has seen the new topic "t" (leader 2, epoch 0), a record (`token`) goes
    /// to broker 2 at sequence 0 and is delivered.
    static func expectStartedOver(_ w: inout ProducerWorld, token: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
        let seen = w.metadataRequests.count
        w.run(until: (w.now - .zero).milliseconds + 25_000)
        #expect(w.metadataRequests.count > seen, "metadata has seen the new topic", sourceLocation: sourceLocation)
        w.produce("t", 0, [token])
        var steps = 0
        while w.held.isEmpty, steps < 50, w.step(limitMs: 5_000) { steps += 1 }
        #expect(w.held.map(\.broker) == [2], "the new topic's leader, whatever its epoch", sourceLocation: sourceLocation)
        #expect(w.held.first?.batches.first?.sequence == 0, "a new topic's partition starts at sequence 0",
                sourceLocation: sourceLocation)
        w.answerAll()
        #expect(w.reports.last?.tokens == [token] && w.reports.last?.error == nil, sourceLocation: sourceLocation)
    }

    /// A topic deleted and created again between two metadata refreshes: the producer
    /// never sees it missing, only a new topic ID, and starts over as above.
    @Test func newTopicIdUnderAKnownNameIsANewTopic() {
        var w = ProducerWorld(engine: { $0.metadataMaxAge = .seconds(20) })
        w.topics["t"] = [.init(leader: 1, epoch: 7)]
        w.topicIds["t"] = KafkaUUID(high: 1, low: 1)
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.answerAll()
        #expect(w.failedTokens.isEmpty)
        w.topics["t"] = [.init(leader: 2, epoch: 0)]
        w.topicIds["t"] = KafkaUUID(high: 2, low: 2)
        Self.expectStartedOver(&w, token: 3)
    }

    /// Delivery timeout: batches that were sent (and are back from the broker, not
    /// acknowledged) fail with .deliveryTimeout once past it; having been sent, they may
    /// have been written, so the epoch is bumped before the partition's next batch, which
    /// starts again at sequence 0.
    @Test func deliveryTimeoutFailsSentBatchesAndBumpsTheEpoch() {
        var w = ProducerWorld { $0.deliveryTimeout = .milliseconds(1000) }
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.answer(0, errors: [t0: .notEnoughReplicas])
        w.answer(0, errors: [t0: .notEnoughReplicas])
        w.run(until: 1200)
        #expect(w.held.count == 2, "resent after the backoff, and still out at the timeout")
        #expect(w.reports.isEmpty, "records on a request still out are not failed")
        w.answer(0, errors: [t0: .notEnoughReplicas])
        w.answer(0, errors: [t0: .notEnoughReplicas])
        w.run(until: 2500)
        #expect(w.reports.map(\.tokens) == [[1], [2]])
        #expect(w.reports.allSatisfy { $0.error == .deliveryTimeout })
        #expect(w.inits.count == 2 && w.inits[1].producerId == 1000 && w.inits[1].producerEpoch == 0)
        #expect(w.held.isEmpty)
        w.produce("t", 0, [3])
        let b = w.allSent.last!.batches[0]
        #expect(b.values == ["v3"] && b.sequence == 0 && b.header.producerEpoch == 1)
        w.answerAll()
        #expect(w.deliveredTokens == [3])
    }

    /// Records never sent (no leader) fail at the delivery timeout, not before, and need
    /// no epoch bump.
    @Test func deliveryTimeoutFailsUnsentRecordsWithoutABump() {
        var w = ProducerWorld { $0.deliveryTimeout = .milliseconds(1000) }
        w.topics["t"] = [.init(leader: -1)]
        w.produce("t", 0, [1])
        w.run(until: 999)
        #expect(w.reports.isEmpty)
        w.run(until: 1000)
        #expect(w.outcomes.map(\.0) == [[1]] && w.reports.first?.error == .deliveryTimeout && w.reports.first?.partition == 0)
        #expect(w.allSent.isEmpty && w.inits.count == 1)
    }

    /// Records waiting for an unknown topic's metadata fail at the delivery timeout too.
    @Test func deliveryTimeoutFailsRecordsWaitingForMetadata() {
        var w = ProducerWorld {
            $0.deliveryTimeout = .milliseconds(1000)
            $0.unknownTopicRetries = 100
        }
        w.produce("nope", nil, [1])
        w.run(until: 999)
        #expect(w.reports.isEmpty)
        w.run(until: 1000)
        #expect(w.outcomes.map(\.0) == [[1]] && w.reports.first?.error == .deliveryTimeout && w.reports.first?.partition == -1)
    }

    /// Partitions added to a topic become usable: a record naming one is refused before
    /// metadata shows it and accepted after; the partitioner spreads over it.
    @Test func growingPartitionCountMakesNewPartitionsUsable() {
        var w = ProducerWorld({ $0.partitioner = .roundRobin }, engine: { $0.metadataMaxAge = .seconds(1) })
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        #expect(w.produce("t", 1, [2]) == [.partitionOutOfRange(1, count: 1)])
        w.topics["t"] = [.init(leader: 1), .init(leader: 2)]
        w.run(until: 1000)
        #expect(w.produce("t", 1, [3]) == [nil])
        #expect(w.allSent.last?.broker == 2 && w.allSent.last?.batches[0].tp == t1 && w.allSent.last?.batches[0].sequence == 0)
        w.produce("t", nil, [4])
        w.produce("t", nil, [5])
        let spread = w.allSent.suffix(2).map { $0.batches[0].tp.partition }
        #expect(Set(spread) == [0, 1])
        w.answerAll()
        #expect(w.deliveredTokens.sorted() == [1, 3, 4, 5])
    }

    /// A partition that vanishes from metadata (Kafka cannot shrink a topic: a recreated
    /// topic or a stale broker): no crash; records without a partition go only to the
    /// partitions metadata lists (the sticky choice moves off the vanished one); a record
    /// buffered for the vanished partition stays buffered, neither delivered nor failed,
    /// and is delivered once the partition is back.
    @Test func shrinkingPartitionCountKeepsVanishedPartitionsWaiting() {
        var w = ProducerWorld({ $0.partitioner = .uniformBytes(bytes: 1_000_000, adaptive: false) },
                              engine: { $0.metadataMaxAge = .seconds(1) })
        // Only partition 1 has a leader: the sticky partitioner picks it.
        w.topics["t"] = [.init(leader: -1), .init(leader: 2)]
        w.produce("t", nil, [1])
        #expect(w.held.first?.batches[0].tp == t1)
        w.answer()
        // Partition 1 vanishes; partition 0 gets a leader.
        w.topics["t"] = [.init(leader: 1)]
        w.run(until: 1000)
        w.produce("t", nil, [2])
        w.produce("t", nil, [3])
        #expect(w.allSent.dropFirst().allSatisfy { $0.batches.allSatisfy { $0.tp == t0 } },
                "unpinned records went to a vanished partition: \(w.allSent.dropFirst())")
        w.answerAll()
        // A record naming the vanished partition waits (its leader answers that it does
        // not host it) until metadata lists the partition again.
        w.produce("t", 1, [4])
        var t: UInt64 = 1000
        while t < 3000 {
            while let i = w.held.firstIndex(where: { $0.batches.contains { $0.tp == t1 } }) {
                w.answer(i, errors: [t1: .unknownTopicOrPartition])
            }
            guard w.step(limitMs: 3000) else { break }
            t = (w.now - .zero).milliseconds
        }
        #expect(!w.reports.contains { $0.tokens == [4] }, "the record for the vanished partition was reported")
        #expect(w.h.engine.producerBufferedRecords == 1)
        w.topics["t"] = [.init(leader: 1), .init(leader: 2, epoch: 1)]
        for _ in 0 ..< 20 where !w.reports.contains(where: { $0.tokens == [4] }) {
            w.answerAll()
            _ = w.step(limitMs: 20_000)
        }
        #expect(w.reports.last?.tokens == [4] && w.reports.last?.error == nil && w.reports.last?.partition == 1)
        #expect(w.log[t1] == ["v1", "v4"])
    }
}
