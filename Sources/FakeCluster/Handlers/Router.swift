/// Routes a decoded request to its handler. The handler table is the one list of served
/// APIs: an API without a handler is not advertised in ApiVersions, and a client that sends
/// one anyway gets UNSUPPORTED_VERSION in that API's response (UnsupportedVersion.swift).
extension FakeCluster {
    typealias Handler = @Sendable (inout FakeCluster, any KafkaRequest, RequestContext) -> HandlerResult

    /// Each served API's handler, keyed by its request type's API key.
    static let handlers: [ApiKey: Handler] = {
        var table: [ApiKey: Handler] = [:]
        func serve<R: KafkaRequest>(_ type: R.Type, _ handle: @escaping @Sendable (inout FakeCluster, R, RequestContext) -> HandlerResult) {
            table[R.apiKey] = { cluster, request, ctx in
                guard let r = request as? R else { return .close("\(ctx.apiKey.name) decoded as \(Swift.type(of: request).messageName)") }
                return handle(&cluster, r, ctx)
            }
        }
        serve(ApiVersionsRequest.self) { $0.handleApiVersions($1, $2) }
        serve(MetadataRequest.self) { $0.handleMetadata($1, $2) }
        serve(ProduceRequest.self) { $0.handleProduce($1, $2) }
        serve(FetchRequest.self) { $0.handleFetch($1, $2) }
        serve(ListOffsetsRequest.self) { $0.handleListOffsets($1, $2) }
        serve(FindCoordinatorRequest.self) { $0.handleFindCoordinator($1, $2) }
        serve(JoinGroupRequest.self) { $0.handleJoinGroup($1, $2) }
        serve(SyncGroupRequest.self) { $0.handleSyncGroup($1, $2) }
        serve(HeartbeatRequest.self) { $0.handleHeartbeat($1, $2) }
        serve(LeaveGroupRequest.self) { $0.handleLeaveGroup($1, $2) }
        serve(OffsetCommitRequest.self) { $0.handleOffsetCommit($1, $2) }
        serve(OffsetFetchRequest.self) { $0.handleOffsetFetch($1, $2) }
        serve(InitProducerIdRequest.self) { $0.handleInitProducerId($1, $2) }
        serve(AddPartitionsToTxnRequest.self) { $0.handleAddPartitionsToTxn($1, $2) }
        serve(AddOffsetsToTxnRequest.self) { $0.handleAddOffsetsToTxn($1, $2) }
        serve(EndTxnRequest.self) { $0.handleEndTxn($1, $2) }
        serve(TxnOffsetCommitRequest.self) { $0.handleTxnOffsetCommit($1, $2) }
        serve(CreateTopicsRequest.self) { $0.handleCreateTopics($1, $2) }
        serve(DescribeGroupsRequest.self) { $0.handleDescribeGroups($1, $2) }
        serve(ConsumerGroupHeartbeatRequest.self) { $0.handleConsumerGroupHeartbeat($1, $2) }
        serve(ConsumerGroupDescribeRequest.self) { $0.handleConsumerGroupDescribe($1, $2) }
        serve(ListGroupsRequest.self) { $0.handleListGroups($1, $2) }
        serve(DeleteGroupsRequest.self) { $0.handleDeleteGroups($1, $2) }
        serve(OffsetDeleteRequest.self) { $0.handleOffsetDelete($1, $2) }
        serve(DeleteTopicsRequest.self) { $0.handleDeleteTopics($1, $2) }
        serve(CreatePartitionsRequest.self) { $0.handleCreatePartitions($1, $2) }
        serve(DeleteRecordsRequest.self) { $0.handleDeleteRecords($1, $2) }
        serve(DescribeConfigsRequest.self) { $0.handleDescribeConfigs($1, $2) }
        serve(AlterConfigsRequest.self) { $0.handleAlterConfigs($1, $2) }
        serve(IncrementalAlterConfigsRequest.self) { $0.handleIncrementalAlterConfigs($1, $2) }
        serve(DescribeClusterRequest.self) { $0.handleDescribeCluster($1, $2) }
        serve(OffsetForLeaderEpochRequest.self) { $0.handleOffsetForLeaderEpoch($1, $2) }
        serve(CreateAclsRequest.self) { $0.handleCreateAcls($1, $2) }
        serve(DescribeAclsRequest.self) { $0.handleDescribeAcls($1, $2) }
        serve(DeleteAclsRequest.self) { $0.handleDeleteAcls($1, $2) }
        serve(DescribeClientQuotasRequest.self) { $0.handleDescribeClientQuotas($1, $2) }
        serve(AlterClientQuotasRequest.self) { $0.handleAlterClientQuotas($1, $2) }
        serve(DescribeUserScramCredentialsRequest.self) { $0.handleDescribeUserScramCredentials($1, $2) }
        serve(AlterUserScramCredentialsRequest.self) { $0.handleAlterUserScramCredentials($1, $2) }
        serve(DescribeProducersRequest.self) { $0.handleDescribeProducers($1, $2) }
        serve(ListTransactionsRequest.self) { $0.handleListTransactions($1, $2) }
        serve(DescribeTransactionsRequest.self) { $0.handleDescribeTransactions($1, $2) }
        serve(WriteTxnMarkersRequest.self) { $0.handleWriteTxnMarkers($1, $2) }
        serve(ElectLeadersRequest.self) { $0.handleElectLeaders($1, $2) }
        serve(AlterPartitionReassignmentsRequest.self) { $0.handleAlterPartitionReassignments($1, $2) }
        serve(ListPartitionReassignmentsRequest.self) { $0.handleListPartitionReassignments($1, $2) }
        serve(DescribeLogDirsRequest.self) { $0.handleDescribeLogDirs($1, $2) }
        serve(AlterReplicaLogDirsRequest.self) { $0.handleAlterReplicaLogDirs($1, $2) }
        serve(UpdateFeaturesRequest.self) { $0.handleUpdateFeatures($1, $2) }
        serve(CreateDelegationTokenRequest.self) { $0.handleCreateDelegationToken($1, $2) }
        serve(RenewDelegationTokenRequest.self) { $0.handleRenewDelegationToken($1, $2) }
        serve(ExpireDelegationTokenRequest.self) { $0.handleExpireDelegationToken($1, $2) }
        serve(DescribeDelegationTokenRequest.self) { $0.handleDescribeDelegationToken($1, $2) }
        serve(SaslHandshakeRequest.self) { $0.handleSaslHandshake($1, $2) }
        serve(SaslAuthenticateRequest.self) { $0.handleSaslAuthenticate($1, $2) }
        return table
    }()

