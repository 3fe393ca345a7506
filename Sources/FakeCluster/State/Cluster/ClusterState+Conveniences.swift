/// Entry points that need the cluster's own seeded generator (member ids, fetch session
/// ids, topic ids for auto-created topics), so handlers need not thread it through.
extension ClusterState {
    /// Metadata/Produce auto-creation: the topic if it exists, else (when allowed and the
    /// name is valid) a new one with the cluster's default partitions and replication.
    mutating func topicOrAutoCreate(_ name: String) -> ClusterMetadata.Topic? {
        if let t = metadata.topic(name) { return t }
        guard metadata.autoCreateTopics, ClusterMetadata.isValidTopicName(name) else { return nil }
        return try? createTopic(name: name).get()
    }

    mutating func joinGroup(_ req: GroupCoordinator.JoinRequest, now: Instant) -> GroupCoordinator.Outcome<GroupCoordinator.JoinResponse> {
        let image = groups.consumerGroups[req.groupId] == nil ? TopicImage() : topicImage
        return groups.joinGroup(req, image: image, now: now, using: &rng)
    }

    /// KIP-848: the heartbeat sees the topics as they are now; v0 member ids come from the seed.
    mutating func consumerGroupHeartbeat(_ req: GroupCoordinator.ConsumerHeartbeatRequest,
                                         now: Instant) -> GroupCoordinator.ConsumerHeartbeatResponse {
        let image = topicImage
        return groups.consumerGroupHeartbeat(req, image: image, now: now, using: &rng)
    }

    /// KIP-227 on one broker: see `FetchSessionCache.begin`.
    mutating func beginFetch(broker: Int32, sessionId: Int32, epoch: Int32, fetch: [FetchSessionCache.PartitionRequest],
                             forgotten: [TopicPartition], now: Instant) -> FetchSessionCache.Context {
        if fetchSessions[broker] == nil { fetchSessions[broker] = FetchSessionCache(maxSessions: config.maxFetchSessionsPerBroker) }
        return fetchSessions[broker]!.begin(sessionId: sessionId, epoch: epoch, fetch: fetch, forgotten: forgotten,
                                            now: now, using: &rng)
    }

    mutating func finishFetch(broker: Int32, _ context: FetchSessionCache.Context,
                              results: [FetchSessionCache.PartitionResult]) -> [FetchSessionCache.PartitionResult] {
        fetchSessions[broker]?.finish(context, results: results) ?? results
    }
}
