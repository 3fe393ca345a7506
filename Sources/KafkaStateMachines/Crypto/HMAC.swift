/// HMAC (RFC 2104) over one of our hash functions.
public enum HMAC<H: HashFunction> {
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var k = key.count > H.blockSize ? H.hash(key) : key
        k += [UInt8](repeating: 0, count: H.blockSize - k.count)
        let inner = H.hash(k.map { $0 ^ 0x36 } + message)
        return H.hash(k.map { $0 ^ 0x5c } + inner)
    }
}

/// PBKDF2 with HMAC as the PRF, one block of output: SCRAM's Hi(str, salt, i) (RFC 5802 §2.2).
public func scramHi<H: HashFunction>(_ hash: H.Type, password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
    var u = HMAC<H>.authenticate(salt + [0, 0, 0, 1], key: password)
    var result = u
    if iterations > 1 {
        for _ in 2 ... iterations {
            u = HMAC<H>.authenticate(u, key: password)
            for i in 0 ..< result.count { result[i] ^= u[i] }
        }
    }
    return result
}
