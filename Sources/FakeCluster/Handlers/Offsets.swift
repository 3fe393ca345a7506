/// ListOffsets (earliest, latest, max timestamp, by timestamp) and OffsetForLeaderEpoch,
/// on the leader.
extension FakeCluster {
    func handleListOffsets(_ r: ListOffsetsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = ListOffsetsResponse()
        let isolation: PartitionLog.Isolation = r.isolationLevel == 1 ? .readCommitted : .readUncommitted
        for t in r.topics {
            var tr = ListOffsetsResponse.ListOffsetsTopicResponse()
            tr.name = t.name
            let describable = allowsTopic(ctx.connection, .describe, t.name)
            for p in t.partitions {
                let tp = TopicPartition(topic: t.name, partition: p.partitionIndex)
                guard describable else {
                    var pr = ListOffsetsResponse.ListOffsetsPartitionResponse()
                    pr.partitionIndex = p.partitionIndex
                    pr.errorCode = KafkaErrorCode.topicAuthorizationFailed.code
                    tr.partitions.append(pr)
                    continue
                }
                let res = state.listOffset(broker: ctx.broker, tp, timestamp: p.timestamp, isolation: isolation,
                                           currentLeaderEpoch: ctx.version >= 4 ? p.currentLeaderEpoch : -1)
                var pr = ListOffsetsResponse.ListOffsetsPartitionResponse()
                pr.partitionIndex = p.partitionIndex
                pr.errorCode = res.error.code
                // The codec refuses values a version has no field for: v0 answers with a list.
                if ctx.version == 0 {
                    pr.oldStyleOffsets = res.error == .noError && res.offset >= 0 ? [res.offset] : []
                } else {
                    pr.timestamp = res.timestamp
                    pr.offset = res.offset
                }
                if ctx.version >= 4 { pr.leaderEpoch = res.leaderEpoch }
                tr.partitions.append(pr)
            }
            resp.topics.append(tr)
        }
        return .respond(resp)
    }

    func handleOffsetForLeaderEpoch(_ r: OffsetForLeaderEpochRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = OffsetForLeaderEpochResponse()
        for t in r.topics {
            var tr = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult()
            tr.topic = t.topic
            for p in t.partitions {
                let res = state.offsetForLeaderEpoch(broker: ctx.broker, .init(topic: t.topic, partition: p.partition),
                                                     currentLeaderEpoch: ctx.version >= 2 ? p.currentLeaderEpoch : -1,
                                                     leaderEpoch: p.leaderEpoch)
                var e = OffsetForLeaderEpochResponse.EpochEndOffset()
                e.partition = p.partition
                e.errorCode = res.error.code
                e.leaderEpoch = ctx.version >= 1 ? res.end.epoch : -1
                e.endOffset = res.end.endOffset
                tr.partitions.append(e)
            }
            resp.topics.append(tr)
        }
        return .respond(resp)
    }
}
