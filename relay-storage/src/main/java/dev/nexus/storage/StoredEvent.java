package dev.nexus.storage;

/** A stored event as a query returns it: the wire JSON plus the two fields results are ordered by. */
public record StoredEvent(String id, long createdAt, String json) {}
