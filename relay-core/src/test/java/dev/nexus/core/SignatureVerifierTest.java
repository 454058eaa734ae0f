package dev.nexus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.testing.NostrKey;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SignatureVerifierTest {
    private static final List<SignatureVerifier> VERIFIERS = List.of(new Secp256k1Verifier(), new BouncyCastleVerifier());

    /** The official BIP-340 test vectors (bip-0340/test-vectors.csv), for both verifiers. */
    static Stream<Arguments> bip340Vectors() throws Exception {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                SignatureVerifierTest.class.getResourceAsStream("/bip340-test-vectors.csv"), StandardCharsets.UTF_8))) {
            return r.lines().skip(1).map(line -> line.split(",", -1))
                    .flatMap(f -> VERIFIERS.stream().map(v -> Arguments.of(f[0], v, f[2], f[4], f[5], Boolean.parseBoolean(f[6].toLowerCase(Locale.ROOT)), f[7])))
                    .toList().stream();
        }
    }

    @ParameterizedTest(name = "vector {0} with {1}")
    @MethodSource("bip340Vectors")
    void verifiesTheOfficialBip340Vectors(String index, SignatureVerifier verifier, String pubkey, String message, String signature,
                                          boolean expected, String comment) {
        boolean actual = verifier.verify(Hex.decode(pubkey.toLowerCase(Locale.ROOT)), Hex.decode(message.toLowerCase(Locale.ROOT)),
                Hex.decode(signature.toLowerCase(Locale.ROOT)));
        assertEquals(expected, actual, "vector " + index + " " + comment);
    }

    @Test
    void bothVerifiersAgreeOnRealEventsAndOnTamperedOnes() {
        NostrKey key = NostrKey.generate();
        for (int i = 0; i < 20; i++) {
            Event e = key.sign(1, List.of(List.of("t", "x" + i)), "note " + i);
            for (SignatureVerifier v : VERIFIERS) assertTrue(v.verify(e), v.name());
            String badSig = (e.sig().charAt(0) == 'a' ? "b" : "a") + e.sig().substring(1);
            Event tampered = new Event(e.id(), e.pubkey(), e.createdAt(), e.kind(), e.tags(), e.content(), badSig);
            for (SignatureVerifier v : VERIFIERS) assertFalse(v.verify(tampered), v.name());
        }
    }

    @Test
    void bestVerifierIsTheNativeOneOnThisMachine() {
        assertEquals("libsecp256k1 (JNI)", SignatureVerifiers.best().name());
    }
}
