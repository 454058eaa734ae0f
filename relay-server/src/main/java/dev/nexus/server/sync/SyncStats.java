package dev.nexus.server.sync;

import dev.nexus.config.NexusConfig.SyncDirection;
import java.util.Locale;

/** What one sync did: the summary line of {@code nexus sync} and of each round of a configured peer. */
public final class SyncStats {
    final String url;
    final SyncDirection direction;
    int roundTrips;
    int reconciliations;
    long bytesSent;
    long bytesReceived;
    /** Of those, what the reconciliation itself took (NEG-OPEN/MSG/CLOSE and their answers, plus AUTH if asked). */
    long reconcileBytesSent;
    long reconcileBytesReceived;
    /** Ids this side has and the peer lacks, and the other way round. */
    long have;
    long need;
    /** Down: stored here, already here, refused by this relay's rules, invalid (bad id or signature), not served by the peer. */
    long fetched;
    long fetchedDuplicate;
    long fetchRefused;
    long fetchInvalid;
    long unavailable;
    /** Up: accepted by the peer (new or already there), refused by its rules, and refused for a reason a retry could fix. */
    long published;
    long publishRefused;
    long publishFailed;
    long elapsedNanos;
    boolean authenticated;

    SyncStats(String url, SyncDirection direction) {
        this.url = url;
        this.direction = direction;
    }

    public int roundTrips() { return roundTrips; }
    public long bytesSent() { return bytesSent; }
    public long bytesReceived() { return bytesReceived; }
    public long reconcileBytesSent() { return reconcileBytesSent; }
    public long reconcileBytesReceived() { return reconcileBytesReceived; }
    public int sessions() { return reconciliations; }
    public long have() { return have; }
    public long need() { return need; }
    public long fetched() { return fetched; }
    public long fetchRefused() { return fetchRefused; }
    public long fetchInvalid() { return fetchInvalid; }
    public long published() { return published; }
    public long publishRefused() { return publishRefused; }
    public long publishFailed() { return publishFailed; }
    public long elapsedNanos() { return elapsedNanos; }

    /** Events moved either way. */
    public long moved() {
        return fetched + published;
    }

    /**
     * Whether something went wrong that the operator should look at: the peer sent invalid events,
     * or refused ours for a reason other than its rules (auth, rate limits, errors).
     */
    public boolean hasFailures() {
        return fetchInvalid > 0 || publishFailed > 0;
    }

    public String summary() {
        return String.format(Locale.ROOT,
                "sync %s %s: %d negentropy round trips (NEG-OPEN %d, sent %s, received %s); total sent %s, received %s; have %d, need %d; "
                        + "fetched %d (duplicate %d, refused %d, invalid %d, unavailable %d); published %d (refused %d, failed %d)%s; %.2f s",
                url, direction.name().toLowerCase(Locale.ROOT), roundTrips, reconciliations, bytes(reconcileBytesSent), bytes(reconcileBytesReceived),
                bytes(bytesSent), bytes(bytesReceived),
                have, need, fetched, fetchedDuplicate, fetchRefused, fetchInvalid, unavailable, published, publishRefused, publishFailed,
                authenticated ? "; authenticated" : "", elapsedNanos / 1e9);
    }

    static String bytes(long n) {
        if (n < 10_000) return n + " B";
        if (n < 10_000_000) return String.format(Locale.ROOT, "%.1f kB", n / 1e3);
        return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
    }

    @Override
    public String toString() {
        return summary();
    }
}
