package dev.nexus.server.metrics;

import dev.nexus.config.NexusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/** Who may read {@code GET /metrics} and what they get: the Prometheus exposition, 403 or 404. */
final class MetricsEndpoint {
    private final NexusConfig.Metrics config;
    private final PrometheusMeterRegistry prometheus;

    MetricsEndpoint(NexusConfig.Metrics config, PrometheusMeterRegistry prometheus) {
        this.config = config;
        this.prometheus = prometheus;
    }

    RelayMetrics.Scrape scrape(String forwardedIp, SocketAddress socket) {
        if (!config.enabled()) return text(404, "metrics are disabled ([metrics] enabled = false)\n");
        if (!config.allowRemote() && !isLoopback(forwardedIp, socket)) {
            return text(403, "metrics are served to loopback clients only; set [metrics] allow_remote = true to change that\n");
        }
        return new RelayMetrics.Scrape(200, RelayMetrics.CONTENT_TYPE, prometheus.scrape().getBytes(StandardCharsets.UTF_8));
    }

    String scrapeText() {
        return prometheus.scrape();
    }

    static boolean isLoopback(String forwardedIp, SocketAddress socket) {
        if (forwardedIp != null) {
            try {
                // An IP literal (the handler normalized it): no name lookup happens.
                return InetAddress.getByName(forwardedIp).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return socket instanceof InetSocketAddress a && a.getAddress() != null && a.getAddress().isLoopbackAddress();
    }

    private static RelayMetrics.Scrape text(int status, String body) {
        return new RelayMetrics.Scrape(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }
}
