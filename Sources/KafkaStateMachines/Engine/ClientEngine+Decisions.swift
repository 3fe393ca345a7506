import KafkaProtocol

/// Metadata answers applied with, when `config.reportDecisions` is on, what changed: brokers
/// added and removed, partition counts, leaders that moved. Compared only for what we knew
/// before (the first answer about a topic moves nothing), in sorted order (determinism).
extension ClientEngine {
    mutating func applyMetadata(_ response: MetadataResponse, now: Instant) {
        guard config.reportDecisions else {
            metadata.apply(response, now: now)
            return
        }
        let oldBrokers = metadata.brokers
        let oldCounts = metadata.partitionCounts
        let oldPartitions = metadata.partitions
        metadata.apply(response, now: now)
        for node in metadata.brokerIds where oldBrokers[node] != metadata.brokers[node] {
            decisions.append(.brokerAdded(node: node, metadata.brokers[node]!))
        }
        for node in oldBrokers.keys.sorted() where metadata.brokers[node] == nil {
            decisions.append(.brokerRemoved(node: node))
        }
        for topic in response.topics {
            guard let name = topic.name else { continue }
            if let was = oldCounts[name], let now = metadata.partitionCounts[name], was != now {
                decisions.append(.partitionCountChanged(topic: name, from: was, to: now))
            }
            for p in topic.partitions.map(\.partitionIndex).sorted() {
                let tp = TopicPartition(name, p)
                guard let was = oldPartitions[tp], let info = metadata.partitions[tp],
                      was.leader >= 0, info.leader >= 0, was.leader != info.leader else { continue }
                decisions.append(.leaderMoved(tp, from: was.leader, to: info.leader, epoch: info.leaderEpoch))
            }
        }
    }
}
