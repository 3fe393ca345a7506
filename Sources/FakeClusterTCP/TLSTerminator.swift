import Foundation

/// TLS for the fake cluster's listeners, terminated by stunnel (OpenSSL) in front of
/// plaintext loopback listeners: the brokers advertise the TLS ports.
///
/// Why not swift-nio-ssl: it compiles BoringSSL, which adds tens of minutes to a clean
/// debug build on the project's two-core CI machines, for a test-only feature. stunnel is
/// what the project already uses for TLS in front of the Tansu broker
/// (Tools/install-test-deps.sh installs it).
final class TLSTerminator: @unchecked Sendable {
    // @unchecked: immutable after init except `process`, which only `stop` touches.
    let process: Process
    let dir: URL

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(files: FakeClusterTLSFiles, routes: [(host: String, port: Int, to: Int)]) throws {
        guard let stunnel = ["/usr/bin/stunnel4", "/usr/bin/stunnel", "/usr/local/bin/stunnel"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "TLS needs stunnel (apt-get install stunnel4)")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("kgo-fake-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var conf = "foreground = yes\npid =\ndebug = 3\n"
        for (i, r) in routes.enumerated() {
            conf += "[broker\(i)]\naccept = \(r.host):\(r.port)\nconnect = 127.0.0.1:\(r.to)\n"
            conf += "cert = \(files.certificateChain)\nkey = \(files.privateKey)\n"
        }
        let confURL = dir.appendingPathComponent("stunnel.conf")
        try conf.write(to: confURL, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: stunnel)
        process.arguments = [confURL.path]
        let log = dir.appendingPathComponent("stunnel.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        // Ready once every TLS port accepts connections.
        let deadline = Date().addingTimeInterval(10)
        for r in routes {
            while !Self.accepts(host: r.host, port: r.port) {
                guard process.isRunning, Date() < deadline else {
                    stop()
                    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                    throw Failure(description: "stunnel did not start: \(text.suffix(500))")
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    func stop() {
        if process.isRunning {
            // SIGKILL, not SIGTERM: a child inherits the signal mask, and `kgo fake-cluster`
            // blocks SIGTERM to take it with sigwait, so stunnel would never see a SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dir)
    }

    static func accepts(host: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port free right now on `host` (for TLS listeners asked for with port 0).
    static func freePort(host: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw Failure(description: "bad IPv4 host \(host)") }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard bound, withUnsafeMutablePointer(to: &addr, {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) == 0 }
        }) else { throw Failure(description: "bind() failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
