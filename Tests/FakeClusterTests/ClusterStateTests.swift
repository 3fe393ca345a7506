import Testing
@testable import FakeCluster

@Suite struct ClusterStateTests {
    static func cluster(racks: Bool = false, config: ClusterState.Config = .init()) -> ClusterState {
        var c = ClusterState(brokers: (1 ... 3).map { .init(nodeId: Int32($0), host: "b\($0)", port: 9092, rack: racks ? "r\($0)" : nil) },
                             seed: 99, config: config)
        _ = c.createTopic(name: "t", assignments: [[1, 2, 3]])
        return c
    }

    let t0 = tp("t", 0)

    @Test func produceOnLeaderAndRedirectElsewhere() {
        var c = Self.cluster()
        let r = c.produce(broker: 1, t0, records: makeBatch(count: 3), acks: -1, now: .zero)
        #expect(r.error == .noError && r.baseOffset == 0 && r.awaitHighWatermark == 3)
        #expect(c.isReplicated(t0, upTo: 3))
        #expect(c.log(t0, replica: 3)?.logEndOffset == 3)
        let wrong = c.produce(broker: 2, t0, records: makeBatch(), acks: 1, now: .zero)
        #expect(wrong.error == .notLeaderOrFollower)
        #expect(wrong.currentLeader == .init(leaderId: 1, leaderEpoch: 0))
        #expect(c.produce(broker: 1, tp("nope", 0), records: makeBatch(), acks: 1, now: .zero).error == .unknownTopicOrPartition)
    }

    @Test func produceValidation() {
        var c = Self.cluster()
        #expect(c.produce(broker: 1, t0, records: makeBatch(), acks: 2, now: .zero).error == .invalidRequiredAcks)
        #expect(c.produce(broker: 1, t0, records: makeBatch() + makeBatch(), acks: 1, now: .zero).error == .invalidRecord)
        var bad = makeBatch()
        bad[bad.count - 1] ^= 1
        #expect(c.produce(broker: 1, t0, records: bad, acks: 1, now: .zero).error == .corruptMessage)
        _ = c.createTopic(name: "small", assignments: [[1]], configs: ["max.message.bytes": "100", "min.insync.replicas": "2"])
        #expect(c.produce(broker: 1, tp("small", 0), records: makeBatch(count: 20), acks: 1, now: .zero).error == .messageTooLarge)
        #expect(c.produce(broker: 1, tp("small", 0), records: makeBatch(), acks: -1, now: .zero).error == .notEnoughReplicas)
        #expect(c.produce(broker: 1, tp("small", 0), records: makeBatch(), acks: 1, now: .zero).error == .noError)
    }

    @Test func acksAllWaitsForLaggingFollower() {
        var c = Self.cluster()
        c.setReplicationPaused(t0, replica: 3, true)
        let r = c.produce(broker: 1, t0, records: makeBatch(count: 2), acks: -1, now: .zero)
        #expect(r.awaitHighWatermark == 2)
        #expect(!c.isReplicated(t0, upTo: 2))
        c.setReplicationPaused(t0, replica: 3, false)
        #expect(c.isReplicated(t0, upTo: 2))
    }

    @Test func laggingFollowerLeavesISRAfterLagTime() {
        var c = Self.cluster()
        c.setReplicationPaused(t0, replica: 3, true)
        let r = c.produce(broker: 1, t0, records: makeBatch(count: 2), acks: -1, now: ms(1_000))
        #expect(!c.isReplicated(t0, upTo: r.awaitHighWatermark!))
        #expect(c.tick(now: ms(1_001)).nextDeadline == ms(31_000))
        _ = c.tick(now: ms(30_999))
        #expect(c.metadata.partition(t0)?.isr == [1, 2, 3])
        _ = c.tick(now: ms(31_000))
        #expect(c.metadata.partition(t0)?.isr == [1, 2])
        #expect(c.isReplicated(t0, upTo: 2))
        // Resumed, it catches up and rejoins.
        c.setReplicationPaused(t0, replica: 3, false)
        #expect(c.metadata.partition(t0)?.isr == [1, 2, 3])
        #expect(c.laggingSince.isEmpty)
    }

