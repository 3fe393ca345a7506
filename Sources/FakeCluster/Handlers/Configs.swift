/// DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics and brokers: the
/// common keys as a real broker lists them (ConfigCatalog), with their sources, synonyms,
/// types and flags; topic overrides are validated and stored in the topic's configs, which
/// the data path reads (max.message.bytes, min.insync.replicas, message.timestamp.type).
/// Dynamic broker configs (one broker's, or the cluster-wide default under the name "")
/// are validated against the broker's non-read-only keys and stored in
/// ClusterState.dynamicBrokerConfigs: described with their precedence, not acted on.
/// BROKER_LOGGER resources (KIP-412) are the broker's log4j logger levels (BrokerLoggers),
/// changed only through IncrementalAlterConfigs.
extension FakeCluster {
    static let topicResource: Int8 = 2
    static let brokerResource: Int8 = 4
    static let brokerLoggerResource: Int8 = 8

    var configCatalog: ConfigCatalog {
        ConfigCatalog(maxMessageBytes: state.config.maxMessageBytes, minInsyncReplicas: state.config.minInsyncReplicas)
    }

    struct Described {
        var name: String
        var value: String?
        var source: ConfigCatalog.Source
        var type: ConfigCatalog.ConfigType?
        var readOnly: Bool
        var sensitive: Bool
        var synonyms: [(name: String, value: String?, source: ConfigCatalog.Source)]
    }

    func handleDescribeConfigs(_ r: DescribeConfigsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeConfigsResponse()
        for res in r.resources {
            var out = DescribeConfigsResponse.DescribeConfigsResult()
            out.resourceType = res.resourceType
            out.resourceName = res.resourceName
            out.errorMessage = nil
            if let e = configRefusal(ctx, .describeConfigs, type: res.resourceType, name: res.resourceName) {
                out.errorCode = e.code
                out.errorMessage = "Authorization failed."
                resp.results.append(out)
                continue
            }
            let described: [Described]
            switch describeResource(res.resourceType, res.resourceName, ctx) {
            case .failure(let e):
                out.errorCode = e.code
                out.errorMessage = e == .unknownTopicOrPartition ? "topic \(res.resourceName) does not exist" : "cannot describe that resource"
                resp.results.append(out)
                continue
            case .success(let d):
                described = d
            }
            let wanted = res.configurationKeys ?? []
            for d in described where wanted.isEmpty || wanted.contains(d.name) {
                var c = DescribeConfigsResponse.DescribeConfigsResourceResult()
                c.name = d.name
                c.value = d.sensitive ? nil : d.value
                c.readOnly = d.readOnly
                c.isSensitive = d.sensitive
                if ctx.version == 0 {
                    c.isDefault = d.source == .defaultConfig
                } else {
                    c.configSource = d.source.rawValue
                    if r.includeSynonyms {
                        c.synonyms = d.synonyms.map {
                            var s = DescribeConfigsResponse.DescribeConfigsSynonym()
                            s.name = $0.name
                            s.value = d.sensitive ? nil : $0.value
                            s.source = $0.source.rawValue
                            return s
                        }
                    }
                }
                if ctx.version >= 3 { c.configType = d.type?.rawValue ?? 0 }
                c.documentation = nil
                out.configs.append(c)
            }
            resp.results.append(out)
        }
        return .respond(resp)
    }

