import FakeCluster
import KafkaProtocol
import KafkaStateMachines

/// The engine given a well-framed answer of the right API key and correlation id whose body
/// is wrong, for one of the requests it has in flight; a FakeCluster broker answers the
/// rest. Input: byte 0 picks which of the engine's first 16 writes gets the wrong answer;
/// byte 1 how the body is made: the rest of the input (mode 0), the broker's real answer
/// with the input XORed in at an offset bytes 2-3 give (mode 1), or the real answer cut at
/// the length bytes 2-3 give with the input appended (mode 2). The engine must not trap,
/// must keep its deadlines ahead of the clock (a deadline left behind would spin the
/// driver), and the user's Metadata request must still complete — answered, or failed with
/// its typed `KafkaClientError` — within the retry budget, while a producer and a consumer
/// run next to it.
enum EngineFuzz {
    static func run(_ input: [UInt8]) {
        guard let pick = input.first else { return }
        let hostileWrite = Int(pick % 16) + 1

        var cluster = FakeCluster(FakeClusterConfig(
            brokers: FakeClusterConfig.brokers(2, host: "b", firstPort: 9092),
            topics: [.init(name: "t", partitions: 2, replicationFactor: 2)]))
        var config = EngineConfig(seeds: [BrokerAddress(host: "b", port: 9092)])
        config.backoff = BackoffPolicy(initial: .milliseconds(100), max: .milliseconds(1000), jitter: 0.2)
        var engine = ClientEngine(config: config, seed: 1)
        let start = Instant(nanoseconds: 1_000_000_000)
        var now = start

        var metadata = MetadataRequest()
        var topic = MetadataRequest.MetadataRequestTopic()
        topic.name = "t"
        metadata.topics = [topic]
        engine.handle(.request(UserRequest(metadata, promise: PromiseID(1))), now: now)
        engine.handle(.produce((0 ..< 4).map {
            ProducerRecord(topic: "t", partition: Int32($0 % 2), value: [UInt8($0)], timestamp: 0, token: UInt64($0))
        }), now: now)
        engine.handle(.assign([TopicPartition("t", 0): .start, TopicPartition("t", 1): .start]), now: now)

        var links: [ConnectionID: FakeConnectionID] = [:]
        var back: [FakeConnectionID: ConnectionID] = [:]
        var writes = 0
        var answered = false
        var hostileAt: Instant?

        func deliver(_ outputs: [FakeOutput]) {
            for o in outputs {
                switch o {
                case .send(let f, let bytes):
                    if let c = back[f] { engine.handle(.bytesReceived(c, bytes), now: now) }
                case .close(let f, _):
                    if let c = back[f] {
                        back[f] = nil
                        links[c] = nil
                        engine.handle(.connectionClosed(c), now: now)
                    }
                }
            }
        }

        for _ in 0 ..< 5_000 {
            let actions = engine.drainActions()
            for a in actions {
                switch a {
                case .open(let c, let broker, _, _, _):
                    let id: Int32
                    switch broker { case .seed: id = 1; case .node(let n): id = n }
                    if cluster.isReachable(broker: id), let f = cluster.connect(broker: id) {
                        links[c] = f
                        back[f] = c
                        engine.handle(.connectionOpened(c), now: now)
                    } else {
                        engine.handle(.connectionFailed(c, reason: .refused("no broker \(id)")), now: now)
                    }
                case .write(let c, let frame):
                    let bytes = frame.bytes
                    writes += 1
                    if writes == hostileWrite, let frame = hostileAnswer(to: bytes, input: input, cluster: &cluster, link: links[c], now: now, deliver: deliver) {
                        hostileAt = now
                        engine.handle(.bytesReceived(c, frame), now: now)
                    } else if let f = links[c] {
                        deliver(cluster.receive(f, bytes, now: now))
                    }
                case .close(let c):
                    if let f = links[c] {
                        cluster.disconnect(f)
                        back[f] = nil
                        links[c] = nil
                    }
                case .complete(let p, _):
                    if p == PromiseID(1) { answered = true }
                default: break
                }
            }
            if !actions.isEmpty { continue }
            if answered, let h = hostileAt, now > h + .seconds(5) { return }
            if answered, hostileAt == nil, writes >= hostileWrite { return }
            let next = [engine.nextDeadline(), cluster.nextDeadline].compactMap { $0 }.min()
            guard let next else { break }
            now = max(now, next)
            guard now < start + .seconds(300) else { break }
            engine.handle(.tick, now: now)
            if let d = engine.nextDeadline() {
                precondition(d > now, "the engine left deadline \(d) at or before \(now) after a tick")
            }
            deliver(cluster.tick(now: now))
        }
        precondition(answered, "the user's Metadata request never completed (hostile answer to write \(hostileWrite) at \(hostileAt.map { "\($0)" } ?? "never"))")
    }

    /// The wrong answer to `request` (a whole frame as the engine wrote it): its correlation
    /// id, the response header its key and version call for, then the body the input makes.
    /// The broker sees the request too (so its state moves as it would), and what it sends
    /// besides this answer is delivered. Nil when the write is not a request this can read.
    static func hostileAnswer(to request: [UInt8], input: [UInt8], cluster: inout FakeCluster, link: FakeConnectionID?,
                              now: Instant, deliver: ([FakeOutput]) -> Void) -> [UInt8]? {
        guard let header = try? parseRequestHeader(Array(request.dropFirst(4))),
              let headerVersion = HeaderVersions.response(apiKey: header.apiKey, version: header.apiVersion) else { return nil }
        // FakeCluster's header: the correlation id, then (v1) an empty tagged-field section.
        let headerBytes = 4 + (headerVersion >= 1 ? 1 : 0)
        var real: [UInt8] = []
        if let link {
            var rest: [FakeOutput] = []
            for o in cluster.receive(link, request, now: now) {
                if case .send(link, let frame) = o, frame.count >= 4 + headerBytes,
                   (try? peekCorrelationId(Array(frame.dropFirst(4)))) == header.correlationId {
                    real = Array(frame.dropFirst(4 + headerBytes))
                } else {
                    rest.append(o)
                }
            }
            deliver(rest)
        }
        let mode = input.count > 1 ? input[1] % 3 : 0
        let arg = input.count > 3 ? Int(input[2]) << 8 | Int(input[3]) : 0
        var body: [UInt8]
        switch mode {
        case 1 where !real.isEmpty:
            body = real
            for (i, b) in input.dropFirst(4).enumerated() { body[(arg + i) % body.count] ^= b }
        case 2:
            body = Array(real.prefix(arg % (real.count + 1))) + input.dropFirst(4)
        default:
            body = Array(input.dropFirst(2))
        }
        var w = ByteWriter(capacity: body.count + 16)
        let at = w.reserveInt32()
        var h = ResponseHeader()
        h.correlationId = header.correlationId
        guard (try? h.encode(into: &w, version: headerVersion)) != nil else { return nil }
        w.writeRaw(body)
        w.patchInt32(at: at, Int32(w.count - at - 4))
        return w.bytes
    }
}
