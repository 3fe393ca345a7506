@testable import FakeCluster
import Testing

/// DescribeConfigs lists the common topic and broker configs with sources, synonyms,
/// types and flags; alters are validated, stored, and govern the data path.
@Suite struct ConfigsTests {
    typealias Entry = DescribeConfigsResponse.DescribeConfigsResourceResult

    private func describe(_ type: Int8, _ name: String, keys: [String]? = nil, version: Int16 = 4,
                          _ c: inout WireClient, _ cluster: inout FakeCluster) throws -> DescribeConfigsResponse.DescribeConfigsResult {
        var r = DescribeConfigsRequest()
        var res = DescribeConfigsRequest.DescribeConfigsResource()
        res.resourceType = type
        res.resourceName = name
        res.configurationKeys = keys
        r.resources = [res]
        r.includeSynonyms = version >= 1
        return try #require(try c.call(r, version: version, on: &cluster).results.first)
    }

    private func entry(_ result: DescribeConfigsResponse.DescribeConfigsResult, _ name: String) throws -> Entry {
        try #require(result.configs.first { $0.name == name }, "no \(name)")
    }

    private func alter(_ name: String, _ op: Int8, _ value: String?, topic: String = "t",
                       _ c: inout WireClient, _ cluster: inout FakeCluster) throws -> Int16 {
        var r = IncrementalAlterConfigsRequest()
        var res = IncrementalAlterConfigsRequest.AlterConfigsResource()
        res.resourceType = 2
        res.resourceName = topic
        var cfg = IncrementalAlterConfigsRequest.AlterableConfig()
        cfg.name = name
        cfg.configOperation = op
        cfg.value = value
        res.configs = [cfg]
        r.resources = [res]
        return try #require(try c.call(r, version: 1, on: &cluster).responses.first).errorCode
    }

