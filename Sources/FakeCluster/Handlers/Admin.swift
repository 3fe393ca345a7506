/// Admin requests: topics (create, delete, partitions, records) and the cluster
/// description. Configs are in Configs.swift.
extension FakeCluster {
    /// Like Kafka's controller, one request may add at most this many partitions in all; more
    /// is refused whole (a fuzzed count of 2^31-1 would otherwise stall the cluster building them).
    static let maxNewPartitionsPerRequest = 10_000
    static let tooManyPartitionsMessage = "Excessively large number of partitions per request."

    mutating func handleCreateTopics(_ r: CreateTopicsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = CreateTopicsResponse()
        let asked = r.topics.reduce(0) { sum, t in
            sum + (t.assignments.isEmpty ? Int(t.numPartitions == -1 ? state.metadata.defaultPartitions : max(t.numPartitions, 0)) : t.assignments.count)
        }
        // CREATE on the cluster allows every topic; otherwise each topic needs its own.
        let createAny = allowsCluster(ctx.connection, .create)
        for t in r.topics {
            var tr = CreateTopicsResponse.CreatableTopicResult()
            tr.name = t.name
            if !createAny, !allowsTopic(ctx.connection, .create, t.name) {
                tr.errorCode = KafkaErrorCode.topicAuthorizationFailed.code
                tr.errorMessage = "Authorization failed."
                resp.topics.append(tr)
                continue
            }
            if asked > Self.maxNewPartitionsPerRequest {
                tr.errorCode = KafkaErrorCode.policyViolation.code
                tr.errorMessage = Self.tooManyPartitionsMessage
                resp.topics.append(tr)
                continue
            }
            var configs: [String: String] = [:]
            for c in t.configs { if let v = c.value { configs[c.name] = v } }
            let assignments = t.assignments.isEmpty ? nil : t.assignments.sorted { $0.partitionIndex < $1.partitionIndex }.map(\.brokerIds)
            if r.validateOnly {
                tr.errorCode = state.metadata.topic(t.name) != nil ? KafkaErrorCode.topicAlreadyExists.code : 0
            } else {
                switch state.createTopic(name: t.name, partitions: t.numPartitions, replicationFactor: t.replicationFactor,
                                         assignments: assignments, configs: configs) {
                case .success(let topic):
                    tr.topicId = topic.id
                    tr.numPartitions = Int32(topic.partitions.count)
                    tr.replicationFactor = Int16(topic.partitions.first?.replicas.count ?? 0)
                    if ctx.version >= 5 {
                        switch createdTopicConfigs(t.name, ctx) {
                        case .success(let c): tr.configs = c
                        case .failure(let e): tr.topicConfigErrorCode = e.code
                        }
                    }
                case .failure(let e):
                    tr.errorCode = e.code
                    tr.errorMessage = "\(e)"
                }
            }
            resp.topics.append(tr)
        }
        return .respond(resp)
    }
}

extension FakeCluster {
    mutating func handleDeleteTopics(_ r: DeleteTopicsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DeleteTopicsResponse()
        let targets: [(String?, KafkaUUID)] = ctx.version >= 6 ? r.topics.map { ($0.name, $0.topicId) } : r.topicNames.map { ($0, .zero) }
        for (name, id) in targets {
            var res = DeleteTopicsResponse.DeletableTopicResult()
            res.name = name
            res.topicId = ctx.version >= 6 ? id : .zero
            let resolved = name ?? state.metadata.topic(id: id)?.name
            if let n = resolved {
                res.name = n
                if ctx.version >= 6 { res.topicId = state.metadata.topic(n)?.id ?? id }
                res.errorCode = allowsTopic(ctx.connection, .delete, n) ? state.deleteTopic(n).code : KafkaErrorCode.topicAuthorizationFailed.code
            } else {
                res.errorCode = KafkaErrorCode.unknownTopicId.code
            }
            resp.responses.append(res)
        }
        return .respond(resp)
    }

    mutating func handleCreatePartitions(_ r: CreatePartitionsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = CreatePartitionsResponse()
        let asked = r.topics.reduce(0) { sum, t in
            sum + max(0, Int(t.count) - (state.metadata.topic(t.name)?.partitions.count ?? 0))
        }
        for t in r.topics {
            var res = CreatePartitionsResponse.CreatePartitionsTopicResult()
            res.name = t.name
            if !allowsTopic(ctx.connection, .alter, t.name) {
                res.errorCode = KafkaErrorCode.topicAuthorizationFailed.code
                res.errorMessage = "Authorization failed."
            } else if asked > Self.maxNewPartitionsPerRequest {
                res.errorCode = KafkaErrorCode.policyViolation.code
                res.errorMessage = Self.tooManyPartitionsMessage
            } else if r.validateOnly {
                let current = state.metadata.topic(t.name)?.partitions.count
                res.errorCode = current == nil ? KafkaErrorCode.unknownTopicOrPartition.code
                    : (Int(t.count) <= current! ? KafkaErrorCode.invalidPartitions.code : 0)
            } else {
                res.errorCode = state.createPartitions(topic: t.name, totalCount: t.count, assignments: t.assignments?.map(\.brokerIds)).code
            }
            resp.results.append(res)
        }
        return .respond(resp)
    }

    mutating func handleDeleteRecords(_ r: DeleteRecordsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DeleteRecordsResponse()
        for t in r.topics {
            var tr = DeleteRecordsResponse.DeleteRecordsTopicResult()
            tr.name = t.name
            for p in t.partitions {
                var pr = DeleteRecordsResponse.DeleteRecordsPartitionResult()
                pr.partitionIndex = p.partitionIndex
                guard allowsTopic(ctx.connection, .delete, t.name) else {
                    pr.errorCode = KafkaErrorCode.topicAuthorizationFailed.code
                    pr.lowWatermark = -1
                    tr.partitions.append(pr)
                    continue
                }
                switch state.deleteRecords(broker: ctx.broker, .init(topic: t.name, partition: p.partitionIndex), before: p.offset) {
                case .success(let low): pr.lowWatermark = low
                case .failure(let e): pr.errorCode = e.code; pr.lowWatermark = -1
                }
                tr.partitions.append(pr)
            }
            resp.topics.append(tr)
        }
        return .respond(resp)
    }

    func handleDescribeCluster(_ r: DescribeClusterRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeClusterResponse()
        resp.clusterId = state.metadata.clusterId
        resp.controllerId = state.metadata.controllerId
        for id in state.metadata.liveBrokerIds where !isolated.contains(id) {
            let b = state.metadata.broker(id)!
            var o = DescribeClusterResponse.DescribeClusterBroker()
            o.brokerId = id
            o.host = b.host
            o.port = b.port
            o.rack = b.rack
            resp.brokers.append(o)
        }
        if r.includeClusterAuthorizedOperations {
            resp.clusterAuthorizedOperations = authorizedOperations(ctx.connection, .cluster, Self.clusterResourceName)
        }
        return .respond(resp)
    }
}
