/// DescribeGroups, ListGroups, DeleteGroups and OffsetDelete, on the group's coordinator.
extension FakeCluster {
    func handleDescribeGroups(_ r: DescribeGroupsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeGroupsResponse()
        for id in r.groups {
            var g = DescribeGroupsResponse.DescribedGroup()
            g.groupId = id
            if !allows(ctx.connection, .describe, .group, id) {
                g.errorCode = KafkaErrorCode.groupAuthorizationFailed.code
            } else if let e = coordinatorError(id, .group, ctx) {
                g.errorCode = e.code
            } else {
                let d = state.groups.describeGroup(id)
                g.errorCode = d.error.code
                g.groupState = d.state
                g.protocolType = d.protocolType
                g.protocolData = d.protocolName
                g.members = d.members.map {
                    var m = DescribeGroupsResponse.DescribedGroupMember()
                    m.memberId = $0.memberId
                    m.groupInstanceId = $0.groupInstanceId
                    m.clientId = $0.clientId
                    m.clientHost = $0.clientHost
                    m.memberMetadata = $0.metadata
                    m.memberAssignment = $0.assignment
                    return m
                }
                if ctx.version >= 3, r.includeAuthorizedOperations {
                    g.authorizedOperations = authorizedOperations(ctx.connection, .group, id)
                }
            }
            resp.groups.append(g)
        }
        return .respond(resp)
    }

    /// Each broker lists the groups it coordinates.
    func handleListGroups(_ r: ListGroupsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = ListGroupsResponse()
        // DESCRIBE on the cluster lists every group; otherwise only those the caller may DESCRIBE.
        let all = allowsCluster(ctx.connection, .describe)
        for g in state.groups.listGroups(states: ctx.version >= 4 ? r.statesFilter : [], types: ctx.version >= 5 ? r.typesFilter : [])
        where state.coordinator(for: g.groupId, type: .group) == ctx.broker && (all || allows(ctx.connection, .describe, .group, g.groupId)) {
            var l = ListGroupsResponse.ListedGroup()
            l.groupId = g.groupId
            l.protocolType = g.protocolType
            l.groupState = g.state
            l.groupType = g.groupType
            resp.groups.append(l)
        }
        return .respond(resp)
    }

    mutating func handleDeleteGroups(_ r: DeleteGroupsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DeleteGroupsResponse()
        for id in r.groupsNames {
            var res = DeleteGroupsResponse.DeletableGroupResult()
            res.groupId = id
            res.errorCode = !allows(ctx.connection, .delete, .group, id) ? KafkaErrorCode.groupAuthorizationFailed.code
                : coordinatorError(id, .group, ctx)?.code ?? state.groups.deleteGroups([id])[0].code
            resp.results.append(res)
        }
        return .respond(resp)
    }

    mutating func handleOffsetDelete(_ r: OffsetDeleteRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = OffsetDeleteResponse()
        guard allows(ctx.connection, .delete, .group, r.groupId) else {
            resp.errorCode = KafkaErrorCode.groupAuthorizationFailed.code
            return .respond(resp)
        }
        if let e = coordinatorError(r.groupId, .group, ctx) {
            resp.errorCode = e.code
            return .respond(resp)
        }
        // Topics the caller may not READ are refused per partition; the rest go to the group.
        let all = r.topics.flatMap { t in t.partitions.map { TopicPartition(topic: t.name, partition: $0.partitionIndex) } }
        let readable = all.indices.filter { allowsTopic(ctx.connection, .read, all[$0].topic) }
        switch state.groups.deleteOffsets(groupId: r.groupId, readable.map { all[$0] }) {
        case .failure(let e):
            resp.errorCode = e.code
        case .partitions(let answered):
            let errors = Self.refusedUnlessReadable(count: all.count, readable, answered)
            var i = 0
            for t in r.topics {
                var tr = OffsetDeleteResponse.OffsetDeleteResponseTopic()
                tr.name = t.name
                for p in t.partitions {
                    var pr = OffsetDeleteResponse.OffsetDeleteResponsePartition()
                    pr.partitionIndex = p.partitionIndex
                    pr.errorCode = errors[i].code
                    i += 1
                    tr.partitions.append(pr)
                }
                resp.topics.append(tr)
            }
        }
        return .respond(resp)
    }
}
