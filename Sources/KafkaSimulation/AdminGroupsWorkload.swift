import KafkaProtocol
import KafkaStateMachines

/// Admin requests naming several groups, one at a time, through the engine's `.automatic`
/// routing while coordinators and leaders move: an OffsetCommit to each group in turn
/// (standalone, generation -1), then one OffsetFetch v8 batching every group (split by
/// coordinator), a DescribeGroups of every group (split by coordinator) and a ListGroups
/// (every broker, merged). Each group's read-back must lie between its last acknowledged
/// and last sent commit (`commit-readback`); after the faults heal the last round of each
/// kind must be clean: every group answered without error, every committed group listed
/// (`settled`).
struct AdminGroupsWorkload: SimWorkload {
    enum Step: Int { case commit, fetch, describe, list }

    let groups: [String]
    let topic: String
    let every: UInt64
    var counter: Int64 = 0
    var step = Step.commit
    var lastAcked: [String: Int64] = [:]
    var lastSent: [String: Int64] = [:]
    /// Commits that failed: the broker may have applied them anyway.
    var ambiguous: [String: [Int64]] = [:]
    var inFlight: (promise: PromiseID, step: Step, group: String, value: Int64)? = nil
    /// The last liveness answer of each step: clean or not.
    var lastLivenessClean: [Int: Bool] = [:]
    /// What the last liveness answer of each step was, for a failure's message.
    var lastLivenessAnswer: [Int: String] = [:]

    var name: String { "admin-groups \(groups.joined(separator: ","))" }

    mutating func wake(_ ctx: inout WorkloadContext) -> UInt64? {
        guard inFlight == nil, !groups.isEmpty else { return ctx.now + every }
        switch step {
        case .commit:
            let group = groups[Int(counter % Int64(groups.count))]
            let value = counter
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
            lastSent[group] = value
            inFlight = (ctx.issue(r, pin: 0 ... 8), .commit, group, value)
            counter += 1
        case .fetch:
            var r = OffsetFetchRequest()
            r.groups = groups.map { g in
                var t = OffsetFetchRequest.OffsetFetchRequestTopics()
                t.name = topic
                t.partitionIndexes = [0]
                var x = OffsetFetchRequest.OffsetFetchRequestGroup()
                x.groupId = g
                x.topics = [t]
                return x
            }
            inFlight = (ctx.issue(r, pin: 8 ... 8), .fetch, "", 0)
        case .describe:
            var r = DescribeGroupsRequest()
            r.groups = groups
            inFlight = (ctx.issue(r), .describe, "", 0)
        case .list:
            inFlight = (ctx.issue(ListGroupsRequest()), .list, "", 0)
        }
        step = Step(rawValue: (step.rawValue + 1) % 4)!
        return ctx.now + every
    }

    mutating func completed(_ p: PromiseID, _ result: Result<any KafkaResponse, KafkaClientError>, _ ctx: inout WorkloadContext) {
        guard let f = inFlight, f.promise == p else { return }
        inFlight = nil
        var clean = false
        switch result {
        case .success(let resp as OffsetCommitResponse):
            clean = resp.topics.allSatisfy { $0.partitions.allSatisfy { $0.errorCode == 0 } }
            if clean { lastAcked[f.group] = f.value } else { ambiguous[f.group, default: []].append(f.value) }
        case .success(let resp as OffsetFetchResponse):
            clean = resp.groups.map(\.groupId) == groups
            for g in resp.groups {
                guard g.errorCode == 0 else { clean = false; continue }
                for t in g.topics where t.name == topic {
                    for pr in t.partitions where pr.partitionIndex == 0 {
                        guard pr.errorCode == 0 else { clean = false; continue }
                        let acked = lastAcked[g.groupId] ?? -1
                        let sent = lastSent[g.groupId] ?? -1
                        let ok = (pr.committedOffset >= acked && pr.committedOffset <= sent) || ambiguous[g.groupId, default: []].contains(pr.committedOffset)
                        if !ok {
                            ctx.violations.add("commit-readback", "\(g.groupId) read back \(pr.committedOffset) in a batched OffsetFetch; acknowledged \(acked), last sent \(sent)", at: ctx.now)
                        }
                    }
                }
            }
        case .success(let resp as DescribeGroupsResponse):
            clean = resp.groups.map(\.groupId) == groups && resp.groups.allSatisfy { $0.errorCode == 0 }
        case .success(let resp as ListGroupsResponse):
            let listed = Set(resp.groups.map(\.groupId))
            clean = resp.errorCode == 0 && groups.filter { lastAcked[$0] != nil }.allSatisfy { listed.contains($0) }
                && resp.groups.count == listed.count
        default:
            if f.step == .commit { ambiguous[f.group, default: []].append(f.value) }
        }
        if ctx.inLiveness {
            lastLivenessClean[f.step.rawValue] = clean
            lastLivenessAnswer[f.step.rawValue] = Self.summary(result)
        }
    }

    func finish(_ ctx: inout WorkloadContext) {
        for s in [Step.commit, .fetch, .describe, .list] where lastLivenessClean[s.rawValue] == false {
            ctx.violations.add("settled", "\(name): the last \(s) after faults healed was not clean: \(lastLivenessAnswer[s.rawValue] ?? "-")", at: ctx.now)
        }
    }

    /// An answer in a line: each group's error code, or the request's failure.
    static func summary(_ result: Result<any KafkaResponse, KafkaClientError>) -> String {
        switch result {
        case .failure(let e): return "\(e)"
        case .success(let r as OffsetCommitResponse): return r.topics.flatMap { $0.partitions.map { "\(KafkaErrorCode($0.errorCode))" } }.joined(separator: ",")
        case .success(let r as OffsetFetchResponse): return r.groups.map { "\($0.groupId)=\(KafkaErrorCode($0.errorCode))" }.joined(separator: ",")
        case .success(let r as DescribeGroupsResponse): return r.groups.map { "\($0.groupId)=\(KafkaErrorCode($0.errorCode))" }.joined(separator: ",")
        case .success(let r as ListGroupsResponse): return "\(KafkaErrorCode(r.errorCode)) [\(r.groups.map(\.groupId).joined(separator: ","))]"
        case .success(let r): return type(of: r).messageName
        }
    }
}
