package erphub.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test whose outcome rests on the state store's SQL: claims, transitions, dead-letter and replay queries,
 * tenant scoping, paging. The {@code *OnPostgresTest} classes run a whole test class again on PostgreSQL and,
 * through {@link EveryDatabaseTestsOnly}, only these of its tests: what does not change with the database
 * (protocols, host keys, encryption, routes, metrics) runs once, on H2.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
public @interface OnEveryDatabase {
}
