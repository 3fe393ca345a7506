/// Metadata (live brokers with racks, topics with ids, leaders, epochs, ISR, offline
/// replicas; auto-creation) and FindCoordinator (single and batched).
extension FakeCluster {
    mutating func handleMetadata(_ r: MetadataRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = MetadataResponse()
        for id in state.metadata.liveBrokerIds where !isolated.contains(id) {
            let b = state.metadata.broker(id)!
            var mb = MetadataResponse.MetadataResponseBroker()
            mb.nodeId = b.nodeId
            mb.host = b.host
            mb.port = b.port
            mb.rack = b.rack
            resp.brokers.append(mb)
        }
        resp.clusterId = state.metadata.clusterId
        resp.controllerId = state.metadata.controllerId
        // v0: an empty list means every topic; v1+: null means every topic.
        let all = r.topics == nil || (ctx.version == 0 && r.topics!.isEmpty)
        let autoCreate = ctx.version < 4 || r.allowAutoTopicCreation
        if all {
            // Topics the caller may not describe are left out, as Kafka does.
            for name in state.metadata.topicNames where allowsTopic(ctx.connection, .describe, name) {
                resp.topics.append(topicMetadata(name))
            }
        } else {
            for t in r.topics! {
                if let name = t.name {
                    guard allowsTopic(ctx.connection, .describe, name) else {
                        var mt = MetadataResponse.MetadataResponseTopic()
                        mt.name = name
                        mt.errorCode = KafkaErrorCode.topicAuthorizationFailed.code
                        resp.topics.append(mt)
                        continue
                    }
                    // Auto-creation needs CREATE on the cluster or the topic.
                    if autoCreate, allows(ctx.connection, .create, .cluster, "kafka-cluster") || allowsTopic(ctx.connection, .create, name) {
                        _ = state.topicOrAutoCreate(name)
                    }
                    if state.metadata.topic(name) == nil {
                        var mt = MetadataResponse.MetadataResponseTopic()
                        mt.name = name
                        mt.errorCode = ClusterMetadata.isValidTopicName(name) ? KafkaErrorCode.unknownTopicOrPartition.code
                            : KafkaErrorCode.invalidTopicException.code
                        resp.topics.append(mt)
                    } else {
                        resp.topics.append(topicMetadata(name))
                    }
                } else if let topic = state.metadata.topic(id: t.topicId) {
                    resp.topics.append(topicMetadata(topic.name))
                } else {
                    var mt = MetadataResponse.MetadataResponseTopic()
                    mt.name = nil
                    mt.topicId = t.topicId
                    mt.errorCode = KafkaErrorCode.unknownTopicId.code
                    resp.topics.append(mt)
                }
            }
        }
        // KIP-430: the caller's operations, when asked (cluster: v8-10; topics: v8+).
        if ctx.version >= 8, ctx.version <= 10, r.includeClusterAuthorizedOperations {
            resp.clusterAuthorizedOperations = authorizedOperations(ctx.connection, .cluster, Self.clusterResourceName)
        }
        if ctx.version >= 8, r.includeTopicAuthorizedOperations {
            for i in resp.topics.indices where resp.topics[i].errorCode == 0 {
                guard let name = resp.topics[i].name else { continue }
                resp.topics[i].topicAuthorizedOperations = authorizedOperations(ctx.connection, .topic, name)
            }
        }
        return .respond(resp)
    }

    func topicMetadata(_ name: String) -> MetadataResponse.MetadataResponseTopic {
        let t = state.metadata.topic(name)!
        var mt = MetadataResponse.MetadataResponseTopic()
        mt.name = name
        mt.topicId = t.id
        mt.isInternal = t.isInternal
        for p in t.partitions {
            var mp = MetadataResponse.MetadataResponsePartition()
            mp.partitionIndex = p.index
            mp.leaderId = p.leader
            mp.leaderEpoch = p.leaderEpoch
            mp.replicaNodes = p.replicas
            mp.isrNodes = p.isr
            mp.offlineReplicas = p.offlineReplicas
            if p.leader < 0 { mp.errorCode = KafkaErrorCode.leaderNotAvailable.code }
            mt.partitions.append(mp)
        }
        return mt
    }

    func handleFindCoordinator(_ r: FindCoordinatorRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = FindCoordinatorResponse()
        let type: ClusterState.CoordinatorType = r.keyType == 1 ? .transaction : .group
        let keys = ctx.version >= 4 ? r.coordinatorKeys : [r.key]
        for key in keys {
            var c = FindCoordinatorResponse.Coordinator()
            c.key = key
            if r.keyType > 1 {
                c.errorCode = KafkaErrorCode.invalidRequest.code
            } else if let id = state.coordinator(for: key, type: type), !isolated.contains(id), let b = state.metadata.broker(id) {
                c.nodeId = id
                c.host = b.host
                c.port = b.port
                c.errorMessage = nil
            } else {
                c.nodeId = -1
                c.errorCode = KafkaErrorCode.coordinatorNotAvailable.code
            }
            resp.coordinators.append(c)
        }
        if ctx.version < 4, let c = resp.coordinators.first {
            resp.errorCode = c.errorCode
            resp.errorMessage = c.errorMessage
            resp.nodeId = c.nodeId
            resp.host = c.host
            resp.port = c.port
            resp.coordinators = []
        }
        return .respond(resp)
    }

    /// NOT_COORDINATOR unless this broker coordinates the key; COORDINATOR_LOAD_IN_PROGRESS
    /// while it is still loading a transactional id it took over.
    func coordinatorError(_ key: String, _ type: ClusterState.CoordinatorType, _ ctx: RequestContext) -> KafkaErrorCode? {
        guard let c = state.coordinator(for: key, type: type) else { return .coordinatorNotAvailable }
        guard c == ctx.broker else { return .notCoordinator }
        if type == .transaction, state.transactions.isLoading(key, now: ctx.now) { return .coordinatorLoadInProgress }
        return nil
    }
}
