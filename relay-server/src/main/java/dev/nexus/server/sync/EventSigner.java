package dev.nexus.server.sync;

import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.Hex;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.BIP340Signer;

/**
 * The key this relay (or the sync command) authenticates with to peers that ask (NIP-42): BIP-340
 * signatures by BouncyCastle, pure Java, so signing works wherever the relay runs.
 */
public final class EventSigner {
    /** The environment variable that holds the hex secret key; it wins over {@code [sync] secret_key_file}. */
    public static final String ENVIRONMENT_VARIABLE = "NEXUS_SYNC_SECRET_KEY";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final ECPrivateKeyParameters secret;
    private final String pubkey;

    private EventSigner(byte[] secret32) {
        BigInteger d = new BigInteger(1, secret32);
        if (d.signum() == 0 || d.compareTo(BIP340Signer.getDomain().getN()) >= 0) {
            throw new IllegalArgumentException("the secret key is not a valid secp256k1 scalar");
        }
        this.secret = new ECPrivateKeyParameters(d, BIP340Signer.getDomain());
        byte[] x = BIP340Signer.getDomain().getG().multiply(d).normalize().getAffineXCoord().getEncoded();
        this.pubkey = Hex.encode(x);
    }

    /** From 64 hex characters (surrounding whitespace ignored). */
    public static EventSigner fromHex(String hex) {
        String h = hex.strip().toLowerCase();
        if (h.length() != 64 || !Hex.isLowerHex(h, 32)) throw new IllegalArgumentException("the secret key must be 64 hex characters");
        return new EventSigner(Hex.decode(h));
    }

    /**
     * The key from {@value #ENVIRONMENT_VARIABLE} if set, else from {@code keyFile} if not empty,
     * else null (the sync then cannot authenticate, and says so when a peer asks).
     */
    public static EventSigner fromEnvironmentOrFile(String environmentValue, String keyFile) {
        if (environmentValue != null && !environmentValue.isBlank()) {
            try {
                return fromHex(environmentValue);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(ENVIRONMENT_VARIABLE + ": " + e.getMessage());
            }
        }
        if (keyFile == null || keyFile.isEmpty()) return null;
        try {
            return fromHex(Files.readString(Path.of(keyFile)));
        } catch (IOException e) {
            throw new IllegalArgumentException("[sync] secret_key_file: cannot read " + keyFile + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[sync] secret_key_file " + keyFile + ": " + e.getMessage());
        }
    }

    public String pubkey() {
        return pubkey;
    }

    public Event sign(int kind, List<List<String>> tags, String content, long createdAt) {
        List<List<String>> copy = new ArrayList<>();
        for (List<String> t : tags) copy.add(List.copyOf(t));
        String id = EventJson.computeId(pubkey, createdAt, kind, copy, content);
        BIP340Signer signer = new BIP340Signer();
        signer.init(true, new ParametersWithRandom(secret, RANDOM));
        byte[] message = Hex.decode(id);
        signer.update(message, 0, message.length);
        String sig = Hex.encode(signer.generateSignature());
        return new Event(id, pubkey, createdAt, kind, List.copyOf(copy), content, sig);
    }

    /** The NIP-42 answer to {@code challenge} from the relay at {@code relayUrl}. */
    public Event authEvent(String relayUrl, String challenge) {
        return sign(22242, List.of(List.of("relay", relayUrl), List.of("challenge", challenge)), "", System.currentTimeMillis() / 1000);
    }
}
