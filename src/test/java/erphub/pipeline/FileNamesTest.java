package erphub.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import erphub.testing.BesideTheApplication;

/**
 * File names from upstreams and from the X-File-Name header of a push: names that could escape a folder or disguise
 * themselves are refused with a reason; names beyond ASCII arrive intact.
 */
@BesideTheApplication
class FileNamesTest {

    @ParameterizedTest(name = "{0} is refused: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "\\u0085payroll.csv         | control character 0x85",
            "pay\\u0080roll.csv         | control character 0x80",
            "pay\\u009froll.csv         | control character 0x9f",
            "invoice\\u202efdp.exe      | bidirectional control character U+202E",
            "\\u202aleft.csv            | bidirectional control character U+202A",
            "\\u2066isolate.csv         | bidirectional control character U+2066",
            "\\u2069pop.csv             | bidirectional control character U+2069",
            "mark\\u200e.csv            | bidirectional control character U+200E",
            "mark\\u200f.csv            | bidirectional control character U+200F",
            "arabic\\u061cmark.csv      | bidirectional control character U+061C",
            "line\\u2028break.csv       | line separator U+2028",
            "half\\ud800.csv            | unpaired surrogate",
            "tab\\u0009.csv             | control character 0x9",
            "del\\u007f.csv             | control character 0x7f",
            "../../etc/passwd           | path separator",
            "..                         | relative path",
            "C:evil.csv                 | absolute path",
            "trailing.                  | ends with a dot",
    })
    void anUnsafeNameIsRefusedWithItsReason(String escaped, String reason) {
        String name = unescape(escaped);
        Optional<String> why = FileNames.whyUnsafe(name);
        assertTrue(why.isPresent(), "accepted: " + FileNames.printable(name));
        assertTrue(why.get().contains(reason), why.get());
        assertFalse(FileNames.printable(name).chars().anyMatch(c -> c >= 0x80 && c <= 0x9f || c == 0x202e || c == 0x2028),
                "the printable form shows the character as an escape: " + FileNames.printable(name));
    }

    @ParameterizedTest(name = "{0} is safe")
    @ValueSource(strings = { "Gehaltsabrechnung März.csv", "給与明細.csv", "factura-ñ.json", "payroll-2026-11.csv",
            "o'brien's export.csv", "emoji-\ud83d\udcc4.csv", "مرتبات.csv" })
    void aNameBeyondAsciiWithoutControlsIsSafe(String name) {
        assertEquals(Optional.empty(), FileNames.whyUnsafe(name));
    }

    @ParameterizedTest(name = "X-File-Name {0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "payroll.csv                                    | payroll.csv",
            "Gehaltsabrechnung%20M%C3%A4rz.csv              | Gehaltsabrechnung März.csv",
            "UTF-8''Gehaltsabrechnung%20M%C3%A4rz.csv       | Gehaltsabrechnung März.csv",
            "utf-8'de'M%C3%A4rz.csv                         | März.csv",
            "UTF-8''%E7%B5%A6%E4%B8%8E%E6%98%8E%E7%B4%B0.csv | 給与明細.csv",
            "100%25.csv                                     | 100%.csv",
            "o'brien's.csv                                  | o'brien's.csv",
    })
    void anXFileNameHeaderIsDecodedAsUtf8(String header, String name) {
        assertEquals(name, FileNames.fromHeader(header));
    }

    @ParameterizedTest(name = "raw UTF-8 bytes of {0}")
    @ValueSource(strings = { "März.csv", "給与明細.csv" })
    void rawUtf8BytesInTheHeaderAreNotGarbled(String name) {
        // What an HTTP server hands over for a header sent as UTF-8: each byte as one ISO-8859-1 character.
        String asReceived = new String(name.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        assertEquals(name, FileNames.fromHeader(asReceived));
    }

    @ParameterizedTest(name = "X-File-Name {0} is refused")
    @ValueSource(strings = { "100%.csv", "bad%ZZ.csv", "cut%C", "%C3%28.csv", "ISO-8859-1''caf%E9.csv",
            "UTF-8'no-second-quote" })
    void anXFileNameHeaderThatIsNotUtf8OrBadlyEncodedIsRefused(String header) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FileNames.fromHeader(header));
        assertTrue(e.getMessage().startsWith("X-File-Name"), e.getMessage());
    }

    @ParameterizedTest(name = "X-File-Name {0} decodes to an unsafe name")
    @ValueSource(strings = { "%C2%85payroll.csv", "invoice%E2%80%AEfdp.exe", "%2e%2e", "a%2Fb.csv", "%00.csv",
            "UTF-8''%E2%81%A6x.csv" })
    void encodingDoesNotSmuggleAnUnsafeNamePastTheCheck(String header) {
        assertTrue(FileNames.whyUnsafe(FileNames.fromHeader(header)).isPresent(), header);
    }

    private static String unescape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            if (s.startsWith("\\u", i)) {
                out.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
                i += 5;
            } else {
                out.append(s.charAt(i));
            }
        }
        return out.toString();
    }
}
