/// Admin requests: topics (create, delete, partitions, records), configs, cluster
/// description.
extension FakeCluster {
    mutating func handleCreateTopics(_ r: CreateTopicsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = CreateTopicsResponse()
        for t in r.topics {
            var tr = CreateTopicsResponse.CreatableTopicResult()
            tr.name = t.name
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
                res.errorCode = state.deleteTopic(n).code
            } else {
                res.errorCode = KafkaErrorCode.unknownTopicId.code
            }
            resp.responses.append(res)
        }
        return .respond(resp)
    }

    mutating func handleCreatePartitions(_ r: CreatePartitionsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = CreatePartitionsResponse()
        for t in r.topics {
            var res = CreatePartitionsResponse.CreatePartitionsTopicResult()
            res.name = t.name
            if r.validateOnly {
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

    /// Defaults shown for every topic (what clients commonly read), overridden by the
    /// topic's own configs.
    static let topicConfigDefaults: [(String, String)] = [
        ("cleanup.policy", "delete"), ("compression.type", "producer"), ("max.message.bytes", "1048588"),
        ("message.timestamp.type", "CreateTime"), ("min.insync.replicas", "1"), ("retention.ms", "604800000"),
    ]

    func handleDescribeConfigs(_ r: DescribeConfigsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeConfigsResponse()
        for res in r.resources {
            var out = DescribeConfigsResponse.DescribeConfigsResult()
            out.resourceType = res.resourceType
            out.resourceName = res.resourceName
            out.errorMessage = nil
            var entries: [(String, String, Bool)] = []
            switch res.resourceType {
            case 2: // topic
                guard let t = state.metadata.topic(res.resourceName) else {
                    out.errorCode = KafkaErrorCode.unknownTopicOrPartition.code
                    resp.results.append(out)
                    continue
                }
                var names = Set(t.configs.keys)
                for (k, _) in Self.topicConfigDefaults { names.insert(k) }
                for k in names.sorted() {
                    if let v = t.configs[k] { entries.append((k, v, false)) } else {
                        entries.append((k, Self.topicConfigDefaults.first { $0.0 == k }!.1, true))
                    }
                }
            case 4: // broker
                entries = [("auto.create.topics.enable", state.metadata.autoCreateTopics ? "true" : "false", false),
                           ("broker.id", res.resourceName, true)]
            default:
                out.errorCode = KafkaErrorCode.invalidRequest.code
            }
            let wanted = res.configurationKeys
            for (k, v, isDefault) in entries where wanted == nil || wanted!.isEmpty || wanted!.contains(k) {
                var c = DescribeConfigsResponse.DescribeConfigsResourceResult()
                c.name = k
                c.value = v
                if ctx.version == 0 { c.isDefault = isDefault }
                c.configSource = isDefault ? 5 : (res.resourceType == 2 ? 1 : 4) // DEFAULT_CONFIG, DYNAMIC_TOPIC/BROKER
                c.documentation = nil
                out.configs.append(c)
            }
            resp.results.append(out)
        }
        return .respond(resp)
    }

    mutating func handleAlterConfigs(_ r: AlterConfigsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = AlterConfigsResponse()
        for res in r.resources {
            var out = AlterConfigsResponse.AlterConfigsResourceResponse()
            out.resourceType = res.resourceType
            out.resourceName = res.resourceName
            out.errorMessage = nil
            if res.resourceType != 2 {
                out.errorCode = KafkaErrorCode.invalidRequest.code
            } else if !r.validateOnly {
                // AlterConfigs replaces the whole set.
                var configs: [String: String] = [:]
                for c in res.configs { if let v = c.value { configs[c.name] = v } }
                out.errorCode = replaceConfigs(res.resourceName, configs).code
            } else if state.metadata.topic(res.resourceName) == nil {
                out.errorCode = KafkaErrorCode.unknownTopicOrPartition.code
            }
            resp.responses.append(out)
        }
        return .respond(resp)
    }

    mutating func handleIncrementalAlterConfigs(_ r: IncrementalAlterConfigsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = IncrementalAlterConfigsResponse()
        for res in r.resources {
            var out = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse()
            out.resourceType = res.resourceType
            out.resourceName = res.resourceName
            out.errorMessage = nil
            guard res.resourceType == 2, let t = state.metadata.topic(res.resourceName) else {
                out.errorCode = (res.resourceType == 2 ? KafkaErrorCode.unknownTopicOrPartition : .invalidRequest).code
                resp.responses.append(out)
                continue
            }
            var configs = t.configs
            for c in res.configs {
                switch c.configOperation {
                case 0: configs[c.name] = c.value ?? "" // SET
                case 1: configs[c.name] = nil // DELETE
                default: out.errorCode = KafkaErrorCode.invalidRequest.code // APPEND/SUBTRACT: list configs, not modelled
                }
            }
            if out.errorCode == 0 && !r.validateOnly { out.errorCode = replaceConfigs(res.resourceName, configs).code }
            resp.responses.append(out)
        }
        return .respond(resp)
    }

    private mutating func replaceConfigs(_ topic: String, _ configs: [String: String]) -> KafkaErrorCode {
        state.metadata.setConfigs(topic: topic, configs)
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
        return .respond(resp)
    }
}
