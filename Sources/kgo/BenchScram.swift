import ArgumentParser
import KafkaStateMachines

/// `kgo bench-scram`: the client's CPU cost of one SCRAM login (RFC 5802): building the
/// client-final message from a server-first message, which is where the PBKDF2 iterations,
/// HMACs and base64 run, with the salted password derived anew each time (a first login;
/// a reconnect of the same client finds it derived). `--iterations 1` shows the part that
/// does not scale with the iterations. No broker: the server-first message is made up here,
/// so the figure is the engine's arithmetic alone.
struct BenchScram: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-scram",
        abstract: "Benchmark the client side of a SCRAM-SHA-256/512 login (PBKDF2, HMAC, base64)."
    )

    @Option(help: "PBKDF2 iterations the made-up server asks for.")
    var iterations: Int = 4096

    @Option(help: "Minimum seconds spent measuring each figure.")
    var seconds: Double = 1.0

    func run() throws {
        print("SCRAM client login, \(iterations) iterations (ms per login)")
        for algorithm in [ScramAlgorithm.sha256, .sha512] {
            let t = try measure { try login(algorithm).count }
            print("  \(algorithm.mechanismName): \(ms(t))")
        }
    }

    /// 16 bytes of salt in base64, and a nonce that extends the client's.
    var serverFirst: [UInt8] { Array("r=benchnonceSERVER,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=\(iterations)".utf8) }

    /// Client-first, then client-final from the server-first message.
    func login(_ algorithm: ScramAlgorithm) throws -> [UInt8] {
        var s = ScramSession(algorithm: algorithm, username: "bench", password: "pencil", clientNonce: "benchnonce")
        _ = try s.step(nil)
        guard case .send(let final) = try s.step(serverFirst) else { throw ValidationError("no client-final message") }
        return final
    }

    func measure(_ body: () throws -> Int) throws -> Double {
        try secondsPerCall(atLeast: seconds, body)
    }

    func ms(_ seconds: Double) -> String {
        let hundredths = Int((seconds * 1e5).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac) ms"
    }
}
