/// KIP-848 consumer groups on the wire: ConsumerGroupHeartbeat and ConsumerGroupDescribe,
/// answered by the group's coordinator (NOT_COORDINATOR elsewhere, as for classic groups).
extension FakeCluster {
    mutating func handleConsumerGroupHeartbeat(_ r: ConsumerGroupHeartbeatRequest, _ ctx: RequestContext) -> HandlerResult {
        if let stall = heartbeatStall(groupId: r.groupId, memberId: r.memberId, instanceId: r.instanceId, now: ctx.now) {
            return .park(.stalledConsumerHeartbeat(r, drop: stall.drop), deadline: stall.until)
        }
        return .respond(consumerGroupHeartbeatResponse(r, ctx))
    }

    mutating func consumerGroupHeartbeatResponse(_ r: ConsumerGroupHeartbeatRequest, _ ctx: RequestContext) -> ConsumerGroupHeartbeatResponse {
        var resp = ConsumerGroupHeartbeatResponse()
        if let e = coordinatorError(r.groupId, .group, ctx) {
            resp.errorCode = e.code
            return resp
        }
        let owned = r.topicPartitions.map { topics in
            topics.flatMap { t in t.partitions.map { TopicIdPartition(topicId: t.topicId, partition: $0) } }
        }
        let req = GroupCoordinator.ConsumerHeartbeatRequest(
            groupId: r.groupId, memberId: r.memberId, memberEpoch: r.memberEpoch, instanceId: r.instanceId, rackId: r.rackId,
            rebalanceTimeoutMs: r.rebalanceTimeoutMs, subscribedTopicNames: r.subscribedTopicNames,
            subscribedTopicRegex: ctx.version >= 1 ? r.subscribedTopicRegex : nil, serverAssignor: r.serverAssignor,
            ownedPartitions: owned, clientId: ctx.clientId, version: ctx.version)
        noteMember(r.memberId, ctx)
        let result = state.consumerGroupHeartbeat(req, now: ctx.now)
        if let id = result.memberId { noteMember(id, ctx) }
        resp.errorCode = result.error.code
        resp.errorMessage = result.error == .noError ? nil : result.errorMessage
        resp.memberId = result.memberId
        resp.memberEpoch = result.memberEpoch
        resp.heartbeatIntervalMs = result.heartbeatIntervalMs
        if let assigned = result.assignment {
            var a = ConsumerGroupHeartbeatResponse.Assignment()
            a.topicPartitions = Self.byTopicId(assigned).map { id, partitions in
                var t = ConsumerGroupHeartbeatResponse.TopicPartitions()
                t.topicId = id
                t.partitions = partitions
                return t
            }
            resp.assignment = a
        }
        return resp
    }

    func handleConsumerGroupDescribe(_ r: ConsumerGroupDescribeRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = ConsumerGroupDescribeResponse()
        let image = state.topicImage
        func assignment(_ tps: [TopicIdPartition]) -> ConsumerGroupDescribeResponse.Assignment {
            var a = ConsumerGroupDescribeResponse.Assignment()
            a.topicPartitions = Self.byTopicId(tps).map { id, partitions in
                var t = ConsumerGroupDescribeResponse.TopicPartitions()
                t.topicId = id
                t.topicName = image.topic(id: id)?.name ?? ""
                t.partitions = partitions
                return t
            }
            return a
        }
        for id in r.groupIds {
            var g = ConsumerGroupDescribeResponse.DescribedGroup()
            g.groupId = id
            if let e = coordinatorError(id, .group, ctx) {
                g.errorCode = e.code
                resp.groups.append(g)
                continue
            }
            let d = state.groups.describeConsumerGroup(id)
            g.errorCode = d.error.code
            g.errorMessage = d.errorMessage
            g.groupState = d.state
            g.groupEpoch = d.groupEpoch
            g.assignmentEpoch = d.assignmentEpoch
            g.assignorName = d.assignorName
            g.members = d.members.map { m in
                var dm = ConsumerGroupDescribeResponse.Member()
                dm.memberId = m.memberId
                dm.instanceId = m.instanceId
                dm.rackId = m.rackId
                dm.memberEpoch = m.memberEpoch
                dm.clientId = m.clientId
                dm.clientHost = m.clientHost
                dm.subscribedTopicNames = m.subscribedTopicNames
                dm.subscribedTopicRegex = m.subscribedTopicRegex
                dm.assignment = assignment(m.assignment)
                dm.targetAssignment = assignment(m.targetAssignment)
                return dm
            }
            resp.groups.append(g)
        }
        return .respond(resp)
    }

    /// Sorted partitions grouped by topic id, topics in their order of first appearance (the
    /// shape both responses carry).
    static func byTopicId(_ tps: [TopicIdPartition]) -> [(KafkaUUID, [Int32])] {
        var out: [(KafkaUUID, [Int32])] = []
        for tp in tps {
            if let last = out.indices.last, out[last].0 == tp.topicId {
                out[last].1.append(tp.partition)
            } else {
                out.append((tp.topicId, [tp.partition]))
            }
        }
        return out
    }
}
