/// The engine's view of KafkaProtocol's release table: a release as the `BrokerVersions`
/// a broker of that release would announce, and the release guess from an announcement.
/// Used to talk to brokers that predate ApiVersions (0.8, 0.9), to pin a client to a release,
/// and to name a broker's release.
extension KafkaRelease {
    /// What a broker of this release announces in ApiVersions.
    package var brokerVersions: BrokerVersions { BrokerVersions(ranges) }

    /// The engine's name for `brokerVersions` before the table moved to KafkaProtocol.
    @available(*, deprecated, renamed: "brokerVersions")
    package var versions: BrokerVersions { brokerVersions }

    /// The newest release whose every API key (at its maximum version) the broker supports:
    /// a broker is "at least" that release. nil when it does not even match 0.8.0. The
    /// inter-broker and controller keys are ignored: KRaft brokers no longer list them.
    package static func guess(from broker: BrokerVersions) -> KafkaRelease? {
        guess(served: { broker.range(for: $0) })
    }
}
