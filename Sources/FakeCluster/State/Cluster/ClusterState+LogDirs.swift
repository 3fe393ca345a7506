/// Which log directory holds each replica (DescribeLogDirs, AlterReplicaLogDirs). A move
/// completes at once: the fake keeps no bytes on disk.
extension ClusterState {
    /// The directory holding `broker`'s replica of `tp`, nil when it holds none.
    func logDir(_ tp: TopicPartition, broker: Int32) -> String? {
        guard let p = metadata.partition(tp), p.replicas.contains(broker) else { return nil }
        return replicaLogDirs[tp]?[broker] ?? config.logDirs[0]
    }

    /// The replicas `broker` holds in `dir` (of `wanted`, or all), with size and lag.
    func replicas(in dir: String, broker: Int32, wanted: Set<TopicPartition>?) -> [(TopicPartition, size: Int64, lag: Int64)] {
        metadata.allPartitions.filter { (wanted?.contains($0) ?? true) && logDir($0, broker: broker) == dir }.map { tp in
            let log = self.log(tp, replica: broker)
            let leaderEnd = metadata.partition(tp).flatMap { $0.leader >= 0 ? self.log(tp, replica: $0.leader)?.logEndOffset : nil }
            let lag = max(0, (leaderEnd ?? 0) - (log?.logEndOffset ?? 0))
            return (tp, Int64(log?.sizeInBytes ?? 0), lag)
        }
    }

    mutating func moveReplica(_ tp: TopicPartition, broker: Int32, to dir: String) -> KafkaErrorCode {
        guard config.logDirs.contains(dir) else { return .logDirNotFound }
        guard metadata.partition(tp) != nil else { return .unknownTopicOrPartition }
        guard logDir(tp, broker: broker) != nil else { return .replicaNotAvailable }
        replicaLogDirs[tp, default: [:]][broker] = dir == config.logDirs[0] ? nil : dir
        return .noError
    }
}
