import KafkaProtocol
import KafkaStateMachines

public struct ClusterDescription: Sendable, Equatable {
    public var clusterId: String?
    /// nil when the broker names no controller.
    public var controller: Int32?
    /// By id.
    public var brokers: [BrokerDescription]
}

public struct BrokerDescription: Sendable, Equatable {
    public var id: Int32
    public var host: String
    public var port: Int
    public var rack: String?
}

/// The value of an item whose success carries nothing more than itself.
public struct AdminDone: Sendable, Equatable {
    public init() {}
}

extension KafkaAdmin {
    /// The cluster's id, controller and live brokers, from Metadata (every broker since 0.10
    /// answers it; DescribeCluster, 2.8+, says nothing more a client needs here).
    public func describeCluster() async throws(KafkaAdminError) -> ClusterDescription {
        var r = MetadataRequest()
        r.topics = []
        r.allowAutoTopicCreation = false
        let resp = try await send("describeCluster", r, to: .anyBroker, pin: 1 ... MetadataRequest.validVersions.upperBound)
        let brokers = resp.brokers.map { BrokerDescription(id: $0.nodeId, host: $0.host, port: Int($0.port), rack: $0.rack) }
        return ClusterDescription(clusterId: resp.clusterId, controller: resp.controllerId >= 0 ? resp.controllerId : nil,
                                  brokers: brokers.sorted { $0.id < $1.id })
    }
}
