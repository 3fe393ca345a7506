import FakeCluster
import Testing
@testable import KafkaSimulation

@Suite struct ScenarioFormatTests {
    static let text = """
    # a comment
    seed 42
    brokers 3 racks a,b,c
    topic t partitions 12 rf 3
    sasl scram-sha-512 user u password p session 2s
    latency 2ms..8ms
    workload produce topic t every 20ms records 3   # trailing comment
    workload list-offsets topic t every 250ms
    workload commit group g topic t every 50ms
    workload metadata every 1s
    at 2.5s move-leader t/3 to 2
    at 4s restart-broker 1
    at 3s inject-error produce NOT_LEADER_OR_FOLLOWER count 3 broker 1
    at 3s delay fetch 500ms count 2
    at 3s drop-connection produce after count 1
    faults random count 20 until 30s
    safety 30s
    liveness 20s bound 10s
    invariant completion
    """

    @Test func parses() throws {
        let s = try Scenario.parse(Self.text)
        #expect(s.seed == 42 && s.brokers == 3 && s.racks == ["a", "b", "c"])
        #expect(s.topics == [Scenario.Topic(name: "t", partitions: 12, replicationFactor: 3)])
        #expect(s.sasl == Scenario.Sasl(sha512: true, user: "u", password: "p", sessionMs: 2000))
        #expect(s.latencyMin == 2_000_000 && s.latencyMax == 8_000_000)
        #expect(s.workloads.count == 4)
        #expect(s.faults[0] == Scenario.ScriptedFault(at: 2_500_000_000, fault: .moveLeader(topic: "t", partition: 3, to: 2)))
        #expect(s.faults[2].fault == .injectError(api: "produce", error: "NOT_LEADER_OR_FOLLOWER", count: 3, broker: 1))
        #expect(s.randomFaults == Scenario.RandomFaults(count: 20, until: 30_000_000_000))
        #expect(s.safety == 30_000_000_000 && s.liveness == 20_000_000_000 && s.livenessBound == 10_000_000_000)
        #expect(s.invariants == ["completion"])
    }

    @Test func rendersBackToTheSameScenario() throws {
        let s = try Scenario.parse(Self.text)
        #expect(try Scenario.parse(s.render()) == s)
    }

