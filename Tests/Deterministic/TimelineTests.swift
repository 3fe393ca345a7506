import Foundation
import KafkaProtocol
import Testing
@testable import KafkaSimulation

/// `kgo sim run --timeline`: what SimTimeline records of a run and what TimelineHTML draws.
/// The picture itself is checked in a real browser by TimelineRenderTests.
@Suite struct TimelineTests {
    static let leaderMoves = """
    seed 11
    brokers 3 racks a,b,c
    topic t partitions 4 rf 3
    latency 1ms..5ms
    workload produce topic t every 15ms records 3
    workload consume topic t
    at 300ms move-leader t/0 to 2
    at 1s stop-broker 3
    at 1.8s restart-broker 3
    at 2.2s reset-connections 1
    safety 3s
    liveness 3s bound 5s
    """

    static func drawn(_ text: String) throws -> (SimTimeline, SimulationResult) {
        var sim = Simulation(try Scenario.parse(text))
        let t = SimTimeline(title: "test")
        sim.timeline = t
        return (t, sim.run())
    }

    func lane(_ t: SimTimeline, _ name: String) -> Int? { t.lanes.firstIndex { $0.name == name } }

    @Test func aRunWithFaultsIsRecordedOnItsTimeAxis() throws {
        let (t, result) = try Self.drawn(Self.leaderMoves)
        #expect(result.violations.isEmpty, "\(result.violations)")
        // The stopped broker is down from 1 s to 1.8 s.
        let b3 = try #require(lane(t, "broker 3"))
        let down = t.spans.filter { $0.lane == b3 }
        #expect(down.count == 1)
        #expect(down.first?.kind == .down)
        #expect(down.first?.start == 1_000_000_000 && down.first?.end == 1_800_000_000)
        // t/0's leader moves to broker 2 at 300 ms with a new epoch.
        let t0 = try #require(lane(t, "t/0 leader"))
        let leaders = t.spans.filter { $0.lane == t0 }
        #expect(leaders.count >= 2)
        let moved = try #require(leaders.first { $0.start == 300_000_000 })
        #expect(moved.tone == 2 && moved.label.hasPrefix("broker 2, epoch"))
        #expect(leaders.first!.label != moved.label)
        // Every fault is marked where it happened.
        let faults = t.marks.filter { $0.kind == .fault }
        #expect(faults.map(\.at).prefix(4) == [300_000_000, 1_000_000_000, 1_800_000_000, 2_200_000_000])
        // Produce -> ack and fetch spans per partition, and requests per connection; each
        // one ends (answered, or cut off with its connection), never before it starts.
        for p in 0 ..< 4 {
            let produce = try #require(lane(t, "t/\(p) produce"))
            let fetch = try #require(lane(t, "t/\(p) fetch"))
            #expect(t.spans.contains { $0.lane == produce && $0.kind == .produce })
            #expect(t.spans.contains { $0.lane == fetch && $0.kind == .fetch })
        }
        #expect(t.lanes.contains { $0.section == .requests })
        #expect(t.lanes.contains { $0.section == .connections })
        for s in t.spans { #expect(s.end.map { $0 >= s.start } == true, "\(s)") }
        // The reset cut requests off: some are drawn as unanswered.
        #expect(t.spans.contains { $0.kind == .lost })
        #expect(t.violation == nil)
    }

    @Test func theTimelineOnlyWatches() throws {
        var plain = Simulation(try Scenario.parse(Self.leaderMoves))
        let without = plain.run()
        let (_, with) = try Self.drawn(Self.leaderMoves)
        #expect(with.hash == without.hash)
        #expect(with.events == without.events)
    }

    @Test func thePageIsSelfContainedAndTheSameForTheSameSeed() throws {
        let first = TimelineHTML.render(try Self.drawn(Self.leaderMoves).0)
        let second = TimelineHTML.render(try Self.drawn(Self.leaderMoves).0)
        #expect(first == second)
        #expect(first.hasPrefix("<!DOCTYPE html>"))
        #expect(first.contains("<svg"))
        // Nothing fetched: no script, no stylesheet or image from elsewhere.
        #expect(!first.contains("<script"))
        #expect(!first.contains("src="))
        #expect(!first.contains("href="))
        #expect(first.components(separatedBy: "http").count == 2, "only the SVG namespace names a URL")
        #expect(first.contains(">broker 3<"))
        #expect(first.contains(">t/0 leader<"))
    }

    @Test func theFirstViolationIsHighlighted() throws {
        // A liveness bound no run can meet (as in ShrinkerTests).
        let (t, result) = try Self.drawn("""
        seed 3
        brokers 3
        topic t partitions 2 rf 3
        workload produce topic t every 40ms
        at 200ms move-leader t/0
        safety 600ms
        liveness 1s bound 1ms
        """)
        let first = try #require(result.violations.first)
        let v = try #require(t.violation)
        #expect(v.text == first)
        #expect(v.at <= t.end)
        let html = TimelineHTML.render(t)
        #expect(html.contains("first violation: \(TimelineHTML.escape(String(first.prefix(140))))"))
    }

    @Test func aGroupRunDrawsMembersAndGenerations() throws {
        let plan = try GroupScenario.parse("""
        group churn
        seed 7
        topic g partitions 6
        records 20
        members 3
        balancers range
        session 4s
        rebalance 6s
        at 3s join 3
        at 6s leave 0
        at 9s crash 1
        at 9s stop-broker 2
        at 11s restart-broker 2
        duration 30s
        settle 15s
        """)
        var sim = GroupSimulation(plan)
        let t = SimTimeline(title: "group")
        sim.timeline = t
        let result = sim.run()
        #expect(result.ok, "\(result.violations)")
        for m in 0 ... 3 { #expect(lane(t, "member \(m)") != nil, "member \(m)") }
        let generations = t.marks.filter { $0.kind == .generation && $0.label.hasPrefix("joined generation") }
        #expect(generations.count >= 4, "\(generations.map(\.label))")
        let m0 = try #require(lane(t, "member 0"))
        #expect(t.marks.contains { $0.lane == m0 && $0.label == "left the group" })
        let m1 = try #require(lane(t, "member 1"))
        #expect(t.marks.contains { $0.lane == m1 && $0.label == "member 1 crashes" && $0.at == 9_000_000_000 })
        let b2 = try #require(lane(t, "broker 2"))
        #expect(t.spans.contains { $0.lane == b2 && $0.kind == .down && $0.start == 9_000_000_000 && $0.end == 11_000_000_000 })
    }
}