    @Test func logAppendTimeRewritesBatch() throws {
        var c = Self.cluster()
        _ = c.createTopic(name: "lat", assignments: [[1, 2]], configs: ["message.timestamp.type": "LogAppendTime"])
        let r = c.produce(broker: 1, tp("lat", 0), records: makeBatch(count: 2, timestamp: 5), acks: 1, now: ms(777))
        #expect(r.logAppendTime == 777)
        let stored = try BatchHeader.parse(c.leaderLog(tp("lat", 0))!.batches[0].bytes) // CRC still valid
        #expect(stored.isLogAppendTime && stored.maxTimestamp == 777)
        #expect(c.listOffset(broker: 1, tp("lat", 0), timestamp: 700).offset == 0)
        #expect(c.produce(broker: 1, t0, records: makeBatch(), acks: 1, now: ms(777)).logAppendTime == -1)
    }

    @Test func minOneBatchOnlyForFirstPartition() {
        var c = Self.cluster()
        _ = c.produce(broker: 1, t0, records: makeBatch(count: 1, valueSize: 100), acks: 1, now: .zero)
        let req = ClusterState.FetchPartitionRequest(topicPartition: t0, fetchOffset: 0, partitionMaxBytes: 10)
        #expect(!c.fetchPartition(broker: 1, req, maxBytes: 10).records.isEmpty)
        #expect(c.fetchPartition(broker: 1, req, maxBytes: 10, minOneBatch: false).records.isEmpty)
    }

    @Test func idempotentDuplicateReturnsOriginalOffset() {
        var c = Self.cluster()
        let b = makeBatch(count: 2, producerId: 5, epoch: 0, sequence: 0)
        _ = c.produce(broker: 1, t0, records: makeBatch(), acks: 1, now: .zero)
        #expect(c.produce(broker: 1, t0, records: b, acks: 1, now: .zero).baseOffset == 1)
        let again = c.produce(broker: 1, t0, records: b, acks: 1, now: .zero)
        #expect(again.error == .noError && again.baseOffset == 1)
        #expect(c.leaderLog(t0)?.logEndOffset == 3)
        // The new leader knows the producer too (state replicated with the batches).
        _ = c.moveLeader(t0, to: 2)
        #expect(c.produce(broker: 2, t0, records: b, acks: 1, now: .zero).baseOffset == 1)
        #expect(c.produce(broker: 2, t0, records: makeBatch(producerId: 5, epoch: 0, sequence: 5), acks: 1, now: .zero).error == .outOfOrderSequenceNumber)
    }

    @Test func legacyDuplicateSequenceError() {
        var cfg = ClusterState.Config()
        cfg.duplicateSequenceIsError = true
        var c = Self.cluster(config: cfg)
        let b = makeBatch(producerId: 5, epoch: 0, sequence: 0)
        #expect(c.produce(broker: 1, t0, records: b, acks: 1, now: .zero).error == .noError)
        #expect(c.produce(broker: 1, t0, records: b, acks: 1, now: .zero).error == .duplicateSequenceNumber)
        #expect(c.leaderLog(t0)?.logEndOffset == 1)
    }

    @Test func fetchEpochFencingAndRedirect() throws {
        var c = Self.cluster()
        _ = c.produce(broker: 1, t0, records: makeBatch(count: 2), acks: -1, now: .zero)
        _ = c.moveLeader(t0, to: 2) // epoch 1
        func fetch(_ broker: Int32, epoch: Int32) -> ClusterState.FetchPartitionResult {
            c.fetchPartition(broker: broker, .init(topicPartition: t0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: epoch), maxBytes: 1 << 20)
        }
        #expect(fetch(2, epoch: 0).error == .fencedLeaderEpoch)
        #expect(fetch(2, epoch: 0).currentLeader == .init(leaderId: 2, leaderEpoch: 1))
        #expect(fetch(2, epoch: 2).error == .unknownLeaderEpoch)
        #expect(fetch(1, epoch: 1).error == .notLeaderOrFollower)
        #expect(fetch(1, epoch: 1).currentLeader == .init(leaderId: 2, leaderEpoch: 1))
        let ok = fetch(2, epoch: 1)
        #expect(ok.error == .noError && ok.highWatermark == 2)
        #expect(try BatchHeader.split(ok.records).count == 1)
        let oor = c.fetchPartition(broker: 2, .init(topicPartition: t0, fetchOffset: 9, partitionMaxBytes: 100), maxBytes: 100)
        #expect(oor.error == .offsetOutOfRange)
    }

