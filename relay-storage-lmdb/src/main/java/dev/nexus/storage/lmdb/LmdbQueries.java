package dev.nexus.storage.lmdb;

import static dev.nexus.storage.lmdb.Layout.*;

import dev.nexus.core.Filter;
import dev.nexus.storage.EventStore;
import dev.nexus.storage.Moderation;
import dev.nexus.storage.StoreException;
import dev.nexus.storage.StoredEvent;
import dev.nexus.storage.TagKeys;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.Env;
import org.lmdbjava.Txn;

/**
 * The LMDB store's reads, each in its own read transaction (a snapshot that never blocks the
 * writer). A filter is answered from one index, as strfry does: its ids, else one of its tags (the
 * one with the fewest values), else authors with kinds, authors, kinds, or time alone; each value
 * of that field is a cursor, and the cursors are merged newest first. What the index does not
 * cover (the filter's other fields) is checked on the stored record; expiry is checked on the index
 * entry itself, so a COUNT the index covers never reads an event.
 */
final class LmdbQueries {
    /** Above this many (author, kind) pairs the authors index is walked and kinds checked on the record. */
    private static final int MAX_PAIR_CURSORS = 256;
    /** Index entries between two looks at the clock. */
    private static final int BUDGET_CHECK_ENTRIES = 256;
    // Long.compare, never a negated created_at: -Long.MIN_VALUE is Long.MIN_VALUE, and created_at may be any long.
    private static final Comparator<Hit> NIP01_ORDER = ((Comparator<Hit>) (a, b) -> Long.compare(b.createdAt, a.createdAt)).thenComparing(h -> h.id, Arrays::compareUnsigned);
    private static final Comparator<Hit> ASCENDING = Comparator.<Hit>comparingLong(h -> h.createdAt).thenComparing(h -> h.id, Arrays::compareUnsigned);
    private static final Comparator<IndexCursor> CURSORS_NEWEST_FIRST = (a, b) -> a.createdAt != b.createdAt ? Long.compare(b.createdAt, a.createdAt) : Long.compare(b.seq, a.seq);
    private static final Comparator<IndexCursor> CURSORS_OLDEST_FIRST = (a, b) -> a.createdAt != b.createdAt ? Long.compare(a.createdAt, b.createdAt) : Long.compare(a.seq, b.seq);

