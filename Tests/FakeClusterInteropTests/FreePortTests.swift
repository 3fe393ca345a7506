import FakeCluster
import FakeClusterTCP
import Testing

/// In-process TCP fake clusters bind free ports, so parallel runs (and parallel tests) never collide.
struct FreePortTests {
    @Test func firstPortZeroAsksAFreePortForEveryBroker() {
        #expect(FakeClusterConfig.brokers(3, firstPort: 0).map(\.port) == [0, 0, 0])
        #expect(FakeClusterConfig.brokers(3, firstPort: 9092).map(\.port) == [9092, 9093, 9094])
    }

    @Test func twoServersOnPortZeroListenOnDistinctEphemeralPorts() throws {
        let a = try FakeClusterServer.start(FakeClusterConfig(brokers: FakeClusterConfig.brokers(3, firstPort: 0)))
        defer { try? a.shutdown() }
        let b = try FakeClusterServer.start(FakeClusterConfig(brokers: FakeClusterConfig.brokers(3, firstPort: 0)))
        defer { try? b.shutdown() }
        let ports = (a.brokers + b.brokers).map(\.port)
        #expect(Set(ports).count == 6, "\(ports)")
        #expect(ports.allSatisfy { $0 >= 1024 }, "\(ports)")
    }
}
