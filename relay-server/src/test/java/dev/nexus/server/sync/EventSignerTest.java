package dev.nexus.server.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nexus.core.BouncyCastleVerifier;
import dev.nexus.core.Event;
import dev.nexus.core.Secp256k1Verifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventSignerTest {
    /** BIP-340 test vector 0: secret key 3. */
    private static final String SECRET = "0000000000000000000000000000000000000000000000000000000000000003";
    private static final String PUBKEY = "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";
    @TempDir Path dir;

    @Test
    void derivesTheBip340PublicKeyAndSignsEventsBothVerifiersAccept() {
        EventSigner signer = EventSigner.fromHex(SECRET);
        assertEquals(PUBKEY, signer.pubkey());
        Event auth = signer.authEvent("wss://relay.example", "challenge-1");
        assertEquals(22242, auth.kind());
        assertEquals(List.of(List.of("relay", "wss://relay.example"), List.of("challenge", "challenge-1")), auth.tags());
        assertTrue(new BouncyCastleVerifier().verify(auth));
        assertTrue(new Secp256k1Verifier().verify(auth));
        for (int i = 0; i < 20; i++) {
            EventSigner random = EventSigner.fromHex(String.format("%064x", new java.math.BigInteger(250, new java.util.Random(i)).add(java.math.BigInteger.ONE)));
            assertTrue(new Secp256k1Verifier().verify(random.sign(1, List.of(), "note " + i, 1_700_000_000L + i)));
        }
        Event tampered = new Event(auth.id(), "a".repeat(64), auth.createdAt(), auth.kind(), auth.tags(), auth.content(), auth.sig());
        assertFalse(new BouncyCastleVerifier().verify(tampered));
    }

    @Test
    void theEnvironmentWinsOverTheKeyFileAndBadKeysAreErrors() throws Exception {
        Path file = dir.resolve("key");
        Files.writeString(file, "  " + SECRET.replace("3", "5") + "\n");
        assertEquals(PUBKEY, EventSigner.fromEnvironmentOrFile(SECRET, file.toString()).pubkey());
        assertEquals(EventSigner.fromHex(SECRET.replace("3", "5")).pubkey(), EventSigner.fromEnvironmentOrFile(null, file.toString()).pubkey());
        assertNull(EventSigner.fromEnvironmentOrFile("", ""));
        assertThrows(IllegalArgumentException.class, () -> EventSigner.fromHex("00".repeat(32)));
        assertThrows(IllegalArgumentException.class, () -> EventSigner.fromHex("ff".repeat(32)));
        assertThrows(IllegalArgumentException.class, () -> EventSigner.fromHex("nsec1abc"));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> EventSigner.fromEnvironmentOrFile(null, dir.resolve("none").toString()));
        assertTrue(missing.getMessage().contains("secret_key_file"), missing.getMessage());
    }
}
