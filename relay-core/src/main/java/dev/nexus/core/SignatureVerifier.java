package dev.nexus.core;

/** BIP-340 Schnorr verification of an event's signature over its 32-byte id. */
public interface SignatureVerifier {
    /** False for any invalid input, including a pubkey that is not an x-coordinate on the curve. */
    boolean verify(byte[] pubkey32, byte[] message32, byte[] signature64);

    String name();

    default boolean verify(Event event) {
        return verify(Hex.decode(event.pubkey()), Hex.decode(event.id()), Hex.decode(event.sig()));
    }
}
