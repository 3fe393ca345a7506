import Testing
@testable import KafkaProtocol

@Suite struct PrimitivesTests {
    @Test func varintRoundTripAndZigZag() throws {
        let values: [Int32] = [0, -1, 1, 63, -64, 64, Int32.max, Int32.min, 300, -300]
        for v in values {
            var w = ByteWriter()
            w.writeVarint(v)
            var r = ByteReader(w.bytes)
            #expect(try r.readVarint("v") == v)
            #expect(r.isAtEnd)
        }
        var w = ByteWriter()
        w.writeVarint(-1)
        #expect(w.bytes == [0x01])
        w = ByteWriter()
        w.writeVarint(1)
        #expect(w.bytes == [0x02])
        w = ByteWriter()
        w.writeUnsignedVarint(300)
        #expect(w.bytes == [0xAC, 0x02])
    }

    @Test func overlongVarintIsATypedError() {
        var r = ByteReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: KafkaDecodingError(field: "x", offset: 0, kind: .varintTooLong)) { try r.readUnsignedVarint("x") }
        var r2 = ByteReader([0x80, 0x80])
        #expect(throws: KafkaDecodingError(field: "y", offset: 2, kind: .truncated(needed: 1, available: 0))) { try r2.readUnsignedVarint("y") }
    }

    @Test func lengthsPastTheEndAreRejectedBeforeAllocating() {
        // An array claiming 2^31-1 elements in a 4-byte input.
        var r = ByteReader([0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: KafkaDecodingError(field: "a", offset: 0, kind: .lengthPastEnd(length: Int(Int32.max), available: 0))) {
            try r.readArrayLength(compact: false, "a")
        }
        var s = ByteReader([0xFF, 0xFE])
        #expect(throws: KafkaDecodingError(field: "s", offset: 0, kind: .negativeLength(-2))) { try s.readNullableString(compact: false, "s") }
    }

    @Test func stringsAndNulls() throws {
        var w = ByteWriter()
        try w.writeNullableString(nil, compact: false)
        try w.writeNullableString(nil, compact: true)
        try w.writeString("héllo", compact: true)
        try w.writeString("x", compact: false)
        #expect(w.bytes == [0xFF, 0xFF, 0x00, 0x07, 0x68, 0xC3, 0xA9, 0x6C, 0x6C, 0x6F, 0x00, 0x01, 0x78])
        var r = ByteReader(w.bytes)
        #expect(try r.readNullableString(compact: false, "a") == nil)
        #expect(try r.readNullableString(compact: true, "b") == nil)
        #expect(try r.readString(compact: true, "c") == "héllo")
        #expect(try r.readString(compact: false, "d") == "x")
        var bad = ByteReader([0x00, 0x02, 0xC3, 0x28])
        #expect(throws: KafkaDecodingError(field: "e", offset: 0, kind: .invalidUTF8)) { try bad.readString(compact: false, "e") }
    }

    @Test func uuidPrintsAsKafkaDoes() {
        // Kafka prints Uuid(0, 1) as "AAAAAAAAAAAAAAAAAAAAAQ".
        #expect(KafkaUUID(high: 0, low: 1).description == "AAAAAAAAAAAAAAAAAAAAAQ")
    }

    @Test func seededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 42)
        var b = SeededGenerator(seed: 42)
        for _ in 0 ..< 100 { #expect(a.next() == b.next()) }
    }
}
