package erphub.registration;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;

import erphub.config.ErphubConfig;
import erphub.routing.HttpTargets;

/**
 * Which webhook URLs erphub will call. A registration's URL comes from a client, so erphub must not become its way
 * into the cluster: https only, and every address the host resolves to must be a public one (not loopback,
 * link-local such as a cloud metadata endpoint, private, carrier-grade NAT, multicast or reserved), unless an
 * operator allows plain http or private addresses (erphub.registrations.allow-http / allow-private-addresses, for a
 * webhook receiver inside the cluster, and tests). Checked when a registration is saved and again before each
 * delivery, since a name can be pointed elsewhere after it was accepted.
 */
@ApplicationScoped
public class WebhookTargets {

    private final ErphubConfig config;

    public WebhookTargets(ErphubConfig config) {
        this.config = config;
    }

    /** The URL if erphub may deliver to it; otherwise an IllegalArgumentException saying why. */
    public URI check(String url) {
        return check(url, config.registrations().allowHttp(), config.registrations().allowPrivateAddresses());
    }

    static URI check(String url, boolean allowHttp, boolean allowPrivate) {
        URI uri;
        try {
            uri = HttpTargets.check(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("channel.url: " + e.getMessage());
        }
        if (!allowHttp && !"https".equals(uri.getScheme().toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("channel.url: a webhook must be https");
        }
        if (uri.getRawFragment() != null) {
            throw new IllegalArgumentException("channel.url: a webhook URL has no fragment");
        }
        String host = uri.getHost();
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("channel.url: no host");
        }
        if (allowPrivate) {
            return uri;
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("channel.url: host " + RegistrationSpec.shorten(host) + " does not resolve");
        }
        for (InetAddress address : addresses) {
            String why = whyNotPublic(address);
            if (why != null) {
                throw new IllegalArgumentException("channel.url: host " + RegistrationSpec.shorten(host) + " resolves to "
                        + address.getHostAddress() + ", a " + why + " address");
            }
        }
        return uri;
    }

    /** Why an address is not a public unicast one, or null when it is. */
    static String whyNotPublic(InetAddress a) {
        if (a.isLoopbackAddress()) {
            return "loopback";
        }
        if (a.isAnyLocalAddress()) {
            return "wildcard";
        }
        if (a.isLinkLocalAddress()) {
            return "link-local";
        }
        if (a.isSiteLocalAddress()) {
            return "private";
        }
        if (a.isMulticastAddress()) {
            return "multicast";
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            if (first == 0 || first >= 240) {
                return "reserved";
            }
            if (first == 100 && second >= 64 && second < 128) {
                return "carrier-grade NAT";
            }
            if (first == 198 && (second == 18 || second == 19)) {
                return "benchmarking";
            }
            if (first == 192 && second == 0 && (b[2] & 0xff) == 0) {
                return "reserved";
            }
        } else if (a instanceof Inet6Address) {
            if ((b[0] & 0xfe) == 0xfc) {
                return "private (unique local)";
            }
            if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) {
                return "private (site-local)";
            }
            if (isEmbeddedIpv4(b)) {
                try {
                    String inner = whyNotPublic(InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16)));
                    return inner == null ? null : inner + " (IPv4 in IPv6)";
                } catch (UnknownHostException e) {
                    return "unreadable";
                }
            }
        }
        return null;
    }

    /** ::a.b.c.d (IPv4-compatible) and 64:ff9b::a.b.c.d (NAT64); Java already turns ::ffff:a.b.c.d into IPv4. */
    private static boolean isEmbeddedIpv4(byte[] b) {
        boolean compatible = true;
        for (int i = 0; i < 12; i++) {
            compatible &= b[i] == 0;
        }
        boolean nat64 = (b[0] & 0xff) == 0 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b;
        for (int i = 4; nat64 && i < 12; i++) {
            nat64 = b[i] == 0;
        }
        return compatible || nat64;
    }
}
