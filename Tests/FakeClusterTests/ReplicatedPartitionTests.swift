import Testing
@testable import FakeCluster

@Suite struct ReplicatedPartitionTests {
    @Test func replicatesAndAdvancesHighWatermark() throws {
        var p = ReplicatedPartition(replicas: [1, 2, 3])
        p.becomeLeader(1, epoch: 0)
        _ = try p.append(makeBatch(count: 2), leader: 1, leaderEpoch: 0, isr: [1, 2, 3]) { _ in true }
        #expect(p.log(2)?.logEndOffset == 2)
        #expect(p.log(3)?.batches == p.log(1)?.batches)
        #expect(p.log(1)?.highWatermark == 2)
    }

    @Test func pausedFollowerInISRHoldsHighWatermark() throws {
        var p = ReplicatedPartition(replicas: [1, 2])
        p.pausedFollowers = [2]
        _ = try p.append(makeBatch(count: 2), leader: 1, leaderEpoch: 0, isr: [1, 2]) { _ in true }
        #expect(p.log(1)?.highWatermark == 0)
        // Once the follower leaves the ISR the leader alone commits.
        p.replicate(leader: 1, isr: [1]) { _ in true }
        #expect(p.log(1)?.highWatermark == 2)
        p.pausedFollowers = []
        let caught = p.replicate(leader: 1, isr: [1]) { _ in true }
        #expect(caught == [2])
    }

    @Test func downFollowerIgnoredForHighWatermark() throws {
        var p = ReplicatedPartition(replicas: [1, 2])
        _ = try p.append(makeBatch(), leader: 1, leaderEpoch: 0, isr: [1, 2]) { $0 == 1 }
        #expect(p.log(2)?.logEndOffset == 0)
        #expect(p.log(1)?.highWatermark == 1)
    }

    @Test func divergentFollowerTruncatedByEpoch() throws {
        // Replica 1 leads epoch 0 and writes 0..3; only 0..1 reaches replica 2.
        var p = ReplicatedPartition(replicas: [1, 2])
        p.becomeLeader(1, epoch: 0)
        _ = try p.append(makeBatch(count: 2, valueSize: 1), leader: 1, leaderEpoch: 0, isr: [1, 2]) { _ in true }
        p.pausedFollowers = [2]
        _ = try p.append(makeBatch(count: 2, valueSize: 1), leader: 1, leaderEpoch: 0, isr: [1]) { _ in true }
        // Replica 2 becomes leader at epoch 1 and writes different data at 2..4.
        p.pausedFollowers = [1]
        p.becomeLeader(2, epoch: 1)
        _ = try p.append(makeBatch(count: 3, valueSize: 9), leader: 2, leaderEpoch: 1, isr: [2]) { _ in true }
        #expect(p.log(2)?.endOffset(forEpoch: 0) == .init(epoch: 0, endOffset: 2))
        // Replica 1 resumes as follower: its epoch-0 tail past 2 is cut, then it copies.
        p.pausedFollowers = []
        p.replicate(leader: 2, isr: [2]) { _ in true }
        #expect(p.log(1)?.batches == p.log(2)?.batches)
        #expect(p.log(1)?.logEndOffset == 5)
    }

    @Test func truncateReplicaThenLeadCreatesDivergence() throws {
        var p = ReplicatedPartition(replicas: [1, 2])
        p.becomeLeader(1, epoch: 0)
        for _ in 0 ..< 3 { _ = try p.append(makeBatch(), leader: 1, leaderEpoch: 0, isr: [1, 2]) { _ in true } }
        p.truncateReplica(2, to: 1)
        p.pausedFollowers = [1]
        p.becomeLeader(2, epoch: 1)
        #expect(p.log(2)?.endOffset(forEpoch: 0) == .init(epoch: 0, endOffset: 1))
        #expect(p.log(1)?.endOffset(forEpoch: 0) == .init(epoch: 0, endOffset: 3))
    }

    @Test func deleteRecordsFollowsToReplicas() throws {
        var p = ReplicatedPartition(replicas: [1, 2])
        for _ in 0 ..< 3 { _ = try p.append(makeBatch(), leader: 1, leaderEpoch: 0, isr: [1, 2]) { _ in true } }
        #expect(p.deleteRecords(leader: 1, before: 2) == .success(2))
        #expect(p.log(2)?.logStartOffset == 2)
        p.setReplicas([1, 3])
        #expect(p.log(2) == nil)
        p.replicate(leader: 1, isr: [1]) { _ in true }
        #expect(p.log(3)?.logStartOffset == 2)
        #expect(p.log(3)?.logEndOffset == 3)
    }
}
