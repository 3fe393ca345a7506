/// Splits a multi-partition request by partition leader and merges the leaders' answers,
/// as kgo's `Request` does for requests that must reach each partition's leader.
protocol PartitionSharder {
    func partitions(of request: any KafkaRequest) -> [TopicPartition]
    /// The request restricted to `keep`, topics and partitions in their original order.
    func subset(_ request: any KafkaRequest, keeping keep: Set<TopicPartition>) -> any KafkaRequest
    /// One response from the shards' responses (in shard order) plus synthesised errors for
    /// partitions no leader could be found for.
    func merge(_ responses: [any KafkaResponse], unroutable: [(TopicPartition, KafkaErrorCode)]) -> any KafkaResponse
    func partitionErrors(in response: any KafkaResponse) -> [(TopicPartition, KafkaErrorCode)]
    /// The response without the entries for `drop` (to be answered again by a retry).
    func removing(_ drop: Set<TopicPartition>, from response: any KafkaResponse) -> any KafkaResponse
}

enum PartitionSharding {
    static func sharder(for key: ApiKey) -> (any PartitionSharder)? {
        switch key {
        case .listOffsets: return listOffsets()
        case .deleteRecords: return deleteRecords()
        case .offsetForLeaderEpoch: return offsetForLeaderEpoch()
        case .describeProducers: return describeProducers()
        default: return nil
        }
    }

    /// Groups `partitions` by leader (ascending leader id); partitions without a known leader
    /// come back separately.
    static func plan(_ partitions: [TopicPartition], leader: (TopicPartition) -> Int32?) -> (shards: [(Int32, Set<TopicPartition>)], unroutable: [TopicPartition]) {
        var byLeader: [Int32: Set<TopicPartition>] = [:]
        var unroutable: [TopicPartition] = []
        for tp in partitions {
            if let l = leader(tp) { byLeader[l, default: []].insert(tp) } else { unroutable.append(tp) }
        }
        return (byLeader.keys.sorted().map { ($0, byLeader[$0]!) }, unroutable)
    }

    static func listOffsets() -> some PartitionSharder {
        TopicPartitionShape(
            topics: \ListOffsetsRequest.topics, topicName: \.name, partitions: \.partitions, partitionIndex: \.partitionIndex,
            responseTopics: \ListOffsetsResponse.topics, responseTopicName: \.name, responsePartitions: \.partitions,
            responsePartitionIndex: \.partitionIndex, responseErrorCode: \.errorCode, throttle: \.throttleTimeMs)
    }

    static func deleteRecords() -> some PartitionSharder {
        TopicPartitionShape(
            topics: \DeleteRecordsRequest.topics, topicName: \.name, partitions: \.partitions, partitionIndex: \.partitionIndex,
            responseTopics: \DeleteRecordsResponse.topics, responseTopicName: \.name, responsePartitions: \.partitions,
            responsePartitionIndex: \.partitionIndex, responseErrorCode: \.errorCode, throttle: \.throttleTimeMs,
            unroutableDefaults: { $0.lowWatermark = -1 })
    }

    static func offsetForLeaderEpoch() -> some PartitionSharder {
        TopicPartitionShape(
            topics: \OffsetForLeaderEpochRequest.topics, topicName: \.topic, partitions: \.partitions, partitionIndex: \.partition,
            responseTopics: \OffsetForLeaderEpochResponse.topics, responseTopicName: \.topic, responsePartitions: \.partitions,
            responsePartitionIndex: \.partition, responseErrorCode: \.errorCode, throttle: \.throttleTimeMs)
    }

    static func describeProducers() -> some PartitionSharder {
        TopicPartitionShape(
            topics: \DescribeProducersRequest.topics, topicName: \.name, partitions: \.partitionIndexes, partitionIndex: \Int32.self,
            responseTopics: \DescribeProducersResponse.topics, responseTopicName: \.name, responsePartitions: \.partitions,
            responsePartitionIndex: \.partitionIndex, responseErrorCode: \.errorCode, throttle: \.throttleTimeMs)
    }
}

