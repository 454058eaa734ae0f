package dev.nexus.server;

/** Every NIP-01 test of {@link Nip01RelayTest}, through a relay whose store is LMDB ([storage] backend = "lmdb"). */
class Nip01OnLmdbRelayTest extends Nip01RelayTest {
    @Override
    protected String storageToml() {
        return "[storage]\nbackend = \"lmdb\"\n";
    }
}
