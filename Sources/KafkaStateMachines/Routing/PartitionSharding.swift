/// Splits a multi-partition request by partition leader and merges the leaders' answers,
/// as kgo's `Request` does for requests that must reach each partition's leader.
protocol PartitionSharder {
    static func partitions(of request: any KafkaRequest) -> [TopicPartition]
    /// The request restricted to `keep`, topics and partitions in their original order.
    static func subset(_ request: any KafkaRequest, keeping keep: Set<TopicPartition>) -> any KafkaRequest
    /// One response from the shards' responses (in shard order) plus synthesised errors for
    /// partitions no leader could be found for.
    static func merge(_ responses: [any KafkaResponse], unroutable: [(TopicPartition, KafkaErrorCode)]) -> any KafkaResponse
    static func partitionErrors(in response: any KafkaResponse) -> [(TopicPartition, KafkaErrorCode)]
    /// The response without the entries for `drop` (to be answered again by a retry).
    static func removing(_ drop: Set<TopicPartition>, from response: any KafkaResponse) -> any KafkaResponse
}

enum PartitionSharding {
    static func sharder(for key: ApiKey) -> (any PartitionSharder.Type)? {
        switch key {
        case .listOffsets: return ListOffsetsSharder.self
        case .deleteRecords: return DeleteRecordsSharder.self
        case .offsetForLeaderEpoch: return OffsetForLeaderEpochSharder.self
        case .describeProducers: return DescribeProducersSharder.self
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

    /// Appends `item` to the entry named `name`, creating it (in first-seen order).
    static func append<T, P>(_ list: inout [T], name: String, nameOf: (T) -> String, make: (String) -> T,
                             item: P, path: WritableKeyPath<T, [P]>) {
        if let i = list.firstIndex(where: { nameOf($0) == name }) {
            list[i][keyPath: path].append(item)
        } else {
            var t = make(name)
            t[keyPath: path].append(item)
            list.append(t)
        }
    }
}

enum ListOffsetsSharder: PartitionSharder {
    typealias Req = ListOffsetsRequest
    typealias Resp = ListOffsetsResponse

    static func partitions(of request: any KafkaRequest) -> [TopicPartition] {
        guard let r = request as? Req else { return [] }
        return r.topics.flatMap { t in t.partitions.map { TopicPartition(t.name, $0.partitionIndex) } }
    }

    static func subset(_ request: any KafkaRequest, keeping keep: Set<TopicPartition>) -> any KafkaRequest {
        var r = request as! Req
        r.topics = r.topics.compactMap { t in
            var t = t
            t.partitions = t.partitions.filter { keep.contains(TopicPartition(t.name, $0.partitionIndex)) }
            return t.partitions.isEmpty ? nil : t
        }
        return r
    }

    static func merge(_ responses: [any KafkaResponse], unroutable: [(TopicPartition, KafkaErrorCode)]) -> any KafkaResponse {
        var out = Resp()
        for case let r as Resp in responses {
            out.throttleTimeMs = max(out.throttleTimeMs, r.throttleTimeMs)
            for t in r.topics {
                for p in t.partitions {
                    PartitionSharding.append(&out.topics, name: t.name, nameOf: \.name,
                                             make: { var x = Resp.ListOffsetsTopicResponse(); x.name = $0; return x },
                                             item: p, path: \.partitions)
                }
            }
        }
        for (tp, code) in unroutable {
            var p = Resp.ListOffsetsPartitionResponse()
            p.partitionIndex = tp.partition
            p.errorCode = code.rawValue
            PartitionSharding.append(&out.topics, name: tp.topic, nameOf: \.name,
                                     make: { var x = Resp.ListOffsetsTopicResponse(); x.name = $0; return x },
                                     item: p, path: \.partitions)
        }
        return out
    }

    static func removing(_ drop: Set<TopicPartition>, from response: any KafkaResponse) -> any KafkaResponse {
        var r = response as! Resp
        r.topics = r.topics.compactMap { t in
            var t = t
            t.partitions.removeAll { drop.contains(TopicPartition(t.name, $0.partitionIndex)) }
            return t.partitions.isEmpty ? nil : t
        }
        return r
    }

    static func partitionErrors(in response: any KafkaResponse) -> [(TopicPartition, KafkaErrorCode)] {
        guard let r = response as? Resp else { return [] }
        return r.topics.flatMap { t in t.partitions.map { (TopicPartition(t.name, $0.partitionIndex), KafkaErrorCode($0.errorCode)) } }
    }
}

enum DeleteRecordsSharder: PartitionSharder {
    typealias Req = DeleteRecordsRequest
    typealias Resp = DeleteRecordsResponse

    static func partitions(of request: any KafkaRequest) -> [TopicPartition] {
        guard let r = request as? Req else { return [] }
        return r.topics.flatMap { t in t.partitions.map { TopicPartition(t.name, $0.partitionIndex) } }
    }

    static func subset(_ request: any KafkaRequest, keeping keep: Set<TopicPartition>) -> any KafkaRequest {
        var r = request as! Req
        r.topics = r.topics.compactMap { t in
            var t = t
            t.partitions = t.partitions.filter { keep.contains(TopicPartition(t.name, $0.partitionIndex)) }
            return t.partitions.isEmpty ? nil : t
        }
        return r
    }

    static func merge(_ responses: [any KafkaResponse], unroutable: [(TopicPartition, KafkaErrorCode)]) -> any KafkaResponse {
        var out = Resp()
        let make = { (name: String) -> Resp.DeleteRecordsTopicResult in var x = Resp.DeleteRecordsTopicResult(); x.name = name; return x }
        for case let r as Resp in responses {
            out.throttleTimeMs = max(out.throttleTimeMs, r.throttleTimeMs)
            for t in r.topics {
                for p in t.partitions {
                    PartitionSharding.append(&out.topics, name: t.name, nameOf: \.name, make: make, item: p, path: \.partitions)
                }
            }
        }
        for (tp, code) in unroutable {
            var p = Resp.DeleteRecordsPartitionResult()
            p.partitionIndex = tp.partition
            p.lowWatermark = -1
            p.errorCode = code.rawValue
            PartitionSharding.append(&out.topics, name: tp.topic, nameOf: \.name, make: make, item: p, path: \.partitions)
        }
        return out
    }

    static func removing(_ drop: Set<TopicPartition>, from response: any KafkaResponse) -> any KafkaResponse {
        var r = response as! Resp
        r.topics = r.topics.compactMap { t in
            var t = t
            t.partitions.removeAll { drop.contains(TopicPartition(t.name, $0.partitionIndex)) }
            return t.partitions.isEmpty ? nil : t
        }
        return r
    }

    static func partitionErrors(in response: any KafkaResponse) -> [(TopicPartition, KafkaErrorCode)] {
        guard let r = response as? Resp else { return [] }
        return r.topics.flatMap { t in t.partitions.map { (TopicPartition(t.name, $0.partitionIndex), KafkaErrorCode($0.errorCode)) } }
    }
}

enum OffsetForLeaderEpochSharder: PartitionSharder {
    typealias Req = OffsetForLeaderEpochRequest
    typealias Resp = OffsetForLeaderEpochResponse

    static func partitions(of request: any KafkaRequest) -> [TopicPartition] {
        guard let r = request as? Req else { return [] }
        return r.topics.flatMap { t in t.partitions.map { TopicPartition(t.topic, $0.partition) } }
    }

    static func subset(_ request: any KafkaRequest, keeping keep: Set<TopicPartition>) -> any KafkaRequest {
        var r = request as! Req
        r.topics = r.topics.compactMap { t in
            var t = t
            t.partitions = t.partitions.filter { keep.contains(TopicPartition(t.topic, $0.partition)) }
            return t.partitions.isEmpty ? nil : t
        }
        return r
    }

    static func merge(_ responses: [any KafkaResponse], unroutable: [(TopicPartition, KafkaErrorCode)]) -> any KafkaResponse {
        var out = Resp()
        let make = { (name: String) -> Resp.OffsetForLeaderTopicResult in var x = Resp.OffsetForLeaderTopicResult(); x.topic = name; return x }
        for case let r as Resp in responses {
            out.throttleTimeMs = max(out.throttleTimeMs, r.throttleTimeMs)
            for t in r.topics {
                for p in t.partitions {
                    PartitionSharding.append(&out.topics, name: t.topic, nameOf: \.topic, make: make, item: p, path: \.partitions)
                }
            }
        }
        for (tp, code) in unroutable {
            var p = Resp.EpochEndOffset()
            p.partition = tp.partition
            p.errorCode = code.rawValue
            PartitionSharding.append(&out.topics, name: tp.topic, nameOf: \.topic, make: make, item: p, path: \.partitions)
        }
        return out
    }

    static func removing(_ drop: Set<TopicPartition>, from response: any KafkaResponse) -> any KafkaResponse {
        var r = response as! Resp
        r.topics = r.topics.compactMap { t in
            var t = t
            t.partitions.removeAll { drop.contains(TopicPartition(t.topic, $0.partition)) }
            return t.partitions.isEmpty ? nil : t
        }
        return r
    }

    static func partitionErrors(in response: any KafkaResponse) -> [(TopicPartition, KafkaErrorCode)] {
        guard let r = response as? Resp else { return [] }
        return r.topics.flatMap { t in t.partitions.map { (TopicPartition(t.topic, $0.partition), KafkaErrorCode($0.errorCode)) } }
    }
}

enum DescribeProducersSharder: PartitionSharder {
    typealias Req = DescribeProducersRequest
    typealias Resp = DescribeProducersResponse

    static func partitions(of request: any KafkaRequest) -> [TopicPartition] {
        guard let r = request as? Req else { return [] }
        return r.topics.flatMap { t in t.partitionIndexes.map { TopicPartition(t.name, $0) } }
    }

    static func subset(_ request: any KafkaRequest, keeping keep: Set<TopicPartition>) -> any KafkaRequest {
        var r = request as! Req
        r.topics = r.topics.compactMap { t in
            var t = t
            t.partitionIndexes = t.partitionIndexes.filter { keep.contains(TopicPartition(t.name, $0)) }
            return t.partitionIndexes.isEmpty ? nil : t
        }
        return r
    }

    static func merge(_ responses: [any KafkaResponse], unroutable: [(TopicPartition, KafkaErrorCode)]) -> any KafkaResponse {
        var out = Resp()
        let make = { (name: String) -> Resp.TopicResponse in var x = Resp.TopicResponse(); x.name = name; return x }
        for case let r as Resp in responses {
            out.throttleTimeMs = max(out.throttleTimeMs, r.throttleTimeMs)
            for t in r.topics {
                for p in t.partitions {
                    PartitionSharding.append(&out.topics, name: t.name, nameOf: \.name, make: make, item: p, path: \.partitions)
                }
            }
        }
        for (tp, code) in unroutable {
            var p = Resp.PartitionResponse()
            p.partitionIndex = tp.partition
            p.errorCode = code.rawValue
            PartitionSharding.append(&out.topics, name: tp.topic, nameOf: \.name, make: make, item: p, path: \.partitions)
        }
        return out
    }

    static func removing(_ drop: Set<TopicPartition>, from response: any KafkaResponse) -> any KafkaResponse {
        var r = response as! Resp
        r.topics = r.topics.compactMap { t in
            var t = t
            t.partitions.removeAll { drop.contains(TopicPartition(t.name, $0.partitionIndex)) }
            return t.partitions.isEmpty ? nil : t
        }
        return r
    }

    static func partitionErrors(in response: any KafkaResponse) -> [(TopicPartition, KafkaErrorCode)] {
        guard let r = response as? Resp else { return [] }
        return r.topics.flatMap { t in t.partitions.map { (TopicPartition(t.name, $0.partitionIndex), KafkaErrorCode($0.errorCode)) } }
    }
}