    func describeResource(_ type: Int8, _ name: String, _ ctx: RequestContext) -> Result<[Described], KafkaErrorCode> {
        switch type {
        case Self.topicResource:
            guard let t = state.metadata.topic(name) else { return .failure(.unknownTopicOrPartition) }
            let catalog = configCatalog
            var out: [Described] = catalog.topicConfigs.map { c in
                let override = t.configs[c.name]
                var synonyms: [(name: String, value: String?, source: ConfigCatalog.Source)] = []
                if let override { synonyms.append((c.name, override, .dynamicTopic)) }
                synonyms.append((c.brokerSynonym, c.brokerValue, .defaultConfig))
                return Described(name: c.name, value: override ?? c.topicValue, source: override == nil ? .defaultConfig : .dynamicTopic,
                                 type: c.type, readOnly: false, sensitive: false, synonyms: synonyms)
            }
            // Overrides the catalog does not know (set at creation by a test) are shown as they are.
            for k in t.configs.keys.sorted() where catalog.topicConfig(k) == nil {
                out.append(Described(name: k, value: t.configs[k], source: .dynamicTopic, type: nil, readOnly: false,
                                     sensitive: false, synonyms: [(k, t.configs[k], .dynamicTopic)]))
            }
            return .success(out.sorted { $0.name < $1.name })
        case Self.brokerResource:
            let id = name.isEmpty ? ctx.broker : Int32(name)
            // A broker answers for itself only (Kafka: "Unexpected broker id, expected X or
            // empty string"): clients must send a broker's resource to that broker.
            guard let id, id == ctx.broker, state.metadata.broker(id) != nil else { return .failure(.invalidRequest) }
            let mine = state.dynamicBrokerConfigs[String(id)] ?? [:], defaults = state.dynamicBrokerConfigs[""] ?? [:]
            return .success(brokerConfigs(id).map { c in
                // Precedence, as the synonyms list it: this broker's dynamic value, the
                // cluster-wide dynamic default, the static (or Kafka's default) value.
                var synonyms: [(name: String, value: String?, source: ConfigCatalog.Source)] = []
                if let v = mine[c.name] { synonyms.append((c.name, v, .dynamicBroker)) }
                if let v = defaults[c.name] { synonyms.append((c.name, v, .dynamicDefaultBroker)) }
                synonyms.append((c.name, c.value, c.source))
                return Described(name: c.name, value: synonyms[0].value, source: synonyms[0].source, type: c.type,
                                 readOnly: c.readOnly, sensitive: c.sensitive, synonyms: synonyms)
            })
        case Self.brokerLoggerResource:
            // As for brokers, but the name may not be empty: a logger table is one broker's.
            guard let id = Int32(name), id == ctx.broker else { return .failure(.invalidRequest) }
            // Kafka lists every logger as a dynamic logger config, without synonyms.
            return .success((state.brokerLoggers[id] ?? BrokerLoggers()).effective.map {
                Described(name: $0.name, value: $0.level, source: .dynamicBrokerLogger, type: nil, readOnly: false,
                          sensitive: false, synonyms: [])
            })
        default:
            return .failure(.invalidRequest)
        }
    }

    /// A created topic's configs as CreateTopics v5+ returns them (sensitive values hidden),
    /// or TOPIC_AUTHORIZATION_FAILED when the caller may not DESCRIBE_CONFIGS the topic:
    /// Kafka creates it all the same and withholds only its configs.
    func createdTopicConfigs(_ name: String, _ ctx: RequestContext) -> Result<[CreateTopicsResponse.CreatableTopicConfigs], KafkaErrorCode> {
        guard allowsTopic(ctx.connection, .describeConfigs, name) else { return .failure(.topicAuthorizationFailed) }
        guard case .success(let described) = describeResource(Self.topicResource, name, ctx) else { return .success([]) }
        return .success(described.map { d in
            var c = CreateTopicsResponse.CreatableTopicConfigs()
            c.name = d.name
            c.value = d.sensitive ? nil : d.value
            c.readOnly = d.readOnly
            c.configSource = d.source.rawValue
            c.isSensitive = d.sensitive
            return c
        })
    }

    /// A broker's configs, sorted by name: Kafka's defaults, or the fake's setting (as a
    /// static broker config) where it differs.
    func brokerConfigs(_ id: Int32) -> [ConfigCatalog.BrokerConfig] {
        typealias B = ConfigCatalog.BrokerConfig
        func setting(_ name: String, _ type: ConfigCatalog.ConfigType, _ value: String, kafkaDefault: String,
                     readOnly: Bool = true) -> B {
            B(name: name, type: type, value: value, source: value == kafkaDefault ? .defaultConfig : .staticBroker, readOnly: readOnly)
        }
        func kafkaDefault(_ name: String, _ type: ConfigCatalog.ConfigType, _ value: String, readOnly: Bool) -> B {
            B(name: name, type: type, value: value, source: .defaultConfig, readOnly: readOnly)
        }
        let mechanisms = Set(config.users.map(\.mechanism.rawValue)).sorted().joined(separator: ",")
        let rack = state.metadata.broker(id)?.rack
        let configs: [B] = [
            B(name: "auto.create.topics.enable", type: .boolean, value: state.metadata.autoCreateTopics ? "true" : "false",
              source: .staticBroker, readOnly: true),
            B(name: "broker.id", type: .int, value: String(id), source: .staticBroker, readOnly: true),
            B(name: "broker.rack", type: .string, value: rack, source: rack == nil ? .defaultConfig : .staticBroker, readOnly: true),
            kafkaDefault("compression.type", .string, "producer", readOnly: false),
            setting("connections.max.reauth.ms", .long, String(config.saslSessionLifetimeMs), kafkaDefault: "0"),
            kafkaDefault("default.replication.factor", .int, "1", readOnly: true),
            setting("group.initial.rebalance.delay.ms", .int, String(config.initialRebalanceDelayMs), kafkaDefault: "3000"),
            kafkaDefault("group.max.session.timeout.ms", .int, "1800000", readOnly: true),
            setting("group.min.session.timeout.ms", .int, String(config.minSessionTimeoutMs), kafkaDefault: "6000"),
            kafkaDefault("log.cleanup.policy", .list, "delete", readOnly: false),
            kafkaDefault("log.message.timestamp.type", .string, "CreateTime", readOnly: false),
            kafkaDefault("log.retention.bytes", .long, "-1", readOnly: false),
            kafkaDefault("log.retention.hours", .int, "168", readOnly: true),
            kafkaDefault("log.roll.hours", .int, "168", readOnly: true),
            kafkaDefault("log.segment.bytes", .int, "1073741824", readOnly: false),
            setting("message.max.bytes", .int, String(state.config.maxMessageBytes), kafkaDefault: "1048588", readOnly: false),
            setting("min.insync.replicas", .int, String(state.config.minInsyncReplicas), kafkaDefault: "1", readOnly: false),
            kafkaDefault("num.partitions", .int, "1", readOnly: true),
            setting("offsets.topic.num.partitions", .int, String(state.config.offsetsTopicPartitions), kafkaDefault: "50"),
            setting("sasl.enabled.mechanisms", .list, mechanisms.isEmpty ? "GSSAPI" : mechanisms, kafkaDefault: "GSSAPI"),
            setting("socket.request.max.bytes", .int, String(config.maxFrameSize), kafkaDefault: "104857600"),
            B(name: "ssl.keystore.password", type: .password, value: nil, source: .defaultConfig, readOnly: true, sensitive: true),
            setting("transaction.max.timeout.ms", .int, String(state.transactions.maxTransactionTimeoutMs), kafkaDefault: "900000"),
            setting("transaction.state.log.num.partitions", .int, String(state.config.transactionTopicPartitions),
                    kafkaDefault: "50"),
            kafkaDefault("unclean.leader.election.enable", .boolean, "false", readOnly: false),
        ]
        return configs.sorted { $0.name < $1.name }
    }