    /// Whether this cluster serves `key` at all (whatever the emulated release says).
    static func implements(_ key: ApiKey) -> Bool { handlers[key] != nil }

    /// The release `broker` runs: the cluster's, unless a rolling upgrade changed it.
    public func release(of broker: Int32) -> KafkaRelease { brokerReleases[broker] ?? config.release }

    /// The versions a broker of the cluster's configured release serves for `key` (one not
    /// moved to another by `upgradeBroker`).
    func servedVersions(_ key: ApiKey) -> ClosedRange<Int16>? {
        servedVersions(key, release: config.release)
    }

    func servedVersions(_ key: ApiKey, broker: Int32) -> ClosedRange<Int16>? {
        servedVersions(key, release: release(of: broker))
    }

    /// The versions `release` serves for `key`: the emulated release's, within what the
    /// codec and the handlers implement.
    func servedVersions(_ key: ApiKey, release: KafkaRelease) -> ClosedRange<Int16>? {
        guard Self.implements(key), let r = release.versions(key),
              let type = requestType(for: key) else { return nil }
        let lo = max(r.lowerBound, type.validVersions.lowerBound), hi = min(r.upperBound, type.validVersions.upperBound)
        return lo <= hi ? lo ... hi : nil
    }

    mutating func dispatch(_ request: any KafkaRequest, _ ctx: RequestContext) -> HandlerResult {
        guard let handle = Self.handlers[type(of: request).apiKey] else {
            return .close("\(ctx.apiKey.name) is not served by the fake cluster")
        }
        return handle(&self, request, ctx)
    }
}

extension KafkaErrorCode {
    /// The wire value, as the generated responses hold error codes.
    var code: Int16 { rawValue }
}
