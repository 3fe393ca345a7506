extension ApiKey {
    /// KIP-219: from this version of the API on, a broker over a quota answers at once and
    /// leaves holding back to the client (the answer's throttle time); at older versions the
    /// broker delays the answer itself, so a client that held back as well would wait twice.
    /// From the "Starting in version N, on quota violation, brokers send out responses
    /// before throttling" notes of Kafka's response definitions; Produce's v6 bump predates
    /// the versions its definition still lists. APIs added after KIP-219 (Kafka 2.0), and
    /// those whose throttle time field itself starts at that version, answer 0.
    public var clientThrottlesFrom: Int16 {
        switch self {
        case .produce: return 6
        case .fetch: return 8
        case .metadata: return 6
        case .offsetCommit, .offsetFetch: return 4
        case .listOffsets, .joinGroup, .createTopics: return 3
        case .findCoordinator, .heartbeat, .leaveGroup, .syncGroup, .describeGroups, .listGroups, .apiVersions, .deleteTopics,
             .describeConfigs:
            return 2
        case .deleteRecords, .initProducerId, .addPartitionsToTxn, .addOffsetsToTxn, .endTxn, .txnOffsetCommit, .describeAcls,
             .createAcls, .deleteAcls, .alterConfigs, .alterReplicaLogDirs, .describeLogDirs, .createPartitions,
             .createDelegationToken, .renewDelegationToken, .expireDelegationToken, .describeDelegationToken, .deleteGroups:
            return 1
        default:
            return 0
        }
    }
}
