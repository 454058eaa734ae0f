package dev.nexus.server.warmup;

import dev.nexus.config.ConfigException;
import dev.nexus.config.NexusConfig;
import dev.nexus.server.NexusServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before the relay binds its port, sends a throwaway relay on a loopback port the traffic the real
 * one will see: signed events published over WebSocket (verified, stored, acknowledged), live
 * subscriptions they are delivered to, and stored queries (REQ, COUNT). The throwaway relay stores
 * in a temporary SQLite file that is deleted afterwards; the operator's store is never opened here.
 *
 * <p>Why: on the operator's command the JVM starts interpreting. A relay benchmarked a second after
 * it started spent a third more CPU per query and 15% more per event than the same relay a minute
 * later (issue 16, W1/W3, 2026-12-06), because the JIT had not compiled the paths yet. The code it
 * compiles here is the relay's own, so the first real client meets it compiled. What it costs is
 * about a second of start-up and a few MiB of compiled code; {@code [server] warm_up = false} turns
 * it off.
 */
public final class JitWarmup {
    private static final Logger log = LoggerFactory.getLogger(JitWarmup.class);
    private static final long DEADLINE_MILLIS = 30_000;
    static final String DIR_PREFIX = "nexus-warmup-";
    static final long LEFTOVER_AGE_MILLIS = TimeUnit.MINUTES.toMillis(10);

    /**
     * What the warm-up did, for its log line and tests. {@code superseded}: versions of a replaceable
     * event answered OK false ("duplicate:") because a newer version of the same address was stored
     * first. One connection's events are verified in parallel, so two versions sent close together can
     * reach the writer in either order; the newer one is kept either way.
     */
    public record Report(int published, int accepted, int superseded, long liveDeliveries, int queries, int answered, long millis) {}

    private JitWarmup() {}

    /**
     * Runs the warm-up in a temporary directory; empty (with one log line saying why) if it could
     * not, or as soon as {@code stopRequested} says the relay is being stopped. Never throws.
     */
    public static Optional<Report> run(NexusConfig operator, BooleanSupplier stopRequested) {
        return run(operator, scratchParent(Path.of(System.getProperty("java.io.tmpdir")), operator), WarmupTraffic.STANDARD, stopRequested);
    }

    /** The temporary directory, or where it cannot be written (a read-only root file system) the relay's data directory. */
    static Path scratchParent(Path tmp, NexusConfig operator) {
        if (Files.isWritable(tmp)) return tmp;
        return dev.nexus.server.NativeLibraries.dataDirectory(operator.storage()).orElse(tmp);
    }