    private func setup() -> (FakeCluster, WireClient) {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1, replicationFactor: 1)] }
        let c = WireClient(&cluster, broker: cluster.partitionInfo(.init("t", 0))!.leader)
        return (cluster, c)
    }

    @Test func topicDefaultsComeWithSourcesSynonymsAndTypes() throws {
        var (cluster, c) = setup()
        let t = try describe(2, "t", &c, &cluster)
        #expect(t.errorCode == 0)
        #expect(t.configs.count >= 20 && t.configs.map(\.name) == t.configs.map(\.name).sorted())
        let retention = try entry(t, "retention.ms")
        #expect(retention.value == "604800000" && retention.configSource == 5 && !retention.readOnly && !retention.isSensitive)
        #expect(retention.configType == 5) // LONG
        #expect(retention.synonyms.map(\.name) == ["log.retention.hours"] && retention.synonyms.first?.value == "168")
        #expect(try entry(t, "cleanup.policy").configType == 7) // LIST
        #expect(try entry(t, "max.message.bytes").value == "1048588")
        for name in ["segment.bytes", "min.insync.replicas", "compression.type", "message.timestamp.type"] {
            #expect(t.configs.contains { $0.name == name }, "\(name)")
        }
        // Only the asked-for keys; v0 says isDefault instead of a source.
        let some = try describe(2, "t", keys: ["segment.bytes", "nope"], version: 0, &c, &cluster)
        #expect(some.configs.map(\.name) == ["segment.bytes"] && some.configs.first?.isDefault == true)
        #expect(try describe(2, "missing", &c, &cluster).errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
    }

    @Test func maxMessageBytesSetIncrementallyGovernsProduce() throws {
        var (cluster, c) = setup()
        #expect(try c.call(produceRequest("t", 0, makeBatch(count: 1, valueSize: 300)), version: 7, on: &cluster)
            .responses[0].partitionResponses[0].errorCode == 0)
        #expect(try alter("max.message.bytes", 0, "200", &c, &cluster) == 0)
        let m = try entry(try describe(2, "t", &c, &cluster), "max.message.bytes")
        #expect(m.value == "200" && m.configSource == 1)
        #expect(m.synonyms.map(\.name) == ["max.message.bytes", "message.max.bytes"] && m.synonyms.map(\.source) == [1, 5])
        let big = try c.call(produceRequest("t", 0, makeBatch(count: 1, valueSize: 300)), version: 7, on: &cluster)
        #expect(big.responses[0].partitionResponses[0].errorCode == KafkaErrorCode.messageTooLarge.rawValue)
        #expect(try c.call(produceRequest("t", 0, makeBatch(count: 1, valueSize: 10)), version: 7, on: &cluster)
            .responses[0].partitionResponses[0].errorCode == 0)
        // DELETE restores the default.
        #expect(try alter("max.message.bytes", 1, nil, &c, &cluster) == 0)
        #expect(try entry(try describe(2, "t", &c, &cluster), "max.message.bytes").configSource == 5)
    }

    @Test func alterationsAreValidated() throws {
        var (cluster, c) = setup()
        let invalid = KafkaErrorCode.invalidConfig.rawValue
        #expect(try alter("no.such.config", 0, "1", &c, &cluster) == invalid)
        #expect(try alter("retention.ms", 0, "soon", &c, &cluster) == invalid)
        #expect(try alter("message.timestamp.type", 0, "WallClock", &c, &cluster) == invalid)
        #expect(try alter("retention.ms", 2, "1", &c, &cluster) == invalid) // APPEND needs a list config
        #expect(try entry(try describe(2, "t", &c, &cluster), "retention.ms").configSource == 5, "nothing changed")
        #expect(try alter("retention.ms", 0, "1000", topic: "missing", &c, &cluster) == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        // List configs take APPEND and SUBTRACT.
        #expect(try alter("cleanup.policy", 2, "compact", &c, &cluster) == 0)
        #expect(try entry(try describe(2, "t", &c, &cluster), "cleanup.policy").value == "delete,compact")
        #expect(try alter("cleanup.policy", 3, "delete", &c, &cluster) == 0)
        #expect(try entry(try describe(2, "t", &c, &cluster), "cleanup.policy").value == "compact")
    }

    @Test func alterConfigsReplacesTheWholeOverrideSet() throws {
        var (cluster, c) = setup()
        #expect(try alter("max.message.bytes", 0, "5000", &c, &cluster) == 0)
        var r = AlterConfigsRequest()
        var res = AlterConfigsRequest.AlterConfigsResource()
        res.resourceType = 2
        res.resourceName = "t"
        var cfg = AlterConfigsRequest.AlterableConfig()
        cfg.name = "retention.ms"
        cfg.value = "60000"
        res.configs = [cfg]
        r.resources = [res]
        #expect(try c.call(r, version: 1, on: &cluster).responses.first?.errorCode == 0)
        let t = try describe(2, "t", &c, &cluster)
        #expect(try entry(t, "retention.ms").value == "60000" && entry(t, "retention.ms").configSource == 1)
        #expect(try entry(t, "max.message.bytes").configSource == 5)
        // Broker configs are not alterable here.
        res.resourceType = 4
        res.resourceName = "1"
        r.resources = [res]
        #expect(try c.call(r, version: 1, on: &cluster).responses.first?.errorCode == KafkaErrorCode.invalidRequest.rawValue)
    }

    @Test func brokerConfigsHaveReadOnlyAndSensitiveFlags() throws {
        var open = threeBrokers { $0.brokers[1].rack = "rack-b" }
        var o = WireClient(&open, broker: 2)
        let b = try describe(4, "2", version: 3, &o, &open)
        #expect(b.errorCode == 0 && b.configs.count >= 20)
        let id = try entry(b, "broker.id")
        #expect(id.value == "2" && id.readOnly && id.configSource == 4 && id.configType == 3)
        #expect(try entry(b, "broker.rack").value == "rack-b")
        let password = try entry(b, "ssl.keystore.password")
        #expect(password.isSensitive && password.value == nil && password.configType == 9)
        let maxBytes = try entry(b, "message.max.bytes")
        #expect(maxBytes.value == "1048588" && !maxBytes.readOnly && maxBytes.configSource == 5)
        // The fake's own settings show as static broker configs.
        #expect(try entry(b, "group.initial.rebalance.delay.ms").configSource == 4)
        #expect(try describe(4, "99", &o, &open).errorCode == KafkaErrorCode.invalidRequest.rawValue)
        #expect(try describe(4, "", &o, &open).configs.first { $0.name == "broker.id" }?.value == "2")
        // Another broker's configs are that broker's to answer.
        var other = WireClient(&open, broker: 1)
        #expect(try describe(4, "2", &other, &open).errorCode == KafkaErrorCode.invalidRequest.rawValue)
    }
}
