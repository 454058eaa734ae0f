package dev.nexus.server;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * One spelling per address, so that per-IP limits and {@code exempt_ips} compare like with like:
 * {@code ::1}, {@code 0:0:0:0:0:0:0:1} and {@code [::1]} are the same client, and so are
 * {@code 127.0.0.1} and {@code ::ffff:127.0.0.1}. Never resolves names (no DNS on the I/O path).
 */
public final class IpAddresses {
    private IpAddresses() {}

    /** The RFC 5952 form of an IP literal, or null when {@code text} is not one. */
    public static String normalize(String text) {
        if (text == null) return null;
        String t = text.trim();
        if (t.startsWith("[") && t.endsWith("]")) t = t.substring(1, t.length() - 1);
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(t);
        if (bytes == null) return null;
        try {
            return NetUtil.toAddressString(InetAddress.getByAddress(bytes));
        } catch (UnknownHostException e) {
            return null;
        }
    }

    public static String of(InetAddress address) {
        return NetUtil.toAddressString(address);
    }
}
