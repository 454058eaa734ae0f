package dev.nexus.core;

import fr.acinq.secp256k1.Secp256k1;

/** libsecp256k1 through the ACINQ JNI binding: about 3x faster than the pure-Java verifier. */
public final class Secp256k1Verifier implements SignatureVerifier {
    private final Secp256k1 secp = Secp256k1.Companion.get();

    @Override
    public boolean verify(byte[] pubkey32, byte[] message32, byte[] signature64) {
        try {
            return secp.verifySchnorr(signature64, message32, pubkey32);
        } catch (RuntimeException e) {
            // The binding throws rather than returning false for a pubkey that is not on the curve.
            return false;
        }
    }

    @Override
    public String name() {
        return "libsecp256k1 (JNI)";
    }
}
