package erphub.tenant;

import java.util.List;
import java.util.Set;

/** The upstreams declared by the route files, as the tenant registry checks subscriptions against them. */
public interface UpstreamCatalog {

    /** One declared upstream: the credential name its route asks tenants for, and where its files go. */
    record Declared(String upstreamId, String credential, Set<String> destinations) {
    }

    List<Declared> declared();
}
