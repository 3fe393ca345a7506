/// ACL enforcement when `FakeClusterConfig.authorization` is on (a broker with an
/// authorizer and `allow.everyone.if.no.acl.found=false`). The caller is its SASL user
/// ("User:NAME") or User:ANONYMOUS.
///
/// Data paths: whole-request refusals (a group, a transactional id, idempotent writes)
/// answer the request's own shape with the error (ErrorInjection.swift); a topic refused
/// inside a request fails only that topic's partitions (Produce, Fetch, ListOffsets,
/// Metadata, OffsetCommit, TxnOffsetCommit, OffsetFetch).
///
/// Admin APIs are checked in their handlers with Kafka's rules, per item where Kafka
/// answers per item: topics (CreateTopics: CREATE on the cluster or the topic, and
/// DESCRIBE_CONFIGS on the topic for the configs v5+ returns;
/// DeleteTopics and DeleteRecords: DELETE; CreatePartitions: ALTER; DescribeProducers:
/// READ), config resources (DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic, or on the
/// cluster for broker resources), groups (DescribeGroups: DESCRIBE, DeleteGroups and
/// OffsetDelete: DELETE, ListGroups lists only the groups the caller may DESCRIBE unless it
/// may DESCRIBE the cluster), transactional ids (DescribeTransactions and ListTransactions:
/// DESCRIBE) and the cluster (ACLs, log dirs, elections, reassignments, features and SCRAM
/// credentials: DESCRIBE or ALTER; client quotas: DESCRIBE_CONFIGS or ALTER_CONFIGS;
/// WriteTxnMarkers: CLUSTER_ACTION). Metadata, DescribeGroups and DescribeCluster fill
/// the authorized-operations fields a client asks for (KIP-430) from the same rules.
extension FakeCluster {
    typealias AclOp = Authorizer.Operation

    func principal(_ connection: FakeConnectionID) -> String {
        connections[connection]?.sasl.user.map { "User:\($0)" } ?? Authorizer.anonymous
    }

    func allows(_ connection: FakeConnectionID, _ op: AclOp, _ type: Authorizer.ResourceType, _ name: String) -> Bool {
        guard config.authorization else { return true }
        return Authorizer(superUsers: Set(config.superUsers)).allows(principal(connection), op, type, name, acls: state.acls)
    }

    func allowsTopic(_ connection: FakeConnectionID, _ op: AclOp, _ topic: String) -> Bool {
        allows(connection, op, .topic, topic)
    }

    /// KIP-430's authorized-operations bit field for the caller on a resource. With
    /// authorization off every reported operation is allowed, as Kafka without an authorizer.
    func authorizedOperations(_ connection: FakeConnectionID, _ type: Authorizer.ResourceType, _ name: String) -> Int32 {
        let authorizer = Authorizer(superUsers: config.authorization ? Set(config.superUsers) : [principal(connection)])
        return authorizer.authorizedOperations(principal(connection), type, name, acls: state.acls)
    }

    /// The cluster resource's only name.
    static let clusterResourceName = "kafka-cluster"

    func allowsCluster(_ connection: FakeConnectionID, _ op: AclOp) -> Bool {
        allows(connection, op, .cluster, Self.clusterResourceName)
    }

    /// CLUSTER_AUTHORIZATION_FAILED unless the caller may `op` the cluster.
    func clusterRefusal(_ ctx: RequestContext, _ op: AclOp) -> KafkaErrorCode? {
        allowsCluster(ctx.connection, op) ? nil : .clusterAuthorizationFailed
    }

    /// A config resource's refusal: a topic needs `op` on itself, a broker or broker logger
    /// `op` on the cluster.
    func configRefusal(_ ctx: RequestContext, _ op: AclOp, type: Int8, name: String) -> KafkaErrorCode? {
        if type == Self.topicResource { return allowsTopic(ctx.connection, op, name) ? nil : .topicAuthorizationFailed }
        return clusterRefusal(ctx, op)
    }

    /// The error code refusing the whole request, or nil when it may proceed.
    func authorizationError(_ request: any KafkaRequest, _ ctx: RequestContext) -> Int16? {
        guard config.authorization else { return nil }
        let c = ctx.connection
        func group(_ op: AclOp, _ id: String) -> Int16? {
            allows(c, op, .group, id) ? nil : KafkaErrorCode.groupAuthorizationFailed.code
        }
        func txn(_ id: String) -> Int16? {
            allows(c, .write, .transactionalId, id) ? nil : KafkaErrorCode.transactionalIdAuthorizationFailed.code
        }
        func topics(_ op: AclOp, _ names: [String]) -> Int16? {
            names.allSatisfy { allowsTopic(c, op, $0) } ? nil : KafkaErrorCode.topicAuthorizationFailed.code
        }
        switch request {
        case let r as JoinGroupRequest: return group(.read, r.groupId)
        case let r as SyncGroupRequest: return group(.read, r.groupId)
        case let r as HeartbeatRequest: return group(.read, r.groupId)
        case let r as LeaveGroupRequest: return group(.read, r.groupId)
        case let r as ConsumerGroupHeartbeatRequest: return group(.read, r.groupId)
        case let r as OffsetCommitRequest: return group(.read, r.groupId)
        case let r as OffsetFetchRequest:
            if ctx.version < 8 { return group(.describe, r.groupId) }
            return r.groups.lazy.compactMap { group(.describe, $0.groupId) }.first
        case let r as FindCoordinatorRequest:
            // Refused only when every key is: a batch mixing keys is answered for all.
            let keys = ctx.version >= 4 ? r.coordinatorKeys : [r.key]
            let type: Authorizer.ResourceType = r.keyType == 1 ? .transactionalId : .group
            guard !keys.isEmpty, keys.allSatisfy({ !allows(c, .describe, type, $0) }) else { return nil }
            return type == .group ? KafkaErrorCode.groupAuthorizationFailed.code : KafkaErrorCode.transactionalIdAuthorizationFailed.code
        case let r as InitProducerIdRequest:
            if let id = r.transactionalId, !id.isEmpty { return txn(id) }
            // KIP-679: idempotent writes need IDEMPOTENT_WRITE on the cluster or WRITE on some topic.
            if allows(c, .idempotentWrite, .cluster, "kafka-cluster") { return nil }
            return state.metadata.topicNames.contains { allowsTopic(c, .write, $0) } ? nil : KafkaErrorCode.clusterAuthorizationFailed.code
        case let r as AddPartitionsToTxnRequest:
            guard ctx.version <= 3 else { return nil }
            return txn(r.v3AndBelowTransactionalId) ?? topics(.write, r.v3AndBelowTopics.map(\.name))
        case let r as AddOffsetsToTxnRequest: return txn(r.transactionalId) ?? group(.read, r.groupId)
        case let r as EndTxnRequest: return txn(r.transactionalId)
        case let r as TxnOffsetCommitRequest: return txn(r.transactionalId) ?? group(.read, r.groupId)
        case let r as ProduceRequest:
            if let id = r.transactionalId, !id.isEmpty { return txn(id) }
            return nil
        default:
            return nil
        }
    }
}
