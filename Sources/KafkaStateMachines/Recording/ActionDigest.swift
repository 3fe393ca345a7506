/// FNV-1a over a stream of engine actions. Two runs that fed the engine the same inputs
/// must give the same digest: the simulation compares runs of one seed with it, and the
/// flight recorder stores it so a replay can prove it reproduced the recorded actions.
package struct ActionDigest: Sendable, Equatable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    public private(set) var actions: UInt64 = 0

    public init() {}

    public mutating func mix(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    public mutating func mix(_ v: UInt64) {
        var x = v
        for _ in 0 ..< 8 { mix(UInt8(truncatingIfNeeded: x)); x >>= 8 }
    }

    public mutating func mix(_ s: String) {
        for b in s.utf8 { mix(b) }
        mix(UInt8(0))
    }

    /// Adds one action: its kind and every field a driver acts on.
    public mutating func record(_ action: Action) {
        actions += 1
        switch action {
        case .open(let c, let b, let host, let port, let tls):
            mix(UInt8(1)); mix(c.rawValue); mix(b.description); mix(host); mix(UInt64(port)); mix(UInt8(tls ? 1 : 0))
        case .write(let c, let bytes):
            mix(UInt8(2)); mix(c.rawValue); mix(UInt64(bytes.count))
            bytes.forEachRun { for b in $0 { mix(b) } }
        case .close(let c):
            mix(UInt8(3)); mix(c.rawValue)
        case .complete(let p, let r):
            mix(UInt8(4)); mix(p.rawValue)
            switch r {
            case .success(let resp): mix(type(of: resp).messageName)
            case .failure(let e): mix(e.description)
            }
        case .fetched(let b):
            mix(UInt8(5)); mix(b.description); mix(UInt64(b.bytes))
        case .delivery(let r):
            mix(UInt8(6)); mix(r.topic); mix(UInt64(bitPattern: Int64(r.partition))); mix(UInt64(bitPattern: r.baseOffset))
            mix(UInt64(r.tokens.count)); mix(r.tokens.first ?? 0); mix(r.error?.description ?? "")
        case .producer(let n):
            mix(UInt8(7)); mix(n.description)
        case .group(let e):
            mix(UInt8(8)); mix(e.description)
        case .fetchOAuthToken(let c):
            mix(UInt8(9)); mix(c.rawValue)
        }
    }

    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
