/// DescribeLogDirs and AlterReplicaLogDirs: each broker answers for its own replicas
/// (ClusterState+LogDirs).
extension FakeCluster {
    func handleDescribeLogDirs(_ r: DescribeLogDirsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeLogDirsResponse()
        // Refused: no log dirs, and (v3+) the error.
        if let e = clusterRefusal(ctx, .describe) {
            resp.errorCode = e.code
            return .respond(resp)
        }
        let wanted = r.topics.map { ts in Set(ts.flatMap { t in t.partitions.map { TopicPartition(topic: t.topic, partition: $0) } }) }
        resp.results = state.config.logDirs.map { dir in
            var d = DescribeLogDirsResponse.DescribeLogDirsResult()
            d.logDir = dir
            for (tp, size, lag) in state.replicas(in: dir, broker: ctx.broker, wanted: wanted) {
                var p = DescribeLogDirsResponse.DescribeLogDirsPartition()
                p.partitionIndex = tp.partition
                p.partitionSize = size
                p.offsetLag = lag
                if let i = d.topics.firstIndex(where: { $0.name == tp.topic }) {
                    d.topics[i].partitions.append(p)
                } else {
                    var t = DescribeLogDirsResponse.DescribeLogDirsTopic()
                    t.name = tp.topic
                    t.partitions = [p]
                    d.topics.append(t)
                }
            }
            return d
        }
        return .respond(resp)
    }

    mutating func handleAlterReplicaLogDirs(_ r: AlterReplicaLogDirsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = AlterReplicaLogDirsResponse()
        let refused = clusterRefusal(ctx, .alter)
        for d in r.dirs {
            for t in d.topics {
                var tr = AlterReplicaLogDirsResponse.AlterReplicaLogDirTopicResult()
                tr.topicName = t.name
                tr.partitions = t.partitions.map { index in
                    var pr = AlterReplicaLogDirsResponse.AlterReplicaLogDirPartitionResult()
                    pr.partitionIndex = index
                    if let refused { pr.errorCode = refused.code; return pr }
                    pr.errorCode = state.moveReplica(TopicPartition(topic: t.name, partition: index), broker: ctx.broker, to: d.path).code
                    return pr
                }
                resp.results.append(tr)
            }
        }
        return .respond(resp)
    }
}
