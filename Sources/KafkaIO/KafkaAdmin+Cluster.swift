import KafkaProtocol
import KafkaStateMachines

/// The cluster as Metadata describes it (`describeCluster`).
public struct ClusterDescription: Sendable, Equatable {
    /// The cluster id (nil before Metadata v2, Kafka 0.10.1).
    public var clusterId: String?
    /// nil when the broker names no controller.
    public var controller: Int32?
    /// By id.
    public var brokers: [BrokerDescription]
    /// What the caller may do with the cluster (KIP-430), when asked for with
    /// `includeAuthorizedOperations`; nil otherwise.
    public var authorizedOperations: Set<AclOperation>? = nil
}

/// A live broker.
public struct BrokerDescription: Sendable, Equatable {
    /// Its node id.
    public var id: Int32
    /// The host it advertises.
    public var host: String
    /// The port it advertises.
    public var port: Int
    /// Its rack (`broker.rack`), if set.
    public var rack: String?
}

/// The value of an item whose success carries nothing more than itself.
public struct AdminDone: Sendable, Equatable {
    /// The only value.
    public init() {}
}

extension KafkaAdmin {
    /// The cluster's id, controller and live brokers, from Metadata (every broker since 0.10
    /// answers it). With `includeAuthorizedOperations`, from DescribeCluster (Kafka 2.8+),
    /// which also says what the caller may do with the cluster.
    public func describeCluster(includeAuthorizedOperations: Bool = false) async throws(KafkaAdminError) -> ClusterDescription {
        if includeAuthorizedOperations {
            var r = DescribeClusterRequest()
            r.includeClusterAuthorizedOperations = true
            let resp = try await send("describeCluster", r, to: .anyBroker)
            if let e = KafkaAdminError.from(resp.errorCode, message: resp.errorMessage) { throw e }
            let brokers = resp.brokers.map { BrokerDescription(id: $0.brokerId, host: $0.host, port: Int($0.port), rack: $0.rack) }
            return ClusterDescription(clusterId: resp.clusterId, controller: resp.controllerId >= 0 ? resp.controllerId : nil,
                                      brokers: brokers.sorted { $0.id < $1.id },
                                      authorizedOperations: AclOperation.operations(authorizedBits: resp.clusterAuthorizedOperations))
        }
        var r = MetadataRequest()
        r.topics = []
        r.allowAutoTopicCreation = false
        let resp = try await send("describeCluster", r, to: .anyBroker, pin: 1 ... MetadataRequest.validVersions.upperBound)
        let brokers = resp.brokers.map { BrokerDescription(id: $0.nodeId, host: $0.host, port: Int($0.port), rack: $0.rack) }
        return ClusterDescription(clusterId: resp.clusterId, controller: resp.controllerId >= 0 ? resp.controllerId : nil,
                                  brokers: brokers.sorted { $0.id < $1.id })
    }
}
