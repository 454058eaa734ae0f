package dev.nexus.core;

import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.BIP340Signer;

/** Pure-Java BIP-340 verification: the fallback when the native library cannot load. */
public final class BouncyCastleVerifier implements SignatureVerifier {
    @Override
    public boolean verify(byte[] pubkey32, byte[] message32, byte[] signature64) {
        try {
            ECPublicKeyParameters key = BIP340Signer.decodePublicKey(pubkey32);
            BIP340Signer signer = new BIP340Signer();
            signer.init(false, key);
            signer.update(message32, 0, message32.length);
            return signer.verifySignature(signature64);
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public String name() {
        return "BouncyCastle BIP340Signer (pure Java)";
    }
}