    @Test func preferredReadReplicaAndFollowerReads() {
        var c = Self.cluster(racks: true)
        _ = c.produce(broker: 1, t0, records: makeBatch(), acks: -1, now: .zero)
        let req = ClusterState.FetchPartitionRequest(topicPartition: t0, fetchOffset: 0, partitionMaxBytes: 1000, clientRack: "r3")
        let redirected = c.fetchPartition(broker: 1, req, maxBytes: 1000)
        #expect(redirected.preferredReadReplica == 3 && redirected.records.isEmpty)
        #expect(c.fetchPartition(broker: 3, req, maxBytes: 1000).error == .notLeaderOrFollower)
        let follower = c.fetchPartition(broker: 3, req, maxBytes: 1000, allowFollowerReads: true)
        #expect(follower.error == .noError && !follower.records.isEmpty)
    }

    @Test func stopAndRestartBroker() {
        var c = Self.cluster()
        _ = c.produce(broker: 1, t0, records: makeBatch(), acks: -1, now: .zero)
        #expect(c.stopBroker(1, now: .zero) == .noError)
        #expect(c.metadata.partition(t0)?.leader == 2)
        #expect(c.metadata.partition(t0)?.leaderEpoch == 1)
        #expect(c.produce(broker: 1, t0, records: makeBatch(), acks: 1, now: .zero).error == .notLeaderOrFollower)
        #expect(c.produce(broker: 2, t0, records: makeBatch(), acks: -1, now: .zero).baseOffset == 1)
        #expect(c.log(t0, replica: 1)?.logEndOffset == 1)   // missed the write while down
        #expect(c.restartBroker(1, now: .zero) == .noError)
        #expect(c.log(t0, replica: 1)?.logEndOffset == 2)   // caught up
        #expect(c.metadata.partition(t0)?.isr == [1, 2, 3])
        #expect(c.metadata.partition(t0)?.leader == 2)
    }

    @Test func truncateAndLeadCreatesDivergence() throws {
        var c = Self.cluster()
        for _ in 0 ..< 3 { _ = c.produce(broker: 1, t0, records: makeBatch(), acks: -1, now: .zero) }
        c.setReplicationPaused(t0, replica: 1, true)  // keep the old leader's tail for the fetch below
        let change = try c.truncateAndLead(t0, replica: 2, truncateTo: 1).get()
        #expect(change.newLeader == 2 && change.epoch == 1)
        #expect(c.leaderLog(t0)?.logEndOffset == 1)
        // A consumer at offset 3 that last saw epoch 0 learns epoch 0 ends at 1 on the new leader.
        let f = c.fetchPartition(broker: 2, .init(topicPartition: t0, fetchOffset: 3, partitionMaxBytes: 1000,
                                                  currentLeaderEpoch: 1, lastFetchedEpoch: 0), maxBytes: 1000)
        #expect(f.divergingEpoch == .init(epoch: 0, endOffset: 1))
        #expect(c.offsetForLeaderEpoch(broker: 2, t0, currentLeaderEpoch: 1, leaderEpoch: 0).end == .init(epoch: 0, endOffset: 1))
        // The old leader, replicating again, truncates to the new leader's log.
        c.setReplicationPaused(t0, replica: 1, false)
        #expect(c.log(t0, replica: 1)?.logEndOffset == 1)
    }

