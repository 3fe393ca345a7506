@testable import KafkaIO
import KafkaProtocol
@testable import KafkaStateMachines
import Testing

/// The public configuration is the one source of truth: every engine setting is reachable
/// from it, and it is checked in one place.
@Suite struct ConfigurationTests {
    /// Every setting changed from its default.
    static func everythingChanged() -> KafkaClientConfiguration {
        var c = KafkaClientConfiguration(seedBrokers: [BrokerAddress(host: "h", port: 1)])
        c.clientId = "id"
        c.softwareName = "sw"
        c.softwareVersion = "9"
        c.sasl = .plain(username: "u", password: "p")
        c.connectTimeout = .seconds(1)
        c.requestTimeoutOverhead = .seconds(2)
        c.connectionIdleTimeout = .seconds(3)
        c.maxResponseBytes = 4
        c.maxInFlightPerConnection = 5
        c.maxRetries = 6
        c.retryTimeout = .seconds(7)
        c.backoff = BackoffPolicy(initial: .milliseconds(8), max: .milliseconds(9), jitter: 0.5)
        c.metadataMaxAge = .seconds(10)
        c.metadataMinAge = .seconds(11)
        c.metadataStaleRefreshFloor = .milliseconds(12)
        c.pinnedBrokerRelease = KafkaRelease(0, 9)
        c.apiVersionsFallbackRelease = KafkaRelease(0, 8)
        c.versionPins[.metadata] = 1 ... 2
        c.allowAutoTopicCreation = true
        c.consumer.isolation = .readCommitted
        c.consumer.resetPolicy = .end
        c.consumer.maxWait = .milliseconds(13)
        c.consumer.minBytes = 14
        c.consumer.maxBytes = 15
        c.consumer.partitionMaxBytes = 16
        c.consumer.firstFetchBytes = 15
        c.consumer.fetchBytesAfterCut = 19
        c.consumer.maxConcurrentFetches = 17
        c.consumer.maxBufferedBytes = 18
        c.consumer.fetchSessions = false
        c.consumer.keepControlRecords = true
        c.consumer.verifyCRC = false
        c.consumer.rack = "r"
        c.consumer.preferredReplicaRecheck = .seconds(19)
        c.consumer.validateEpochs = false
        c.consumer.topicRefresh = .seconds(20)
        c.consumer.retryBackoff = .milliseconds(21)
        c.producer.acks = .leader
        c.producer.idempotent = false
        c.producer.linger = .milliseconds(22)
        c.producer.maxBatchBytes = 23_000
        c.producer.maxRequestBytes = 32_000
        c.producer.maxBufferedRecords = 24
        c.producer.maxBufferedBytes = 25_000
        c.producer.compression = [.zstd]
        c.producer.partitioner = .roundRobin
        c.producer.deliveryTimeout = .seconds(26)
        c.producer.requestTimeout = .seconds(27)
        c.producer.maxInFlightPerBroker = 1
        c.producer.unknownTopicRetries = 28
        c.producer.recordRetries = 31
        c.producer.manualFlushing = true
        c.producer.transactionalId = "txn-29"
        c.producer.transactionTimeout = .seconds(30)
        c.hooks = [HookRecorder()]
        return c
    }

    /// Names of the stored properties of `value` whose description equals the one in `default`.
    static func unchanged<T>(_ value: T, _ default: T) -> [String] {
        let defaults = Dictionary(uniqueKeysWithValues: Mirror(reflecting: `default`).children.map { ($0.label ?? "?", "\($0.value)") })
        return Mirror(reflecting: value).children.compactMap { child in
            let label = child.label ?? "?"
            return defaults[label] == "\(child.value)" ? label : nil
        }
    }

    /// A setting added to the engine and not to the public configuration (or not carried
    /// over) stays at its default here and fails this test.
    @Test func everyEngineSettingIsReachable() throws {
        let engine = Self.everythingChanged().engineConfig
        let base = EngineConfig(seeds: [])
        // `tls` follows whether TLS is configured (a KafkaTLSConfiguration), checked below.
        #expect(Self.unchanged(engine, base) == ["tls"])
        // `fullSizeOnceRecordsArrive`, `capFetchAtPartitionSizes` and `shareRoomAmongFetches` are
        // not settings: they are off only to replay recordings made before them.
        #expect(Self.unchanged(engine.fetcher, base.fetcher) == ["fullSizeOnceRecordsArrive", "capFetchAtPartitionSizes", "shareRoomAmongFetches"])
        #expect(engine.fetcher.capFetchAtPartitionSizes && engine.fetcher.shareRoomAmongFetches && engine.fetcher.fullSizeOnceRecordsArrive)
        // `idempotenceFallback` is not a setting of its own: it is on exactly when
        // `idempotent` is left at its default, which `everythingChanged` assigns.
        #expect(Self.unchanged(engine.producer, base.producer) == ["idempotenceFallback"])
        #expect(KafkaClientConfiguration(seedBrokers: [BrokerAddress]()).engineConfig.producer.idempotenceFallback)
        var explicit = KafkaClientConfiguration(seedBrokers: [BrokerAddress]())
        explicit.producer.idempotent = true
        #expect(!explicit.engineConfig.producer.idempotenceFallback)
        #expect(engine.connectTimeout == .seconds(1) && engine.metadataStaleRefreshFloor == .milliseconds(12))
        #expect(engine.fetcher.retryBackoff == .milliseconds(21) && engine.fetcher.maxWait == .milliseconds(13))
        #expect(engine.backoff.initial == .milliseconds(8) && engine.backoff.maxInterval == .milliseconds(9))
    }

