package dev.nexus.server.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.nexus.core.Event;
import dev.nexus.core.EventJson;
import dev.nexus.core.InvalidEventException;
import dev.nexus.core.Kinds;
import dev.nexus.core.ProtocolLimits;
import dev.nexus.core.SignatureVerifier;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.RetentionPolicy;
import dev.nexus.storage.WriteResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Loads JSON lines into a store through its normal write path (so replaceable, addressable and
 * NIP-09 deletion rules apply as for published events). Lines are parsed and their signatures
 * verified on a pool of "importVerifier" threads, then written in file order with a bounded
 * number of writes in flight; the writer thread groups them into batches. Re-running the same
 * file is safe: what is already stored counts as duplicate.
 */
final class Importer {
    enum Outcome {
        STORED, DUPLICATE, BLOCKED, EXPIRED, EPHEMERAL, INVALID, ERROR;

        String label() {
            return name().toLowerCase();
        }
    }

    private record Prepared(long line, Event event, Outcome refused, String reason) {}

    private static final JsonFactory JSON = new JsonFactory();
    private static final int IN_FLIGHT = 4096;
    private static final int MAX_REPORTED_PROBLEMS = 10;

    private final EventStore store;
    private final SignatureVerifier verifier;
    private final ProtocolLimits limits;
    private final RetentionPolicy retention;
    private final int verifierThreads;
    private final AtomicLongArray counts = new AtomicLongArray(Outcome.values().length);
    private final AtomicLong lines = new AtomicLong();
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());

    /** {@code verifier} null: signatures are not checked (trusted dumps); ids always are. */
    Importer(EventStore store, SignatureVerifier verifier, ProtocolLimits limits, RetentionPolicy retention, int verifierThreads) {
        this.store = store;
        this.verifier = verifier;
        this.limits = limits;
        this.retention = retention;
        this.verifierThreads = verifierThreads;
    }

    /** Reads every line, waits for every write to commit, returns the counts by outcome. */
    Map<Outcome, Long> run(BufferedReader input) throws IOException, InterruptedException {
        ExecutorService verifiers = Executors.newFixedThreadPool(verifierThreads, r -> {
            Thread t = new Thread(r, "nexus-importVerifier");
            t.setDaemon(true);
            return t;
        });
        // Verified lines in file order; its capacity bounds how far reading runs ahead of writing.
        BlockingQueue<CompletableFuture<Prepared>> ordered = new ArrayBlockingQueue<>(IN_FLIGHT);
        CompletableFuture<Prepared> end = CompletableFuture.completedFuture(null);
        Semaphore writesInFlight = new Semaphore(IN_FLIGHT);
        AtomicLong submitterFailure = new AtomicLong();
        Thread submitter = new Thread(() -> {
            try {
                for (CompletableFuture<Prepared> next = ordered.take(); next != end; next = ordered.take()) {
                    Prepared p = next.join();
                    if (p.refused() != null) {
                        refuse(p);
                        continue;
                    }
                    writesInFlight.acquire();
                    store.write(p.event()).whenComplete((result, failure) -> {
                        count(failure != null ? Outcome.ERROR : outcomeOf(result), p.line(),
                                failure != null ? failure.toString() : result.message());
                        writesInFlight.release();
                    });
                }
            } catch (InterruptedException e) {
                submitterFailure.incrementAndGet();
            }
        }, "nexus-importSubmitter");
        submitter.start();
        try {
            long lineNo = 0;
            for (String line = input.readLine(); line != null; line = input.readLine()) {
                lineNo++;
                if (line.isBlank()) continue;
                lines.incrementAndGet();
                final long n = lineNo;
                final String text = line;
                ordered.put(CompletableFuture.supplyAsync(() -> prepare(n, text), verifiers));
            }
        } finally {
            ordered.put(end);
            submitter.join();
            writesInFlight.acquire(IN_FLIGHT);
            verifiers.shutdownNow();
        }
        if (submitterFailure.get() > 0) throw new InterruptedException("import interrupted");
        Map<Outcome, Long> result = new EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.values()) result.put(o, counts.get(o.ordinal()));
        return result;
    }

    long linesRead() {
        return lines.get();
    }

    long done() {
        long sum = 0;
        for (int i = 0; i < counts.length(); i++) sum += counts.get(i);
        return sum;
    }

    long count(Outcome o) {
        return counts.get(o.ordinal());
    }

    /** The first few invalid or failed lines, as "line N: reason". */
    List<String> problems() {
        synchronized (problems) {
            return List.copyOf(problems);
        }
    }

    private Prepared prepare(long line, String text) {
        Event event;
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return new Prepared(line, null, Outcome.INVALID, "not a JSON object");
            event = EventJson.parse(p, limits);
            if (p.nextToken() != null) return new Prepared(line, null, Outcome.INVALID, "trailing data after the event");
        } catch (InvalidEventException e) {
            return new Prepared(line, null, Outcome.INVALID, e.getMessage());
        } catch (IOException e) {
            return new Prepared(line, null, Outcome.INVALID, "malformed JSON");
        } catch (RuntimeException e) {
            // Whatever a line holds, the in-order submitter must get an answer for it.
            return new Prepared(line, null, Outcome.INVALID, e.toString());
        }
        if (Kinds.isEphemeral(event.kind())) return new Prepared(line, event, Outcome.EPHEMERAL, "ephemeral kinds are not stored");
        Long expiresAt = retention.expiresAt(event);
        if (expiresAt != null && expiresAt <= System.currentTimeMillis() / 1000) {
            return new Prepared(line, event, Outcome.EXPIRED, "already expired");
        }
        if (verifier != null && !verifier.verify(event)) return new Prepared(line, event, Outcome.INVALID, "bad signature");
        return new Prepared(line, event, null, null);
    }

    private void refuse(Prepared p) {
        count(p.refused(), p.line(), p.reason());
    }

    private void count(Outcome outcome, long line, String reason) {
        counts.incrementAndGet(outcome.ordinal());
        if ((outcome == Outcome.INVALID || outcome == Outcome.ERROR) && problems.size() < MAX_REPORTED_PROBLEMS) {
            problems.add("line " + line + ": " + outcome.label() + ": " + reason);
        }
    }

    /** The store's status is the outcome; an event it already holds is OK true (NIP-01) but nothing new. */
    static Outcome outcomeOf(WriteResult result) {
        return switch (result.status()) {
            case STORED -> Outcome.STORED;
            case DUPLICATE, REJECTED_OLDER -> Outcome.DUPLICATE;
            case BLOCKED -> Outcome.BLOCKED;
            case INVALID -> Outcome.INVALID;
            case ERROR -> Outcome.ERROR;
        };
    }
}
