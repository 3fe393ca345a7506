import KafkaProtocol
import KafkaStateMachines

/// Produces small batches (acks=all) round-robin over a topic's partitions, straight
/// through `request` to the leader the engine's metadata names. On a partition error it
/// asks for metadata (the engine folds user Metadata answers into its cache).
struct ProduceWorkload: SimWorkload {
    let topic: String
    let partitions: Int32
    let every: UInt64
    let records: Int
    var next: Int32 = 0
    var sequence = 0
    var inFlight: [PromiseID: (partition: Int32, values: [[UInt8]])] = [:]
    var needMetadata = false
    /// Whether the last completed produce of the liveness phase was clean.
    var lastLivenessClean: Bool? = nil
    var lastLivenessFailure = ""
    let contexts = CompressionContexts()

    var name: String { "produce \(topic)" }

    mutating func wake(_ ctx: inout WorkloadContext) -> UInt64? {
        // Bounded outstanding work: a stuck cluster must not make the run grow without end.
        guard inFlight.count < 16 else { return ctx.now + every }
        let tp = TopicPartition(topic, next)
        guard !needMetadata, let leader = ctx.metadata.leader(of: tp) else {
            needMetadata = false
            var m = MetadataRequest()
            var t = MetadataRequest.MetadataRequestTopic()
            t.name = topic
            m.topics = [t]
            m.allowAutoTopicCreation = false
            _ = ctx.issue(m)
            return ctx.now + every
        }
        next = (next + 1) % partitions
        var values: [[UInt8]] = []
        for _ in 0 ..< records {
            values.append(Array("\(topic)-\(tp.partition)-\(sequence)".utf8))
            sequence += 1
        }
        var w = ByteWriter()
        let recs = values.map { EncodableRecord(value: $0, timestamp: Int64(ctx.now / 1_000_000)) }
        try! RecordBatchEncoder.encode(recs, contexts: contexts, into: &w)
        var pd = ProduceRequest.PartitionProduceData()
        pd.index = tp.partition
        pd.records = w.bytes
        var td = ProduceRequest.TopicProduceData()
        td.name = topic
        td.partitionData = [pd]
        var r = ProduceRequest()
        r.acks = -1
        r.timeoutMs = 5_000
        r.topicData = [td]
        let p = ctx.issue(r, to: .broker(leader))
        inFlight[p] = (tp.partition, values)
        return ctx.now + every
    }

    mutating func completed(_ p: PromiseID, _ result: Result<any KafkaResponse, KafkaClientError>, _ ctx: inout WorkloadContext) {
        guard let sent = inFlight.removeValue(forKey: p) else { return }  // a metadata request
        var clean = false
        var failure = "no answer for partition \(sent.partition)"
        if case .success(let resp) = result, let r = resp as? ProduceResponse {
            for t in r.responses where t.name == topic {
                for pr in t.partitionResponses where pr.index == sent.partition {
                    if pr.errorCode == 0 {
                        clean = true
                        for (i, v) in sent.values.enumerated() {
                            ctx.acked.append(AckedRecord(topic: topic, partition: sent.partition, offset: pr.baseOffset + Int64(i), value: v))
                        }
                    } else {
                        failure = "partition \(sent.partition): \(KafkaErrorCode(rawValue: pr.errorCode))"
                        needMetadata = true
                    }
                }
            }
        } else {
            if case .failure(let e) = result { failure = "\(e)" }
            needMetadata = true
        }
        if ctx.inLiveness {
            lastLivenessClean = clean
            lastLivenessFailure = clean ? "" : failure
        }
    }

    func finish(_ ctx: inout WorkloadContext) {
        if lastLivenessClean == false {
            ctx.violations.add("settled", "\(name): the last produce after faults healed still failed (\(lastLivenessFailure))", at: ctx.now)
        }
    }
}

/// ListOffsets (latest) for every partition; the engine splits it across leaders and
/// merges the answers. With acks=all, the high watermark must cover every record acked
/// before the request was issued.
struct ListOffsetsWorkload: SimWorkload {
    let topic: String
    let partitions: Int32
    let every: UInt64
    /// Per promise, the next offset after the records acked when it was issued.
    var inFlight: [PromiseID: [Int64]] = [:]
    var lastLivenessClean: Bool? = nil

    var name: String { "list-offsets \(topic)" }

    mutating func wake(_ ctx: inout WorkloadContext) -> UInt64? {
        guard inFlight.count < 4 else { return ctx.now + every }
        var floor = [Int64](repeating: 0, count: Int(partitions))
        for a in ctx.acked where a.topic == topic && a.partition < partitions {
            floor[Int(a.partition)] = max(floor[Int(a.partition)], a.offset + 1)
        }
        var t = ListOffsetsRequest.ListOffsetsTopic()
        t.name = topic
        t.partitions = (0 ..< partitions).map { i in
            var p = ListOffsetsRequest.ListOffsetsPartition()
            p.partitionIndex = i
            p.timestamp = -1
            return p
        }
        var r = ListOffsetsRequest()
        r.replicaId = -1
        r.topics = [t]
        inFlight[ctx.issue(r)] = floor
        return ctx.now + every
    }

