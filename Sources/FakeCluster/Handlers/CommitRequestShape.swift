/// OffsetCommit and TxnOffsetCommit carry offsets in the same (topic, partitions) shape and
/// answer one error per partition in request order; this is that shape, read once.
protocol CommitRequestPartition {
    var partitionIndex: Int32 { get }
    var committedOffset: Int64 { get }
    var committedLeaderEpoch: Int32 { get }
    var committedMetadata: String? { get }
}

protocol CommitRequestTopic {
    associatedtype Partition: CommitRequestPartition
    var name: String { get }
    var partitions: [Partition] { get }
}

extension OffsetCommitRequest.OffsetCommitRequestPartition: CommitRequestPartition {}
extension OffsetCommitRequest.OffsetCommitRequestTopic: CommitRequestTopic {}
extension TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition: CommitRequestPartition {}
extension TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic: CommitRequestTopic {}

extension FakeCluster {
    /// The request's offsets in request order; the leader epoch only where the version has it.
    static func offsetsToCommit<T: CommitRequestTopic>(_ topics: [T], carriesLeaderEpoch: Bool) -> [GroupCoordinator.OffsetToCommit] {
        topics.flatMap { t in
            t.partitions.map { p in
                GroupCoordinator.OffsetToCommit(
                    topicPartition: .init(topic: t.name, partition: p.partitionIndex), offset: p.committedOffset,
                    leaderEpoch: carriesLeaderEpoch ? p.committedLeaderEpoch : -1, metadata: p.committedMetadata)
            }
        }
    }

    /// Zips one error per partition (in request order) back into the request's topics.
    static func commitErrors<T: CommitRequestTopic>(_ topics: [T], _ errors: [KafkaErrorCode])
        -> [(name: String, partitions: [(index: Int32, error: Int16)])] {
        var i = 0
        return topics.map { t in
            (t.name, t.partitions.map { p in
                defer { i += 1 }
                return (p.partitionIndex, errors[i].code)
            })
        }
    }

    /// One error per offset of the request: TOPIC_AUTHORIZATION_FAILED where the caller could
    /// not READ the topic, otherwise the answer for the readable offsets (in order).
    static func refusedUnlessReadable(count: Int, _ readable: [Int], _ answered: [KafkaErrorCode]) -> [KafkaErrorCode] {
        var errors = [KafkaErrorCode](repeating: .topicAuthorizationFailed, count: count)
        for (i, e) in zip(readable, answered) { errors[i] = e }
        return errors
    }
}
