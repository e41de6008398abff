package erphub.registration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import erphub.registration.FileTypes.Checks;
import erphub.registration.FileTypes.FileType;
import erphub.testing.BesideTheApplication;

@BesideTheApplication
class FileTypesTest {

    @ParameterizedTest(name = "{0} covers {1}: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            *                 | anything-*.csv        | true
            payroll*          | payroll-summary-*.csv | true
            payroll-*         | payroll*              | false
            *.csv             | payroll-?.csv         | true
            *.csv             | payroll-*.txt         | false
            ????              | a?c?                  | true
            ???               | a*                    | false
            a?c               | a*c                   | false
            *a*               | *a                    | true
            payroll-2026.csv  | payroll-2026.csv      | true
            payroll-2026.csv  | payroll-2027.csv      | false
            """)
    void aPatternCoversAnotherOnlyWhenEveryNameOfTheOtherIsItsToo(String wide, String narrow, boolean covers) {
        assertEquals(covers, FileTypes.covers(wide, narrow));
    }

    @Test
    void aTypeAnEarlierPatternShadowsIsRefusedAndTheNarrowerFirstIsAccepted() {
        List<FileType> shadowed = List.of(new FileType("payroll", "payroll*", List.of()),
                new FileType("payroll-summary", "payroll-summary-*", List.of("payroll")));
        assertEquals(List.of("fileTypes.payroll-summary.pattern: no file can have this type, 'payroll' is declared"
                + " before it and takes every name its pattern matches (put the narrower type first)"),
                FileTypes.problems(shadowed, null));

        List<FileType> narrowFirst = List.of(shadowed.get(1), shadowed.get(0));
        assertEquals(List.of(), FileTypes.problems(narrowFirst, null));
        FileTypes types = new FileTypes(narrowFirst);
        assertEquals("payroll-summary", types.typeOf("payroll-summary-11.csv").orElseThrow());
        assertEquals("payroll", types.typeOf("payroll-11.csv").orElseThrow());
        assertEquals(List.of("payroll", "payroll-summary"), types.ordered(Set.of("payroll-summary", "payroll")));
    }

    @Test
    void aCycleIsNamedWithItsPathAndEveryOtherProblemIsListed() {
        List<FileType> cyclic = List.of(new FileType("a", "a*", List.of("b")), new FileType("b", "b*", List.of("c")),
                new FileType("c", "c*", List.of("a")));
        assertEquals(List.of("fileTypes: a cycle a -> b -> c -> a"), FileTypes.problems(cyclic, null));

        List<String> problems = FileTypes.problems(List.of(new FileType("a", "a*", List.of("ghost")),
                new FileType("Bad Name", "b*", List.of())), new Checks(List.of("nothing")));
        assertTrue(problems.contains("fileTypes.a.dependsOn: unknown type 'ghost'"), problems.toString());
        assertTrue(problems.contains("checks.requiredTypes: unknown type 'nothing'"), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("lower-case")), problems.toString());
    }

    @Test
    void aLongHostilePatternIsDecidedQuickly() {
        String stars = "*a".repeat(100);
        assertFalse(FileTypes.covers(stars, "b".repeat(200)));
        assertTrue(FileTypes.covers("*", stars));
    }
}
