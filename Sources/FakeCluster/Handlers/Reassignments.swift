/// ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments over the
/// cluster's metadata (ClusterState+Reassignments). Any broker answers: KRaft brokers
/// forward these to the controller.
extension FakeCluster {
    mutating func handleElectLeaders(_ r: ElectLeadersRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = ElectLeadersResponse()
        // No list: every partition (v0 is always preferred).
        let unclean = ctx.version >= 1 && r.electionType == 1
        let asked = r.topicPartitions.map { ts in ts.flatMap { t in t.partitions.map { TopicPartition(topic: t.topic, partition: $0) } } }
            ?? state.metadata.allPartitions
        if let e = clusterRefusal(ctx, .alter) {
            // Refused: the error at the top (v1+) and on every partition named.
            resp.errorCode = e.code
            for t in r.topicPartitions ?? [] {
                var tr = ElectLeadersResponse.ReplicaElectionResult()
                tr.topic = t.topic
                tr.partitionResult = t.partitions.map {
                    var pr = ElectLeadersResponse.PartitionResult()
                    pr.partitionId = $0
                    pr.errorCode = e.code
                    pr.errorMessage = "Authorization failed."
                    return pr
                }
                resp.replicaElectionResults.append(tr)
            }
            return .respond(resp)
        }
        if ctx.version >= 1, r.electionType != 0, r.electionType != 1 {
            resp.errorCode = KafkaErrorCode.invalidRequest.code
            return .respond(resp)
        }
        var out: [(TopicPartition, KafkaErrorCode, String?)] = []
        for tp in asked {
            let (e, message) = state.electLeader(tp, unclean: unclean)
            // Every partition listed: those named, and of all, those elected or refused.
            if r.topicPartitions != nil || e != .electionNotNeeded { out.append((tp, e, message)) }
        }
        for (tp, e, message) in out {
            var pr = ElectLeadersResponse.PartitionResult()
            pr.partitionId = tp.partition
            pr.errorCode = e.code
            pr.errorMessage = message
            if let i = resp.replicaElectionResults.firstIndex(where: { $0.topic == tp.topic }) {
                resp.replicaElectionResults[i].partitionResult.append(pr)
            } else {
                var t = ElectLeadersResponse.ReplicaElectionResult()
                t.topic = tp.topic
                t.partitionResult = [pr]
                resp.replicaElectionResults.append(t)
            }
        }
        return .respond(resp)
    }

    mutating func handleAlterPartitionReassignments(_ r: AlterPartitionReassignmentsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = AlterPartitionReassignmentsResponse()
        resp.errorMessage = nil
        if let e = clusterRefusal(ctx, .alter) {
            resp.errorCode = e.code
            resp.errorMessage = "Authorization failed."
            return .respond(resp)
        }
        resp.responses = r.topics.map { t in
            var tr = AlterPartitionReassignmentsResponse.ReassignableTopicResponse()
            tr.name = t.name
            tr.partitions = t.partitions.map { p in
                var pr = AlterPartitionReassignmentsResponse.ReassignablePartitionResponse()
                pr.partitionIndex = p.partitionIndex
                let (e, message) = state.reassign(TopicPartition(topic: t.name, partition: p.partitionIndex), to: p.replicas, now: ctx.now)
                pr.errorCode = e.code
                pr.errorMessage = message
                return pr
            }
            return tr
        }
        return .respond(resp)
    }

    func handleListPartitionReassignments(_ r: ListPartitionReassignmentsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = ListPartitionReassignmentsResponse()
        resp.errorMessage = nil
        if let e = clusterRefusal(ctx, .describe) {
            resp.errorCode = e.code
            resp.errorMessage = "Authorization failed."
            return .respond(resp)
        }
        let wanted = r.topics.map { ts in Set(ts.flatMap { t in t.partitionIndexes.map { TopicPartition(topic: t.name, partition: $0) } }) }
        for tp in state.reassignments.keys.sorted() where wanted?.contains(tp) ?? true {
            let ra = state.reassignments[tp]!
            var pr = ListPartitionReassignmentsResponse.OngoingPartitionReassignment()
            pr.partitionIndex = tp.partition
            pr.replicas = state.metadata.partition(tp)?.replicas ?? []
            pr.addingReplicas = ra.target.filter { !ra.original.contains($0) }
            pr.removingReplicas = ra.original.filter { !ra.target.contains($0) }
            if let i = resp.topics.firstIndex(where: { $0.name == tp.topic }) {
                resp.topics[i].partitions.append(pr)
            } else {
                var t = ListPartitionReassignmentsResponse.OngoingTopicReassignment()
                t.name = tp.topic
                t.partitions = [pr]
                resp.topics.append(t)
            }
        }
        return .respond(resp)
    }
}