    @Test func errorsNameTheLine() {
        for (text, line) in [("seed 1\nbrokers x", 2), ("at 1s explode-broker 1", 1), ("latency 5ms..1ms", 1),
                             ("at 1s inject-error produce NO_SUCH_ERROR count 1", 1), ("invariant magic", 1), ("seed 1 2", 1)] {
            #expect(throws: ScenarioError.self) { try Scenario.parse(text) }
            do { _ = try Scenario.parse(text) } catch { #expect(error.line == line, "\(text)") }
        }
    }

    /// Byte-counted connection loss (issue 22) and a random-fault kind list read and render back.
    @Test func cutAfterBytesAndFaultKinds() throws {
        let s = try Scenario.parse("""
        at 0 cut-after-bytes 1 30KB..1.5MB for 10m
        at 2s cut-after-bytes 2 512..4096 for 500ms
        faults random count 5 until 8s kinds reset,cuts
        """)
        #expect(s.faults.map(\.fault) == [
            .cutAfterBytes(broker: 1, min: 30_000, max: 1_500_000, window: 600_000_000_000),
            .cutAfterBytes(broker: 2, min: 512, max: 4096, window: 500_000_000),
        ])
        #expect(s.randomFaults == Scenario.RandomFaults(count: 5, until: 8_000_000_000, kinds: ["reset", "cuts"]))
        #expect(try Scenario.parse(s.render()) == s)
        for bad in ["at 0 cut-after-bytes 1 2KB..1KB for 1s", "at 0 cut-after-bytes 1 0..1KB for 1s", "at 0 cut-after-bytes 1 1KB..2KB",
                    "at 0 cut-after-bytes 1 1XB..2KB for 1s", "faults random count 1 until 1s kinds reset,meteor"] {
            #expect(throws: ScenarioError.self, "\(bad)") { try Scenario.parse(bad) }
        }
    }

    @Test func groupFaults() throws {
        let s = try Scenario.parse("""
        at 1s stall-heartbeats g for 5s
        at 2s stall-heartbeats g leader for 500ms drop
        at 3s stall-heartbeats g instance i-1 for 2s
        at 4s disconnect-member g leader
        at 5s disconnect-member g member m-1
        at 6s disconnect-member g all
        at 7s inject-group-error g heartbeat REBALANCE_IN_PROGRESS count 2
        at 8s inject-group-error g offset-fetch COORDINATOR_LOAD_IN_PROGRESS count 1
        """)
        #expect(s.faults.map(\.fault) == [
            .stallHeartbeats(group: "g", who: .all, window: 5_000_000_000, drop: false),
            .stallHeartbeats(group: "g", who: .leader, window: 500_000_000, drop: true),
            .stallHeartbeats(group: "g", who: .instanceId("i-1"), window: 2_000_000_000, drop: false),
            .disconnectMember(group: "g", who: .leader),
            .disconnectMember(group: "g", who: .memberId("m-1")),
            .disconnectMember(group: "g", who: .all),
            .injectGroupError(group: "g", api: "heartbeat", error: "REBALANCE_IN_PROGRESS", count: 2),
            .injectGroupError(group: "g", api: "offset-fetch", error: "COORDINATOR_LOAD_IN_PROGRESS", count: 1),
        ])
        #expect(try Scenario.parse(s.render()) == s)
        for bad in ["at 1s disconnect-member g", "at 1s stall-heartbeats g leader 5s", "at 1s inject-group-error g produce NOT_COORDINATOR count 1",
                    "at 1s inject-group-error g heartbeat NO_SUCH_ERROR count 1"] {
            #expect(throws: ScenarioError.self, "\(bad)") { try Scenario.parse(bad) }
        }
    }

    @Test func durations() {
        #expect(DurationText.parse("2.5s") == 2_500_000_000)
        #expect(DurationText.parse("250ms") == 250_000_000)
        #expect(DurationText.parse("1m") == 60_000_000_000)
        #expect(DurationText.parse("0") == 0)
        #expect(DurationText.parse("fast") == nil)
        #expect(DurationText.format(2_500_000_000) == "2500ms")
    }

    /// Parses, renders, and checks the rendering is a fixed point (what FuzzScenario checks).
    private func renderIsStable(_ text: String) throws -> String {
        let rendered = try Scenario.parse(text).render()
        let again = try Scenario.parse(rendered)
        #expect(again.render() == rendered, "\(rendered)")
        return rendered
    }

    /// A duration below a microsecond rendered as "0us", which parses to 0 and renders "0s".
    @Test func subMicrosecondDurationsRenderInNanoseconds() throws {
        #expect(DurationText.format(1) == "1ns")
        #expect(DurationText.format(1_500) == "1500ns")
        #expect(DurationText.format(2_000) == "2us")
        #expect(DurationText.parse("1.ns") == 1)
        let rendered = try renderIsStable("at 1.ns restart-broker 2\nat 1.000001ms stop-broker 2")
        #expect(rendered.contains("at 1ns restart-broker 2") && rendered.contains("at 1000001ns stop-broker 2"))
    }

    /// Decimals are exact to the nanosecond: no binary rounding, no sub-nanosecond fractions.
    @Test func decimalDurationsAndBytesParseExactly() {
        #expect(DurationText.parse("9007199.254740993s") == 9_007_199_254_740_993)   // 2^53 + 1 ns
        #expect(DurationText.parse("0.1s") == 100_000_000)
        #expect(DurationText.parse("1.5m") == 90_000_000_000)
        #expect(DurationText.parse("0.0000000001m") == 6)
        #expect(DurationText.parse("2.50000000000s") == 2_500_000_000)   // trailing zeros are fine
        #expect(DurationText.parse("1.5ns") == nil)
        #expect(DurationText.parse("0.0000000001s") == nil)
        for bad in ["1e3ms", "+1s", "-1s", ".s", "s", "1..2s", "inf", "nans", "0x10s", "１s"] {
            #expect(DurationText.parse(bad) == nil, "\(bad)")
        }
        #expect(ByteText.parse("1.5MB") == 1_500_000)
        #expect(ByteText.parse("0.001KB") == 1)
        #expect(ByteText.parse("0.5B") == nil)
        #expect(ByteText.parse("999999999999999") == 999_999_999_999_999)
        #expect(ByteText.parse("1000000000000000") == nil)
    }

    /// Numbers past a field's type, or a duration past UInt64, are a ScenarioError naming
    /// the line, not a trap.
    @Test func oversizedNumbersAreScenarioErrors() {
        for bad in ["topic t partitions 2147483648", "topic t partitions 1 rf 32768", "brokers 3\nat 1s stop-broker 4294967296",
                    "at 1s truncate-and-lead t/0 replica 1 to 9223372036854775808", "workload produce topic t every 1s records 99999999999999999999",
                    "safety 18446744073.709551616s", "at 1s add-partitions t count 2147483648"] {
            #expect(throws: ScenarioError.self, "\(bad)") { try Scenario.parse(bad) }
        }
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("group g\ntopic t partitions 4294967296") }
        #expect((try? Scenario.parse("topic t partitions 2147483647"))?.topics.first?.partitions == Int32.max)
    }

    /// Lines and words split on unicode scalars: "\r" before "\n" stays in its word, and a
    /// space before a combining mark still separates words, so renderings re-parse the same.
    @Test func wordsSplitOnUnicodeScalars() throws {
        let s = try Scenario.parse("workload consume topic t\r# comment\nbrokers 2")
        #expect(s.brokers == 2)
        #expect(s.workloads == [.consume(topic: "t\r", readCommitted: false, sessions: true)])
        _ = try renderIsStable("workload consume topic t\r# comment\nbrokers 2")
        // As Characters, " \u{301}" is not " ", so this named a topic "x \u{301}" (a space in a word).
        #expect(throws: ScenarioError.self) { try Scenario.parse("topic x \u{301} partitions 3") }
    }

    /// `admin-groups ,` named no group and rendered as a line that does not parse.
    @Test func emptyAdminGroupsListIsRefused() {
        for bad in ["workload admin-groups , topic t every 1s", "workload admin-groups ,, topic t every 1s"] {
            #expect(throws: ScenarioError.self, "\(bad)") { try Scenario.parse(bad) }
        }
        #expect((try? Scenario.parse("workload admin-groups a,,b topic t every 1s"))?.workloads == [.adminGroups(groups: ["a", "b"], topic: "t", every: 1_000_000_000)])
    }

    /// The fuzz input that found the unstable rendering (now under Tests/Fuzz/Crashes/scenario).
    @Test func fuzzFoundScenarioRendersStably() throws {
        let rendered = try renderIsStable("""
            workload consume topic t read-committed
            workload list-offsets topic t every 000ms
            at 1.2s stop-broker 2
            at 1.ns restart-broker 2
            """)
        #expect(rendered.contains("every 1ns") && rendered.contains("at 1ns restart-broker 2"))
    }
}
