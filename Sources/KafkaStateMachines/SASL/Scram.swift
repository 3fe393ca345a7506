import KafkaCrypto

public enum ScramAlgorithm: Sendable, Equatable, Hashable {
    case sha256, sha512

    public var mechanismName: String { self == .sha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512" }

    var digest: Digest { self == .sha256 ? .sha256 : .sha512 }
    func hmac(_ message: [UInt8], key: [UInt8]) -> [UInt8] { digest.hmac(key: key, message) }
    func hash(_ message: [UInt8]) -> [UInt8] { digest.hash(message) }
    /// SCRAM's Hi(password, salt, i): PBKDF2 with HMAC, one block (RFC 5802 2.2).
    func hi(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        digest.pbkdf2(password: password, salt: salt, iterations: iterations)
    }
}

/// The client side of SCRAM (RFC 5802, RFC 7677) without channel binding, as Kafka uses it.
package struct ScramSession: SaslSession {
    /// A server asking for more iterations than this is refused rather than obeyed: a hostile
    /// peer could otherwise pin the engine's thread for minutes.
    public static let maxIterations = 1_000_000

    let algorithm: ScramAlgorithm
    let username: String, password: String, clientNonce: String
    /// SCRAM extensions (RFC 5802 §5.1 leaves room for them after the nonce; KIP-48 uses
    /// `tokenauth=true`), sent sorted by key.
    let extensions: [String: String]
    /// The extension marking a delegation token login.
    static let tokenExtensions = ["tokenauth": "true"]
    private enum Phase: Sendable { case initial, sentFirst(bare: String), sentFinal(serverSignature: [UInt8]), done }
    private var phase = Phase.initial
    public var mechanism: String { algorithm.mechanismName }
    /// Salted passwords derived before; consulted before running PBKDF2.
    let known: ScramSaltedPasswords
    /// The salted password this exchange had to derive (nil when it was known): the owner
    /// remembers it for later exchanges.
    private(set) var derived: ScramSaltedPasswords.Entry?

    public init(algorithm: ScramAlgorithm, username: String, password: String, clientNonce: String,
                known: ScramSaltedPasswords = ScramSaltedPasswords(), extensions: [String: String] = [:]) {
        self.algorithm = algorithm
        self.username = username
        self.password = password
        self.clientNonce = clientNonce
        self.known = known
        self.extensions = extensions
    }

    private func fail(_ reason: String) -> KafkaClientError { .saslProtocolError(mechanism: mechanism, reason: reason) }

    public mutating func step(_ serverMessage: [UInt8]?) throws(KafkaClientError) -> SaslStep {
        switch phase {
        case .initial:
            // saslname escaping (RFC 5802 §5.1): "=" and "," are written as =3D and =2C.
            let name = username.replacingAll("=", with: "=3D").replacingAll(",", with: "=2C")
            var bare = "n=\(name),r=\(clientNonce)"
            for key in extensions.keys.sorted() { bare += ",\(key)=\(extensions[key]!)" }
            phase = .sentFirst(bare: bare)
            return .send(Array("n,,\(bare)".utf8))

        case .sentFirst(let bare):
            let serverFirst = String(decoding: serverMessage ?? [], as: UTF8.self)
            let attrs = Self.attributes(serverFirst)
            if let e = attrs["e"] { throw .saslAuthenticationFailed(mechanism: mechanism, message: e) }
            guard let nonce = attrs["r"], nonce.hasPrefix(clientNonce), nonce.utf8.count > clientNonce.utf8.count else {
                throw fail("server nonce does not extend the client nonce")
            }
            guard let saltText = attrs["s"], let salt = Base64.decode(saltText) else { throw fail("missing or invalid salt") }
            guard let iterText = attrs["i"], let iterations = Int(iterText), iterations >= 1, iterations <= Self.maxIterations else {
                throw fail("missing or unacceptable iteration count")
            }
            let withoutProof = "c=biws,r=\(nonce)" // biws = base64("n,,")
            let authMessage = Array("\(bare),\(serverFirst),\(withoutProof)".utf8)
            let key = ScramSaltedPasswords.Key(algorithm: algorithm, username: username, salt: salt, iterations: iterations)
            let salted: [UInt8]
            if let cached = known.lookup(key) {
                salted = cached
            } else {
                salted = algorithm.hi(Array(password.utf8), salt: salt, iterations: iterations)
                derived = ScramSaltedPasswords.Entry(key: key, saltedPassword: salted)
            }
            let clientKey = algorithm.hmac(Array("Client Key".utf8), key: salted)
            let storedKey = algorithm.hash(clientKey)
            let clientSignature = algorithm.hmac(authMessage, key: storedKey)
            var proof = clientKey
            for i in 0 ..< proof.count { proof[i] ^= clientSignature[i] }
            let serverKey = algorithm.hmac(Array("Server Key".utf8), key: salted)
            phase = .sentFinal(serverSignature: algorithm.hmac(authMessage, key: serverKey))
            return .send(Array("\(withoutProof),p=\(Base64.encode(proof))".utf8))

        case .sentFinal(let expected):
            let attrs = Self.attributes(String(decoding: serverMessage ?? [], as: UTF8.self))
            if let e = attrs["e"] { throw .saslAuthenticationFailed(mechanism: mechanism, message: e) }
            guard let v = attrs["v"], let signature = Base64.decode(v), signature == expected else {
                // The server could not prove it knows the password: it may be an impostor.
                throw fail("server signature does not verify")
            }
            phase = .done
            return .done

        case .done:
            return .done
        }
    }

    /// "k=v,k=v" attributes; a value may itself contain "=" (base64 padding).
    private static func attributes(_ message: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in message.split(separator: ",", omittingEmptySubsequences: true) {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let key = String(part[part.startIndex ..< eq])
            if out[key] == nil { out[key] = String(part[part.index(after: eq)...]) }
        }
        return out
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
