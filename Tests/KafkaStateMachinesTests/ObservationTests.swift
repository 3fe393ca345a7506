import Testing
@testable import KafkaStateMachines

/// The engine's observations for the driver's hooks (Observation.swift): none unless
/// `EngineConfig.observe` is on; with it, each request written and response read with its
/// sizes and times on the engine's clock, and throttles.
@Suite struct ObservationTests {
    static func written(_ actions: [Action]) -> [Int] {
        actions.compactMap { if case .write(_, let bytes) = $0 { return bytes.count } else { return nil } }
    }

    @Test func nothingIsObservedUnlessAsked() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), promise: 1)
        let meta = decodeWrites(h.handshake(1))
        var answer = metadataResponse(brokers: [1])
        answer.throttleTimeMs = 30
        let done = h.receive(1, respond(meta[0], answer))
        #expect(success(done, 1, as: MetadataResponse.self) != nil)
        #expect(h.engine.takeObservations().isEmpty)
    }

    @Test func requestsResponsesAndThrottlesAreObservedWithTheirTimes() {
        var config = Harness.config()
        config.observe = true
        var h = Harness(config)
        // Asked at 0; the connection opens at 5 and is ready at 7, when the request goes.
        _ = h.request(MetadataRequest(), promise: 1)
        h.now = .milliseconds(5)
        let opened = h.opened(1)
        let versions = decodeWrites(opened)
        h.now = .milliseconds(7)
        let versionsAnswer = respond(versions[0], fullApiVersions())
        let ready = h.receive(1, versionsAnswer)
        let meta = decodeWrites(ready)
        h.now = .milliseconds(19)
        var answer = metadataResponse(brokers: [1])
        answer.throttleTimeMs = 30
        let metaAnswer = respond(meta[0], answer)
        let done = h.receive(1, metaAnswer)
        #expect(success(done, 1, as: MetadataResponse.self) != nil)

        let observed = h.engine.takeObservations()
        #expect(observed == [
            .requestWritten(broker: .seed(0), apiKey: .apiVersions, version: versions[0].version, bytes: Self.written(opened)[0], queued: .zero),
            .responseRead(broker: .seed(0), apiKey: .apiVersions, version: versions[0].version, bytes: versionsAnswer.count,
                          onWire: .milliseconds(2), throttleMs: 0),
            .requestWritten(broker: .seed(0), apiKey: .metadata, version: meta[0].version, bytes: Self.written(ready)[0], queued: .milliseconds(7)),
            .responseRead(broker: .seed(0), apiKey: .metadata, version: meta[0].version, bytes: metaAnswer.count,
                          onWire: .milliseconds(12), throttleMs: 30),
            .throttled(broker: .seed(0), .milliseconds(30)),
        ])
        #expect(h.engine.takeObservations().isEmpty, "taken once")
    }
}