    private final Env<ByteBuffer> env;
    private final Tables t;
    private final long budgetMillis;
    private final java.util.concurrent.locks.ReadWriteLock open;
    private final ThreadLocal<ByteBuffer> scratch = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(MAX_KEY));
    private final ThreadLocal<ByteBuffer> seqKeys = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(SEQ));

    LmdbQueries(Env<ByteBuffer> env, Tables tables, long budgetMillis, java.util.concurrent.locks.ReadWriteLock open) {
        this.env = env;
        this.t = tables;
        this.budgetMillis = budgetMillis;
        this.open = open;
    }

    /** A matching event as the walk finds it: its JSON is read only for the hits that survive the limit. */
    private record Hit(long createdAt, byte[] id, long seq) {}

    /** Runs {@code read} while the environment is open (the store's close waits for it, and refuses reads after). */
    private <T> T whileOpen(java.util.function.Supplier<T> read) {
        if (!open.readLock().tryLock()) throw new StoreException("the store is closed", null);
        try {
            return read.get();
        } finally {
            open.readLock().unlock();
        }
    }

    /** Which index answers a filter, with one key prefix per value, and which filter fields the index already checks. */
    private record Plan(Dbi<ByteBuffer> index, List<byte[]> prefixes, boolean coversAuthors, boolean coversKinds, String coveredTag) {
        boolean byIds() {
            return index == null;
        }

        /** One event can sit under two of the prefixes (two tag values of one event). */
        boolean mayRepeat() {
            return coveredTag != null && prefixes.size() > 1;
        }

        boolean needsRecord(Filter f) {
            return byIds() || (f.authors() != null && !coversAuthors) || (f.kinds() != null && !coversKinds)
                    || f.tags().size() > (coveredTag == null ? 0 : 1);
        }
    }

    private Plan plan(Filter f) {
        if (f.ids() != null) return new Plan(null, List.of(), false, false, null);
        if (!f.tags().isEmpty()) {
            Map.Entry<String, Set<String>> fewest = null;
            for (Map.Entry<String, Set<String>> e : f.tags().entrySet()) {
                if (fewest == null || e.getValue().size() < fewest.getValue().size()) fewest = e;
            }
            List<byte[]> prefixes = new ArrayList<>(fewest.getValue().size());
            ByteBuffer b = ByteBuffer.allocate(MAX_KEY);
            for (String value : fewest.getValue()) {
                if (fewest.getKey().length() != 1) continue; // never indexed, never matched
                b.clear().putChar(fewest.getKey().charAt(0));
                putTagValue(b, value);
                prefixes.add(Arrays.copyOf(b.array(), b.position()));
            }
            return new Plan(t.tag, prefixes, false, false, fewest.getKey());
        }
        // Pairs while they are no more cursors than the authors alone would be, or few.
        if (f.authors() != null && f.kinds() != null && (long) f.authors().size() * f.kinds().size() <= Math.max(MAX_PAIR_CURSORS, f.authors().size())) {
            List<byte[]> prefixes = new ArrayList<>();
            for (String author : f.authors()) {
                byte[] raw = key32(author);
                if (raw == null) continue;
                for (int kind : f.kinds()) prefixes.add(ByteBuffer.allocate(KEY32 + KIND).put(raw).putInt(kind).array());
            }
            return new Plan(t.pubkind, prefixes, true, true, null);
        }
        if (f.authors() != null) {
            List<byte[]> prefixes = new ArrayList<>();
            for (String author : f.authors()) {
                byte[] raw = key32(author);
                if (raw != null) prefixes.add(raw);
            }
            return new Plan(t.pubkey, prefixes, true, false, null);
        }
        if (f.kinds() != null) {
            List<byte[]> prefixes = new ArrayList<>();
            for (int kind : f.kinds()) prefixes.add(ByteBuffer.allocate(KIND).putInt(kind).array());
            return new Plan(t.kind, prefixes, false, true, null);
        }
        return new Plan(t.created, List.of(new byte[0]), false, false, null);
    }

    /** Passed each index entry in order; returns false to stop the walk. */
    @FunctionalInterface
    private interface EntryVisitor {
        boolean visit(long createdAt, long seq, long expiresAt);
    }

    /** Merges the plan's cursors in created_at order, each event once. */
    private void walk(Txn<ByteBuffer> txn, Plan plan, Filter f, boolean newestFirst, Budget budget, EntryVisitor visitor) {
        long since = f.since() == null ? Long.MIN_VALUE : f.since();
        long until = f.until() == null ? Long.MAX_VALUE : f.until();
        PriorityQueue<IndexCursor> cursors = new PriorityQueue<>(Math.max(1, plan.prefixes().size()), newestFirst ? CURSORS_NEWEST_FIRST : CURSORS_OLDEST_FIRST);
        List<IndexCursor> opened = new ArrayList<>(plan.prefixes().size());
        // One event under two prefixes has the same (created_at, seq) under both, so its entries come out one after the other.
        boolean mayRepeat = plan.mayRepeat();
        long lastSeq = Long.MIN_VALUE;
        try {
            ByteBuffer key = scratch.get();
            for (byte[] prefix : plan.prefixes()) {
                budget.tick(); // up to [limits] max_filter_values cursors, each a descent of its B-tree
                IndexCursor c = new IndexCursor(plan.index(), txn, prefix, since, until, newestFirst, key);
                opened.add(c);
                if (c.valid) cursors.add(c);
            }
            while (!cursors.isEmpty()) {
                budget.tick();
                IndexCursor c = cursors.poll();
                boolean repeat = mayRepeat && c.seq == lastSeq;
                lastSeq = c.seq;
                if (!repeat && !visitor.visit(c.createdAt, c.seq, c.expiresAt)) return;
                c.advance();
                if (c.valid) cursors.add(c);
            }
        } finally {
            for (IndexCursor c : opened) c.close();
        }
    }

    List<StoredEvent> query(Filter f, int limit, long now) {
        if (f.matchesNothing() || limit <= 0) return List.of();
        return whileOpen(() -> readQuery(f, limit, now));
    }

    private List<StoredEvent> readQuery(Filter f, int limit, long now) {
        try (Txn<ByteBuffer> txn = env.txnRead()) {
            List<Hit> hits = newest(txn, f, limit, now, new Budget("query"));
            List<StoredEvent> out = new ArrayList<>(hits.size());
            ByteBuffer seqKey = seqKeys.get();
            for (Hit h : hits) {
                seqKey.clear().putLong(h.seq).flip();
                byte[] json = recordJson(t.event.get(txn, seqKey));
                StoredEvent e = StoredEvent.withIdAtStart(h.createdAt, json);
                out.add(e != null ? e : new StoredEvent(dev.nexus.core.Hex.encode(h.id), h.createdAt, json));
            }
            return out;
        } catch (StoreException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreException("query failed: " + e, e);
        }
    }

    /** The filter's newest {@code limit} events in NIP-01 order: every event of the last second kept is read, so ties go by id. */
    private List<Hit> newest(Txn<ByteBuffer> txn, Filter f, int limit, long now, Budget budget) {
        if (limit <= 0) return List.of();
        Plan plan = plan(f);
        List<Hit> hits = new ArrayList<>(Math.min(limit, 256));
        if (plan.byIds()) {
            eachByIds(txn, f, plan, now, budget, hits::add);
        } else {
            walk(txn, plan, f, true, budget, (createdAt, seq, expiresAt) -> {
                if (expiresAt <= now) return true;
                if (hits.size() >= limit && createdAt < hits.get(hits.size() - 1).createdAt) return false;
                Hit h = hitIfMatching(txn, seq, f, plan, now);
                if (h != null) hits.add(h);
                return true;
            });
        }
        hits.sort(NIP01_ORDER);
        return hits.size() > limit ? hits.subList(0, limit) : hits;
    }

    /** The filter's ids that are stored and match the rest of it, in the filter's order. */
    private void eachByIds(Txn<ByteBuffer> txn, Filter f, Plan plan, long now, Budget budget, java.util.function.Consumer<Hit> matched) {
        for (String id : f.ids()) {
            budget.tick();
            long seq = seqOf(txn, id);
            if (seq < 0) continue;
            Hit h = hitIfMatching(txn, seq, f, plan, now);
            if (h != null) matched.accept(h);
        }
    }

    /** The stored event as a hit when it matches what the plan's index did not check; null otherwise. */
    private Hit hitIfMatching(Txn<ByteBuffer> txn, long seq, Filter f, Plan plan, long now) {
        ByteBuffer seqKey = seqKeys.get().clear().putLong(seq).flip();
        ByteBuffer rec = t.event.get(txn, seqKey);
        if (rec == null) return null;
        int at = rec.position();
        long createdAt = unsortable(rec.getLong(at + R_CREATED));
        if (plan.byIds()) {
            if (unsortable(rec.getLong(at + R_EXPIRES)) <= now) return null;
            if (f.since() != null && createdAt < f.since() || f.until() != null && createdAt > f.until()) return null;
        }
        if (f.kinds() != null && !plan.coversKinds() && !f.kinds().contains(rec.getInt(at + R_KIND))) return null;
        if (f.authors() != null && !plan.coversAuthors() && !f.authors().contains(hex32(rec, at + R_PUBKEY))) return null;
        if (f.tags().size() > (plan.coveredTag() == null ? 0 : 1) && !tagsMatch(f, plan.coveredTag(), recordJson(rec))) return null;
        byte[] id = new byte[KEY32];
        rec.get(at + R_ID, id);
        return new Hit(createdAt, id, seq);
    }

    private static boolean tagsMatch(Filter f, String covered, byte[] json) {
        List<String[]> tags;
        try {
            tags = TagKeys.singleLetter(new String(json, StandardCharsets.UTF_8));
        } catch (IOException unreadable) {
            return false;
        }
        for (Map.Entry<String, Set<String>> constraint : f.tags().entrySet()) {
            if (constraint.getKey().equals(covered)) continue;
            boolean any = false;
            for (String[] tag : tags) {
                if (tag[0].equals(constraint.getKey()) && constraint.getValue().contains(tag[1])) {
                    any = true;
                    break;
                }
            }
            if (!any) return false;
        }
        return true;
    }

    long count(List<Filter> filters, long now) {
        return whileOpen(() -> readCount(filters, now));
    }

    private long readCount(List<Filter> filters, long now) {
        try (Txn<ByteBuffer> txn = env.txnRead()) {
            Budget budget = new Budget("count");
            List<Filter> live = filters.stream().filter(f -> !f.matchesNothing()).toList();
            Plan only = live.size() == 1 ? plan(live.get(0)) : null;
            if (only != null && !only.mayRepeat() && !only.byIds()) {
                long[] n = {0};
                eachMatching(txn, live.get(0), now, budget, seq -> n[0]++);
                return n[0];
            }
            SeqSet seqs = new SeqSet();
            for (Filter f : live) eachMatching(txn, f, now, budget, seqs::add);
            return seqs.distinct();
        } catch (StoreException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreException("count failed: " + e, e);
        }
    }

    private void eachMatching(Txn<ByteBuffer> txn, Filter f, long now, Budget budget, java.util.function.LongConsumer matched) {
        Plan plan = plan(f);
        if (plan.byIds()) {
            eachByIds(txn, f, plan, now, budget, h -> matched.accept(h.seq));
            return;
        }
        boolean needsRecord = plan.needsRecord(f);
        walk(txn, plan, f, true, budget, (createdAt, seq, expiresAt) -> {
            if (expiresAt > now && (!needsRecord || hitIfMatching(txn, seq, f, plan, now) != null)) matched.accept(seq);
            return true;
        });
    }

    int scanIdsAscending(Filter f, long now, int maxItems, EventStore.IdConsumer consumer) {
        if (f.matchesNothing() || maxItems <= 0 || f.limit() != null && f.limit() <= 0) return 0;
        return whileOpen(() -> readIdsAscending(f, now, maxItems, consumer));
    }

    private int readIdsAscending(Filter f, long now, int maxItems, EventStore.IdConsumer consumer) {
        try (Txn<ByteBuffer> txn = env.txnRead()) {
            Budget budget = new Budget("id scan");
            Plan plan = plan(f);
            if (f.limit() != null || plan.byIds()) {
                List<Hit> hits = new ArrayList<>(newest(txn, f, f.limit() == null ? Integer.MAX_VALUE : f.limit(), now, budget));
                hits.sort(ASCENDING);
                int n = 0;
                for (Hit h : hits) {
                    if (n >= maxItems) break;
                    consumer.accept(h.createdAt, dev.nexus.core.Hex.encode(h.id));
                    n++;
                }
                return n;
            }
            // Oldest first, a second at a time: each second's events are passed on in id order.
            List<Hit> second = new ArrayList<>();
            int[] passed = {0};
            walk(txn, plan, f, false, budget, (createdAt, seq, expiresAt) -> {
                if (!second.isEmpty() && second.get(0).createdAt != createdAt) {
                    if (!pass(second, maxItems, passed, consumer)) return false;
                }
                if (expiresAt <= now) return true;
                Hit h = hitIfMatching(txn, seq, f, plan, now);
                if (h != null) second.add(h);
                return true;
            });
            pass(second, maxItems, passed, consumer);
            return passed[0];
        } catch (StoreException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreException("id scan failed: " + e, e);
        }
    }

    /** Passes one second's events on in id order; false once {@code maxItems} have been passed. */
    private static boolean pass(List<Hit> second, int maxItems, int[] passed, EventStore.IdConsumer consumer) {
        second.sort(ASCENDING);
        for (Hit h : second) {
            if (passed[0] >= maxItems) return false;
            consumer.accept(h.createdAt, dev.nexus.core.Hex.encode(h.id));
            passed[0]++;
        }
        second.clear();
        return passed[0] < maxItems;
    }

    boolean contains(String id) {
        return whileOpen(() -> {
            try (Txn<ByteBuffer> txn = env.txnRead()) {
                return seqOf(txn, id) >= 0;
            }
        });
    }

    /** The stored event's seq, or -1 (an id that is not 64 lowercase hex digits was never stored). */
    private long seqOf(Txn<ByteBuffer> txn, String id) {
        byte[] raw = key32(id);
        if (raw == null) return -1;
        ByteBuffer found = t.id.get(txn, scratch.get().clear().put(raw).flip());
        return found == null ? -1 : found.getLong(found.position());
    }

    /** Every moderation row: the category before the key's NUL, the value and reason from the data ({@link Layout#moderationRow}). */
    List<Moderation.Entry> moderation() {
        return whileOpen(() -> {
            List<Moderation.Entry> out = new ArrayList<>();
            try (Txn<ByteBuffer> txn = env.txnRead(); Cursor<ByteBuffer> c = t.moderation.openCursor(txn)) {
                for (boolean more = c.first(); more; more = c.next()) {
                    ByteBuffer k = c.key(), v = c.val();
                    int nul = k.position();
                    while (k.get(nul) != 0) nul++;
                    byte[] category = new byte[nul - k.position()];
                    k.get(k.position(), category);
                    int valueLength = v.getInt(v.position());
                    byte[] value = new byte[valueLength];
                    v.get(v.position() + 4, value);
                    byte[] reason = new byte[v.remaining() - 4 - valueLength];
                    v.get(v.position() + 4 + valueLength, reason);
                    out.add(new Moderation.Entry(new String(category, StandardCharsets.UTF_8), new String(value, StandardCharsets.UTF_8),
                            new String(reason, StandardCharsets.UTF_8)));
                }
            }
            return out;
        });
    }

    /** The per-query time budget (none when 0), checked every {@link #BUDGET_CHECK_ENTRIES} index entries. */
    private final class Budget {
        private final String what;
        private final long deadline;
        private int entries;

        Budget(String what) {
            this.what = what;
            this.deadline = budgetMillis > 0 ? System.nanoTime() + budgetMillis * 1_000_000L : 0;
        }

        void tick() {
            if (deadline == 0 || ++entries % BUDGET_CHECK_ENTRIES != 0) return;
            if (System.nanoTime() - deadline > 0) {
                throw new StoreException(StoreException.Reason.TIMEOUT, what + " ran past its budget of " + budgetMillis + " ms", null);
            }
        }
    }

    /** Seqs matched by several filters, counted once: a sorted array, not a set of boxed longs. */
    private static final class SeqSet {
        private long[] seqs = new long[1024];
        private int size;

        void add(long seq) {
            if (size == seqs.length) seqs = Arrays.copyOf(seqs, size * 2);
            seqs[size++] = seq;
        }

        long distinct() {
            Arrays.sort(seqs, 0, size);
            long n = 0;
            for (int i = 0; i < size; i++) if (i == 0 || seqs[i] != seqs[i - 1]) n++;
            return n;
        }
    }
}