    // MARK: altering

    /// Checks a topic's new override set: every name known, every value valid.
    private func validateTopicConfigs(_ configs: [String: String]) -> (KafkaErrorCode, String?) {
        let catalog = configCatalog
        for name in configs.keys.sorted() {
            guard let c = catalog.topicConfig(name) else { return (.invalidConfig, "Unknown topic config name: \(name)") }
            guard ConfigCatalog.isValid(configs[name]!, for: c) else {
                return (.invalidConfig, "Invalid value \(configs[name]!) for configuration \(name)")
            }
        }
        return (.noError, nil)
    }

    /// Checks a broker's new dynamic config set: every name a broker config that may be
    /// changed while running (not read-only), every value of its type.
    private func validateBrokerConfigs(_ configs: [String: String], _ ctx: RequestContext) -> (KafkaErrorCode, String?) {
        let known = brokerConfigs(ctx.broker)
        for name in configs.keys.sorted() {
            guard let c = known.first(where: { $0.name == name }) else { return (.invalidConfig, "Unknown broker config name: \(name)") }
            guard !c.readOnly else { return (.invalidConfig, "Cannot update these configs dynamically: [\(name)]") }
            let v = configs[name]!
            let ok: Bool
            switch c.type {
            case .boolean: ok = v == "true" || v == "false"
            case .int, .short: ok = Int32(v) != nil
            case .long: ok = Int64(v) != nil
            default: ok = true
            }
            guard ok else { return (.invalidConfig, "Invalid value \(v) for configuration \(name)") }
        }
        return (.noError, nil)
    }

    private func alterTarget(_ type: Int8, _ name: String, _ ctx: RequestContext) -> (KafkaErrorCode, String?)? {
        if let e = configRefusal(ctx, .alterConfigs, type: type, name: name) { return (e, "Authorization failed.") }
        if type == Self.brokerResource {
            // "" is the cluster-wide default (any broker takes it); a broker id only that broker.
            if name.isEmpty || Int32(name) == ctx.broker { return nil }
            return (.invalidRequest, "Unexpected broker id, expected \(ctx.broker) or empty string, but received \(name)")
        }
        if type == Self.brokerLoggerResource {
            if Int32(name) == ctx.broker { return nil }
            return (.invalidRequest, "Unexpected broker id, expected \(ctx.broker), but received \(name)")
        }
        if type != Self.topicResource { return (.invalidRequest, "unsupported resource type \(type)") }
        if state.metadata.topic(name) == nil { return (.unknownTopicOrPartition, "topic \(name) does not exist") }
        return nil
    }

