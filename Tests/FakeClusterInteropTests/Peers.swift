import FakeCluster
import FakeClusterTCP
import Foundation
import TestSupport
import Testing

/// The real clients installed by Tools/install-test-deps.sh into <repo>/.peers. Missing
/// peers fail the tests (they never skip): run Tools/install-test-deps.sh.
enum Peers {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let dir = root.appendingPathComponent(".peers")
    static let python = dir.appendingPathComponent("venv/bin/python").path
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")

    static func check() throws {
        let fm = FileManager.default
        try #require(fm.isExecutableFile(atPath: python), "no \(python): run Tools/install-test-deps.sh")
        try #require(fm.fileExists(atPath: dir.appendingPathComponent("lib/librdkafka.so.1").path),
                     "no librdkafka 2.16 in .peers/lib: run Tools/install-test-deps.sh")
        try #require(fm.isExecutableFile(atPath: "/usr/bin/kcat"), "no kcat: run Tools/install-test-deps.sh")
    }

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a peer with librdkafka 2.16 first on the library path; kills it after `timeout`.
    /// The wait is on a thread of its own (`offPool`), not the caller's.
    static func run(_ executable: String, _ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) async throws -> Output {
        try await offPool { try runBlocking(executable, args, stdin: stdin, timeout: timeout) }
    }

    private static func runBlocking(_ executable: String, _ args: [String], stdin: String?, timeout: TimeInterval) throws -> Output {
        var env = ProcessInfo.processInfo.environment
        env["LD_LIBRARY_PATH"] = dir.appendingPathComponent("lib").path + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
        let p = try ChildProcess(executable, args, environment: env, standardInput: .pipe, standardOutput: .pipe, standardError: .pipe)
        if let stdin { p.standardInput!.write(Data(stdin.utf8)) }
        try p.standardInput!.close()
        // Drain both pipes on their own threads so a chatty peer cannot block on a full pipe.
        let outBox = DataBox(), errBox = DataBox()
        let group = DispatchGroup()
        for (h, box) in [(p.standardOutput!, outBox), (p.standardError!, errBox)] {
            group.enter()
            Thread.detachNewThread { box.set(h.readDataToEndOfFile()); group.leave() }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if p.isRunning {
            p.terminate()
            // A peer stuck inside its client library can outlive SIGTERM (a kafka-python
            // admin call hung past it once): SIGKILL after a grace, so the test fails
            // instead of waiting forever.
            let grace = Date().addingTimeInterval(5)
            while p.isRunning && Date() < grace { Thread.sleep(forTimeInterval: 0.02) }
            p.signal(SIGKILL)
        }
        p.waitUntilExit()
        group.wait()
        return Output(status: p.terminationStatus, stdout: String(decoding: outBox.get(), as: UTF8.self),
                      stderr: String(decoding: errBox.get(), as: UTF8.self))
    }

    static func script(_ name: String, _ args: [String], timeout: TimeInterval = 90) async throws -> Output {
        try await run(python, [scripts.appendingPathComponent(name).path] + args, timeout: timeout)
    }
}

final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// A TCP fake cluster on free loopback ports for one test.
func withServer<T>(brokers: Int = 3, tls: FakeClusterTLSFiles? = nil, _ configure: (inout FakeClusterConfig) -> Void = { _ in },
                   _ body: (FakeClusterServer, String) async throws -> T) async throws -> T {
    try Peers.check()
    var config = FakeClusterConfig(brokers: FakeClusterConfig.brokers(brokers, firstPort: 0))
    configure(&config)
    let log = LogBox()
    let server = try FakeClusterServer.start(config, tls: tls) { log.append($0) }
    defer { try? server.shutdown() }
    let bootstrap = server.brokers.map { "\($0.host):\($0.port)" }.joined(separator: ",")
    let result = try await body(server, bootstrap)
    // Whatever the clients did, no response was left unencodable (a handler bug).
    let internalErrors = try server.withCluster { c, _ in (c.closeLog.filter { $0.contains("internal error") }, []) }.wait()
    #expect(internalErrors.isEmpty, "\(internalErrors)")
    return result
}

final class LogBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
}