/// The shape every shardable request shares: topics holding partitions in the request, and
/// topics holding per-partition results (with an error code) in the response. The key paths
/// name the fields; the algorithms are written once.
struct TopicPartitionShape<Req: KafkaRequest, ReqTopic, ReqPartition, Resp: KafkaResponse, RespTopic: KafkaStruct, RespPartition: KafkaStruct>: PartitionSharder {
    let topics: WritableKeyPath<Req, [ReqTopic]>
    let topicName: KeyPath<ReqTopic, String>
    let partitions: WritableKeyPath<ReqTopic, [ReqPartition]>
    let partitionIndex: KeyPath<ReqPartition, Int32>
    let responseTopics: WritableKeyPath<Resp, [RespTopic]>
    let responseTopicName: WritableKeyPath<RespTopic, String>
    let responsePartitions: WritableKeyPath<RespTopic, [RespPartition]>
    let responsePartitionIndex: WritableKeyPath<RespPartition, Int32>
    let responseErrorCode: WritableKeyPath<RespPartition, Int16>
    let throttle: WritableKeyPath<Resp, Int32>
    /// Fields of a synthesised error entry that must differ from the schema defaults.
    var unroutableDefaults: (inout RespPartition) -> Void = { _ in }

    func partitions(of request: any KafkaRequest) -> [TopicPartition] {
        guard let r = request as? Req else { return [] }
        return r[keyPath: topics].flatMap { t in t[keyPath: partitions].map { TopicPartition(t[keyPath: topicName], $0[keyPath: partitionIndex]) } }
    }

    func subset(_ request: any KafkaRequest, keeping keep: Set<TopicPartition>) -> any KafkaRequest {
        guard var r = request as? Req else { return request }
        r[keyPath: topics] = r[keyPath: topics].compactMap { t in
            var t = t
            let name = t[keyPath: topicName]
            t[keyPath: partitions] = t[keyPath: partitions].filter { keep.contains(TopicPartition(name, $0[keyPath: partitionIndex])) }
            return t[keyPath: partitions].isEmpty ? nil : t
        }
        return r
    }

    func merge(_ responses: [any KafkaResponse], unroutable: [(TopicPartition, KafkaErrorCode)]) -> any KafkaResponse {
        var out = Resp()
        for case let r as Resp in responses {
            out[keyPath: throttle] = max(out[keyPath: throttle], r[keyPath: throttle])
            for t in r[keyPath: responseTopics] {
                for p in t[keyPath: responsePartitions] { append(p, topic: t[keyPath: responseTopicName], to: &out) }
            }
        }
        for (tp, code) in unroutable {
            var p = RespPartition()
            p[keyPath: responsePartitionIndex] = tp.partition
            p[keyPath: responseErrorCode] = code.rawValue
            unroutableDefaults(&p)
            append(p, topic: tp.topic, to: &out)
        }
        return out
    }

    /// Adds a partition result under its topic, creating the topic entry in first-seen order.
    private func append(_ p: RespPartition, topic: String, to out: inout Resp) {
        if let i = out[keyPath: responseTopics].firstIndex(where: { $0[keyPath: responseTopicName] == topic }) {
            out[keyPath: responseTopics][i][keyPath: responsePartitions].append(p)
        } else {
            var t = RespTopic()
            t[keyPath: responseTopicName] = topic
            t[keyPath: responsePartitions] = [p]
            out[keyPath: responseTopics].append(t)
        }
    }

    func partitionErrors(in response: any KafkaResponse) -> [(TopicPartition, KafkaErrorCode)] {
        guard let r = response as? Resp else { return [] }
        return r[keyPath: responseTopics].flatMap { t in
            t[keyPath: responsePartitions].map { (TopicPartition(t[keyPath: responseTopicName], $0[keyPath: responsePartitionIndex]), KafkaErrorCode($0[keyPath: responseErrorCode])) }
        }
    }

    func removing(_ drop: Set<TopicPartition>, from response: any KafkaResponse) -> any KafkaResponse {
        guard var r = response as? Resp else { return response }
        r[keyPath: responseTopics] = r[keyPath: responseTopics].compactMap { t in
            var t = t
            let name = t[keyPath: responseTopicName]
            t[keyPath: responsePartitions].removeAll { drop.contains(TopicPartition(name, $0[keyPath: responsePartitionIndex])) }
            return t[keyPath: responsePartitions].isEmpty ? nil : t
        }
        return r
    }
}