    mutating func handleAlterConfigs(_ r: AlterConfigsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = AlterConfigsResponse()
        for res in r.resources {
            var out = AlterConfigsResponse.AlterConfigsResourceResponse()
            out.resourceType = res.resourceType
            out.resourceName = res.resourceName
            out.errorMessage = nil
            if res.resourceType == Self.brokerLoggerResource {
                out.errorCode = KafkaErrorCode.invalidRequest.code
                out.errorMessage = "AlterConfigs does not support the resource type BROKER_LOGGER"
            } else if let refused = alterTarget(res.resourceType, res.resourceName, ctx) {
                out.errorCode = refused.0.code
                out.errorMessage = refused.1
            } else if res.resourceType == Self.brokerResource {
                var configs: [String: String] = [:]
                for c in res.configs { if let v = c.value { configs[c.name] = v } }
                let (e, message) = validateBrokerConfigs(configs, ctx)
                out.errorCode = e.code
                out.errorMessage = message
                if e == .noError, !r.validateOnly { state.dynamicBrokerConfigs[res.resourceName] = configs.isEmpty ? nil : configs }
            } else {
                // AlterConfigs replaces the whole override set.
                var configs: [String: String] = [:]
                for c in res.configs { if let v = c.value { configs[c.name] = v } }
                let (e, message) = validateTopicConfigs(configs)
                out.errorCode = e.code
                out.errorMessage = message
                if e == .noError, !r.validateOnly { out.errorCode = state.metadata.setConfigs(topic: res.resourceName, configs).code }
            }
            resp.responses.append(out)
        }
        return .respond(resp)
    }

    mutating func handleIncrementalAlterConfigs(_ r: IncrementalAlterConfigsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = IncrementalAlterConfigsResponse()
        for res in r.resources {
            var out = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse()
            out.resourceType = res.resourceType
            out.resourceName = res.resourceName
            out.errorMessage = nil
            if let refused = alterTarget(res.resourceType, res.resourceName, ctx) {
                out.errorCode = refused.0.code
                out.errorMessage = refused.1
                resp.responses.append(out)
                continue
            }
            if res.resourceType == Self.brokerLoggerResource {
                (out.errorCode, out.errorMessage) = alterBrokerLoggers(res.configs, validateOnly: r.validateOnly, ctx)
                resp.responses.append(out)
                continue
            }
            let broker = res.resourceType == Self.brokerResource
            let brokerKnown = broker ? brokerConfigs(ctx.broker) : []
            var configs = broker ? state.dynamicBrokerConfigs[res.resourceName] ?? [:] : state.metadata.topic(res.resourceName)!.configs
            var failure: (KafkaErrorCode, String?) = (.noError, nil)
            for c in res.configs where failure.0 == .noError {
                let isList = broker ? brokerKnown.first { $0.name == c.name }?.type == .list
                    : configCatalog.topicConfig(c.name)?.type == .list
                switch c.configOperation {
                case 0: configs[c.name] = c.value ?? "" // SET
                case 1: configs[c.name] = nil // DELETE
                case 2 where isList, 3 where isList: // APPEND, SUBTRACT
                    let current = configs[c.name] ?? (broker ? brokerKnown.first { $0.name == c.name }?.value ?? ""
                        : configCatalog.topicConfig(c.name)!.topicValue)
                    var items = current.split(separator: ",").map(String.init)
                    let change = (c.value ?? "").split(separator: ",").map(String.init)
                    if c.configOperation == 2 {
                        for v in change where !items.contains(v) { items.append(v) }
                    } else {
                        items.removeAll { change.contains($0) }
                    }
                    configs[c.name] = items.joined(separator: ",")
                default:
                    failure = (.invalidConfig, "\(c.name) is not a list config; APPEND and SUBTRACT need one")
                }
            }
            if failure.0 == .noError { failure = broker ? validateBrokerConfigs(configs, ctx) : validateTopicConfigs(configs) }
            out.errorCode = failure.0.code
            out.errorMessage = failure.1
            if failure.0 == .noError, !r.validateOnly {
                if broker {
                    state.dynamicBrokerConfigs[res.resourceName] = configs.isEmpty ? nil : configs
                } else {
                    out.errorCode = state.metadata.setConfigs(topic: res.resourceName, configs).code
                }
            }
            resp.responses.append(out)
        }
        return .respond(resp)
    }

    /// A broker's logger levels changed together: every operation checked first (logger
    /// known, level valid, no DELETE of the root, no APPEND/SUBTRACT), then all applied.
    private mutating func alterBrokerLoggers(_ ops: [IncrementalAlterConfigsRequest.AlterableConfig], validateOnly: Bool,
                                             _ ctx: RequestContext) -> (Int16, String?) {
        var loggers = state.brokerLoggers[ctx.broker] ?? BrokerLoggers()
        if Set(ops.map(\.name)).count != ops.count { return (KafkaErrorCode.invalidRequest.code, "Error due to duplicate config keys") }
        for op in ops {
            if let refused = loggers.problem(op.name, operation: op.configOperation, value: op.value) { return (refused.0.code, refused.1) }
        }
        guard !validateOnly else { return (0, nil) }
        for op in ops { loggers.apply(op.name, operation: op.configOperation, value: op.value) }
        state.brokerLoggers[ctx.broker] = loggers
        return (0, nil)
    }
}
