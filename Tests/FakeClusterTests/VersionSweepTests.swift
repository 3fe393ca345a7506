@testable import FakeCluster
import Testing

/// Populated requests of the main APIs at every served version, on every broker: each
/// answer decodes at its version and no handler produced an unencodable response (the
/// codec refuses values a version has no field for).
@Suite struct VersionSweepTests {
    func populated() -> [any KafkaRequest] {
        var out: [any KafkaRequest] = []
        out.append(produceRequest("t", 0, makeBatch(count: 2)))
        var f = fetchRequest("t", 0, offset: 0, maxWaitMs: 0)
        f.isolationLevel = 1
        f.rackId = "r1"
        out.append(f)
        var lo = ListOffsetsRequest()
        var lot = ListOffsetsRequest.ListOffsetsTopic()
        lot.name = "t"
        lot.partitions = [-1, -2].map { ts in
            var p = ListOffsetsRequest.ListOffsetsPartition()
            p.timestamp = Int64(ts)
            return p
        }
        lo.topics = [lot]
        out.append(lo)
        var md = MetadataRequest()
        var mt = MetadataRequest.MetadataRequestTopic()
        mt.name = "t"
        md.topics = [mt]
        out.append(md)
        var fc = FindCoordinatorRequest()
        fc.key = "g"
        fc.coordinatorKeys = ["g"]
        out.append(fc)
        var jg = JoinGroupRequest()
        jg.groupId = "g"
        jg.sessionTimeoutMs = 10_000
        jg.rebalanceTimeoutMs = 10_000
        jg.protocolType = "consumer"
        var jp = JoinGroupRequest.JoinGroupRequestProtocol()
        jp.name = "range"
        jg.protocols = [jp]
        out.append(jg)
        var oc = OffsetCommitRequest()
        oc.groupId = "simple"
        oc.generationIdOrMemberEpoch = -1
        var oct = OffsetCommitRequest.OffsetCommitRequestTopic()
        oct.name = "t"
        var ocp = OffsetCommitRequest.OffsetCommitRequestPartition()
        ocp.committedOffset = 1
        ocp.committedLeaderEpoch = 0
        oct.partitions = [ocp]
        oc.topics = [oct]
        out.append(oc)
        var of = OffsetFetchRequest()
        of.groupId = "simple"
        of.topics = nil
        var ofg = OffsetFetchRequest.OffsetFetchRequestGroup()
        ofg.groupId = "simple"
        ofg.topics = nil
        of.groups = [ofg]
        out.append(of)
        var ip = InitProducerIdRequest()
        ip.transactionTimeoutMs = 1000
        out.append(ip)
        var dg = DescribeGroupsRequest()
        dg.groups = ["simple"]
        out.append(dg)
        out.append(ListGroupsRequest())
        var ofl = OffsetForLeaderEpochRequest()
        var oflt = OffsetForLeaderEpochRequest.OffsetForLeaderTopic()
        oflt.topic = "t"
        oflt.partitions = [OffsetForLeaderEpochRequest.OffsetForLeaderPartition()]
        ofl.topics = [oflt]
        out.append(ofl)
        var dc = DescribeConfigsRequest()
        var dcr = DescribeConfigsRequest.DescribeConfigsResource()
        dcr.resourceType = 2
        dcr.resourceName = "t"
        dcr.configurationKeys = nil
        dc.resources = [dcr]
        out.append(dc)
        var ct = CreateTopicsRequest()
        var ctt = CreateTopicsRequest.CreatableTopic()
        ctt.name = "new"
        ctt.numPartitions = 1
        ctt.replicationFactor = 1
        ct.topics = [ctt]
        out.append(ct)
        out.append(DescribeClusterRequest())
        return out
    }

    private func roundTrip<R: KafkaRequest>(_ r: R, version: Int16, broker: Int32, cluster: inout FakeCluster) throws -> Bool {
        var c = WireClient(&cluster, broker: broker)
        guard let frame = try? encodeRequestFrame(r, version: version, correlationId: 1, clientId: "sweep") else { return false }
        let out = cluster.receive(c.connection, frame, now: .milliseconds(1))
        for bytes in c.sent(out) { _ = try c.decode(R.Response.self, version: version, bytes) }
        c.nextCorrelation += 0
        return true
    }

    private func send(_ r: any KafkaRequest, version: Int16, broker: Int32, cluster: inout FakeCluster) throws -> Bool {
        try roundTrip(r, version: version, broker: broker, cluster: &cluster)
    }

    @Test(arguments: ["0.9", "0.10.2", "0.11", "1.1", "2.0", "2.4", "2.8", "3.9", "4.0"])
    func everyVersionAnswersDecodably(release: String) throws {
        var cluster = threeBrokers {
            $0.release = KafkaRelease(release)!
            $0.topics = [.init(name: "t", partitions: 1)]
            $0.brokers[0].rack = "r1"
        }
        var sent = 0
        for r in populated() {
            guard let versions = cluster.servedVersions(type(of: r).apiKey) else { continue }
            for v in versions {
                for b: Int32 in 1 ... 3 where try send(r, version: v, broker: b, cluster: &cluster) { sent += 1 }
            }
        }
        #expect(sent > 20)
        #expect(!cluster.closeLog.contains { $0.contains("internal error") }, "\(cluster.closeLog.filter { $0.contains("internal error") })")
    }
}
