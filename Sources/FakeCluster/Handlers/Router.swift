/// Routes a decoded request to its handler. APIs not listed here are not advertised in
/// ApiVersions, and a client that sends one anyway gets UNSUPPORTED_VERSION in that API's
/// response (UnsupportedVersion.swift).
extension FakeCluster {
    static let implementedApis: Set<Int16> = [
        ApiKey.produce.rawValue, ApiKey.fetch.rawValue, ApiKey.listOffsets.rawValue, ApiKey.metadata.rawValue,
        ApiKey.offsetCommit.rawValue, ApiKey.offsetFetch.rawValue, ApiKey.findCoordinator.rawValue,
        ApiKey.joinGroup.rawValue, ApiKey.heartbeat.rawValue, ApiKey.leaveGroup.rawValue, ApiKey.syncGroup.rawValue,
        ApiKey.saslHandshake.rawValue, ApiKey.apiVersions.rawValue, ApiKey.createTopics.rawValue,
        ApiKey.initProducerId.rawValue, ApiKey.addPartitionsToTxn.rawValue, ApiKey.addOffsetsToTxn.rawValue,
        ApiKey.endTxn.rawValue, ApiKey.txnOffsetCommit.rawValue, ApiKey.saslAuthenticate.rawValue,
        ApiKey.describeGroups.rawValue, ApiKey.listGroups.rawValue, ApiKey.deleteGroups.rawValue,
        ApiKey.offsetDelete.rawValue, ApiKey.deleteTopics.rawValue, ApiKey.createPartitions.rawValue,
        ApiKey.deleteRecords.rawValue, ApiKey.describeConfigs.rawValue, ApiKey.alterConfigs.rawValue,
        ApiKey.incrementalAlterConfigs.rawValue, ApiKey.describeCluster.rawValue, ApiKey.offsetForLeaderEpoch.rawValue,
    ]

    /// The versions this cluster serves for `key`: the emulated release's, within what the
    /// codec and the handlers implement.
    func servedVersions(_ key: ApiKey) -> ClosedRange<Int16>? {
        guard Self.implementedApis.contains(key.rawValue), let r = config.release.versions(key),
              let type = requestType(for: key) else { return nil }
        let lo = max(r.lowerBound, type.validVersions.lowerBound), hi = min(r.upperBound, type.validVersions.upperBound)
        return lo <= hi ? lo ... hi : nil
    }

    mutating func dispatch(_ request: any KafkaRequest, _ ctx: RequestContext) -> HandlerResult {
        switch request {
        case let r as ApiVersionsRequest: return handleApiVersions(r, ctx)
        case let r as MetadataRequest: return handleMetadata(r, ctx)
        case let r as ProduceRequest: return handleProduce(r, ctx)
        case let r as FetchRequest: return handleFetch(r, ctx)
        case let r as ListOffsetsRequest: return handleListOffsets(r, ctx)
        case let r as FindCoordinatorRequest: return handleFindCoordinator(r, ctx)
        case let r as JoinGroupRequest: return handleJoinGroup(r, ctx)
        case let r as SyncGroupRequest: return handleSyncGroup(r, ctx)
        case let r as HeartbeatRequest: return handleHeartbeat(r, ctx)
        case let r as LeaveGroupRequest: return handleLeaveGroup(r, ctx)
        case let r as OffsetCommitRequest: return handleOffsetCommit(r, ctx)
        case let r as OffsetFetchRequest: return handleOffsetFetch(r, ctx)
        case let r as InitProducerIdRequest: return handleInitProducerId(r, ctx)
        case let r as AddPartitionsToTxnRequest: return handleAddPartitionsToTxn(r, ctx)
        case let r as AddOffsetsToTxnRequest: return handleAddOffsetsToTxn(r, ctx)
        case let r as EndTxnRequest: return handleEndTxn(r, ctx)
        case let r as TxnOffsetCommitRequest: return handleTxnOffsetCommit(r, ctx)
        case let r as CreateTopicsRequest: return handleCreateTopics(r, ctx)
        case let r as DescribeGroupsRequest: return handleDescribeGroups(r, ctx)
        case let r as ListGroupsRequest: return handleListGroups(r, ctx)
        case let r as DeleteGroupsRequest: return handleDeleteGroups(r, ctx)
        case let r as OffsetDeleteRequest: return handleOffsetDelete(r, ctx)
        case let r as DeleteTopicsRequest: return handleDeleteTopics(r, ctx)
        case let r as CreatePartitionsRequest: return handleCreatePartitions(r, ctx)
        case let r as DeleteRecordsRequest: return handleDeleteRecords(r, ctx)
        case let r as DescribeConfigsRequest: return handleDescribeConfigs(r, ctx)
        case let r as AlterConfigsRequest: return handleAlterConfigs(r, ctx)
        case let r as IncrementalAlterConfigsRequest: return handleIncrementalAlterConfigs(r, ctx)
        case let r as DescribeClusterRequest: return handleDescribeCluster(r, ctx)
        case let r as OffsetForLeaderEpochRequest: return handleOffsetForLeaderEpoch(r, ctx)
        case let r as SaslHandshakeRequest: return handleSaslHandshake(r, ctx)
        case let r as SaslAuthenticateRequest: return handleSaslAuthenticate(r, ctx)
        default: return .close("\(ctx.apiKey.name) is not served by the fake cluster")
        }
    }
}

extension KafkaErrorCode {
    /// The wire value, as the generated responses hold error codes.
    var code: Int16 { rawValue }
}
