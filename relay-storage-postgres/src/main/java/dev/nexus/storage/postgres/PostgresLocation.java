package dev.nexus.storage.postgres;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;

/**
 * Where the database is, from the libpq-style URI operators already use with psql
 * ({@code postgresql://[user[:password]@]host[:port][,host2[:port]]/dbname[?param=value&...]}),
 * turned into what the JDBC driver wants. A password in the URI wins; otherwise it comes from the
 * environment ({@code NEXUS_PG_PASSWORD}, then libpq's {@code PGPASSWORD}), so that it need not
 * sit in the config file. {@link #display()} is the URI with the password masked, for logs.
 */
public record PostgresLocation(String jdbcUrl, Properties properties, String display) {

    public static PostgresLocation parse(String uri) {
        return parse(uri, System.getenv());
    }

    static PostgresLocation parse(String uri, Map<String, String> env) {
        String rest;
        if (uri.startsWith("postgresql://")) rest = uri.substring("postgresql://".length());
        else if (uri.startsWith("postgres://")) rest = uri.substring("postgres://".length());
        else throw new IllegalArgumentException("a PostgreSQL URI starts with postgresql:// (got \"" + mask(uri) + "\")");
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        Properties props = new Properties();
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = userInfo.indexOf(':');
            if (colon >= 0) {
                props.setProperty("password", decode(userInfo.substring(colon + 1)));
                userInfo = userInfo.substring(0, colon);
            }
            if (!userInfo.isEmpty()) props.setProperty("user", decode(userInfo));
        }
        int slash = rest.indexOf('/');
        String hosts = slash >= 0 ? rest.substring(0, slash) : rest;
        String database = slash >= 0 ? decode(rest.substring(slash + 1)) : "";
        if (hosts.isEmpty()) hosts = "localhost";
        for (String pair : query.isEmpty() ? new String[0] : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("bad parameter \"" + pair + "\" in the PostgreSQL URI");
            String key = decode(pair.substring(0, eq)), value = decode(pair.substring(eq + 1));
            switch (key) {
                // libpq names whose JDBC spelling differs; everything else (sslmode, sslrootcert, ...) passes through.
                case "dbname" -> database = value;
                case "host" -> hosts = value;
                case "connect_timeout" -> props.setProperty("connectTimeout", value);
                case "application_name" -> props.setProperty("ApplicationName", value);
                case "target_session_attrs" -> props.setProperty("targetServerType", value.equals("read-write") ? "primary" : value);
                default -> props.setProperty(key, value);
            }
        }
        if (!props.containsKey("password")) {
            String fromEnv = env.get("NEXUS_PG_PASSWORD");
            if (fromEnv == null) fromEnv = env.get("PGPASSWORD");
            if (fromEnv != null) props.setProperty("password", fromEnv);
        }
        if (!props.containsKey("user") && env.get("PGUSER") != null) props.setProperty("user", env.get("PGUSER"));
        return new PostgresLocation("jdbc:postgresql://" + hosts + "/" + database, props, mask(uri));
    }

    /** The URI with any password replaced by ***, safe to log. */
    static String mask(String uri) {
        return uri.replaceAll("(://[^:/@?]*:)[^@/?]*@", "$1***@").replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** A copy of the connection properties with some of our own added (the caller's stay untouched). */
    Properties with(Map<String, String> extra) {
        Properties p = new Properties();
        p.putAll(properties);
        extra.forEach(p::setProperty);
        return p;
    }
}
