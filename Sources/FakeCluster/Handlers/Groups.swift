/// Classic groups: JoinGroup and SyncGroup (held until the phase ends), Heartbeat,
/// LeaveGroup (single and KIP-345 batch), OffsetCommit and OffsetFetch.
extension FakeCluster {
    mutating func handleJoinGroup(_ r: JoinGroupRequest, _ ctx: RequestContext) -> HandlerResult {
        if let e = coordinatorError(r.groupId, .group, ctx) {
            return .respond(joinGroupResponse(GroupCoordinator.JoinResponse(error: e, memberId: r.memberId), version: ctx.version))
        }
        let req = GroupCoordinator.JoinRequest(
            groupId: r.groupId, memberId: r.memberId, groupInstanceId: ctx.version >= 5 ? r.groupInstanceId : nil,
            clientId: ctx.clientId, sessionTimeoutMs: r.sessionTimeoutMs,
            rebalanceTimeoutMs: ctx.version >= 1 ? r.rebalanceTimeoutMs : -1, protocolType: r.protocolType,
            protocols: r.protocols.map { ClassicGroup.GroupProtocol(name: $0.name, metadata: $0.metadata) },
            version: ctx.version)
        noteMember(r.memberId, ctx)
        switch state.joinGroup(req, now: ctx.now) {
        case .immediate(let resp):
            noteMember(resp.memberId, ctx)
            return .respond(joinGroupResponse(resp, version: ctx.version))
        case .parked(let token): return .park(.group(token), deadline: nil)
        }
    }

    func joinGroupResponse(_ r: GroupCoordinator.JoinResponse, version: Int16) -> JoinGroupResponse {
        var resp = JoinGroupResponse()
        resp.errorCode = r.error.code
        resp.generationId = r.generationId
        resp.protocolType = r.protocolType
        resp.protocolName = r.protocolName ?? (version < 7 ? "" : nil)
        resp.leader = r.leader
        resp.skipAssignment = version >= 9 && r.skipAssignment
        resp.memberId = r.memberId
        resp.members = r.members.map {
            var m = JoinGroupResponse.JoinGroupResponseMember()
            m.memberId = $0.memberId
            m.groupInstanceId = $0.groupInstanceId
            m.metadata = $0.metadata
            return m
        }
        return resp
    }

    mutating func handleSyncGroup(_ r: SyncGroupRequest, _ ctx: RequestContext) -> HandlerResult {
        if let e = coordinatorError(r.groupId, .group, ctx) { return .respond(syncGroupResponse(.init(error: e))) }
        let req = GroupCoordinator.SyncRequest(
            groupId: r.groupId, generationId: r.generationId, memberId: r.memberId,
            groupInstanceId: ctx.version >= 3 ? r.groupInstanceId : nil,
            protocolType: ctx.version >= 5 ? r.protocolType : nil, protocolName: ctx.version >= 5 ? r.protocolName : nil,
            assignments: r.assignments.map { (memberId: $0.memberId, assignment: $0.assignment) })
        noteMember(r.memberId, ctx)
        switch state.groups.syncGroup(req, image: state.groups.consumerGroups[r.groupId] == nil ? TopicImage() : state.topicImage, now: ctx.now) {
        case .immediate(let resp): return .respond(syncGroupResponse(resp))
        case .parked(let token): return .park(.group(token), deadline: nil)
        }
    }

    func syncGroupResponse(_ r: GroupCoordinator.SyncResponse) -> SyncGroupResponse {
        var resp = SyncGroupResponse()
        resp.errorCode = r.error.code
        resp.protocolType = r.protocolType
        resp.protocolName = r.protocolName
        resp.assignment = r.assignment
        return resp
    }

    mutating func handleHeartbeat(_ r: HeartbeatRequest, _ ctx: RequestContext) -> HandlerResult {
        if let stall = heartbeatStall(r, instanceId: ctx.version >= 3 ? r.groupInstanceId : nil, now: ctx.now) {
            return .park(.stalledHeartbeat(r, drop: stall.drop), deadline: stall.until)
        }
        return .respond(heartbeatResponse(r, ctx))
    }

