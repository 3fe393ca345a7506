import Foundation
import TestSupport
import Testing

/// `kgo fake-cluster` as a user runs it: the built command starts three brokers on
/// consecutive ports, says `ready`, serves kcat (librdkafka 2.16), and stops cleanly on
/// SIGTERM.
@Suite(.serialized)
struct FakeClusterCommandTests {
    /// The `kgo` binary `swift test` built with this test bundle.
    static var kgo: String { BuiltExecutable.url("kgo")?.path ?? "kgo (not built beside the tests)" }

    /// Starts `kgo fake-cluster` with `arguments` and waits for its `ready` line.
    private func start(_ arguments: [String]) throws -> ChildProcess {
        try Peers.check()
        #expect(FileManager.default.isExecutableFile(atPath: Self.kgo), "no \(Self.kgo)")
        let p = try ChildProcess(Self.kgo, ["fake-cluster"] + arguments, standardOutput: .pipe, standardError: .inherit)
        let out = p.standardOutput!
        let lines = DataBox()
        Thread.detachNewThread {
            var all = Data()
            while true {
                let d = out.availableData
                if d.isEmpty { break }
                all += d
                lines.set(all)
            }
        }
        let deadline = Date().addingTimeInterval(30)
        var output = ""
        while Date() < deadline {
            output = String(decoding: lines.get(), as: UTF8.self)
            if output.split(separator: "\n").contains(where: { $0.hasPrefix("ready") }) { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        if !output.split(separator: "\n").contains(where: { $0.hasPrefix("ready") }) { p.terminate() }
        try #require(output.split(separator: "\n").contains(where: { $0.hasPrefix("ready") }), "no ready line: \(output)")
        return p
    }

    private func stop(_ p: ChildProcess) {
        p.signal(SIGTERM)
        let stopBy = Date().addingTimeInterval(10)
        while p.isRunning && Date() < stopBy { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!p.isRunning, "still running 10 s after SIGTERM")
        if !p.isRunning { #expect(p.terminationStatus == 0) }
    }

    @Test func commandStartsServesKcatAndStopsOnSigterm() async throws {
        // A port range unlikely to be taken, different per run of this process.
        let port = 29_000 + Int(getpid() % 500) * 3
        let p = try start(["--brokers", "3", "--port", "\(port)", "--topic", "cmd:3"])
        defer { if p.isRunning { p.terminate() } }

        let bootstrap = "127.0.0.1:\(port),127.0.0.1:\(port + 2)"
        let values = (1 ... 25).map { "cmd-\($0)" }
        let produced = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-P", "-t", "cmd", "-p", "2"],
                                     stdin: values.joined(separator: "\n") + "\n")
        #expect(produced.status == 0, "\(produced.stderr)")
        let consumed = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", "cmd", "-p", "2", "-o", "beginning", "-e", "-q"])
        #expect(consumed.status == 0, "\(consumed.stderr)")
        #expect(consumed.stdout.split(separator: "\n").map(String.init) == values)
        let metadata = try await Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-L", "-t", "cmd"])
        #expect(metadata.stdout.contains("3 brokers"), "\(metadata.stdout)")

        stop(p)
    }

    /// TLS is terminated by the command itself (swift-nio-ssl): kcat talks SSL to it.
    @Test func commandServesTLSWithItsOwnCertificate() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kgo-cmd-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let gen = try await Peers.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                                     "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        try #require(gen.status == 0, "openssl: \(gen.stderr)")
        let port = 30_600 + Int(getpid() % 500) * 3
        let p = try start(["--brokers", "2", "--port", "\(port)", "--topic", "sec:1", "--tls-cert", cert, "--tls-key", key])
        defer { if p.isRunning { p.terminate() } }
        let ssl = ["-b", "127.0.0.1:\(port)", "-X", "security.protocol=ssl", "-X", "ssl.ca.location=\(cert)"]
        let produced = try await Peers.run("/usr/bin/kcat", ssl + ["-P", "-t", "sec"], stdin: "x\ny\n")
        #expect(produced.status == 0, "\(produced.stderr)")
        let consumed = try await Peers.run("/usr/bin/kcat", ssl + ["-C", "-t", "sec", "-o", "beginning", "-e", "-q"])
        #expect(consumed.stdout == "x\ny\n", "\(consumed.stderr)")
        stop(p)
    }
}
