package dev.nexus.server;

import dev.nexus.config.NexusConfig;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Agent-aware rate limiting: token buckets per client IP (an IPv6 client's /64, {@link #clientOf}) and per authenticated pubkey, with
 * separate budgets for publishing, for job traffic (whatever {@code MarketplaceKinds} calls job
 * traffic) and for REQs, plus a cap on
 * connections per IP and on how often an IP may connect. Addresses in {@code exempt_ips} (by default loopback, where a local
 * reverse proxy would make every client look alike) skip the per-IP limits; the per-pubkey
 * budgets still apply to their authenticated agents. Pubkeys named in {@code [[rate_limits.pubkey]]}
 * get their own budgets instead of the default.
 */
public final class RateLimiter {
    public enum Kind { EVENTS, JOBS, REQS }

    /** A token bucket; a rate of zero means the budget is unlimited. */
    static final class TokenBucket {
        private final double perNano;
        private final double burst;
        private double tokens;
        private long last;

        TokenBucket(double perSecond, int burst) {
            this.perNano = perSecond / 1e9;
            this.burst = burst;
            this.tokens = burst;
            this.last = System.nanoTime();
        }

        synchronized boolean tryTake() {
            if (perNano == 0) return true;
            long now = System.nanoTime();
            tokens = Math.min(burst, tokens + (now - last) * perNano);
            last = now;
            if (tokens < 1) return false;
            tokens -= 1;
            return true;
        }

        synchronized boolean isFull() {
            long now = System.nanoTime();
            return perNano == 0 || Math.min(burst, tokens + (now - last) * perNano) >= burst;
        }
    }

    /** The three budgets of one IP or one pubkey. */
    public static final class Buckets {
        final TokenBucket events, jobs, reqs;

        Buckets(NexusConfig.Budget c) {
            events = new TokenBucket(c.eventsPerSecond(), c.eventsBurst());
            jobs = new TokenBucket(c.jobsPerSecond(), c.jobsBurst());
            reqs = new TokenBucket(c.reqsPerSecond(), c.reqsBurst());
        }

        public boolean tryTake(Kind kind) {
            return switch (kind) {
                case EVENTS -> events.tryTake();
                case JOBS -> jobs.tryTake();
                case REQS -> reqs.tryTake();
            };
        }

        boolean isIdle() {
            return events.isFull() && jobs.isFull() && reqs.isFull();
        }
    }

    private static final Buckets UNLIMITED = new Buckets(NexusConfig.Budget.UNLIMITED);

    private final NexusConfig.RateLimits config;
    private final Set<String> exempt;
    private final Map<String, Buckets> byIp = new ConcurrentHashMap<>();
    private final Map<String, Buckets> byPubkey = new ConcurrentHashMap<>();
    private final Map<String, Integer> connections = new ConcurrentHashMap<>();
    private final Map<String, TokenBucket> connecting = new ConcurrentHashMap<>();

    /** Why {@link #tryConnect} refused an address. */
    enum ConnectRefusal { NONE, TOO_MANY_OPEN, TOO_OFTEN }

    public RateLimiter(NexusConfig.RateLimits config) {
        this.config = config;
        Set<String> normalized = new java.util.HashSet<>();
        for (String ip : config.exemptIps()) {
            String n = IpAddresses.normalize(ip);
            normalized.add(n != null ? n : ip);
        }
        this.exempt = Set.copyOf(normalized);
    }

    public Buckets forIp(String ip) {
        if (exempt.contains(ip)) return UNLIMITED;
        return byIp.computeIfAbsent(clientOf(ip), k -> new Buckets(config.defaultBudget()));
    }

    /**
     * Whose budget an address spends: an IPv4 address's own, an IPv6 address's /64's. A provider
     * hands one subscriber (a home line, a cloud machine) at least a /64 and it may use any of those
     * 2^64 addresses: counted one by one, every per-address limit would be one new address away.
     */
    static String clientOf(String ip) {
        if (ip.indexOf(':') < 0) return ip;
        byte[] bytes = io.netty.util.NetUtil.createByteArrayFromIpAddressString(ip);
        if (bytes == null || bytes.length != 16) return ip;
        java.util.Arrays.fill(bytes, 8, 16, (byte) 0);
        try {
            return IpAddresses.of(java.net.InetAddress.getByAddress(bytes)) + "/64";
        } catch (java.net.UnknownHostException impossible) {
            return ip;
        }
    }

    public Buckets forPubkey(String pubkey) {
        return byPubkey.computeIfAbsent(pubkey, k -> new Buckets(config.budgetOf(pubkey)));
    }

    /**
     * Counts a new connection from {@code ip}: refused (and nothing counted) when the address has
     * {@code max_connections_per_ip} open already or connects more often than {@code connections_per_second}
     * (with {@code connections_burst} at once).
     */
    ConnectRefusal tryConnect(String ip, boolean countConnectRate) {
        if (exempt.contains(ip)) return ConnectRefusal.NONE;
        if (config.maxConnectionsPerIp() > 0) {
            boolean[] full = {false};
            // Counted under the key's lock: a close that empties the entry at the same moment cannot
            // orphan the count this connection adds.
            connections.compute(clientOf(ip), (k, n) -> {
                int open = n == null ? 0 : n;
                if (open >= config.maxConnectionsPerIp()) {
                    full[0] = true;
                    return n;
                }
                return open + 1;
            });
            if (full[0]) return ConnectRefusal.TOO_MANY_OPEN;
        }
        if (countConnectRate && connectsTooOften(ip)) {
            disconnected(ip);
            return ConnectRefusal.TOO_OFTEN;
        }
        return ConnectRefusal.NONE;
    }

    /**
     * Takes one connection from {@code ip}'s budget; true when it has none left. Checked on accept
     * against the socket's address when clients connect directly (refused before a byte is read: a
     * refusal after the HTTP request still cost ≈ 0.2 ms of CPU, and one address churning
     * connections kept 0.64 of a core busy that way), and behind a proxy ({@code real_ip_header})
     * at the upgrade, against the address the header names.
     */
    boolean connectsTooOften(String ip) {
        if (exempt.contains(ip) || config.connectionsPerSecond() == 0) return false;
        return !connecting.computeIfAbsent(clientOf(ip), k -> new TokenBucket(config.connectionsPerSecond(), config.connectionsBurst())).tryTake();
    }

    void disconnected(String ip) {
        if (config.maxConnectionsPerIp() == 0 || exempt.contains(ip)) return;
        connections.computeIfPresent(clientOf(ip), (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Forgets buckets that have refilled completely, so idle clients cost no memory. */
    void evictIdle() {
        byIp.values().removeIf(Buckets::isIdle);
        connecting.values().removeIf(TokenBucket::isFull);
        byPubkey.values().removeIf(Buckets::isIdle);
    }
}
