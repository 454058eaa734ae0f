package dev.nexus.core;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the fastest verifier that works on this machine. */
public final class SignatureVerifiers {
    private static final Logger log = LoggerFactory.getLogger(SignatureVerifiers.class);

    private SignatureVerifiers() {}

    public static SignatureVerifier best() {
        try {
            SignatureVerifier jni = new Secp256k1Verifier();
            // A self-check with a known-valid BIP-340 vector proves the native library really loaded.
            if (jni.verify(Hex.decode("f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"),
                    Hex.decode("0000000000000000000000000000000000000000000000000000000000000000"),
                    Hex.decode("e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca821525f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0"))) {
                return jni;
            }
            log.warn("libsecp256k1 loaded but failed its self-check; using the pure-Java verifier");
        } catch (Throwable t) {
            Throwable cause = t;
            while (cause.getCause() != null && cause.getCause() != cause) cause = cause.getCause();
            log.warn("libsecp256k1 is unavailable ({}); using the pure-Java verifier, which costs several times the CPU per event",
                    cause == t ? t.toString() : t.getClass().getSimpleName() + ": " + cause);
        }
        return new BouncyCastleVerifier();
    }
}