    @Test func listOffsets() {
        var c = Self.cluster()
        _ = c.produce(broker: 1, t0, records: makeBatch(count: 2, timestamp: 100, timestampStep: 100), acks: -1, now: .zero)
        _ = c.produce(broker: 1, t0, records: makeBatch(count: 1, timestamp: 150), acks: -1, now: .zero)
        #expect(c.listOffset(broker: 1, t0, timestamp: -2).offset == 0)
        #expect(c.listOffset(broker: 1, t0, timestamp: -1).offset == 3)
        #expect(c.listOffset(broker: 1, t0, timestamp: -3) == .init(error: .noError, timestamp: 200, offset: 1, leaderEpoch: 0))
        #expect(c.listOffset(broker: 1, t0, timestamp: 150).offset == 1)
        #expect(c.listOffset(broker: 1, t0, timestamp: 500).offset == -1)
        #expect(c.listOffset(broker: 2, t0, timestamp: -1).error == .notLeaderOrFollower)
        #expect(c.listOffset(broker: 1, t0, timestamp: -1, currentLeaderEpoch: 3).error == .unknownLeaderEpoch)
        #expect(c.deleteRecords(broker: 1, t0, before: 2) == .success(2))
        #expect(c.listOffset(broker: 1, t0, timestamp: -2).offset == 2)
    }

    @Test func transactionCommitEndToEnd() {
        var c = Self.cluster()
        guard case .success(let pe) = c.transactions.initProducerId(transactionalId: "tx", timeoutMs: 10_000, now: .zero) else { return }
        let txnBatch = makeBatch(count: 2, producerId: pe.producerId, epoch: pe.producerEpoch, sequence: 0, transactional: true)
        // Not added to the transaction yet.
        #expect(c.produce(broker: 1, t0, records: txnBatch, acks: -1, now: .zero).error == .invalidTxnState)
        _ = c.transactions.addPartitions(transactionalId: "tx", producerId: pe.producerId, producerEpoch: pe.producerEpoch, [t0], now: .zero)
        _ = c.transactions.addOffsets(transactionalId: "tx", producerId: pe.producerId, producerEpoch: pe.producerEpoch, groupId: "g", now: .zero)
        #expect(c.produce(broker: 1, t0, records: txnBatch, acks: -1, now: .zero).error == .noError)
        _ = c.groups.commitTransactionalOffsets(groupId: "g", producerId: pe.producerId, [.init(topicPartition: t0, offset: 2)], now: .zero)
        #expect(c.leaderLog(t0)?.lastStableOffset == 0)
        guard case .ending(let comp) = c.transactions.endTransaction(transactionalId: "tx", producerId: pe.producerId,
                                                                     producerEpoch: pe.producerEpoch, commit: true, now: ms(1)) else { return }
        #expect(c.finishTransaction(comp, now: ms(1)).isEmpty)
        #expect(c.leaderLog(t0)?.lastStableOffset == 3)
        #expect(c.leaderLog(t0)?.batches.last?.header.isControl == true)
        #expect(c.log(t0, replica: 3)?.batches.last?.controlCommit == true)
        #expect(c.transactions.transaction("tx")?.state == .completeCommit)
        #expect(c.groups.fetchOffsets(groupId: "g", partitions: [t0], requireStable: true).first?.offset == 2)
    }

