package dev.nexus.server.nip01;

import dev.nexus.core.Event;
import dev.nexus.server.HiddenAuthors;
import dev.nexus.server.RestrictedKinds;
import dev.nexus.server.Session;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Live fan-out: matches one committed (or ephemeral) event against every open subscription and
 * hands the shared event bytes to the matching connections' event loops. Runs on the live feed's
 * thread, never on the writer; restricted kinds reach only their author or recipients.
 */
public final class FanOut {
    private final SubscriptionIndex index;
    private final RestrictedKinds restricted;
    private final HiddenAuthors hidden;

    public FanOut(SubscriptionIndex index, RestrictedKinds restricted, HiddenAuthors hidden) {
        this.index = index;
        this.hidden = hidden;
        this.restricted = restricted;
    }

    /** One index lookup, then one task per event loop rather than one per subscriber: fewer wake-ups, one flush per connection. */
    public void publish(Event e) {
        if (hidden.hides(e)) return;
        Map<EventLoop, List<Subscription>> byLoop = new IdentityHashMap<>(4);
        boolean isRestricted = restricted.isRestricted(e);
        index.forEachMatch(e, sub -> {
            if (!isRestricted || restricted.visibleTo(sub.session().authenticatedPubkeys(), e)) {
                byLoop.computeIfAbsent(sub.session().channel().eventLoop(), k -> new ArrayList<>()).add(sub);
            }
        });
        for (Map.Entry<EventLoop, List<Subscription>> entry : byLoop.entrySet()) {
            List<Subscription> subs = entry.getValue();
            entry.getKey().execute(() -> Session.deliverAll(subs, e));
        }
    }
}
