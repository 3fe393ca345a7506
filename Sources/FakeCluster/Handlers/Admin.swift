/// Admin requests: CreateTopics.
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
                tr.errorCode = state.metadata.topic(t.name) != nil ? FakeErrorCode.topicAlreadyExists.code : 0
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
