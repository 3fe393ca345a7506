@testable import FakeCluster
import Testing

/// Every API key the codec knows, at every version the emulated release does not serve:
/// the answer is that API's response at that version with UNSUPPORTED_VERSION where the
/// schema has a request-level error, and the connection keeps being served.
@Suite struct UnsupportedVersionTests {
    /// Sends `R()` at `version` and returns the decoded answer, or nil when the cluster
    /// closed the connection instead.
    private func ask<R: KafkaRequest>(_ type: R.Type, version: Int16, _ cluster: inout FakeCluster,
                                      _ c: inout WireClient) throws -> (any KafkaResponse)?? {
        var request = R()
        if var p = request as? ProduceRequest {
            p.acks = 1
            request = p as! R
        }
        let out = c.send(request, version: version, to: &cluster)
        if c.closed(out) { return nil }
        let frames = c.sent(out)
        try #require(frames.count == 1, "\(R.apiKey.name) v\(version): \(out)")
        let decoded = try c.decode(R.Response.self, version: version, frames[0])
        let correlation = Int32(bigEndian: frames[0][4 ..< 8].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
        #expect(correlation == c.nextCorrelation - 1)
        return .some(decoded)
    }

    /// Whether `R.Response` at `version` has a place for the request-level error code.
    private func carriesErrorCode<R: KafkaResponse>(_ type: R.Type, version: Int16) -> Bool {
        var e = R()
        guard let without = try? e.encoded(version: version), e.setTopLevelErrorCode(KafkaErrorCode(35)) else { return false }
        // The codec refuses a value for a field the version does not have.
        guard let with = try? e.encoded(version: version) else { return false }
        return with != without
    }

    private func sweep<R: KafkaRequest>(_ type: R.Type, _ cluster: inout FakeCluster, _ c: inout WireClient,
                                        answered: inout Int, withCode: inout Int) throws {
        for version in R.validVersions where cluster.servedVersions(R.apiKey)?.contains(version) != true {
            let answer = try ask(R.self, version: version, &cluster, &c)
            try #require(answer != nil, "\(R.apiKey.name) v\(version) closed: \(cluster.closeLog.last ?? "")")
            answered += 1
            if carriesErrorCode(R.Response.self, version: version) {
                #expect(answer??.topLevelErrorCode == KafkaErrorCode(35), "\(R.apiKey.name) v\(version)")
                withCode += 1
            }
        }
    }

    @Test(arguments: ["0.10.2", "2.8", "4.0"])
    func everyKeyAndVersionNotServedGetsUnsupportedVersion(release: String) throws {
        var cluster = threeBrokers { $0.release = KafkaRelease(release)! }
        var c = WireClient(&cluster, broker: 1)
        var answered = 0, withCode = 0
        for key in ApiKey.all where key != .apiVersions {
            guard let type = requestType(for: key) else { continue }
            func open<R: KafkaRequest>(_ t: R.Type) throws {
                try sweep(t, &cluster, &c, answered: &answered, withCode: &withCode)
            }
            try open(type)
        }
        // A floor that shows the sweep is not vacuous (it shrinks as the fake serves more APIs).
        #expect(answered > 90 && withCode > 50, "answered \(answered), with a code \(withCode)")
        // The same connection still works.
        let v = try c.call(ApiVersionsRequest(), version: 0, on: &cluster)
        #expect(v.errorCode == 0 && !v.apiKeys.isEmpty)
        #expect(cluster.closeLog.isEmpty, "\(cluster.closeLog)")
    }

    @Test func producePartitionsCarryTheCodeWhereTheRequestHasNoPlaceForIt() throws {
        var cluster = threeBrokers { $0.release = KafkaRelease(0, 10, 2) }
        var c = WireClient(&cluster, broker: 1)
        let r = try c.call(produceRequest("t", 0, [], acks: 1), version: 3, on: &cluster)
        #expect(r.responses.first?.partitionResponses.first?.errorCode == 35)
    }

    @Test func requestsWithoutASchemaHereCloseOnlyThatConnection() throws {
        var cluster = threeBrokers()
        var bystander = WireClient(&cluster, broker: 1)
        let c = WireClient(&cluster, broker: 1)
        // An API key the codec does not know.
        let unknown: [UInt8] = [0, 0, 0, 10, 0x03, 0xE8, 0, 0, 0, 0, 0, 9, 0xFF, 0xFF]
        #expect(c.closed(cluster.receive(c.connection, unknown, now: .zero)))
        // A version newer than the codec's.
        var d = WireClient(&cluster, broker: 1)
        var newer = d.frame(MetadataRequest(), version: 0).bytes
        newer[6] = 0x00
        newer[7] = 0x63 // Metadata v99
        #expect(d.closed(cluster.receive(d.connection, newer, now: .zero)))
        #expect(try bystander.call(ApiVersionsRequest(), version: 3, on: &cluster).errorCode == 0)
        // A SASL listener closes on an unauthenticated client, even for an unserved version.
        var sasl = threeBrokers { $0.users = [.init(mechanism: .plain, name: "u", password: "p")] }
        var s = WireClient(&sasl, broker: 1)
        #expect(s.closed(s.send(DescribeAclsRequest(), version: 0, to: &sasl)))
        #expect(sasl.closeLog.last?.contains("before SASL authentication") == true, "\(sasl.closeLog)")
        // An emulated 0.9 broker closes on ApiVersions, as 0.9 did.
        var old = threeBrokers { $0.release = KafkaRelease(0, 9) }
        var e = WireClient(&old, broker: 1)
        #expect(e.closed(e.send(ApiVersionsRequest(), version: 0, to: &old)))
    }
}
