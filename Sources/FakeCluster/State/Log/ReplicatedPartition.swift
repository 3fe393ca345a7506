/// All replicas' logs of one partition and the fake's replication between them: the
/// leader appends, live followers that a test has not paused copy the leader's batches at
/// once, and the high watermark is the lowest log end across the live ISR (acks=all).
/// A follower whose log diverged (a KIP-320 scenario) is truncated the way a real
/// follower does it: by asking the leader for the end offset of its own latest epoch.
struct ReplicatedPartition: Sendable, Equatable {
    private(set) var logs: [Int32: PartitionLog] = [:]
    /// Followers a test has stopped replicating (they fall behind, holding back the HW while in the ISR).
    var pausedFollowers: Set<Int32> = []
    let unknownProducerPolicy: ProducerStateTable.UnknownProducerPolicy

    init(replicas: [Int32], unknownProducerPolicy: ProducerStateTable.UnknownProducerPolicy = .outOfOrderSequence) {
        self.unknownProducerPolicy = unknownProducerPolicy
        for r in replicas { logs[r] = PartitionLog(unknownProducerPolicy: unknownProducerPolicy) }
    }

    func log(_ replica: Int32) -> PartitionLog? { logs[replica] }

    /// Keeps one log per current replica: new replicas start empty (and are caught up by
    /// `replicate`), removed ones are dropped.
    mutating func setReplicas(_ replicas: [Int32]) {
        for r in logs.keys.sorted() where !replicas.contains(r) { logs[r] = nil }
        for r in replicas where logs[r] == nil { logs[r] = PartitionLog(unknownProducerPolicy: unknownProducerPolicy) }
    }

    mutating func becomeLeader(_ replica: Int32, epoch: Int32) {
        logs[replica]?.assignEpoch(epoch)
    }

    /// The leader's append of a client batch, followed by replication.
    mutating func append(_ batch: [UInt8], leader: Int32, leaderEpoch: Int32, isr: [Int32], logAppendTime: Int64? = nil,
                         isLive: (Int32) -> Bool) throws(PartitionLog.AppendError) -> PartitionLog.AppendOutcome {
        guard logs[leader] != nil else { throw .producer(.notLeaderOrFollower) }
        let outcome = try logs[leader]!.appendAsLeader(batch, leaderEpoch: leaderEpoch, logAppendTime: logAppendTime)
        replicate(leader: leader, isr: isr, isLive: isLive)
        return outcome
    }

    /// The leader writes a transaction marker, followed by replication.
    @discardableResult
    mutating func appendMarker(commit: Bool, producerId: Int64, producerEpoch: Int16, coordinatorEpoch: Int32,
                               leader: Int32, leaderEpoch: Int32, timestamp: Int64, isr: [Int32],
                               isLive: (Int32) -> Bool) -> Int64? {
        guard logs[leader] != nil else { return nil }
        let offset = logs[leader]!.appendMarker(commit: commit, producerId: producerId, producerEpoch: producerEpoch,
                                                coordinatorEpoch: coordinatorEpoch, leaderEpoch: leaderEpoch,
                                                timestamp: timestamp)
        replicate(leader: leader, isr: isr, isLive: isLive)
        return offset
    }

    /// Brings every live, unpaused follower level with the leader, then recomputes the
    /// high watermark. Returns followers that are now caught up (so the caller may put
    /// them back into the ISR).
    @discardableResult
    mutating func replicate(leader: Int32, isr: [Int32], isLive: (Int32) -> Bool) -> [Int32] {
        guard let leaderLog = logs[leader] else { return [] }
        var caughtUp: [Int32] = []
        for r in logs.keys.sorted() where r != leader && isLive(r) && !pausedFollowers.contains(r) {
            // In place: a copy of the follower would copy its whole batch list on the first append.
            Self.follow(&logs[r]!, leaderLog)
            if logs[r]!.logEndOffset == leaderLog.logEndOffset { caughtUp.append(r) }
        }
        let inSync = isr.filter { $0 == leader || isLive($0) }
        let hw = inSync.compactMap { logs[$0]?.logEndOffset }.min() ?? leaderLog.logEndOffset
        let newHW = max(hw, leaderLog.highWatermark)
        for r in logs.keys.sorted() {
            if r == leader || isLive(r) { logs[r]!.setHighWatermark(newHW) }
        }
        return caughtUp
    }

    /// One follower catching up: reconciled with the leader, then the leader's batches from
    /// its log end copied over.
    private static func follow(_ f: inout PartitionLog, _ leaderLog: PartitionLog) {
        reconcile(&f, with: leaderLog)
        var i = leaderLog.firstBatchIndex(containing: f.logEndOffset)
        // Batch boundaries of a diverged follower may not match the leader's: realign.
        if i < leaderLog.batches.count, leaderLog.batches[i].baseOffset < f.logEndOffset {
            f.truncate(to: leaderLog.batches[i].baseOffset)
            i = leaderLog.firstBatchIndex(containing: f.logEndOffset)
        }
        while i < leaderLog.batches.count, leaderLog.batches[i].baseOffset == f.logEndOffset {
            f.appendReplicated(leaderLog.batches[i])
            i += 1
        }
    }

    /// KIP-320 truncation: ask the leader for the end offset of the follower's latest epoch
    /// and cut the follower there, until the follower's tail agrees with the leader.
    private static func reconcile(_ f: inout PartitionLog, with leaderLog: PartitionLog) {
        while let epoch = f.latestEpoch, f.logEndOffset > f.logStartOffset {
            let answer = leaderLog.endOffset(forEpoch: epoch)
            let leaderEpoch = answer.epoch, end = answer.endOffset
            if leaderEpoch == epoch, end >= f.logEndOffset { break }
            let before = f.logEndOffset
            f.truncate(to: leaderEpoch < 0 ? f.logStartOffset : min(end, f.logEndOffset))
            if f.logEndOffset == before { break }
        }
        if f.logEndOffset > leaderLog.logEndOffset { f.truncate(to: leaderLog.logEndOffset) }
        // A follower behind the leader's log start restarts from it.
        if f.logEndOffset < leaderLog.logStartOffset { f.advanceLogStart(to: leaderLog.logStartOffset) }
    }

    /// Test control: cut one replica's log (e.g. to make it diverge before it leads).
    mutating func truncateReplica(_ replica: Int32, to offset: Int64) {
        logs[replica]?.truncate(to: offset)
    }

    /// DeleteRecords on the leader, then on the followers (they follow the leader's start).
    mutating func deleteRecords(leader: Int32, before offset: Int64) -> Result<Int64, KafkaErrorCode> {
        guard logs[leader] != nil else { return .failure(.notLeaderOrFollower) }
        let result = logs[leader]!.deleteRecords(before: offset)
        if case .success(let start) = result {
            for r in logs.keys.sorted() where r != leader {
                logs[r]!.advanceLogStart(to: min(start, logs[r]!.logEndOffset))
            }
        }
        return result
    }
}

