package erphub.delivery;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

import erphub.archive.ArchiveReads;
import erphub.routing.RetryDelay;
import erphub.state.StaleClaimException;

/**
 * A destination route's {@code onExceptionOccurred} step: a failed attempt that will be retried is recorded in
 * the ledger (RETRYING, with its error and the attempt count), and the next delay is set: the route's backoff
 * or the destination's Retry-After, the longer. A refusal or a superseded claim is left to its own handler.
 */
final class DeliveryRetry implements Processor {

    private final FileDelivery deliveries;
    private final RetryDelay delay;

    DeliveryRetry(FileDelivery deliveries, RetryDelay delay) {
        this.deliveries = deliveries;
        this.delay = delay;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Exception failure = exchange.getException();
        if (failure instanceof DeliveryRefusedException || failure instanceof StaleClaimException) {
            return;
        }
        deliveries.retrying(exchange, failure);
        // The archived bytes this attempt opened: released now, not when the retry comes (an S3 read holds a
        // pooled connection, and deliveries waiting for their redelivery are many).
        ArchiveReads.close(exchange);
        delay.process(exchange);
    }
}
