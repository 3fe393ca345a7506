/// ListOffsets: earliest, latest, max timestamp and by timestamp, on the leader.
extension FakeCluster {
    func handleListOffsets(_ r: ListOffsetsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = ListOffsetsResponse()
        let isolation: PartitionLog.Isolation = r.isolationLevel == 1 ? .readCommitted : .readUncommitted
        for t in r.topics {
            var tr = ListOffsetsResponse.ListOffsetsTopicResponse()
            tr.name = t.name
            for p in t.partitions {
                let tp = ClusterMetadata.TopicPartition(topic: t.name, partition: p.partitionIndex)
                let res = state.listOffset(broker: ctx.broker, tp, timestamp: p.timestamp, isolation: isolation,
                                           currentLeaderEpoch: ctx.version >= 4 ? p.currentLeaderEpoch : -1)
                var pr = ListOffsetsResponse.ListOffsetsPartitionResponse()
                pr.partitionIndex = p.partitionIndex
                pr.errorCode = res.error.code
                pr.timestamp = res.timestamp
                pr.offset = res.offset
                pr.leaderEpoch = res.leaderEpoch
                if ctx.version == 0 { pr.oldStyleOffsets = res.error == .none && res.offset >= 0 ? [res.offset] : [] }
                tr.partitions.append(pr)
            }
            resp.topics.append(tr)
        }
        return .respond(resp)
    }
}
