import Testing
import KafkaCrypto

private func hex(_ b: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(b.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
}

/// SHA-2, HMAC, PBKDF2 and base64 against published vectors (FIPS 180-4, RFC 4231,
/// RFC 7914 §11 / RFC 6070's inputs, RFC 4648). Both SCRAM sides (the engine and FakeCluster)
/// use these; the arithmetic is swift-crypto's, and these pin that we call it as SCRAM means
/// (which hash, one block of PBKDF2 output, standard padded base64).
@Suite struct DigestTests {
    @Test func sha256Vectors() {
        #expect(hex(Digest.sha256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(Digest.sha256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Two blocks (FIPS 180-4 example).
        #expect(hex(Digest.sha256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func sha512Vectors() {
        #expect(hex(Digest.sha512.hash(Array("abc".utf8)))
            == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        #expect(hex(Digest.sha512.hash([]))
            == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
    }

    @Test func hmacRFC4231Case2() {
        let key = Array("Jefe".utf8), msg = Array("what do ya want for nothing?".utf8)
        #expect(hex(Digest.sha256.hmac(key: key, msg)) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(hex(Digest.sha512.hmac(key: key, msg))
            == "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
    }

    @Test func hmacLongKeyIsHashedFirst() {
        // RFC 4231 test case 6: a 131-byte key.
        let key = [UInt8](repeating: 0xaa, count: 131)
        let msg = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        #expect(hex(Digest.sha256.hmac(key: key, msg)) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(hex(Digest.sha512.hmac(key: key, msg))
            == "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598")
    }

    /// PBKDF2 as SCRAM's Hi: one hash-long block, at SCRAM's usual 4096 iterations too.
    @Test func pbkdf2Vectors() {
        let password = Array("password".utf8), salt = Array("salt".utf8)
        #expect(hex(Digest.sha256.pbkdf2(password: password, salt: salt, iterations: 1))
            == "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")
        #expect(hex(Digest.sha256.pbkdf2(password: password, salt: salt, iterations: 4096))
            == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        #expect(hex(Digest.sha512.pbkdf2(password: password, salt: salt, iterations: 1))
            == "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce")
        #expect(hex(Digest.sha512.pbkdf2(password: password, salt: salt, iterations: 4096))
            == "d197b1b33db0143e018b12f3d1d1479e6cdebdcc97c5c0f87f6902e072f457b5143f30602641b3d55cd335988cb36b84376060ecd532e039b742a239434af2d5")
    }

    @Test func base64RoundTrip() {
        #expect(Base64.encode(Array("n,,".utf8)) == "biws")
        #expect(Base64.encode([0xff]) == "/w==")
        #expect(Base64.decode("W22ZaJ0SNY7soEsUEjb6gQ==")?.count == 16)
        #expect(Base64.decode("abc") == nil)
        #expect(Base64.decode("a$c=") == nil)
        // SCRAM's attributes are padded base64 with nothing else in them (RFC 5802 §7).
        #expect(Base64.decode("Zg") == nil)
        #expect(Base64.decode("Zm 9v") == nil)
        #expect(Base64.decode("Zg=a") == nil)
        #expect(Base64.decode("Zh==") == nil) // spare bits set: "Zg==" is the encoding of 0x66
        #expect(Base64.decode("Zg==") == [0x66])
        #expect(Base64.decode("") == [])
        for n in 0 ..< 10 {
            let bytes = (0 ..< n).map { UInt8($0 * 37 & 0xff) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }

    @Test func pbkdf2AndMoreVectors() {
        let abc = Array("abc".utf8)
        #expect(hex(Digest.sha256.hash(abc)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(Digest.sha512.hash(abc)).hasPrefix("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"))
        // RFC 4231 test case 2.
        #expect(hex(Digest.sha256.hmac(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // PBKDF2-HMAC-SHA256("password", "salt", 2).
        #expect(hex(Digest.sha256.pbkdf2(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 2))
            == "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43")
        // PBKDF2 agrees with its definition (RFC 8018 §5.2) iterated over our HMAC, SHA-512 too.
        for d in [Digest.sha256, .sha512] {
            var u = d.hmac(key: Array("pw".utf8), Array("salt".utf8) + [0, 0, 0, 1])
            var slow = u
            for _ in 1 ..< 3 { u = d.hmac(key: Array("pw".utf8), u); for i in 0 ..< slow.count { slow[i] ^= u[i] } }
            #expect(d.pbkdf2(password: Array("pw".utf8), salt: Array("salt".utf8), iterations: 3) == slow)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy" && Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm9vYg==") == Array("foob".utf8))
    }

}