    mutating func heartbeatResponse(_ r: HeartbeatRequest, _ ctx: RequestContext) -> HeartbeatResponse {
        noteMember(r.memberId, ctx)
        var resp = HeartbeatResponse()
        if let e = coordinatorError(r.groupId, .group, ctx) {
            resp.errorCode = e.code
        } else {
            resp.errorCode = state.groups.heartbeat(groupId: r.groupId, memberId: r.memberId,
                                                    groupInstanceId: ctx.version >= 3 ? r.groupInstanceId : nil,
                                                    generationId: r.generationId, now: ctx.now).code
        }
        return resp
    }

    mutating func handleLeaveGroup(_ r: LeaveGroupRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = LeaveGroupResponse()
        if let e = coordinatorError(r.groupId, .group, ctx) {
            resp.errorCode = e.code
            return .respond(resp)
        }
        let leaving = ctx.version >= 3
            ? r.members.map { GroupCoordinator.LeavingMember(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId) }
            : [GroupCoordinator.LeavingMember(memberId: r.memberId, groupInstanceId: nil)]
        for l in leaving { noteMember(l.memberId, ctx) }
        let image = state.groups.consumerGroups[r.groupId] == nil ? TopicImage() : state.topicImage
        let errors = state.groups.leaveGroup(groupId: r.groupId, members: leaving, image: image, now: ctx.now)
        if ctx.version >= 3 {
            resp.members = zip(leaving, errors).map { l, e in
                var m = LeaveGroupResponse.MemberResponse()
                m.memberId = l.memberId
                m.groupInstanceId = l.groupInstanceId
                m.errorCode = e.code
                return m
            }
        } else {
            resp.errorCode = errors.first?.code ?? 0
        }
        return .respond(resp)
    }

    mutating func handleOffsetCommit(_ r: OffsetCommitRequest, _ ctx: RequestContext) -> HandlerResult {
        let all = Self.offsetsToCommit(r.topics, carriesLeaderEpoch: ctx.version >= 6)
        // Topics the caller may not READ are refused per partition before the coordinator
        // sees the rest (group READ was checked for the whole request in Dispatch).
        let readable = all.indices.filter { allowsTopic(ctx.connection, .read, all[$0].topicPartition.topic) }
        let offsets = readable.map { all[$0] }
        var errors: [KafkaErrorCode]
        if offsets.isEmpty, !all.isEmpty {
            errors = []
        } else if let e = coordinatorError(r.groupId, .group, ctx) {
            errors = offsets.map { _ in e }
        } else {
            if ctx.version >= 1 { noteMember(r.memberId, ctx) }
            let retention = (2 ... 4).contains(ctx.version) && r.retentionTimeMs >= 0 ? r.retentionTimeMs : nil
            // v9's KIP-848 rules come with 4.0's group coordinator; 3.x brokers answer v9 as v8.
            let commitVersion = release(of: ctx.broker) >= KafkaRelease.v4_0 ? ctx.version : min(ctx.version, 8)
            // Partitions the cluster does not have are refused and not stored (as Kafka's
            // OffsetCommit handling filters them out before the coordinator sees them).
            let known = offsets.indices.filter { state.metadata.partition(offsets[$0].topicPartition) != nil }
            errors = offsets.map { _ in KafkaErrorCode.unknownTopicOrPartition }
            if !known.isEmpty {
                let answered = state.groups.commitOffsets(groupId: r.groupId, generationId: ctx.version >= 1 ? r.generationIdOrMemberEpoch : -1,
                                                          memberId: ctx.version >= 1 ? r.memberId : "",
                                                          groupInstanceId: ctx.version >= 7 ? r.groupInstanceId : nil, known.map { offsets[$0] },
                                                          retentionMs: retention, apiVersion: commitVersion, now: ctx.now)
                for (i, e) in zip(known, answered) { errors[i] = e }
            }
        }
        var resp = OffsetCommitResponse()
        resp.topics = Self.commitErrors(r.topics, Self.refusedUnlessReadable(count: all.count, readable, errors)).map { t in
            var tr = OffsetCommitResponse.OffsetCommitResponseTopic()
            tr.name = t.name
            tr.partitions = t.partitions.map {
                var pr = OffsetCommitResponse.OffsetCommitResponsePartition()
                pr.partitionIndex = $0.index
                pr.errorCode = $0.error
                return pr
            }
            return tr
        }
        return .respond(resp)
    }