    /// A producer fenced by a newer instance of its transactional id is told so on produce
    /// (INVALID_PRODUCER_EPOCH, as Kafka's verification answers), not INVALID_TXN_STATE.
    @Test func fencedTransactionalProduceAnswersInvalidProducerEpoch() {
        var c = Self.cluster()
        guard case .success(let pe) = c.transactions.initProducerId(transactionalId: "tx", timeoutMs: 10_000, now: .zero) else { return }
        _ = c.transactions.addPartitions(transactionalId: "tx", producerId: pe.producerId, producerEpoch: pe.producerEpoch, [t0], now: .zero)
        let old = makeBatch(count: 1, producerId: pe.producerId, epoch: pe.producerEpoch, sequence: 0, transactional: true)
        #expect(c.produce(broker: 1, t0, records: old, acks: -1, now: .zero).error == .noError)
        // A second instance: its InitProducerId aborts the open transaction with a bumped epoch.
        guard case .abortingOngoing(let comp) = c.transactions.initProducerId(transactionalId: "tx", timeoutMs: 10_000, now: ms(1)) else {
            Issue.record("expected the open transaction aborted")
            return
        }
        c.finishTransaction(comp, now: ms(1))
        let next = makeBatch(count: 1, producerId: pe.producerId, epoch: pe.producerEpoch, sequence: 1, transactional: true)
        #expect(c.produce(broker: 1, t0, records: next, acks: -1, now: ms(2)).error == .invalidProducerEpoch)
        // A partition the old transaction never had: the coordinator's epoch says fenced too.
        _ = c.createTopic(name: "u", assignments: [[1, 2, 3]])
        #expect(c.produce(broker: 1, tp("u", 0), records: old, acks: -1, now: ms(2)).error == .invalidProducerEpoch)
        // Never added, never fenced: still INVALID_TXN_STATE.
        guard case .success(let other) = c.transactions.initProducerId(transactionalId: "tx2", timeoutMs: 10_000, now: ms(3)) else { return }
        let stray = makeBatch(count: 1, producerId: other.producerId, epoch: other.producerEpoch, sequence: 0, transactional: true)
        #expect(c.produce(broker: 1, t0, records: stray, acks: -1, now: ms(3)).error == .invalidTxnState)
    }

    @Test func transactionTimeoutAbortsThroughTick() {
        var c = Self.cluster()
        guard case .success(let pe) = c.transactions.initProducerId(transactionalId: "tx", timeoutMs: 1_000, now: .zero) else { return }
        _ = c.transactions.addPartitions(transactionalId: "tx", producerId: pe.producerId, producerEpoch: pe.producerEpoch, [t0], now: .zero)
        _ = c.produce(broker: 1, t0, records: makeBatch(producerId: pe.producerId, epoch: 0, sequence: 0, transactional: true), acks: -1, now: .zero)
        #expect(c.tick(now: ms(999)).nextDeadline == ms(1_000))
        _ = c.tick(now: ms(1_000))
        #expect(c.transactions.transaction("tx")?.state == .completeAbort)
        #expect(c.leaderLog(t0)?.abortedTransactions == [.init(producerId: pe.producerId, firstOffset: 0, lastOffset: 1)])
        #expect(c.leaderLog(t0)?.lastStableOffset == 2)
        // The fenced producer's old epoch is rejected by the log.
        #expect(c.produce(broker: 1, t0, records: makeBatch(producerId: pe.producerId, epoch: 0, sequence: 1), acks: 1, now: ms(1_001)).error == .invalidProducerEpoch)
    }

    @Test func markersWaitForOfflinePartition() {
        var c = Self.cluster()
        _ = c.createTopic(name: "solo", assignments: [[3]])
        guard case .success(let pe) = c.transactions.initProducerId(transactionalId: "tx", timeoutMs: 10_000, now: .zero) else { return }
        _ = c.transactions.addPartitions(transactionalId: "tx", producerId: pe.producerId, producerEpoch: 0, [tp("solo", 0)], now: .zero)
        _ = c.stopBroker(3, now: .zero)
        guard case .ending(let comp) = c.transactions.endTransaction(transactionalId: "tx", producerId: pe.producerId, producerEpoch: 0, commit: false, now: .zero) else { return }
        #expect(c.finishTransaction(comp, now: .zero) == [tp("solo", 0)])
        #expect(c.transactions.transaction("tx")?.state == .prepareAbort)
        _ = c.restartBroker(3, now: .zero)
        _ = c.tick(now: ms(1))
        #expect(c.transactions.transaction("tx")?.state == .completeAbort)
        #expect(c.leaderLog(tp("solo", 0))?.batches.last?.controlCommit == false)
    }