    mutating func completed(_ p: PromiseID, _ result: Result<any KafkaResponse, KafkaClientError>, _ ctx: inout WorkloadContext) {
        guard let floor = inFlight.removeValue(forKey: p) else { return }
        var clean = false
        if case .success(let resp) = result, let r = resp as? ListOffsetsResponse {
            clean = true
            for t in r.topics where t.name == topic {
                for pr in t.partitions {
                    guard pr.errorCode == 0 else { clean = false; continue }
                    let i = Int(pr.partitionIndex)
                    if i >= 0 && i < floor.count && pr.offset < floor[i] {
                        ctx.violations.add("offsets-visible", "\(topic)[\(i)] latest offset \(pr.offset) < \(floor[i]) (records acked before the request)", at: ctx.now)
                    }
                }
            }
        }
        if ctx.inLiveness { lastLivenessClean = clean }
    }

    func finish(_ ctx: inout WorkloadContext) {
        if lastLivenessClean == false {
            ctx.violations.add("settled", "\(name): the last ListOffsets after faults healed had errors", at: ctx.now)
        }
    }
}

/// Commits offsets for one group (as a standalone consumer: generation -1, no member)
/// and reads them back, one request at a time, so the committed value is known: a fetch
/// must see at least the last acknowledged commit and at most the last one sent.
struct CommitWorkload: SimWorkload {
    let group: String
    let topic: String
    let every: UInt64
    var counter: Int64 = 0
    var lastAcked: Int64 = -1
    var lastSent: Int64 = -1
    /// Commits that failed: the broker may have applied them anyway (the answer was lost),
    /// even after a later commit, if their bytes were still on an old connection.
    var ambiguous: [Int64] = []
    var inFlight: (promise: PromiseID, isCommit: Bool, value: Int64)? = nil
    var lastLivenessClean: Bool? = nil

    var name: String { "commit \(group)" }

    mutating func wake(_ ctx: inout WorkloadContext) -> UInt64? {
        guard inFlight == nil else { return ctx.now + every }
        if counter % 2 == 0 {
            let value = counter / 2
            var part = OffsetCommitRequest.OffsetCommitRequestPartition()
            part.partitionIndex = 0
            part.committedOffset = value
            var t = OffsetCommitRequest.OffsetCommitRequestTopic()
            t.name = topic
            t.partitions = [part]
            var r = OffsetCommitRequest()
            r.groupId = group
            r.generationIdOrMemberEpoch = -1
            r.topics = [t]
            lastSent = value
            // v8 and lower name topics, not topic ids.
            inFlight = (ctx.issue(r, pin: 0 ... 8), true, value)
        } else {
            var t = OffsetFetchRequest.OffsetFetchRequestTopic()
            t.name = topic
            t.partitionIndexes = [0]
            var r = OffsetFetchRequest()
            r.groupId = group
            r.topics = [t]
            // v8 moved to a groups array; this workload uses the single-group shape.
            inFlight = (ctx.issue(r, pin: 1 ... 7), false, 0)
        }
        counter += 1
        return ctx.now + every
    }

    mutating func completed(_ p: PromiseID, _ result: Result<any KafkaResponse, KafkaClientError>, _ ctx: inout WorkloadContext) {
        guard let f = inFlight, f.promise == p else { return }
        inFlight = nil
        var clean = false
        switch result {
        case .success(let resp as OffsetCommitResponse):
            clean = resp.topics.allSatisfy { $0.partitions.allSatisfy { $0.errorCode == 0 } }
            if clean { lastAcked = f.value } else { ambiguous.append(f.value) }
        case .success(let resp as OffsetFetchResponse):
            clean = resp.errorCode == 0
            for t in resp.topics where t.name == topic {
                for pr in t.partitions where pr.partitionIndex == 0 {
                    guard pr.errorCode == 0 else { clean = false; continue }
                    let ok = (pr.committedOffset >= lastAcked && pr.committedOffset <= lastSent) || ambiguous.contains(pr.committedOffset)
                    if !ok {
                        ctx.violations.add("commit-readback", "\(group) read back \(pr.committedOffset); acknowledged \(lastAcked), last sent \(lastSent)", at: ctx.now)
                    }
                }
            }
        default:
            if f.isCommit { ambiguous.append(f.value) }
        }
        if ctx.inLiveness { lastLivenessClean = clean }
    }

    func finish(_ ctx: inout WorkloadContext) {
        if lastLivenessClean == false {
            ctx.violations.add("settled", "\(name): the last group request after faults healed failed", at: ctx.now)
        }
    }
}

/// Plain Metadata requests: the cheapest way to keep every broker busy.
struct MetadataWorkload: SimWorkload {
    let every: UInt64
    var name: String { "metadata" }

    mutating func wake(_ ctx: inout WorkloadContext) -> UInt64? {
        _ = ctx.issue(MetadataRequest())
        return ctx.now + every
    }

    mutating func completed(_ p: PromiseID, _ result: Result<any KafkaResponse, KafkaClientError>, _ ctx: inout WorkloadContext) {}
    func finish(_ ctx: inout WorkloadContext) {}
}