    func handleOffsetFetch(_ r: OffsetFetchRequest, _ ctx: RequestContext) -> HandlerResult {
        typealias TP = TopicPartition
        var resp = OffsetFetchResponse()
        let requireStable = ctx.version >= 7 && r.requireStable
        func fetch(_ group: String, _ topics: [(String, [Int32])]?) -> (KafkaErrorCode, [GroupCoordinator.FetchedOffset]) {
            if let e = coordinatorError(group, .group, ctx) { return (e, []) }
            let tps = topics.map { $0.flatMap { t in t.1.map { TP(topic: t.0, partition: $0) } } }
            let fetched = state.groups.fetchOffsets(groupId: group, partitions: tps, requireStable: requireStable)
            // Topics the caller may not DESCRIBE: refused per partition when named, left out
            // when every committed partition was asked for (as Kafka's OffsetFetch does).
            let mayDescribe = { (topic: String) in allowsTopic(ctx.connection, .describe, topic) }
            if tps == nil { return (.noError, fetched.filter { mayDescribe($0.topicPartition.topic) }) }
            return (.noError, fetched.map { f in
                mayDescribe(f.topicPartition.topic) ? f
                    : GroupCoordinator.FetchedOffset(topicPartition: f.topicPartition, offset: -1, leaderEpoch: -1, metadata: "",
                                                     error: .topicAuthorizationFailed)
            })
        }
        if ctx.version >= 8 {
            for g in r.groups {
                var (e, fetched) = fetch(g.groupId, g.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
                if e == .noError, ctx.version >= 9,
                   let stale = state.groups.consumerFetchError(groupId: g.groupId, memberId: g.memberId, memberEpoch: g.memberEpoch) {
                    (e, fetched) = (stale, [])
                }
                var gr = OffsetFetchResponse.OffsetFetchResponseGroup()
                gr.groupId = g.groupId
                gr.errorCode = e.code
                for f in fetched {
                    var pr = OffsetFetchResponse.OffsetFetchResponsePartitions()
                    pr.partitionIndex = f.topicPartition.partition
                    pr.committedOffset = f.offset
                    pr.committedLeaderEpoch = f.leaderEpoch
                    pr.metadata = f.metadata
                    pr.errorCode = f.error.code
                    if let last = gr.topics.indices.last, gr.topics[last].name == f.topicPartition.topic {
                        gr.topics[last].partitions.append(pr)
                    } else {
                        var t = OffsetFetchResponse.OffsetFetchResponseTopics()
                        t.name = f.topicPartition.topic
                        t.partitions = [pr]
                        gr.topics.append(t)
                    }
                }
                resp.groups.append(gr)
            }
            return .respond(resp)
        }
        var (e, fetched) = fetch(r.groupId, r.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
        resp.errorCode = e.code
        if e != .noError, ctx.version < 2 {
            // v0-v1 have no group-level error: Kafka puts it on every partition asked for.
            fetched = (r.topics ?? []).flatMap { t in
                t.partitionIndexes.map {
                    GroupCoordinator.FetchedOffset(topicPartition: TP(topic: t.name, partition: $0), offset: -1,
                                                   leaderEpoch: -1, metadata: "", error: e)
                }
            }
        }
        for f in fetched {
            var pr = OffsetFetchResponse.OffsetFetchResponsePartition()
            pr.partitionIndex = f.topicPartition.partition
            pr.committedOffset = f.offset
            pr.committedLeaderEpoch = f.leaderEpoch
            pr.metadata = f.metadata
            pr.errorCode = (ctx.version < 2 && e != .noError) ? e.code : f.error.code
            if let last = resp.topics.indices.last, resp.topics[last].name == f.topicPartition.topic {
                resp.topics[last].partitions.append(pr)
            } else {
                var t = OffsetFetchResponse.OffsetFetchResponseTopic()
                t.name = f.topicPartition.topic
                t.partitions = [pr]
                resp.topics.append(t)
            }
        }
        return .respond(resp)
    }
}
