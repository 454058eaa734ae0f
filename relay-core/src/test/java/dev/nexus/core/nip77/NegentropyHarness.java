package dev.nexus.core.nip77;

import dev.nexus.core.Hex;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The line protocol of the reference implementation's conformance harnesses (hoytech/negentropy
 * test/*&#47;harness.*), so that its fuzzer can drive this engine against the C++ or JS one:
 * {@code item,<created>,<hex id>} / {@code seal} / {@code initiate} / {@code msg,<hex>} in;
 * {@code have,<id>} / {@code need,<id>} / {@code msg,<hex>} / {@code done} out. The frame size limit
 * comes from the FRAMESIZELIMIT environment variable.
 */
public final class NegentropyHarness {
    public static void main(String[] args) throws Exception {
        String limitEnv = System.getenv("FRAMESIZELIMIT");
        long frameSizeLimit = limitEnv == null || limitEnv.isEmpty() ? 0 : Long.parseLong(limitEnv);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.US_ASCII);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        VectorStorage.Builder builder = VectorStorage.builder();
        Negentropy ne = null;
        for (String line; (line = in.readLine()) != null; ) {
            String[] parts = line.trim().split(",", -1);
            switch (parts[0]) {
                case "item" -> builder.add(Long.parseUnsignedLong(parts[1]), Hex.decode(parts[2].trim()));
                case "seal" -> ne = new Negentropy(builder.build(), frameSizeLimit);
                case "initiate" -> out.println("msg," + Hex.encode(ne.initiate()));
                case "msg" -> {
                    byte[] message = Hex.decode(parts[1]);
                    if (ne.isInitiator()) {
                        Negentropy.Reconciliation r = ne.reconcile(message);
                        for (byte[] id : r.have()) out.println("have," + Hex.encode(id));
                        for (byte[] id : r.need()) out.println("need," + Hex.encode(id));
                        out.println(r.done() ? "done" : "msg," + Hex.encode(r.nextMessage()));
                    } else {
                        out.println("msg," + Hex.encode(ne.respond(message)));
                    }
                }
                default -> throw new IllegalArgumentException("unknown command: " + parts[0]);
            }
        }
    }
}