    static Optional<Report> run(NexusConfig operator, Path tempParent, WarmupTraffic.Shape shape, BooleanSupplier stopRequested) {
        long start = System.nanoTime();
        Deadline deadline = new Deadline(start + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MILLIS), stopRequested);
        WarmupTraffic traffic;
        try {
            traffic = WarmupTraffic.signed(shape, System.currentTimeMillis() / 1000);
        } catch (Throwable noSigner) { // LinkageError when the native library cannot load
            // The relay verifies with BouncyCastle when libsecp256k1 cannot load, but has nothing to sign with then.
            log.info("JIT warm-up skipped: cannot sign its events ({})", noSigner.toString());
            return Optional.empty();
        }
        Path dir = null;
        NexusServer relay = null;
        ExecutorService clientThreads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "nexus-warmup-client");
            t.setDaemon(true);
            return t;
        });
        try (QuietLogs quiet = QuietLogs.below("dev.nexus", "dev.nexus.server.Main")) {
            try {
                dir = Files.createTempDirectory(tempParent, DIR_PREFIX);
                removeLeftovers(tempParent, Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS), dir);
                relay = new NexusServer(throwawayConfig(operator, dir.resolve("warmup.db")));
                relay.start();
                // Never through a proxy the operator configured for the JVM: this traffic is loopback only.
                HttpClient http = HttpClient.newBuilder().executor(clientThreads).proxy(HttpClient.Builder.NO_PROXY).build();
                URI uri = URI.create("ws://127.0.0.1:" + relay.port() + "/");
                return Optional.of(drive(http, uri, shape, traffic, deadline, start));
            } finally {
                if (relay != null) relay.close();
                clientThreads.shutdownNow();
            }
        } catch (CancellationException stopping) {
            log.info("JIT warm-up cancelled: the relay is stopping");
            return Optional.empty();
        } catch (Throwable e) { // a warm-up that fails for any reason must not keep the relay from starting
            log.warn("JIT warm-up stopped: {}; the relay starts without it", e.toString());
            return Optional.empty();
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * Defaults, on a loopback port and a temporary file, open to anyone, without metrics; the operator's
     * fan-out pacing, and the operator's embedded engine (LMDB or SQLite: a PostgreSQL relay warms up on
     * SQLite, so the shared database never sees throwaway events) so its code is the code compiled.
     */
    static NexusConfig throwawayConfig(NexusConfig operator, Path db) throws ConfigException {
        String path = db.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\"");
        return NexusConfig.parse("""
                [server]
                bind = "127.0.0.1:0"
                warm_up = false
                live_coalesce_millis = %d
                [storage]
                backend = "%s"
                path = "%s"
                lmdb_map_bytes = 1073741824
                [auth]
                required = false
                [metrics]
                enabled = false
                summary_log_seconds = 0
                [rate_limits]
                exempt_ips = ["127.0.0.1"]
                """.formatted(operator.server().liveCoalesceMillis(), operator.storage().backend() == NexusConfig.Backend.LMDB ? "lmdb" : "sqlite", path));
    }

    private static Report drive(HttpClient http, URI uri, WarmupTraffic.Shape shape, WarmupTraffic traffic, Deadline deadline, long start)
            throws Exception {
        List<LoopbackSocket> sockets = new ArrayList<>();
        try {
            // Live subscribers first, so that publishing fans out to them.
            AtomicLong delivered = new AtomicLong();
            CountDownLatch subscribed = new CountDownLatch(shape.subscribers());
            for (int i = 0; i < shape.subscribers(); i++) {
                LoopbackSocket s = LoopbackSocket.open(http, uri, deadline, message -> {
                    if (message.startsWith("[\"EVENT\"")) delivered.incrementAndGet();
                    else if (message.startsWith("[\"EOSE\"")) subscribed.countDown();
                });
                sockets.add(s);
                s.send(traffic.liveSubscription(i));
            }
            deadline.await(subscribed, "live subscriptions");

            List<dev.nexus.core.Event> events = traffic.events();
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger superseded = new AtomicInteger();
            CountDownLatch acknowledged = new CountDownLatch(events.size());
            List<Publisher> publishers = new ArrayList<>();
            for (int p = 0; p < shape.publishers(); p++) {
                Publisher pub = new Publisher(shape.window(), accepted, superseded, acknowledged);
                pub.socket = LoopbackSocket.open(http, uri, deadline, pub::onMessage);
                sockets.add(pub.socket);
                publishers.add(pub);
            }
            for (int i = 0; i < events.size(); i++) publishers.get(i % publishers.size()).publish(events.get(i).json(), deadline);
            deadline.await(acknowledged, "OKs");

            CountDownLatch answeredAll = new CountDownLatch(shape.queries());
            AtomicInteger answered = new AtomicInteger();
            List<Querier> queriers = new ArrayList<>();
            AtomicInteger next = new AtomicInteger();
            for (int c = 0; c < shape.queriers(); c++) {
                Querier q = new Querier(shape, traffic, next, answered, answeredAll);
                q.socket = LoopbackSocket.open(http, uri, deadline, q::onMessage);
                sockets.add(q.socket);
                queriers.add(q);
            }
            for (Querier q : queriers) q.start();
            deadline.await(answeredAll, "query answers");
            return new Report(events.size(), accepted.get(), superseded.get(), delivered.get(), shape.queries(), answered.get(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        } finally {
            for (LoopbackSocket s : sockets) s.abort();
        }
    }

    /** The warm-up's one time limit, which a stop request (SIGTERM while it runs) ends early. */
    static final class Deadline {
        private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
        private final long endNanos;
        private final BooleanSupplier stopRequested;

        Deadline(long endNanos, BooleanSupplier stopRequested) {
            this.endNanos = endNanos;
            this.stopRequested = stopRequested;
        }

        /** Time left before the deadline; throws once it has passed ("no {@code what} within 30 s") or the relay is stopping. */
        long remainingNanos(String what) throws TimeoutException {
            if (stopRequested.getAsBoolean()) throw new CancellationException("the relay is stopping");
            long left = endNanos - System.nanoTime();
            if (left <= 0) throw new TimeoutException("no " + what + " within " + DEADLINE_MILLIS / 1000 + " s");
            return left;
        }

        /** Waits in steps of 50 ms, so that a stop request is seen soon. */
        void await(CountDownLatch latch, String what) throws TimeoutException, InterruptedException {
            while (!latch.await(Math.min(POLL_NANOS, remainingNanos(what)), TimeUnit.NANOSECONDS)) {
                // the next remainingNanos throws once the deadline has passed or the relay is stopping
            }
        }

        void acquire(Semaphore permits, String what) throws TimeoutException, InterruptedException {
            while (!permits.tryAcquire(Math.min(POLL_NANOS, remainingNanos(what)), TimeUnit.NANOSECONDS)) {
                // as in await
            }
        }
    }

    /** Sends its share of the events with at most {@code window} waiting for their OK. */
    private static final class Publisher {
        private final Semaphore window;
        private final AtomicInteger accepted;
        private final AtomicInteger superseded;
        private final CountDownLatch acknowledged;
        LoopbackSocket socket;

        Publisher(int window, AtomicInteger accepted, AtomicInteger superseded, CountDownLatch acknowledged) {
            this.window = new Semaphore(window);
            this.accepted = accepted;
            this.superseded = superseded;
            this.acknowledged = acknowledged;
        }

        void publish(String eventJson, Deadline deadline) throws Exception {
            deadline.acquire(window, "OK");
            socket.send("[\"EVENT\"," + eventJson + "]");
        }

        void onMessage(String message) {
            if (!message.startsWith("[\"OK\"")) return;
            if (message.contains(",true,")) accepted.incrementAndGet();
            else if (message.contains(",false,\"duplicate:")) superseded.incrementAndGet();
            acknowledged.countDown();
            window.release();
        }
    }

    /** Keeps {@code inFlight} queries open on its socket until all have been answered. */
    private static final class Querier {
        private final WarmupTraffic.Shape shape;
        private final WarmupTraffic traffic;
        private final AtomicInteger next;
        private final AtomicInteger answered;
        private final CountDownLatch answeredAll;
        LoopbackSocket socket;

        Querier(WarmupTraffic.Shape shape, WarmupTraffic traffic, AtomicInteger next, AtomicInteger answered, CountDownLatch answeredAll) {
            this.shape = shape;
            this.traffic = traffic;
            this.next = next;
            this.answered = answered;
            this.answeredAll = answeredAll;
        }

        void start() {
            for (int i = 0; i < shape.queriesInFlight(); i++) sendNext();
        }

        private void sendNext() {
            int i = next.getAndIncrement();
            if (i < shape.queries()) socket.send(traffic.query(i));
        }

        void onMessage(String message) {
            boolean eose = message.startsWith("[\"EOSE\"");
            if (!eose && !message.startsWith("[\"COUNT\"") && !message.startsWith("[\"CLOSED\"")) return;
            if (eose) socket.send("[\"CLOSE\"," + message.substring(message.indexOf(',') + 1));
            if (!message.startsWith("[\"CLOSED\"")) answered.incrementAndGet();
            answeredAll.countDown();
            sendNext();
        }
    }

    private static void deleteTree(Path dir) {
        if (dir == null) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | RuntimeException e) { // Files.walk reports a file that vanished mid-walk unchecked
            log.warn("JIT warm-up: could not delete its temporary directory {}: {}", dir, e.toString());
        }
    }

    /**
     * Deletes warm-up directories a killed relay left behind (SIGKILL, OOM kill mid-warm-up), so that
     * a crash loop does not fill the temporary directory. Only real directories (not links) owned by
     * this relay's user, which {@code createTempDirectory} made 0700, so that no other local user can
     * have planted one or swap what is inside for a link to the relay's data; and only those
     * untouched for a while: another relay of the same user may be warming up right now.
     */
    static void removeLeftovers(Path tempParent, UserPrincipal relayUser, Path ours) {
        long cutoff = System.currentTimeMillis() - LEFTOVER_AGE_MILLIS;
        try (Stream<Path> entries = Files.list(tempParent)) {
            for (Path p : entries.filter(p -> p.getFileName().toString().startsWith(DIR_PREFIX) && !p.equals(ours)).toList()) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                        && relayUser.equals(Files.getOwner(p, LinkOption.NOFOLLOW_LINKS))
                        && Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() < cutoff) {
                    deleteTree(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("JIT warm-up: could not look for leftovers in {}: {}", tempParent, e.toString());
        }
    }
}
