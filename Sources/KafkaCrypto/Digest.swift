/// SHA-256, SHA-512, HMAC and PBKDF2 (FIPS 180-4, RFC 2104, RFC 8018): what SCRAM needs on
/// both sides (the client engine and FakeCluster's server). Small and dependency-free: a
/// login hashes a few hundred bytes, which does not justify compiling BoringSSL in every
/// build. Checked against the published vectors in KafkaCryptoTests.
public enum Digest: Sendable {
    case sha256, sha512

    public var blockSize: Int { self == .sha256 ? 64 : 128 }

    public func hash(_ message: [UInt8]) -> [UInt8] {
        self == .sha256 ? SHA256.hash(message) : SHA512.hash(message)
    }

    public func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var k = key.count > blockSize ? hash(key) : key
        k += [UInt8](repeating: 0, count: blockSize - k.count)
        let inner = hash(k.map { $0 ^ 0x36 } + message)
        return hash(k.map { $0 ^ 0x5c } + inner)
    }

    /// PBKDF2 with this HMAC, one block (SCRAM's Hi: the output is one hash long). The
    /// key's inner and outer pad blocks are compressed once; each iteration then costs two
    /// compressions, which keeps 4096 iterations quick even in debug builds.
    public func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        var k = password.count > blockSize ? hash(password) : password
        k += [UInt8](repeating: 0, count: blockSize - k.count)
        switch self {
        case .sha256:
            let inner = SHA256.state(afterBlock: k.map { $0 ^ 0x36 }), outer = SHA256.state(afterBlock: k.map { $0 ^ 0x5c })
            var u = SHA256.finish(outer, SHA256.finish(inner, salt + [0, 0, 0, 1], prefix: 64), prefix: 64)
            var out = u
            for _ in 1 ..< max(1, iterations) {
                u = SHA256.finish(outer, SHA256.finish(inner, u, prefix: 64), prefix: 64)
                for i in 0 ..< out.count { out[i] ^= u[i] }
            }
            return out
        case .sha512:
            let inner = SHA512.state(afterBlock: k.map { $0 ^ 0x36 }), outer = SHA512.state(afterBlock: k.map { $0 ^ 0x5c })
            var u = SHA512.finish(outer, SHA512.finish(inner, salt + [0, 0, 0, 1], prefix: 128), prefix: 128)
            var out = u
            for _ in 1 ..< max(1, iterations) {
                u = SHA512.finish(outer, SHA512.finish(inner, u, prefix: 128), prefix: 128)
                for i in 0 ..< out.count { out[i] ^= u[i] }
            }
            return out
        }
    }
}

private enum SHA256 {
    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    static let initial: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

    static func hash(_ message: [UInt8]) -> [UInt8] { finish(initial, message, prefix: 0) }

    /// The state after compressing one whole 64-byte block.
    static func state(afterBlock block: [UInt8]) -> [UInt32] {
        var h = initial
        compress(&h, block)
        return h
    }

    /// Finishes a hash whose first `prefix` bytes are already compressed into `state`.
    static func finish(_ state: [UInt32], _ message: [UInt8], prefix: Int) -> [UInt8] {
        var h = state
        var m = message
        let bitLength = UInt64(prefix + message.count) &* 8
        m.append(0x80)
        while m.count % 64 != 56 { m.append(0) }
        for i in (0 ..< 8).reversed() { m.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        compress(&h, m)
        return h.flatMap { v in (0 ..< 4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32($0))) } }
    }

    static func compress(_ h: inout [UInt32], _ m: [UInt8]) {
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: m.count, by: 64) {
            for i in 0 ..< 16 {
                let j = chunk + i * 4
                w[i] = UInt32(m[j]) << 24 | UInt32(m[j + 1]) << 16 | UInt32(m[j + 2]) << 8 | UInt32(m[j + 3])
            }
            for i in 16 ..< 64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
            for i in 0 ..< 64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
        }
    }
}

private enum SHA512 {
    static let k: [UInt64] = [
        0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
        0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
        0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
        0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
        0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
        0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
        0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
        0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
        0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
        0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
        0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
        0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
        0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
        0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
        0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
        0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
    ]

    static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { (x >> n) | (x << (64 - n)) }

    static let initial: [UInt64] = [
        0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
        0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
    ]

    static func hash(_ message: [UInt8]) -> [UInt8] { finish(initial, message, prefix: 0) }

    /// The state after compressing one whole 128-byte block.
    static func state(afterBlock block: [UInt8]) -> [UInt64] {
        var h = initial
        compress(&h, block)
        return h
    }

    /// Finishes a hash whose first `prefix` bytes are already compressed into `state`.
    static func finish(_ state: [UInt64], _ message: [UInt8], prefix: Int) -> [UInt8] {
        var h = state
        var m = message
        let bitLength = UInt64(prefix + message.count) &* 8
        m.append(0x80)
        while m.count % 128 != 112 { m.append(0) }
        m += [UInt8](repeating: 0, count: 8)
        for i in (0 ..< 8).reversed() { m.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        compress(&h, m)
        return h.flatMap { v in (0 ..< 8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }
    }

    static func compress(_ h: inout [UInt64], _ m: [UInt8]) {
        var w = [UInt64](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: m.count, by: 128) {
            for i in 0 ..< 16 {
                var v: UInt64 = 0
                for j in 0 ..< 8 { v = v << 8 | UInt64(m[chunk + i * 8 + j]) }
                w[i] = v
            }
            for i in 16 ..< 80 {
                let s0 = rotr(w[i - 15], 1) ^ rotr(w[i - 15], 8) ^ (w[i - 15] >> 7)
                let s1 = rotr(w[i - 2], 19) ^ rotr(w[i - 2], 61) ^ (w[i - 2] >> 6)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
            for i in 0 ..< 80 {
                let s1 = rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                let s0 = rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
        }
    }
}
