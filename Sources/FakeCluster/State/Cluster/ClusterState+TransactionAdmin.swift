/// What the transaction admin APIs read and write: a partition leader's producer states
/// (DescribeProducers) and a marker written at a client's request (WriteTxnMarkers, as
/// kafka-transactions.sh aborts a hanging transaction).
extension ClusterState {
    /// The producers the leader of `tp` holds state for, by producer id; an error when
    /// `broker` does not lead it.
    func producerStates(broker: Int32, _ tp: TopicPartition) -> Result<[(Int64, ProducerStateTable.Entry)], KafkaErrorCode> {
        if let e = leaderError(tp, broker: broker, currentLeaderEpoch: -1) { return .failure(e) }
        guard let log = log(tp, replica: broker) else { return .failure(.notLeaderOrFollower) }
        return .success(log.producers.producerIds.map { ($0, log.producers.entry(for: $0)!) })
    }

    /// Writes a commit or abort marker for `producerId` at the leader of `tp`, as the
    /// coordinator's WriteTxnMarkers does. Refused, as Kafka refuses it, when the producer
    /// holds a newer epoch (INVALID_PRODUCER_EPOCH) or a newer coordinator wrote its last
    /// marker (TRANSACTION_COORDINATOR_FENCED).
    mutating func writeMarker(broker: Int32, _ tp: TopicPartition, producerId: Int64, producerEpoch: Int16,
                              coordinatorEpoch: Int32, commit: Bool, now: Instant) -> KafkaErrorCode {
        if let e = leaderError(tp, broker: broker, currentLeaderEpoch: -1) { return e }
        let p = metadata.partition(tp)!
        if let entry = log(tp, replica: broker)?.producers.entry(for: producerId) {
            if producerEpoch < entry.epoch { return .invalidProducerEpoch }
            if coordinatorEpoch < entry.coordinatorEpoch { return .transactionCoordinatorFenced }
        }
        let live = metadata
        partitions[tp]?.appendMarker(commit: commit, producerId: producerId, producerEpoch: producerEpoch,
                                     coordinatorEpoch: coordinatorEpoch, leader: p.leader, leaderEpoch: p.leaderEpoch,
                                     timestamp: now.milliseconds, isr: p.isr) { live.isUp($0) }
        noteLag(tp, now: now)
        return .noError
    }
}