    /// A record waits up to 1 ms for the client's loop before the engine sees it, so the
    /// engine lingers that much less: no record waits longer than `linger` in all.
    @Test func lingerCountsTheWaitForTheLoop() {
        var p = ProducerConfiguration()
        p.linger = .milliseconds(5)
        #expect(p.inboxDelay == .milliseconds(1) && p.engineConfig.linger == .milliseconds(4))
        p.linger = .microseconds(300)
        #expect(p.inboxDelay == .microseconds(300) && p.engineConfig.linger == .zero)
        p.manualFlushing = true
        #expect(p.engineConfig.linger == Interval(nanoseconds: 300_000), "manual flushing: linger is not what sends")
    }

    @Test func validationIsOnePlace() throws {
        var changed = Self.everythingChanged()
        // Transactions need idempotence, which `everythingChanged` turns off.
        #expect(throws: KafkaConfigurationError.producer(.transactionsNeedIdempotence)) { try changed.validate() }
        changed.producer.transactionalId = nil
        try changed.validate()
        var c = KafkaClientConfiguration(seedBrokers: [BrokerAddress]())
        #expect(throws: KafkaConfigurationError.noSeedBrokers) { try c.validate() }
        #expect(throws: KafkaConfigurationError.noSeedBrokers) { try KafkaClient(configuration: c) }
        c.seedBrokers = [BrokerAddress(host: "h", port: 1)]
        c.connectTimeout = .seconds(-1)
        #expect(throws: KafkaConfigurationError.invalidSetting("connectTimeout", "must not be negative, got -1.0 seconds")) { try c.validate() }
        c.connectTimeout = .seconds(1)
        c.maxInFlightPerConnection = 0
        #expect(throws: KafkaConfigurationError.self) { try KafkaClient(configuration: c) }
        c.maxInFlightPerConnection = 1
        c.consumer.topicRefresh = .seconds(-2)
        #expect(throws: KafkaConfigurationError.self) { try c.validate() }
        c.consumer.topicRefresh = .seconds(2)
        c.producer.maxBatchBytes = 0
        #expect(throws: KafkaConfigurationError.self) { try c.validate() }
        c.producer.maxBatchBytes = 1_000_000
        c.producer.transactionalId = ""
        #expect(throws: KafkaConfigurationError.producer(.emptyTransactionalId)) { try KafkaClient(configuration: c) }
        c.producer.transactionalId = "t"
        c.producer.transactionTimeout = .zero
        #expect(throws: KafkaConfigurationError.producer(.outOfRange("transactionTimeout", "0.0 seconds"))) { try c.validate() }
        c.producer.transactionTimeout = .seconds(60)
        try c.validate()
    }

    /// Durations convert to the engine's unit, negative as zero, huge ones saturating.
    @Test func durationsConvert() {
        #expect(Interval(Duration.milliseconds(1500)) == .milliseconds(1500))
        #expect(Interval(Duration.nanoseconds(7)) == Interval(nanoseconds: 7))
        #expect(Interval(Duration.seconds(-3)) == .zero)
        #expect(Interval(Duration.seconds(Int64.max)) == Interval(nanoseconds: .max))
    }

    /// The public group settings and the engine's agree on defaults, and every engine group
    /// setting but the retry backoff is reachable from the public one (`transactional` is set
    /// only by KafkaTransactSession, through the internal property checked here).
    @Test func groupSettingsMatchTheEngine() throws {
        let defaults = GroupConfiguration(groupId: "g", topics: ["t"]).engineConfig
        #expect(defaults == GroupConfig(groupId: "g", subscription: TopicSubscription(topics: ["t"], patterns: [], exclusions: []),
                                        balancers: [CooperativeStickyBalancer()]))

        var g = GroupConfiguration(groupId: "h", topics: ["u"])
        g.instanceId = "pod-1"
        g.patterns = ["v.*"]
        g.balancers = [RangeBalancer(), RoundRobinBalancer()]
        g.sessionTimeout = .seconds(7)
        g.rebalanceTimeout = .seconds(8)
        g.heartbeatInterval = .seconds(2)
        g.autocommitInterval = nil
        g.commitOnRevoke = false
        g.startWithoutCommit = .end
        g.requireStableOffsets = false
        g.rack = "r1"
        try g.validate()
        var classicWithAssignor = g
        classicWithAssignor.serverAssignor = "uniform"
        #expect(throws: KafkaConfigurationError.self) { try classicWithAssignor.validate() }
        g.groupProtocol = .consumer
        g.serverAssignor = "uniform"
        try g.validate()
        let engine = g.engineConfig
        #expect(Self.unchanged(engine, defaults) == ["transactional", "retryBackoff"])
        g.transactional = true
        g.autocommitInterval = nil
        g.commitOnRevoke = false
        #expect(g.engineConfig.transactional)
        #expect(Self.unchanged(g.engineConfig, defaults) == ["retryBackoff"])
        #expect(engine.sessionTimeout == .seconds(7) && engine.rebalanceTimeout == .seconds(8) && engine.heartbeatInterval == .seconds(2))
        #expect(engine.balancers.map(\.protocolName) == ["range", "roundrobin"])
        #expect(engine.groupProtocol == .consumer && engine.serverAssignor == "uniform")
    }
}
