/// group.consumer.migration.policy (KIP-848): which online conversions of a group with
/// members the coordinator makes — upgrade (a classic group whose members all speak the
/// "consumer" protocol type becomes a consumer group when a ConsumerGroupHeartbeat joins it),
/// downgrade (a consumer group left with only classic members becomes a classic group when
/// its last consumer-protocol member leaves). Kafka 4.0's default is bidirectional. Empty
/// groups convert whatever it says.
public enum ConsumerGroupMigrationPolicy: String, Sendable, Equatable, CaseIterable {
    case disabled, upgrade, downgrade, bidirectional

    var upgradeEnabled: Bool { self == .upgrade || self == .bidirectional }
    var downgradeEnabled: Bool { self == .downgrade || self == .bidirectional }
}
