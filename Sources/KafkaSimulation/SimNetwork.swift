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
        /// Bytes delivered over the link, both directions together (for cut-after-bytes).
        var carried = 0
        /// The link is reset rather than carry more than this (drawn in a cut window).
        var cutAt: Int? = nil
    }

    /// A cut-after-bytes window on a broker: each link's limit is drawn from `min ... max`.
    struct CutWindow {
        var min: Int
        var max: Int
        var until: UInt64
    }

    var latencyMin: UInt64
    var latencyMax: UInt64
    var rng: SeededGenerator
    var links: [UInt64: Link] = [:]
    var byFake: [UInt64: UInt64] = [:]
    /// Engine connection ids in the order they were opened, for choosing one to reset.
    var openOrder: [UInt64] = []
    /// cut-after-bytes windows by broker (looked up only; a later window replaces one).
    var cuts: [Int32: CutWindow] = [:]

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

    /// Starts a cut window on broker `b`: links to it draw their limits afresh, counted
    /// from what they carry from now on.
    mutating func startCuts(_ b: Int32, _ w: CutWindow) {
        cuts[b] = w
        for c in openOrder where links[c]?.broker == b { links[c]?.cutAt = nil }
    }

    /// Counts `n` bytes arriving over link `c`; true when they would take it past its cut
    /// limit: the link must be reset and the bytes are not delivered (a frame cut short is
    /// as useless to its reader as one never sent). The limit is drawn on a link's first
    /// delivery in the window, from the network's generator, so runs without cuts draw
    /// exactly what they drew before cuts existed.
    mutating func carries(_ c: UInt64, _ n: Int, now: UInt64) -> Bool {
        guard var link = links[c] else { return false }
        if let w = cuts[link.broker], now < w.until {
            if link.cutAt == nil { link.cutAt = link.carried + Int.random(in: w.min ... w.max, using: &rng) }
        } else {
            link.cutAt = nil
        }
        link.carried += n
        links[c] = link
        return link.cutAt.map { link.carried > $0 } ?? false
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
