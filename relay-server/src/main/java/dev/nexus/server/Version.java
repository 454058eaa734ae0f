package dev.nexus.server;

import java.io.InputStream;
import java.util.Properties;

/** The relay's version, stamped into the jar by Maven resource filtering. */
public final class Version {
    private Version() {}

    public static String current() {
        try (InputStream in = Version.class.getResourceAsStream("/nexus-version.properties")) {
            if (in == null) return "dev";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "dev");
        } catch (Exception e) {
            return "dev";
        }
    }
}
