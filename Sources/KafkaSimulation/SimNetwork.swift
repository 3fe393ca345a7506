import FakeCluster
import KafkaStateMachines

/// The simulated network between the engine and the fake brokers: one link per engine
/// connection, a latency drawn per delivery, and each direction of a link kept in order
/// (a delivery never overtakes an earlier one on the same link, as in TCP). Links are only
/// looked up by id, never iterated, so dictionary order cannot leak into a run.
struct SimNetwork {
    struct Link {
        var broker: Int32
        var fake: FakeConnectionID?
        /// The last delivery instant scheduled in each direction.
        var toBrokerAt: UInt64 = 0
        var toClientAt: UInt64 = 0
        /// The engine closed it: nothing more is delivered to the engine.
        var closedByEngine = false
        /// Reset (or closed by the broker): nothing more is delivered to either side.
        var dead = false
    }

    var latencyMin: UInt64
    var latencyMax: UInt64
    var rng: SeededGenerator
    var links: [UInt64: Link] = [:]
    var byFake: [UInt64: UInt64] = [:]
    /// Engine connection ids in the order they were opened, for choosing one to reset.
    var openOrder: [UInt64] = []

    /// One-way latency: uniform, with a 1-in-50 spike of up to ten times the maximum (a
    /// retransmission), so that timeouts and slow paths get exercised too.
    mutating func latency() -> UInt64 {
        var l = latencyMin == latencyMax ? latencyMin : UInt64.random(in: latencyMin ... latencyMax, using: &rng)
        if UInt64.random(in: 0 ..< 50, using: &rng) == 0 { l += UInt64.random(in: 0 ... latencyMax * 10, using: &rng) }
        return l
    }

    mutating func deliveryToBroker(_ c: UInt64, now: UInt64) -> UInt64 {
        let t = max(now + latency(), links[c]?.toBrokerAt ?? 0)
        links[c]?.toBrokerAt = t
        return t
    }

    mutating func deliveryToClient(_ c: UInt64, now: UInt64) -> UInt64 {
        let t = max(now + latency(), links[c]?.toClientAt ?? 0)
        links[c]?.toClientAt = t
        return t
    }

    mutating func attach(_ c: UInt64, fake: FakeConnectionID) {
        links[c]?.fake = fake
        byFake[fake.value] = c
        openOrder.append(c)
    }

    mutating func forget(_ c: UInt64) {
        if let f = links[c]?.fake { byFake[f.value] = nil }
        links[c] = nil
        openOrder.removeAll { $0 == c }
    }
}
