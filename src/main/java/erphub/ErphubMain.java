package erphub;

import java.util.Arrays;

import erphub.check.OperatorFilesCheck;
import io.quarkus.runtime.Quarkus;

/**
 * The packaged jar's entry point ({@code quarkus.package.main-class}). {@code validate <folder>...} checks operators'
 * route files and tenant registries and exits, without starting erphub (see {@link OperatorFilesCheck}); anything else
 * runs erphub as always. A plain main rather than {@code @QuarkusMain}: Camel Quarkus does not start the Camel context
 * by itself when an application declares a {@code @QuarkusMain}, and every test and start relies on it doing so.
 */
public final class ErphubMain {

    private ErphubMain() {
    }

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals("validate")) {
            System.exit(OperatorFilesCheck.run(Arrays.asList(args).subList(1, args.length), System.out));
        }
        Quarkus.run(args);
    }
}
