import Testing
@testable import KafkaSimulation
import KafkaProtocol

@Suite struct SchedulerTests {
    @Test func popsByTimeThenBySchedulingOrder() {
        var q = EventQueue<String>()
        q.push(at: 5, "c")
        q.push(at: 1, "a")
        q.push(at: 5, "d")
        q.push(at: 1, "b")
        q.push(at: 0, "first")
        for i in 0 ..< 50 { q.push(at: 7, "tie\(i)") }
        var out: [String] = []
        while let (_, e) = q.pop() { out.append(e) }
        #expect(out == ["first", "a", "b", "c", "d"] + (0 ..< 50).map { "tie\($0)" })
    }

    /// Within one link, deliveries keep their order however the latency draws fall.
    @Test func linksStayOrdered() {
        var net = SimNetwork(latencyMin: 1_000_000, latencyMax: 50_000_000, rng: SeededGenerator(seed: 9))
        net.links[1] = SimNetwork.Link(broker: 1)
        var lastB: UInt64 = 0, lastC: UInt64 = 0
        for t in stride(from: UInt64(0), to: 100_000_000, by: 100_000) {
            let b = net.deliveryToBroker(1, now: t), c = net.deliveryToClient(1, now: t)
            #expect(b >= lastB && c >= lastC && b > t && c > t)
            lastB = b; lastC = c
        }
    }
}