    @Test func coordinatorPlacement() {
        #expect(ClusterState.javaHashCode("hello") == 99_162_322)
        #expect(ClusterState.javaHashCode("") == 0)
        var c = Self.cluster()
        let home = c.coordinator(for: "g", type: .group)!
        #expect(c.coordinator(for: "g", type: .group) == home)
        let other: Int32 = home == 1 ? 2 : 1
        c.moveCoordinator(key: "g", type: .group, to: other, now: .zero)
        #expect(c.coordinator(for: "g", type: .group) == other)
        _ = c.stopBroker(other, now: .zero)
        #expect(c.coordinator(for: "g", type: .group) != other)
        let txHome = c.coordinator(for: "tx", type: .transaction)!
        c.moveCoordinator(key: "tx", type: .transaction, to: txHome, now: .zero)
        #expect(c.transactions.coordinatorEpoch == 0)       // not a move
        let txOther = c.metadata.liveBrokerIds.first { $0 != txHome }!
        c.moveCoordinator(key: "tx", type: .transaction, to: txOther, now: .zero)
        #expect(c.transactions.coordinatorEpoch == 1)
    }

    @Test func stoppingTheGroupCoordinatorReloadsTheGroup() {
        var c = Self.cluster()
        var h = GroupHarness()
        let (a, b) = h.stablePair()
        c.groups = h.c
        let home = c.coordinator(for: "g", type: .group)!
        // A rebalance is under way when the coordinator's broker dies.
        var rng = SeededGenerator(seed: 3)
        let parked = c.groups.joinGroup(h.request(a), now: ms(100), using: &rng)
        guard case .parked(let token) = parked else { Issue.record("leader rejoin should park"); return }
        _ = c.groups.takeCompletions()
        #expect(c.stopBroker(home, now: ms(200)) == .noError)
        #expect(c.coordinator(for: "g", type: .group) != home)
        #expect(c.groups.takeCompletions() == [.join(token, .init(error: .notCoordinator, memberId: a))])
        let g = c.groups.groups["g"]!
        #expect(g.state == .stable && g.generationId == 2)
        #expect(g.orderedMembers.map(\.memberId) == [a, b])
        #expect(g.member(b)?.assignment == [2])
        #expect(g.member(b)?.lastHeartbeat == ms(200))
    }

    @Test func deleteTopicCleansUp() {
        var c = Self.cluster()
        _ = c.groups.commitOffsets(groupId: "g", generationId: -1, memberId: "", groupInstanceId: nil, [.init(topicPartition: t0, offset: 1)], now: .zero)
        #expect(c.deleteTopic("t") == .noError)
        #expect(c.replicated(t0) == nil)
        #expect(c.groups.fetchOffsets(groupId: "g", partitions: nil, requireStable: false).isEmpty)
        #expect(c.deleteTopic("t") == .unknownTopicOrPartition)
    }

    @Test func autoCreateAndSessionsThroughTheCluster() {
        var c = Self.cluster()
        #expect(c.topicOrAutoCreate("fresh")?.partitions.count == 1)
        #expect(c.metadata.topic("fresh")?.partitions.first?.replicas.count == 3)
        #expect(c.topicOrAutoCreate("bad name") == nil)
        c.metadata.autoCreateTopics = false
        #expect(c.topicOrAutoCreate("other") == nil)
        let ctx = c.beginFetch(broker: 1, sessionId: 0, epoch: 0, fetch: [.init(topicPartition: t0, fetchOffset: 0, partitionMaxBytes: 100)],
                               forgotten: [], now: .zero)
        #expect(ctx.responseSessionId != 0)
        #expect(c.fetchSessions[1]?.session(ctx.responseSessionId) != nil)
        #expect(c.fetchSessions[2]?.session(ctx.responseSessionId) == nil)
        _ = c.stopBroker(1, now: .zero)
        #expect(c.fetchSessions[1]?.session(ctx.responseSessionId) == nil)
    }

    @Test func sameSeedSameCluster() {
        let a = Self.cluster(), b = Self.cluster()
        #expect(a.metadata.topic("t") == b.metadata.topic("t"))
    }
}
