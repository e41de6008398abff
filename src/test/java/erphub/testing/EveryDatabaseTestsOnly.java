package erphub.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * On a class that runs another test class again on a second database ({@code @ExtendWith}): runs the tests marked
 * {@link OnEveryDatabase} and reports the others as skipped, saying why.
 */
public final class EveryDatabaseTestsOnly implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return context.getTestMethod()
                .map(method -> AnnotationSupport.isAnnotated(method, OnEveryDatabase.class)
                        ? ConditionEvaluationResult.enabled("rests on the state store's SQL")
                        : ConditionEvaluationResult.disabled(method.getName()
                                + " does not change with the database: it runs once, on H2"))
                .orElse(ConditionEvaluationResult.enabled("a class"));
    }
}
